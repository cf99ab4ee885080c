#include "http/ingest_worker.h"

#include <exception>
#include <future>

#include "common/catch_all.h"
#include "http/log.h"

namespace aquasense::http {

namespace {

using IngestResult = Result<pipeline::IngestSummary>;

// Runs a batch; an exception becomes kInternal and a log line, so that the
// caller always hears back and nothing escapes the worker thread.
template <typename F>
IngestResult Guarded(std::string_view source, F&& batch) {
  return CatchAll(std::forward<F>(batch), [source](const std::string& what) {
    LogLine("ingest worker: " + std::string(source) + " batch failed: " + what);
    return Internal("the ingest failed unexpectedly: " + what);
  });
}

}  // namespace

IngestCounts CountsOf(const pipeline::IngestSummary& s) {
  IngestCounts c;
  c.files = s.files;
  c.rows = s.rows;
  c.valid = s.valid;
  c.invalid = s.invalid;
  c.duplicates = s.duplicates;
  c.alerts = s.alerts;
  c.months_updated = s.months_updated;
  c.seconds = s.seconds;
  return c;
}

IngestWorker::IngestWorker(pipeline::Pipeline* pipeline, SnapshotHolder* snapshots,
                           ServerMetrics* metrics)
    : pipeline_(pipeline), snapshots_(snapshots), metrics_(metrics) {
  thread_ = std::jthread([this] { Loop(); });
}

IngestWorker::~IngestWorker() { Stop(); }

void IngestWorker::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool IngestWorker::Post(std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

void IngestWorker::Loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping and drained
    std::function<void()> job = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    try {  // jobs guard their batches; this is the thread's last boundary
      job();
    } catch (const std::exception& e) {
      LogLine(std::string("ingest worker: a job failed: ") + e.what());
    } catch (...) {
      LogLine("ingest worker: a job failed: unknown exception");
    }
    lock.lock();
  }
}

Result<pipeline::IngestSummary> IngestWorker::RunBatch(
    const std::vector<pipeline::StagedFile>& files, const pipeline::IngestRequest& req,
    std::string_view source) {
  Result<pipeline::IngestSummary> r = pipeline_->IngestStaged(files, req);
  if (!r.ok()) return r;  // counted by the caller, with the other failures
  // Publish before answering: whoever hears back can read the batch.
  (void)snapshots_->Refresh();  // a failure shows in /health; the batch itself committed
  metrics_->RecordIngest(source, true, CountsOf(*r));
  return r;
}

void IngestWorker::SubmitUpload(std::shared_ptr<pipeline::LandingWriter> writer,
                                pipeline::IngestRequest req, Done done) {
  auto job = [this, writer = std::move(writer), req = std::move(req), done]() {
    IngestResult r = Guarded("upload", [&]() -> IngestResult {
      Result<pipeline::StagedFile> staged = writer->FinishForBatch();
      if (!staged.ok()) return staged.status();
      return RunBatch({*staged}, req, "upload");
    });
    if (!r.ok()) metrics_->RecordIngest("upload", false, {});
    done(std::move(r));
  };
  if (!Post(std::move(job))) done(Unavailable("the server is shutting down"));
}

Result<pipeline::IngestSummary> IngestWorker::IngestStaged(std::vector<pipeline::StagedFile> files,
                                                           pipeline::IngestRequest req,
                                                           std::string_view source) {
  std::promise<Result<pipeline::IngestSummary>> promise;
  auto future = promise.get_future();
  std::string src(source);
  bool posted = Post([&, src] {
    IngestResult r = Guarded(src, [&] { return RunBatch(files, req, src); });
    if (!r.ok()) metrics_->RecordIngest(src, false, {});
    promise.set_value(std::move(r));
  });
  if (!posted) return Unavailable("the server is shutting down");
  return future.get();
}

}  // namespace aquasense::http
