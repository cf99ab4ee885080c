// S3 event notifications as SQS delivers them to `aquasense worker`, and the
// inbox keys they name (SPEC §9).
//
//   auto ev = ParseS3Event(message.body);      // {"Records":[...]} or s3:TestEvent
//   for (const auto& o : ev->objects) {
//     auto f = ParseInboxKey(o.key, "prefix");   // "prefix/inbox/s1/a.csv" -> {s1, a.csv}
//   }
//
// Event keys arrive URL-encoded ('/' included, '+' for a space) and are
// decoded here. Pure functions, thread-safe.
// Errors: kInvalidArgument for a body that is neither an S3 event nor a test
// event (the worker lets such a message go to the dead-letter queue).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace aquasense::cloud {

struct S3EventObject {
  std::string event_name;  // "ObjectCreated:Put", "ObjectCreated:CompleteMultipartUpload", ...
  std::string bucket;
  std::string key;  // decoded
  uint64_t size = 0;
  int64_t event_ms = 0;  // eventTime, 0 when absent or unreadable
};

struct S3Event {
  bool test_event = false;             // s3:TestEvent, sent when a notification is configured
  std::vector<S3EventObject> objects;  // the ObjectCreated records only
};

Result<S3Event> ParseS3Event(std::string_view body);

// A file dropped for ingestion: <prefix>/inbox/<sensor>/<name>.csv.
struct InboxFile {
  std::string key;     // relative to the store's prefix: "inbox/<sensor>/<name>.csv"
  std::string sensor;  // not validated here: the pipeline rejects an invalid id
  std::string name;
};

// The inbox file `bucket_key` names under `prefix` (the store's, "" for
// none), or nothing when it is not one: outside prefix/inbox/, not exactly
// one folder deep, or not ending in ".csv" (any case).
std::optional<InboxFile> ParseInboxKey(std::string_view bucket_key, std::string_view prefix);

}  // namespace aquasense::cloud
