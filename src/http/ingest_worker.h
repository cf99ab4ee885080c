// IngestWorker: the one thread on which the server runs ingest batches
// (uploads and the watched inbox), so that ingestion never blocks an I/O
// thread and batches run one at a time, in arrival order.
//
//   IngestWorker w(&pipeline, &snapshots, &metrics);
//   w.SubmitUpload(writer, req, [](Result<pipeline::IngestSummary> r) { ... });
//   auto summary = w.IngestStaged(files, req, "watch");   // blocks the caller
//   w.Stop();                                             // drains the queue
//
// After a batch, the snapshot is refreshed before the caller hears back, so a
// response sent after that shows the batch. Thread-safety: all methods are
// thread-safe; callbacks run on the worker thread. Errors: the pipeline's
// (kUnavailable/kInternal store failures), kUnavailable after Stop(), and
// kInternal for an exception thrown by a batch: it is logged, the caller
// hears back (an upload gets a 500) and the worker goes on with the next job.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"
#include "http/metrics.h"
#include "http/snapshot.h"
#include "pipeline/pipeline.h"

namespace aquasense::http {

IngestCounts CountsOf(const pipeline::IngestSummary& s);

class IngestWorker {
 public:
  using Done = std::function<void(Result<pipeline::IngestSummary>)>;

  IngestWorker(pipeline::Pipeline* pipeline, SnapshotHolder* snapshots, ServerMetrics* metrics);
  ~IngestWorker();  // Stop()
  IngestWorker(const IngestWorker&) = delete;
  IngestWorker& operator=(const IngestWorker&) = delete;

  // Queues: Finish() the writer, ingest the file as one batch, refresh the
  // snapshot, then done(result).
  void SubmitUpload(std::shared_ptr<pipeline::LandingWriter> writer, pipeline::IngestRequest req,
                    Done done);
  // Runs IngestStaged(files) as one batch on the worker; waits for it.
  Result<pipeline::IngestSummary> IngestStaged(std::vector<pipeline::StagedFile> files,
                                               pipeline::IngestRequest req,
                                               std::string_view source);
  // Finishes every queued job, then joins. Later submissions fail with kUnavailable.
  void Stop();

 private:
  bool Post(std::function<void()> job);  // false after Stop()
  void Loop();
  Result<pipeline::IngestSummary> RunBatch(const std::vector<pipeline::StagedFile>& files,
                                           const pipeline::IngestRequest& req,
                                           std::string_view source);

  pipeline::Pipeline* pipeline_;
  SnapshotHolder* snapshots_;
  ServerMetrics* metrics_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::jthread thread_;  // last: joined before the members it uses go
};

}  // namespace aquasense::http
