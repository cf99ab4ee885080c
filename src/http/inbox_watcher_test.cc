#include "http/inbox_watcher.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <future>
#include <sstream>
#include <stdexcept>
#include <thread>

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
  static void Append(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::app) << text;
  }
  static std::string Read(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static int Count(const std::string& text, const std::string& what) {
    int n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  }
  // Every byte stored under the data directory's landing/ and filtered/.
  std::string StoredBytes() {
    std::string all;
    for (const char* dir : {"landing", "filtered"}) {
      std::error_code ec;
      for (auto it = fs::recursive_directory_iterator(root_ / "data" / dir, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file()) all += Read(it->path());
      }
    }
    return all;
  }
  int64_t Readings(const std::string& sensor, int year, int month) {
    const MonthRecord* r = snapshots_.Get()->Find(sensor, core::MonthIndex(year, month));
    return r == nullptr ? 0 : r->readings;
  }
  static WatchOptions Fast() {
    WatchOptions o;
    o.interval = std::chrono::milliseconds(0);
    o.settle = std::chrono::milliseconds(0);
    return o;
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
  InboxWatcher w(inbox_, &pipeline_, &worker_, Fast());
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
  InboxWatcher w(inbox_, &pipeline_, &worker_, Fast());
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

// H1: a symlinked sensor folder is not followed; the directory it points to,
// outside the data directory, keeps every file. The link stays; one warning.
TEST_F(InboxWatcherTest, H1_SymlinkedFolderIsNotFollowedAndItsTargetKeepsItsFiles) {
  const fs::path victim = root_ / "victimdir";
  Write(victim / "precious1.csv", "date,temperature,sd\n2024-08-01,10,0.1\n");
  Write(victim / "notes.txt", "notes\n");
  fs::create_directories(inbox_);
  fs::create_directory_symlink(victim, inbox_ / "victim");
  InboxWatcher w(inbox_, &pipeline_, &worker_, Fast());
  testing::internal::CaptureStderr();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(w.ScanOnce(), 0);
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(fs::exists(victim / "precious1.csv"));
  EXPECT_TRUE(fs::exists(victim / "notes.txt"));
  EXPECT_TRUE(fs::is_symlink(inbox_ / "victim"));
  EXPECT_EQ(meta_->ListFiles()->size(), 0u);
  EXPECT_EQ(Readings("victim", 2024, 8), 0);
  EXPECT_EQ(Count(log, "skipping the symlink inbox/victim"), 1) << log;
}

// H1: a sensor folder swapped for a link to a folder outside while its batch
// runs: the file read (now outside the inbox) is not deleted.
TEST_F(InboxWatcherTest, H1_FolderSwappedForALinkDuringTheBatchKeepsItsFiles) {
  Write(inbox_ / "s1" / "a.csv", "2024-02-01,5,0.1\n");
  const fs::path outside = root_ / "outside";
  WatchOptions o = Fast();
  o.after_stage = [&] {
    fs::create_directories(outside);
    fs::rename(inbox_ / "s1", outside / "s1");
    fs::create_directory_symlink(outside / "s1", inbox_ / "s1");
  };
  InboxWatcher w(inbox_, &pipeline_, &worker_, o);
  EXPECT_EQ(w.ScanOnce(), 0);
  EXPECT_EQ(w.ScanOnce(), 0);  // ingested, but not removed
  EXPECT_EQ(Readings("s1", 2024, 2), 1);
  EXPECT_TRUE(fs::exists(outside / "s1" / "a.csv"));
}

// H2: a symlink to a readable file outside the inbox is not ingested: no
// landing copy, nothing of its content stored; the link and its target stay.
TEST_F(InboxWatcherTest, H2_SymlinkedFileIsNotIngested) {
  const fs::path secret = root_ / "secret.csv";
  Write(secret, "2024-01-01,10,0.1\nroot:x:0:0:SECRET-LINE\n");
  fs::create_directories(inbox_ / "s1");
  fs::create_symlink(secret, inbox_ / "leak.csv");
  fs::create_symlink(secret, inbox_ / "s1" / "leak.csv");
  InboxWatcher w(inbox_, &pipeline_, &worker_, Fast());
  testing::internal::CaptureStderr();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(w.ScanOnce(), 0);
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_EQ(meta_->ListFiles()->size(), 0u);
  EXPECT_EQ(StoredBytes().find("SECRET"), std::string::npos);
  EXPECT_EQ(Readings("default", 2024, 1), 0);
  EXPECT_TRUE(fs::is_symlink(inbox_ / "leak.csv"));
  EXPECT_TRUE(fs::is_symlink(inbox_ / "s1" / "leak.csv"));
  EXPECT_TRUE(fs::exists(secret));
  EXPECT_EQ(Count(log, "skipping the symlink inbox/leak.csv"), 1) << log;
  EXPECT_EQ(Count(log, "skipping the symlink inbox/s1/leak.csv"), 1) << log;
}

// H2: a hard link may be a file outside the inbox too: it is skipped.
TEST_F(InboxWatcherTest, H2_HardLinkedFileIsNotIngested) {
  const fs::path secret = root_ / "secret.csv";
  Write(secret, "2024-01-01,10,0.1\n");
  fs::create_directories(inbox_);
  fs::create_hard_link(secret, inbox_ / "leak.csv");
  InboxWatcher w(inbox_, &pipeline_, &worker_, Fast());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(w.ScanOnce(), 0);
  EXPECT_EQ(meta_->ListFiles()->size(), 0u);
  EXPECT_TRUE(fs::exists(inbox_ / "leak.csv"));
}

// M3: a file that keeps growing is not taken until its size and mtime have
// been unchanged for the settle time; then every row is stored.
TEST_F(InboxWatcherTest, M3_GrowingFileWaitsForTheSettleTime) {
  WatchOptions o = Fast();
  o.settle = std::chrono::milliseconds(400);
  InboxWatcher w(inbox_, &pipeline_, &worker_, o);
  const fs::path f = inbox_ / "slow" / "readings.csv";
  Write(f, "date,temperature,sd\n2024-03-01,1,0.1\n");
  EXPECT_EQ(w.ScanOnce(), 0);
  for (int day = 2; day <= 5; ++day) {  // every scan sees a new size
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    Append(f, "2024-03-0" + std::to_string(day) + ",1,0.1\n");
    EXPECT_EQ(w.ScanOnce(), 0);
  }
  EXPECT_EQ(Readings("slow", 2024, 3), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(450));
  EXPECT_EQ(w.ScanOnce(), 1);
  EXPECT_EQ(Readings("slow", 2024, 3), 5);
  EXPECT_FALSE(fs::exists(f));
}

// M3: `.part` files and dot files are ignored until renamed into place.
TEST_F(InboxWatcherTest, M3_PartAndDotFilesAreIgnoredUntilRenamed) {
  Write(inbox_ / "s1" / "a.csv.part", "2024-04-01,5,0.1\n");
  Write(inbox_ / "s1" / ".b.csv", "2024-04-02,7,0.1\n");
  Write(inbox_ / ".c.csv.part", "2024-05-01,7,0.1\n");
  InboxWatcher w(inbox_, &pipeline_, &worker_, Fast());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(w.ScanOnce(), 0);
  EXPECT_EQ(meta_->ListFiles()->size(), 0u);
  fs::rename(inbox_ / "s1" / "a.csv.part", inbox_ / "s1" / "a.csv");
  fs::rename(inbox_ / "s1" / ".b.csv", inbox_ / "s1" / "b.csv");
  fs::rename(inbox_ / ".c.csv.part", inbox_ / "c.csv");
  EXPECT_EQ(w.ScanOnce(), 0);  // first sight
  EXPECT_EQ(w.ScanOnce(), 3);
  EXPECT_EQ(Readings("s1", 2024, 4), 2);
  EXPECT_EQ(Readings("default", 2024, 5), 1);
}

// A file replaced after it was read (same name, size and mtime, other inode
// and bytes) is not deleted after the batch: it is ingested next, as new bytes.
TEST_F(InboxWatcherTest, ReplacedAfterReadIsNotDeleted) {
  const fs::path f = inbox_ / "s1" / "a.csv";
  Write(f, "2024-06-01,5,0.1\n");
  bool replaced = false;
  WatchOptions o = Fast();
  o.after_stage = [&] {
    if (replaced) return;
    replaced = true;
    const fs::path tmp = inbox_ / "s1" / ".a.csv.part";
    Write(tmp, "2024-07-01,9,0.1\n");  // the same size
    fs::last_write_time(tmp, fs::last_write_time(f));
    fs::rename(tmp, f);
  };
  InboxWatcher w(inbox_, &pipeline_, &worker_, o);
  EXPECT_EQ(w.ScanOnce(), 0);
  EXPECT_EQ(w.ScanOnce(), 0);  // the first file is ingested, the new one stays
  ASSERT_TRUE(replaced);
  EXPECT_EQ(Read(f), "2024-07-01,9,0.1\n");
  EXPECT_EQ(Readings("s1", 2024, 6), 1);
  EXPECT_EQ(w.ScanOnce(), 0);  // new identity: seen once more
  EXPECT_EQ(w.ScanOnce(), 1);
  EXPECT_EQ(Readings("s1", 2024, 7), 1);
  EXPECT_FALSE(fs::exists(f));
  EXPECT_EQ(meta_->ListFiles()->size(), 2u);
}

// A file appended to after it was read stays, and is ingested again whole
// (its earlier rows count as duplicates).
TEST_F(InboxWatcherTest, AppendedAfterReadIsNotDeleted) {
  const fs::path f = inbox_ / "a.csv";
  Write(f, "2024-06-01,5,0.1\n");
  WatchOptions o = Fast();
  bool appended = false;
  o.after_stage = [&] {
    if (!appended) Append(f, "2024-06-02,7,0.1\n");
    appended = true;
  };
  InboxWatcher w(inbox_, &pipeline_, &worker_, o);
  EXPECT_EQ(w.ScanOnce(), 0);
  EXPECT_EQ(w.ScanOnce(), 0);
  EXPECT_TRUE(fs::exists(f));
  EXPECT_EQ(Readings("default", 2024, 6), 1);
  EXPECT_EQ(w.ScanOnce(), 0);
  EXPECT_EQ(w.ScanOnce(), 1);
  EXPECT_EQ(Readings("default", 2024, 6), 2);
}

// One warning per bad entry, not one per scan; again once it comes back.
TEST_F(InboxWatcherTest, WarnsOncePerEntry) {
  fs::create_directories(inbox_ / "bad id");
  ASSERT_EQ(::mkfifo((inbox_ / "pipe.csv").c_str(), 0600), 0);
  InboxWatcher w(inbox_, &pipeline_, &worker_, Fast());
  testing::internal::CaptureStderr();
  for (int i = 0; i < 3; ++i) w.ScanOnce();
  fs::remove(inbox_ / "bad id");
  w.ScanOnce();
  fs::create_directories(inbox_ / "bad id");
  w.ScanOnce();
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_EQ(Count(log, "inbox/bad id: its name is not a valid sensor id"), 2) << log;
  EXPECT_EQ(Count(log, "skipping inbox/pipe.csv: not a regular file"), 1) << log;
}

// A log line never carries a control character taken from a file name.
TEST_F(InboxWatcherTest, NamesInLogLinesAreCleaned) {
  fs::create_directories(inbox_);
  fs::create_symlink("/etc/passwd", inbox_ / "a\nforged line");
  InboxWatcher w(inbox_, &pipeline_, &worker_, Fast());
  testing::internal::CaptureStderr();
  w.ScanOnce();
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("inbox/a?forged line"), std::string::npos) << log;
  EXPECT_EQ(Count(log, "\n"), 1) << log;
}

TEST_F(InboxWatcherTest, SymlinkedInboxIsRefused) {
  fs::create_directories(root_ / "elsewhere");
  fs::create_directory_symlink(root_ / "elsewhere", inbox_);
  InboxWatcher w(inbox_, &pipeline_, &worker_, Fast());
  Status s = w.Start();
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("symbolic link"), std::string::npos);
}

// Code review 3.8 / improvement 2: an exception in a scan is logged and the
// watcher thread keeps running: the file is ingested by a later scan.
TEST_F(InboxWatcherTest, ExceptionInAScanIsLoggedAndTheWatcherKeepsRunning) {
  Write(inbox_ / "s1" / "a.csv", "2024-09-01,5,0.1\n");
  std::atomic<int> calls{0};
  WatchOptions o = Fast();
  o.interval = std::chrono::milliseconds(10);
  o.after_stage = [&] {
    if (calls++ == 0) throw std::runtime_error("injected failure");
  };
  testing::internal::CaptureStderr();
  {
    InboxWatcher w(inbox_, &pipeline_, &worker_, o);
    ASSERT_TRUE(w.Start().ok());
    for (int i = 0; i < 500 && fs::exists(inbox_ / "s1" / "a.csv"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_FALSE(fs::exists(inbox_ / "s1" / "a.csv"));
  EXPECT_EQ(Readings("s1", 2024, 9), 1);
  EXPECT_GE(calls.load(), 2);
  EXPECT_NE(log.find("inbox: scan failed (tried again at the next scan): injected failure"),
            std::string::npos)
      << log;
}

}  // namespace
}  // namespace aquasense::http
