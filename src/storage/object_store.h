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
//
// Errors, the same for every backend (a caller may rely on the code):
//   kInvalidArgument    a key ValidObjectKey refuses, or a request the backend
//                       cannot take (an S3 object over 10,000 parts); not retryable.
//   kNotFound           Open of a missing key (only there).
//   kFailedPrecondition a Writer used after Commit, or an object replaced while
//                       it was read; retrying the whole operation may succeed.
//   kUnavailable        the disk or the service failed (I/O error, full disk,
//                       network, throttling, credentials); retryable: nothing
//                       half-written is visible.
//   kInternal           the backend answered something it should not (a bug).
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

// An object being written: invisible until Commit (or ObjectStore::CommitAll).
class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;  // without Commit(): the object is discarded
  // Adds bytes at the end of the object. kFailedPrecondition after Commit;
  // kUnavailable when the bytes could not be buffered or written (the writer
  // is then useless: drop it).
  virtual Status Append(std::string_view bytes) = 0;
  // Makes the object visible under its key, replacing any previous one
  // atomically (readers see the old or the new object, never a mix); durable
  // on OK. Once only: kFailedPrecondition after a first call. kUnavailable:
  // nothing new is visible, the old object (if any) is intact.
  virtual Status Commit() = 0;
  // SetKey(key), then Commit() (e.g. a content hash known only at the end).
  virtual Status CommitAs(std::string_view key) = 0;
  // Changes the key the object will be committed under (by Commit() or
  // ObjectStore::CommitAll). kInvalidArgument for a key ValidObjectKey
  // refuses (the old key stays). After Commit it changes nothing.
  virtual Status SetKey(std::string_view key) = 0;
  // The caller vouches that this object and the one it replaces show a torn
  // write (they carry a checksum): the store may then commit it by
  // overwriting the old one in place, which on a local disk saves a rename
  // and a directory sync, instead of replacing it atomically. A hint.
  virtual void AllowInPlace() {}
  // Appending without a copy (optional): Space() lends room in the writer's
  // own buffer, which the caller fills with the next bytes and hands back
  // with Filled(n) (n <= its size; the room is the writer's again, as after
  // Append). Empty when the writer has no such buffer (then use Append),
  // e.g. after an error. Copies a local file into the store with one copy
  // less (pipeline::CopyToLanding).
  virtual std::span<char> Space() { return {}; }
  virtual Status Filled(size_t n) {
    return n == 0 ? Status::Ok() : FailedPrecondition("this object writer lends no buffer");
  }
};

// A committed object as it was when opened: a reader never sees a later
// commit's bytes (S3: kFailedPrecondition when the object was replaced).
class ObjectReader {
 public:
  virtual ~ObjectReader() = default;
  // Reads up to n bytes from the current position and advances it; 0 only at
  // the end of the object (a short count is not the end). kUnavailable on an
  // I/O or network error; the position is then unspecified.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
  // Reads up to n bytes at `offset`, independent of Read's position; 0 at or
  // past the end. Errors as Read.
  virtual Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) = 0;
  // The object's size in bytes when it was opened.
  virtual uint64_t size() const = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // A writer for `key`; nothing is visible until it commits. kInvalidArgument
  // for a key ValidObjectKey refuses; kUnavailable when the backend cannot
  // start one (no space for a temp file, the service down).
  virtual Result<std::unique_ptr<ObjectWriter>> NewWriter(std::string_view key) = 0;
  // The committed object under `key`. kNotFound when there is none;
  // kInvalidArgument for a bad key; kUnavailable on an I/O or network error.
  virtual Result<std::unique_ptr<ObjectReader>> Open(std::string_view key) = 0;
  // Whether a committed object is under `key` (writers in progress do not
  // count). kInvalidArgument for a bad key; kUnavailable as Open.
  virtual Result<bool> Exists(std::string_view key) = 0;
  // Every committed object whose key starts with `prefix` (plain string
  // prefix; "" lists everything), sorted by key. kUnavailable as Open. Not a
  // snapshot: objects committed or deleted meanwhile may or may not show.
  virtual Result<std::vector<ObjectInfo>> List(std::string_view prefix) = 0;
  // Removes the object (durable on OK); a missing one is not an error.
  // kInvalidArgument for a bad key; kUnavailable: it may still be there.
  virtual Status Delete(std::string_view key) = 0;
  // Commits writers of this store together, each under its own key (as
  // Commit() does, all durable on OK), for the price of about one commit on
  // a local disk instead of one each. With `first_is_intent`, the first
  // object is durable before any other appears (an intent record the others
  // depend on). On an error some of them may have been committed (each one
  // wholly or not at all); errors as ObjectWriter::Commit.
  virtual Status CommitAll(std::span<ObjectWriter* const> writers, bool first_is_intent = false);
  // Convenience: the whole object in memory (for small objects only). Errors
  // as Open and Read.
  Result<std::string> ReadAll(std::string_view key);
  // Convenience: NewWriter + Append + Commit. Errors as those.
  Status WriteAll(std::string_view key, std::string_view bytes);
};

// True for a key every backend accepts: '/'-separated non-empty parts, none
// of them ".", ".." or ".tmp" (the local store's temp folder), no leading or
// trailing '/', no NUL byte. Stores answer kInvalidArgument for any other key.
bool ValidObjectKey(std::string_view key);

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
