// S3ObjectStore: the ObjectStore on an S3 bucket (AWS, or any service that
// speaks its API through AWS_ENDPOINT_URL_S3: moto, MinIO, Ceph RGW).
// Object KEY lives at s3://BUCKET/PREFIX/KEY.
//
//   S3Location loc = *ParseS3Url("s3://my-bucket/aquasense");
//   auto store = NewS3ObjectStore(loc, S3Options::FromEnvironment(...));
//   AQ_RETURN_IF_ERROR(store->WriteAll("analysis/x.csv", text));
//
// How the ObjectStore contract maps onto S3 (docs/cloud.md has the detail):
// - Writers buffer up to one part (S3Options::part_size). An object that
//   fits is PUT once at Commit, under its final key: atomic, as S3 PUTs are.
// - A larger object becomes a multipart upload under a private temp key
//   (PREFIX/.tmp/<random>), because its final key may change (SetKey,
//   CommitAs) and a placeholder key may be shared by concurrent writers;
//   Commit completes it, copies it to the final key (CopyObject, or
//   UploadPartCopy above copy_part_size) and deletes the temp object. A
//   writer destroyed without Commit aborts its upload (best effort: a crash
//   leaves it to the bucket's AbortIncompleteMultipartUpload lifecycle rule).
// - Readers: Open GETs the first chunk (its Content-Range gives the size);
//   Read continues with ranged GETs of read_chunk bytes, ReadAt is one
//   ranged GET; every GET after the first carries If-Match on the first's
//   ETag, so an object replaced meanwhile is an error, never a mix.
// - List pages through ListObjectsV2 (continuation tokens), skipping .tmp/.
// - AllowInPlace and CommitAll's first_is_intent need nothing here: every
//   PUT is atomic, and CommitAll commits the intent first, then the rest
//   (in parallel).
// Thread-safety: the store is; a Writer or Reader is used by one thread.
// Errors: kUnavailable (network, 5xx, throttling left after the retries),
// kNotFound (Open of a missing key), kInvalidArgument (bad key),
// kFailedPrecondition (credentials refused, object changed while read).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/aws/credentials.h"
#include "common/aws/http_client.h"
#include "common/aws/service_options.h"
#include "common/clock.h"
#include "common/status.h"
#include "storage/object_store.h"

namespace aquasense::storage {

struct S3Location {
  std::string bucket;
  std::string prefix;  // without leading or trailing '/', may be empty
};

// "s3://BUCKET[/PREFIX]" -> location. kInvalidArgument for another scheme,
// an invalid bucket name, or a prefix with empty, "." or ".." segments.
Result<S3Location> ParseS3Url(std::string_view url);

struct S3Options : aws::ServiceOptions {
  bool path_style = false;               // http://endpoint/BUCKET/KEY instead of BUCKET.host/KEY
  size_t part_size = 8u << 20;           // multipart above this (S3's minimum part is 5 MiB)
  uint64_t copy_part_size = 5ull << 30;  // CopyObject up to this, UploadPartCopy above
  size_t read_chunk = 8u << 20;          // bytes a sequential Read fetches at once
  int list_page_size = 1000;             // max-keys of each ListObjectsV2 page
};

// aws::ServiceOptionsFromEnvironment(env, http, "s3"), path-style when a
// variable chose the endpoint. `clock` and `http` must outlive the store.
Result<S3Options> S3OptionsFromEnvironment(const aws::Env& env,
                                           std::shared_ptr<aws::HttpClient> http);

std::unique_ptr<ObjectStore> NewS3ObjectStore(S3Location location, S3Options options);

}  // namespace aquasense::storage
