// Conformance tests for MetaStore backends (SQLite today; DynamoDB later runs
// the same suite through OpenStore()).
#include "storage/meta_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "storage/test_batch.h"
#include "storage/test_dir.h"

namespace aquasense::storage {
namespace {

class MetaStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<MetaStore> OpenStore() {
    auto s = OpenSqliteMetaStore(dir_.path() + "/t.db");
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(*s);
  }
  testing::TempDir dir_;
};

core::MonthlyMetrics M(std::string sensor, int y, int m, double max, std::optional<double> diff) {
  return {std::move(sensor), y, m, max - 1, max, 0.3, diff, 4};
}

TEST_F(MetaStoreTest, BatchIsAllOrNothing) {
  auto store = OpenStore();
  const int64_t g0 = *store->Generation();
  {
    auto b = store->BeginBatch();
    ASSERT_TRUE(b.ok());
    ASSERT_TRUE((*b)->PutMetrics(M("s1", 2024, 1, 12, std::nullopt)).ok());
    ASSERT_TRUE((*b)->PutBlock("s1", 100, "abc").ok());
    EXPECT_TRUE(store->ListMetrics({})->empty());  // readers do not see it yet
    // no Commit: rolled back
  }
  EXPECT_TRUE(store->ListMetrics({})->empty());
  EXPECT_EQ(*store->Generation(), g0);
  {
    auto b = store->BeginBatch();
    ASSERT_TRUE((*b)->PutMetrics(M("s2", 2024, 2, 13, 1.0)).ok());
    ASSERT_TRUE((*b)->PutMetrics(M("s1", 2024, 1, 12, std::nullopt)).ok());
    ASSERT_TRUE((*b)->PutBlock("s1", 100, std::string("a\0b", 3)).ok());
    EXPECT_EQ(**(*b)->GetBlock("s1", 100), std::string("a\0b", 3));  // sees its own writes
    EXPECT_EQ(*(*b)->BlockMonths("s1"), std::vector<int32_t>{100});
    ASSERT_TRUE((*b)->Commit().ok());
  }
  EXPECT_GT(*store->Generation(), g0);
  auto all = *store->ListMetrics({});
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], M("s1", 2024, 1, 12, std::nullopt));
  EXPECT_EQ(all[1], M("s2", 2024, 2, 13, 1.0));
  MetricsQuery q;
  q.sensor = "s2";
  q.from_month = core::MonthIndex(2024, 2);
  EXPECT_EQ(store->ListMetrics(q)->size(), 1u);
  EXPECT_EQ(*store->ListSensors(), (std::vector<std::string>{"s1", "s2"}));
  EXPECT_EQ(**store->ReadBlock("s1", 100), std::string("a\0b", 3));
}

TEST_F(MetaStoreTest, LedgerAndOutbox) {
  auto store = OpenStore();
  auto b = store->BeginBatch();
  FileRecord f;
  f.hash = "h1";
  f.default_sensor = "s1";
  f.landing_key = "landing/s1/h1.csv";
  f.source_name = "a.csv";
  f.rows = 10;
  ASSERT_TRUE((*b)->RecordFile(f).ok());
  Alert a;
  a.kind = "deviation";
  a.sensor = "s1";
  a.file_hash = "h1";
  a.default_sensor = "s1";
  a.created_ms = 1000;
  a.payload_json = "{}";
  EXPECT_TRUE(*(*b)->AddAlert(a, {"log", "hook"}));
  EXPECT_FALSE(*(*b)->AddAlert(a, {"log", "hook"}));  // same file, kind, sensor: once
  ASSERT_TRUE((*b)->Commit().ok());
  b->reset();

  EXPECT_EQ((*store->FindFile("h1", "s1"))->rows, 10);
  EXPECT_FALSE(store->FindFile("h1", "s2")->has_value());
  auto due = *store->DueDeliveries(1000, 10);
  ASSERT_EQ(due.size(), 2u);
  Delivery d = due[0];
  d.state = DeliveryState::kDelivered;
  d.attempts = 1;
  ASSERT_TRUE(store->UpdateDelivery(d).ok());
  EXPECT_EQ(store->DueDeliveries(1000, 10)->size(), 1u);
  auto recent = *store->RecentAlerts(10);
  ASSERT_EQ(recent.size(), 1u);
  EXPECT_EQ(recent[0].second.size(), 2u);
  EXPECT_EQ(store->GetAlert(recent[0].first.id)->kind, "deviation");

  // Several outcomes at once.
  Delivery later = due[1];
  later.next_attempt_ms = 5000;
  later.attempts = 2;
  later.last_error = "refused";
  d.last_error = "again";
  ASSERT_TRUE(store->UpdateDeliveries(std::vector<Delivery>{d, later}).ok());
  EXPECT_TRUE(store->DueDeliveries(1000, 10)->empty());
  auto after = *store->DueDeliveries(5000, 10);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].attempts, 2);
  EXPECT_EQ(after[0].last_error, "refused");
  EXPECT_EQ((*store->RecentAlerts(10))[0].second.size(), 2u);
}

TEST_F(MetaStoreTest, SecondOpenSeesCommittedData) {
  auto a = OpenStore();
  auto b = OpenStore();
  {
    auto batch = a->BeginBatch();
    ASSERT_TRUE((*batch)->PutMetrics(M("s1", 2024, 1, 12, std::nullopt)).ok());
    ASSERT_TRUE((*batch)->Commit().ok());
  }
  EXPECT_EQ(b->ListMetrics({})->size(), 1u);
  EXPECT_EQ(*a->Generation(), *b->Generation());
}

TEST_F(MetaStoreTest, MetricsSinceNamesTheChangedSensors) {
  auto store = OpenStore();
  testing::CommitMetrics(*store, {M("a", 2024, 1, 10, std::nullopt), M("b", 2024, 1, 11, std::nullopt),
                  M("c", 2024, 1, 12, std::nullopt)});
  const int64_t g1 = *store->Generation();

  auto same = store->MetricsSince(g1);
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_FALSE(same->full);
  EXPECT_EQ(same->generation, g1);
  EXPECT_TRUE(same->sensors.empty());
  EXPECT_TRUE(same->rows.empty());

  auto all = store->MetricsSince(-1);  // below 0: everything
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->full);
  EXPECT_EQ(all->rows, *store->ListMetrics({}));

  testing::CommitMetrics(*store, {M("b", 2024, 2, 13, 2.0)});
  testing::CommitMetrics(*store, {M("d", 2023, 12, 9, std::nullopt), M("b", 2024, 3, 14, 1.0)});
  testing::CommitMetrics(*store, {});  // a batch that wrote no metrics
  const int64_t g4 = *store->Generation();
  auto delta = store->MetricsSince(g1);
  ASSERT_TRUE(delta.ok());
  EXPECT_FALSE(delta->full);
  EXPECT_EQ(delta->generation, g4);
  EXPECT_EQ(delta->sensors, (std::vector<std::string>{"b", "d"}));
  MetricsQuery qb, qd;
  qb.sensor = "b";
  qd.sensor = "d";
  auto want = *store->ListMetrics(qb);  // all of b's months, then d's
  const auto of_d = *store->ListMetrics(qd);
  want.insert(want.end(), of_d.begin(), of_d.end());
  EXPECT_EQ(delta->rows, want);
  EXPECT_EQ(delta->rows.size(), 4u);

  // Only the batches after the given generation count.
  auto last = store->MetricsSince(g4 - 2);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->sensors, (std::vector<std::string>{"b", "d"}));
  EXPECT_TRUE(store->MetricsSince(g4 - 1)->sensors.empty());

  // A rebuild changes everything: whoever was behind it reloads.
  testing::CommitMetrics(*store, {M("a", 2024, 1, 10, std::nullopt)}, /*reset=*/true);
  auto rebuilt = store->MetricsSince(g4);
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_TRUE(rebuilt->full);
  EXPECT_EQ(rebuilt->rows, (std::vector<core::MonthlyMetrics>{M("a", 2024, 1, 10, std::nullopt)}));
  EXPECT_TRUE(store->MetricsSince(g1)->full);
  // A generation the store never had (ahead of it): everything.
  EXPECT_TRUE(store->MetricsSince(*store->Generation() + 5)->full);
  // After the rebuild, deltas work again.
  const int64_t g5 = *store->Generation();
  testing::CommitMetrics(*store, {M("e", 2024, 1, 10, std::nullopt)});
  auto after = store->MetricsSince(g5);
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->full);
  EXPECT_EQ(after->sensors, std::vector<std::string>{"e"});
}

// SQLite only: a store written by a version without the change log
// (user_version 2), or a batch committed by such a version after the upgrade,
// makes the unknown generations answer full.
TEST_F(MetaStoreTest, SqliteChangesOfUnloggedBatchesAreUnknown) {
  const std::string path = dir_.path() + "/t.db";
  int64_t g0 = 0;
  {
    auto store = OpenStore();
    testing::CommitMetrics(*store, {M("a", 2024, 1, 10, std::nullopt)});
    g0 = *store->Generation();
  }
  auto old_version_batch = [&](const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  };
  // As before the change log: no table, no bookkeeping, user_version 2.
  old_version_batch(
      "DROP TABLE changes; DELETE FROM meta WHERE key IN ('changes_from', 'changes_gen');"
      "PRAGMA user_version=2;");
  {
    auto store = OpenStore();  // creates the change log
    EXPECT_TRUE(store->MetricsSince(g0 - 1)->full);
    EXPECT_FALSE(store->MetricsSince(g0)->full);
    testing::CommitMetrics(*store, {M("b", 2024, 1, 10, std::nullopt)});
    EXPECT_EQ(store->MetricsSince(g0)->sensors, std::vector<std::string>{"b"});
  }
  // An older binary's batch (no change log entry) after the upgrade.
  old_version_batch(
      "BEGIN; INSERT INTO metrics VALUES('c', 24289, 2024, 2, 1, 2, 0.3, NULL, 4);"
      "UPDATE meta SET value = value + 1 WHERE key = 'generation'; COMMIT;");
  auto store = OpenStore();
  const int64_t g2 = *store->Generation();
  EXPECT_TRUE(store->MetricsSince(g2 - 1)->full);
  EXPECT_TRUE(store->MetricsSince(g0)->full);
  testing::CommitMetrics(*store, {M("d", 2024, 1, 10, std::nullopt)});
  EXPECT_TRUE(store->MetricsSince(g2 - 1)->full);  // still unknown
  auto delta = store->MetricsSince(g2);            // known again from here
  ASSERT_TRUE(delta.ok());
  EXPECT_FALSE(delta->full);
  EXPECT_EQ(delta->sensors, std::vector<std::string>{"d"});
}

// SQLite only: the change log keeps the last 10,000 generations; a reader
// further behind gets everything.
TEST_F(MetaStoreTest, SqliteChangeLogIsPruned) {
  const std::string path = dir_.path() + "/t.db";
  {
    auto store = OpenStore();
    testing::CommitMetrics(*store, {M("a", 2024, 1, 10, std::nullopt)});
  }
  {  // jump ahead as if 20,000 logged batches had run, with an old log entry left
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(
        sqlite3_exec(db,
                     "UPDATE meta SET value = 20000 WHERE key IN ('generation', 'changes_gen');"
                     "INSERT INTO changes VALUES(9000, 'old');",
                     nullptr, nullptr, nullptr),
        SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = OpenStore();
  testing::CommitMetrics(*store, {M("b", 2024, 1, 10, std::nullopt)});  // generation 20001
  EXPECT_TRUE(store->MetricsSince(10'000)->full);
  auto delta = store->MetricsSince(10'001);
  ASSERT_TRUE(delta.ok());
  EXPECT_FALSE(delta->full);
  EXPECT_EQ(delta->sensors, std::vector<std::string>{"b"});  // "old" is gone
}

// SQLite only: a ledger written before file sizes were kept (schema without
// files.bytes, user_version 0) gets the column when opened, and the store
// then opens at the current schema version without changing it again.
TEST_F(MetaStoreTest, SqliteLedgerWithoutFileSizesIsMigrated) {
  const std::string path = dir_.path() + "/t.db";
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TABLE files(seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, "
                           "default_sensor TEXT NOT NULL, landing_key TEXT NOT NULL, "
                           "source_name TEXT NOT NULL, on_conflict INTEGER NOT NULL, "
                           "ingested_ms INTEGER NOT NULL, rows INTEGER NOT NULL, valid INTEGER NOT NULL, "
                           "invalid INTEGER NOT NULL, duplicates INTEGER NOT NULL, alerts INTEGER NOT NULL, "
                           "UNIQUE(hash, default_sensor));"
                           "INSERT INTO files VALUES(1,'h1','s','landing/s/h1.csv','old.csv',0,5,3,3,0,0,0);",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  for (int open = 0; open < 2; ++open) {
    auto store = OpenStore();
    auto files = store->ListFiles();
    ASSERT_TRUE(files.ok()) << files.status().ToString();
    ASSERT_EQ(files->size(), 1u + open);
    EXPECT_EQ((*files)[0].source_name, "old.csv");
    auto batch = store->BeginBatch();
    ASSERT_TRUE(batch.ok());
    // The old file's size is unknown: any size may be it.
    EXPECT_TRUE(*(*batch)->MayHaveFile("s", 12345));
    EXPECT_FALSE(*(*batch)->MayHaveFile("other", 12345));
    if (open == 0) {
      FileRecord f;
      f.hash = "h2";
      f.default_sensor = "other";
      f.landing_key = "landing/other/h2.csv";
      f.source_name = "new.csv";
      f.bytes = 777;
      ASSERT_TRUE((*batch)->RecordFile(f).ok());
    } else {
      EXPECT_TRUE(*(*batch)->MayHaveFile("other", 777));
    }
    ASSERT_TRUE((*batch)->Commit().ok());
  }
}

// A batch larger than the checkpoint threshold: the WAL is copied into the
// database by the background checkpoint while the store is still open, and
// is short once it closes; the data reads back from the database file.
TEST_F(MetaStoreTest, SqliteLargeBatchIsCheckpointedInTheBackground) {
  namespace fs = std::filesystem;
  const std::string db = dir_.path() + "/t.db";
  auto block = [](int i) { return std::string(16000, static_cast<char>('a' + i % 26)) + std::to_string(i); };
  constexpr int kBlocks = 1500;  // ~24 MB: 1,500 WAL frames of 16 KiB
  {
    auto store = OpenStore();
    const auto db_bytes_before = fs::file_size(db);
    {
      auto b = store->BeginBatch();
      ASSERT_TRUE(b.ok());
      for (int i = 0; i < kBlocks; ++i) ASSERT_TRUE((*b)->PutBlock("s1", i, block(i)).ok());
      (*b)->WritesDone();  // reads may follow, and the commit
      EXPECT_EQ(**(*b)->GetBlock("s1", 7), block(7));
      ASSERT_TRUE((*b)->Commit().ok());
    }
    // The checkpoint runs on its own: the database file grows by the batch
    // while the store is open (SQLite's own checkpoint is replaced).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (fs::file_size(db) < db_bytes_before + kBlocks * 16000ull &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_GE(fs::file_size(db), db_bytes_before + kBlocks * 16000ull);
    EXPECT_EQ(**store->ReadBlock("s1", 1499), block(1499));
  }
  EXPECT_LE(fs::file_size(db + "-wal"), 1u << 20);  // closed: the WAL is short
  auto store = OpenStore();
  EXPECT_EQ(**store->ReadBlock("s1", 0), block(0));
  EXPECT_EQ(**store->ReadBlock("s1", 1499), block(1499));
}

}  // namespace
}  // namespace aquasense::storage
