// Local input files for the pipeline: a reader over a file outside the data
// directory (what `aquasense ingest FILE` reads), SHA-256 of a reader, and the
// copy of a local file into landing/ that checks its hash on the way.
// Internal to the pipeline; each object is used by one thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"
#include "pipeline/pipeline.h"
#include "storage/object_store.h"

namespace aquasense::pipeline {

// Makes sure file descriptors 0, 1 and 2 are open (on /dev/null when one was
// closed), so that no file opened later takes the place of a standard
// stream: with stdin closed, `ingest -` would read whatever file got fd 0.
// Call it first thing in main(); standard input then counts as unreadable
// (StandardInputClosed). Not thread-safe (process start only).
void ReserveStandardStreams();
// True when standard input is closed, or was at ReserveStandardStreams().
bool StandardInputClosed();

// kUnavailable ("cannot read PATH: ...") when it cannot be opened or is not a
// regular file.
Result<std::unique_ptr<storage::ObjectReader>> OpenLocalFile(const std::string& path);

// Hex SHA-256 of everything `reader` yields.
Result<std::string> Sha256Of(storage::ObjectReader& reader, const std::string& name);

// Copies f.local_path towards f.landing_key unless that object exists and
// returns the writer, for the batch to commit with its other objects
// (nullptr when there is nothing to commit); fails, storing nothing, when the
// bytes no longer hash to f.hash. `*input_error` (when given) tells an error
// of the input file (unreadable, changed) from one of the store.
Result<std::unique_ptr<storage::ObjectWriter>> CopyToLanding(const StagedFile& f,
                                                             storage::ObjectStore& objects,
                                                             bool* input_error = nullptr);

// The same copy, started on a thread of its own before the file's hash is
// known (so it runs beside the hashing; for files of kBackgroundCopyBytes or
// more). Once Expect() has named the hash and key and the batch has taken
// the file (Take()), the thread checks that the copy's bytes hash as
// expected; Finish() waits for that and hands over the writer, for the batch
// to commit with its other objects (nullptr: the object exists already).
//
//   auto copy = LandingCopy::Start(path, sensor, objects);
//   ... hash the file ...
//   copy->Expect(hash, landing_key);
//   copy->Take();                  // the batch ingests the file
//   auto writer = copy->Finish();  // waits
//
// Without Expect(), the copy's own hash names the file (hash() after
// Finish()). Destroying it without Take() cancels the copy and stores nothing
// (a file already ingested). Finish() errors are CopyToLanding's;
// input_error() tells them apart as CopyToLanding's `*input_error` does. An
// exception on the copy thread becomes a Finish() error.
class LandingCopy {
 public:
  static std::shared_ptr<LandingCopy> Start(std::string path, std::string sensor,
                                            storage::ObjectStore& objects);
  ~LandingCopy();
  LandingCopy(const LandingCopy&) = delete;
  LandingCopy& operator=(const LandingCopy&) = delete;

  void Expect(std::string hash, std::string landing_key);
  // The batch takes the file: the copy is wanted (after Expect()).
  void Take();
  // After Take(): waits for the copy and its check.
  Result<std::unique_ptr<storage::ObjectWriter>> Finish();
  // After Finish(): the SHA-256 (hex) of the copied bytes.
  const std::string& hash() const { return hash_; }
  bool done() const { return done_.load(); }
  // Finish() was called: the writer is handed over (a batch run again
  // without this copy copies the file itself, see CopyToLanding).
  bool finished() const { return finished_; }
  // After a failed Finish(): the error is the input file's.
  bool input_error() const { return input_error_; }

 private:
  LandingCopy(std::string path, storage::ObjectStore& objects)
      : path_(std::move(path)), objects_(objects) {}
  void Run(const std::string& sensor);
  Status CopyAndCheck(const std::string& sensor);

  const std::string path_;
  storage::ObjectStore& objects_;
  std::thread thread_;
  std::atomic<bool> cancel_{false}, done_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool expected_set_ = false, taken_ = false;
  bool finished_ = false, input_error_ = false;
  std::string hash_, key_;  // expected
  Status status_;
  std::unique_ptr<storage::ObjectWriter> writer_;  // the checked copy, uncommitted
};

// Smaller files are copied by the batch itself (no thread worth starting).
constexpr uint64_t kBackgroundCopyBytes = 256 << 10;

}  // namespace aquasense::pipeline
