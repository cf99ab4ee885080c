// S3Client: signed S3 REST calls for S3ObjectStore (internal to storage):
// URL building (path-style or virtual-hosted), SigV4 with the current
// credentials, retries, the few XML answers the store reads.
//
//   S3Client s3(location.bucket, options);
//   auto r = s3.Call({.method = "HEAD", .key = "p/landing/x.csv"});
//
// Thread-safe (stateless besides its options). Errors as StatusFromResponse
// (common/aws/http_client.h), plus an S3 200 answer carrying an <Error>
// (CompleteMultipartUpload, CopyObject), retried and then kUnavailable.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/aws/http_client.h"
#include "storage/s3_object_store.h"

namespace aquasense::storage {

struct S3Call {
  std::string method = "GET";
  std::string key{};                     // full key in the bucket; empty: the bucket
  std::vector<aws::QueryParam> query{};  // raw pairs
  std::vector<aws::Header> headers{};    // besides the signed ones the signer adds
  std::string_view body{};
  std::string content_type = "application/octet-stream";
};

class S3Client {
 public:
  S3Client(std::string bucket, const S3Options& options)
      : bucket_(std::move(bucket)), o_(options) {}

  // Sends the call (retrying as options.retry says) and returns the response
  // whatever its status; kUnavailable when it could not be sent.
  Result<aws::HttpResponse> Send(const S3Call& call) const;
  // Same, then StatusFromResponse: only 2xx answers are returned.
  Result<aws::HttpResponse> Call(const S3Call& call) const;

  const std::string& bucket() const { return bucket_; }
  // "s3://bucket/key" for messages.
  std::string Name(std::string_view key) const {
    return "s3://" + bucket_ + "/" + std::string(key);
  }

 private:
  Result<aws::HttpRequest> Build(const S3Call& call) const;

  std::string bucket_;
  const S3Options& o_;
};

// Bucket set-up for `aquasense setup-aws` (idempotent):
// CreateBucket, with a LocationConstraint outside us-east-1; a bucket this
// account owns already is OK; one owned by another account is
// kFailedPrecondition (BucketAlreadyExists).
Status CreateBucket(const S3Client& s3, const std::string& region);
// PutBucketNotificationConfiguration: the bucket's s3:ObjectCreated:* events
// for keys under `prefix` go to the SQS queue `queue_arn`. It replaces the
// bucket's whole notification configuration (S3 has no per-rule call).
Status PutInboxNotification(const S3Client& s3, const std::string& prefix,
                            const std::string& queue_arn);

// The text of the first <tag>...</tag> in `xml` at or after `from` (XML
// entities decoded), "" when absent; `end` receives where it ended.
std::string XmlValue(std::string_view xml, std::string_view tag, size_t from = 0,
                     size_t* end = nullptr);

// application/x-www-form-urlencoded decoding ('+' is a space), as S3's
// encoding-type=url answers need.
std::string UrlDecode(std::string_view s);

}  // namespace aquasense::storage
