#include "http/inbox_watcher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <future>

#include "http/ingest_worker.h"

namespace aquasense::http {
namespace {

namespace fs = std::filesystem;

class InboxWatcherTest : public ::testing::Test {
 protected:
  InboxWatcherTest()
      : root_(MakeRoot()),
        objects_(storage::NewLocalObjectStore((root_ / "data").string())),
        meta_(std::move(*storage::OpenSqliteMetaStore((root_ / "data" / "aquasense.db").string()))),
        clock_(1'700'000'000'000),
        pipeline_(pipeline::Env{objects_.get(), meta_.get(), &clock_}, pipeline::Options{}),
        snapshots_(meta_.get(), &clock_),
        metrics_(1),
        worker_(&pipeline_, &snapshots_, &metrics_) {
    inbox_ = root_ / "inbox";
  }
  ~InboxWatcherTest() override {
    worker_.Stop();
    fs::remove_all(root_);
  }
  static fs::path MakeRoot() {
    fs::path root = fs::temp_directory_path() / ("aq-inbox-test-" + std::to_string(::getpid()) +
                                                 "-" + std::to_string(counter_++));
    fs::remove_all(root);
    fs::create_directories(root / "data");
    return root;
  }
  void Write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }

  static inline int counter_ = 0;
  fs::path root_;
  std::unique_ptr<storage::ObjectStore> objects_;
  std::unique_ptr<storage::MetaStore> meta_;
  FakeClock clock_;
  pipeline::Pipeline pipeline_;
  SnapshotHolder snapshots_;
  ServerMetrics metrics_;
  IngestWorker worker_;
  fs::path inbox_;
};

TEST_F(InboxWatcherTest, IngestsSettledFilesThenRemovesThem) {
  InboxWatcher w(inbox_, &pipeline_, &worker_, WatchOptions{std::chrono::milliseconds(0)});
  Write(inbox_ / "root.csv", "2024-01-01,10,0.1\n2024-01-02,12,0.1\n");
  Write(inbox_ / "s1" / "a.csv", "2024-02-01,5,0.1\n");
  Write(inbox_ / ".hidden.tmp", "2024-03-01,5,0.1\n");
  Write(inbox_ / "bad id" / "x.csv", "2024-03-01,5,0.1\n");
  EXPECT_EQ(w.ScanOnce(), 0);  // first sight: not settled yet
  EXPECT_EQ(w.ScanOnce(), 2);
  EXPECT_FALSE(fs::exists(inbox_ / "root.csv"));
  EXPECT_FALSE(fs::exists(inbox_ / "s1" / "a.csv"));
  EXPECT_TRUE(fs::exists(inbox_ / ".hidden.tmp"));
  EXPECT_TRUE(fs::exists(inbox_ / "bad id" / "x.csv"));
  auto snap = snapshots_.Get();
  ASSERT_NE(snap->Find("default", core::MonthIndex(2024, 1)), nullptr);
  EXPECT_EQ(snap->Find("default", core::MonthIndex(2024, 1))->mean_temp, 11);
  EXPECT_NE(snap->Find("s1", core::MonthIndex(2024, 2)), nullptr);
  auto files = meta_->ListFiles();
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ(w.ScanOnce(), 0);
}

TEST_F(InboxWatcherTest, SameBytesAgainAreANoOpAndStillLeaveTheInbox) {
  InboxWatcher w(inbox_, &pipeline_, &worker_, WatchOptions{std::chrono::milliseconds(0)});
  Write(inbox_ / "s2" / "a.csv", "2024-02-01,5,0.1\n");
  w.ScanOnce();
  EXPECT_EQ(w.ScanOnce(), 1);
  Write(inbox_ / "s2" / "again.csv", "2024-02-01,5,0.1\n");  // a re-delivery after a crash
  w.ScanOnce();
  EXPECT_EQ(w.ScanOnce(), 1);
  EXPECT_FALSE(fs::exists(inbox_ / "s2" / "again.csv"));
  EXPECT_EQ(meta_->ListFiles()->size(), 1u);
}

TEST_F(InboxWatcherTest, UploadThroughTheWorkerIsVisibleWhenDoneIsCalled) {
  auto writer = pipeline_.NewLandingWriter("up", "upload");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append("date,temperature,sd\n2030-01-05,10.5,0.2\n").ok());
  pipeline::IngestRequest req;
  req.default_sensor = "up";
  std::promise<bool> seen;
  worker_.SubmitUpload(
      std::shared_ptr<pipeline::LandingWriter>(std::move(*writer)), req,
      [&](Result<pipeline::IngestSummary> r) {
        seen.set_value(r.ok() && r->files == 1 &&
                       snapshots_.Get()->Find("up", core::MonthIndex(2030, 1)) != nullptr);
      });
  EXPECT_TRUE(seen.get_future().get());
  std::string json = pipeline::SummaryJson(*pipeline_.IngestStaged({}, req));
  EXPECT_NE(json.find("\"files\":0"), std::string::npos);
}

}  // namespace
}  // namespace aquasense::http
