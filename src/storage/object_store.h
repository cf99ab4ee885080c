// ObjectStore: where raw files and derived outputs live (landing/, filtered/,
// analysis/). Keys are '/'-separated relative names ("landing/default/ab12.csv").
//
//   auto w = store.NewWriter("analysis/monthly/s1.csv");
//   AQ_RETURN_IF_ERROR((*w)->Append(text));
//   AQ_RETURN_IF_ERROR((*w)->Commit());   // appears atomically, durable
//   store.CommitAll({a.get(), b.get()});   // several at once: cheaper
//
// Backends: LocalObjectStore (a directory: temp file + fsync + rename) and
// S3ObjectStore (s3_object_store.h), chosen by URL through OpenObjectStore.
// Objects are all-or-nothing: a reader never sees a partly written object, and
// a Writer destroyed without Commit() leaves nothing behind.
// Thread-safety: implementations are safe for concurrent use; a Writer or
// Reader is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace aquasense::storage {

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  int64_t mtime_ms = 0;
};

class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;  // without Commit(): the object is discarded
  virtual Status Append(std::string_view bytes) = 0;
  // Makes the object visible under its key, replacing any previous one; durable on OK.
  virtual Status Commit() = 0;
  // Same, under another key (e.g. a content hash known only at the end).
  virtual Status CommitAs(std::string_view key) = 0;
  // Changes the key the object will be committed under (by Commit() or
  // ObjectStore::CommitAll).
  virtual Status SetKey(std::string_view key) = 0;
  // The caller vouches that this object and the one it replaces show a torn
  // write (they carry a checksum): the store may then commit it by
  // overwriting the old one in place, which on a local disk saves a rename
  // and a directory sync, instead of replacing it atomically. A hint.
  virtual void AllowInPlace() {}
};

class ObjectReader {
 public:
  virtual ~ObjectReader() = default;
  // Reads up to n bytes; returns 0 at the end of the object.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
  // Reads up to n bytes at `offset`, independent of Read's position.
  virtual Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) = 0;
  virtual uint64_t size() const = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  virtual Result<std::unique_ptr<ObjectWriter>> NewWriter(std::string_view key) = 0;
  // NotFound when the key does not exist.
  virtual Result<std::unique_ptr<ObjectReader>> Open(std::string_view key) = 0;
  virtual Result<bool> Exists(std::string_view key) = 0;
  // Every object whose key starts with `prefix`, sorted by key.
  virtual Result<std::vector<ObjectInfo>> List(std::string_view prefix) = 0;
  // Removes the object (durable on OK); a missing one is not an error.
  virtual Status Delete(std::string_view key) = 0;
  // Commits writers of this store together, each under its own key (as
  // Commit() does, all durable on OK), for the price of about one commit on
  // a local disk instead of one each. With `first_is_intent`, the first
  // object is durable before any other appears (an intent record the others
  // depend on). On an error some of them may have been committed.
  virtual Status CommitAll(std::span<ObjectWriter* const> writers, bool first_is_intent = false);
  // Convenience: the whole object (for small objects only).
  Result<std::string> ReadAll(std::string_view key);
  Status WriteAll(std::string_view key, std::string_view bytes);
};

// A directory on the local file system.
// Opening it removes the temp files that processes which are gone left in
// ROOT/.tmp/ (killed in the middle of a write).
std::unique_ptr<ObjectStore> NewLocalObjectStore(std::string root);

// The store a URL names: "s3://BUCKET[/PREFIX]" (AWS settings from the
// environment, see common/aws/credentials.h), or a directory (a path, or
// file://PATH). `clock` (request signing) must outlive the store.
// Errors: kInvalidArgument (another scheme, a bad bucket name or prefix, bad
// AWS settings). Nothing is contacted yet: credentials and network errors
// come with the first call.
Result<std::unique_ptr<ObjectStore>> OpenObjectStore(std::string_view url, const Clock& clock);

}  // namespace aquasense::storage
