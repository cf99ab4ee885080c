// MetaStore tests: the conformance suite instantiated for SQLite and memory
// (meta_store_conformance.h), and SQLite's own (upgrades, change log, WAL).
#include "storage/meta_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "storage/memory_meta_store.h"
#include "storage/meta_store_conformance.h"
#include "storage/test_batch.h"
#include "storage/test_dir.h"
#include "storage/test_records.h"

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

// The conformance suite (meta_store_conformance.cc) over SQLite (a file)
// and memory.
class SqliteUnderTest final : public conformance::MetaUnderTest {
 public:
  Status Open() {
    auto s = OpenSqliteMetaStore(dir_.path() + "/t.db");
    if (!s.ok()) return s.status();
    store_ = std::move(*s);
    return Status::Ok();
  }
  MetaStore& store() override { return *store_; }
  std::unique_ptr<MetaStore> OpenAgain() override {
    auto s = OpenSqliteMetaStore(dir_.path() + "/t.db");
    return s.ok() ? std::move(*s) : nullptr;
  }

 private:
  testing::TempDir dir_;
  std::unique_ptr<MetaStore> store_;
};

class MemoryUnderTest final : public conformance::MetaUnderTest {
 public:
  MetaStore& store() override { return *store_; }

 private:
  std::unique_ptr<MetaStore> store_ = NewMemoryMetaStore();
};

Result<std::unique_ptr<conformance::MetaUnderTest>> MakeSqlite() {
  auto sut = std::make_unique<SqliteUnderTest>();
  AQ_RETURN_IF_ERROR(sut->Open());
  return std::unique_ptr<conformance::MetaUnderTest>(std::move(sut));
}

Result<std::unique_ptr<conformance::MetaUnderTest>> MakeMemory() {
  return std::unique_ptr<conformance::MetaUnderTest>(new MemoryUnderTest());
}

using conformance::MetaStoreConformance;
INSTANTIATE_TEST_SUITE_P(Backends, MetaStoreConformance,
                         ::testing::Values(conformance::MetaBackend{"Sqlite", MakeSqlite, false},
                                           conformance::MetaBackend{"Memory", MakeMemory, true}),
                         conformance::ParamName<conformance::MetaBackend>);

TEST_F(MetaStoreTest, SecondOpenSeesCommittedData) {
  auto a = OpenStore();
  auto b = OpenStore();
  {
    auto batch = a->BeginBatch();
    ASSERT_TRUE((*batch)->ExpectVersion("s1", 0).ok());
    ASSERT_TRUE((*batch)->PutMetrics(M("s1", 2024, 1, 12, std::nullopt)).ok());
    ASSERT_TRUE((*batch)->Commit().ok());
  }
  EXPECT_EQ(b->ListMetrics({})->size(), 1u);
  EXPECT_EQ(*a->Generation(), *b->Generation());
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
  // An older binary's batch (no change log entry) after the upgrade (written
  // in schema 5's tables).
  old_version_batch(
      "BEGIN; INSERT INTO sensor_ids(id, sensor) VALUES(100, 'c');"
      "INSERT INTO metrics VALUES(100, 24289, 1, 2, 0.3, NULL, 4);"
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
    ASSERT_EQ(
        sqlite3_exec(
            db,
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
    // The old file's size is unknown: any size may be it.
    EXPECT_TRUE(*store->MayHaveFile("s", 12345));
    EXPECT_FALSE(*store->MayHaveFile("other", 12345));
    auto batch = store->BeginBatch();
    ASSERT_TRUE(batch.ok());
    if (open == 0) {
      ASSERT_TRUE((*batch)->RecordFile(testing::TestFile("h2", "other", 0, 777)).ok());
    } else {
      EXPECT_TRUE(*store->MayHaveFile("other", 777));
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
  auto block = [](int i) {
    return std::string(16000, static_cast<char>('a' + i % 26)) + std::to_string(i);
  };
  constexpr int kBlocks = 1500;  // ~24 MB: 1,500 WAL frames of 16 KiB
  {
    auto store = OpenStore();
    const auto db_bytes_before = fs::file_size(db);
    {
      auto b = store->BeginBatch();
      ASSERT_TRUE(b.ok());
      ASSERT_TRUE((*b)->ExpectVersion("s1", 0).ok());
      for (int i = 0; i < kBlocks; ++i) ASSERT_TRUE((*b)->PutBlock("s1", i, block(i)).ok());
      (*b)->WritesDone();  // the commit follows
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
