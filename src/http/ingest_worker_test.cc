#include "http/ingest_worker.h"

#include <gtest/gtest.h>

#include <future>
#include <stdexcept>

namespace aquasense::http {
namespace {

// A landing writer whose FinishForBatch throws, or fails with a status.
class FaultyWriter final : public pipeline::LandingWriter {
 public:
  explicit FaultyWriter(bool throws) : throws_(throws) {}
  Status Append(std::string_view) override { return Status::Ok(); }
  uint64_t size() const override { return 0; }
  Result<pipeline::StagedFile> Finish() override { return FinishForBatch(); }
  Result<pipeline::StagedFile> FinishForBatch() override {
    if (throws_) throw std::runtime_error("disk on fire");
    return Unavailable("landing failed");
  }

 private:
  bool throws_;
};

Result<pipeline::IngestSummary> Upload(IngestWorker& w, bool throws) {
  std::promise<Result<pipeline::IngestSummary>> done;
  auto future = done.get_future();
  w.SubmitUpload(std::make_shared<FaultyWriter>(throws), {},
                 [&](Result<pipeline::IngestSummary> r) { done.set_value(std::move(r)); });
  return future.get();
}

TEST(IngestWorker, Threads_AnExceptionInAJobIsAnInternalErrorAndTheWorkerGoesOn) {
  SnapshotHolder snapshots(nullptr, nullptr);
  ServerMetrics metrics(1);
  IngestWorker w(nullptr, &snapshots, &metrics);
  Result<pipeline::IngestSummary> r = Upload(w, true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInternal);  // the waiting request gets a 500
  EXPECT_NE(r.status().message().find("disk on fire"), std::string::npos);
  // The worker thread survived: the next job runs and is answered.
  Result<pipeline::IngestSummary> next = Upload(w, false);
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.status().code(), Code::kUnavailable);
  w.Stop();
  EXPECT_EQ(Upload(w, false).status().code(), Code::kUnavailable);  // after Stop()
}

}  // namespace
}  // namespace aquasense::http
