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

struct evp_md_ctx_st;

namespace aquasense::pipeline {

// Incremental SHA-256 (OpenSSL), hex digest.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(const char* p, size_t n);
  std::string Hex();  // once, at the end

 private:
  evp_md_ctx_st* ctx_;
};

// kUnavailable ("cannot read PATH: ...") when it cannot be opened or is not a
// regular file.
Result<std::unique_ptr<storage::ObjectReader>> OpenLocalFile(const std::string& path);

// Hex SHA-256 of everything `reader` yields.
Result<std::string> Sha256Of(storage::ObjectReader& reader, const std::string& name);

// Copies f.local_path to f.landing_key unless that object exists; fails,
// storing nothing, when the bytes no longer hash to f.hash.
Status CopyToLanding(const StagedFile& f, storage::ObjectStore& objects);

// The same copy, started on a thread of its own before the file's hash is
// known (so it runs beside the hashing). Once Expect() has named the hash and
// key and the batch has taken the file (Commit()), the thread commits the
// copy if its bytes hash as expected; Finish() waits for that.
//
//   auto copy = LandingCopy::Start(path, sensor, objects);
//   ... hash the file ...
//   copy->Expect(hash, landing_key);
//   copy->Commit();             // the batch ingests the file
//   Status s = copy->Finish();  // waits
//
// Destroying it without Commit() cancels the copy and stores nothing (a file
// already ingested). Finish() errors are CopyToLanding's.
class LandingCopy {
 public:
  static std::shared_ptr<LandingCopy> Start(std::string path, std::string sensor,
                                            storage::ObjectStore& objects);
  ~LandingCopy();
  LandingCopy(const LandingCopy&) = delete;
  LandingCopy& operator=(const LandingCopy&) = delete;

  void Expect(std::string hash, std::string landing_key);
  // Lets the thread commit the copy once it is complete (after Expect()).
  void Commit();
  // After Commit(): waits for the copy and its commit; OK when the file is in landing/.
  Status Finish();
  bool done() const { return done_.load(); }

 private:
  LandingCopy(std::string path, storage::ObjectStore& objects)
      : path_(std::move(path)), objects_(objects) {}
  void Run(const std::string& sensor);
  Status CopyAndCommit(const std::string& sensor);

  const std::string path_;
  storage::ObjectStore& objects_;
  std::thread thread_;
  std::atomic<bool> cancel_{false}, done_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool expected_set_ = false, commit_ = false;
  std::string hash_, key_;  // expected
  Status status_;
};

}  // namespace aquasense::pipeline
