// Opening the SQLite store: concurrent first opens (review M5), damaged and
// empty files (M9), repeated messages (L13), ":memory:" and the ledger's
// file sizes (code review 3.10.2 and 3.10.3).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "storage/meta_store.h"
#include "storage/sqlite_util.h"
#include "storage/test_dir.h"
#include "storage/test_records.h"

namespace aquasense::storage {
namespace {

core::MonthlyMetrics M(std::string sensor, int y, int m, double max) {
  return {std::move(sensor), y, m, max - 1, max, 0.3, std::nullopt, 4};
}

Status CommitOne(MetaStore& store, const std::string& sensor) {
  auto b = store.BeginBatch();
  if (!b.ok()) return b.status();
  AQ_RETURN_IF_ERROR((*b)->ExpectVersion(sensor, 0));
  AQ_RETURN_IF_ERROR((*b)->PutMetrics(M(sensor, 2024, 1, 12)));
  return (*b)->Commit();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// M5: several openers of a database that does not exist yet, at once, all
// succeed and all their batches land (before: "database is locked" from the
// first PRAGMA journal_mode=WAL, which does not honour the busy timeout).
TEST(SqliteOpen, M5ConcurrentFirstOpensAllSucceed) {
  constexpr int kRounds = 10;
  constexpr int kOpeners = 6;
  for (int round = 0; round < kRounds; ++round) {
    testing::TempDir dir;
    const std::string path = dir.path() + "/aquasense.db";
    std::vector<Status> results(kOpeners);
    {
      std::vector<std::jthread> threads;
      for (int i = 0; i < kOpeners; ++i) {
        threads.emplace_back([&, i] {
          auto store = OpenSqliteMetaStore(path);
          results[i] = store.ok() ? CommitOne(**store, "s" + std::to_string(i)) : store.status();
        });
      }
    }
    for (int i = 0; i < kOpeners; ++i)
      ASSERT_TRUE(results[i].ok()) << "round " << round << ": " << results[i].ToString();
    auto store = OpenSqliteMetaStore(path);
    ASSERT_TRUE(store.ok());
    EXPECT_EQ((*store)->ListSensors()->size(), static_cast<size_t>(kOpeners));
  }
}

// M9: a file that is not a database, or a damaged one, is kFailedPrecondition
// with a message that says so once ("cannot configure database" is gone).
TEST(SqliteOpen, M9DamagedFilesAreFailedPrecondition) {
  testing::TempDir dir;
  const std::string good = dir.path() + "/good.db";
  {
    auto store = OpenSqliteMetaStore(good);
    ASSERT_TRUE(store.ok());
    for (int i = 0; i < 50; ++i)
      ASSERT_TRUE(CommitOne(**store, "sensor-" + std::to_string(i)).ok());
  }
  const auto size = std::filesystem::file_size(good);
  std::string bytes(size, '\0');
  std::ifstream(good, std::ios::binary).read(bytes.data(), static_cast<std::streamsize>(size));

  const std::string garbage = dir.path() + "/garbage.db";
  WriteFile(garbage, "this is not a database at all, just text" + std::string(8192, 'x'));
  auto g = OpenSqliteMetaStore(garbage);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), Code::kFailedPrecondition) << g.status().ToString();
  EXPECT_NE(g.status().message().find("is damaged: file is not a database"), std::string::npos)
      << g.status().message();
  EXPECT_EQ(g.status().message().find("not a database: file is not a database"), std::string::npos);
  EXPECT_EQ(g.status().message().find("cannot configure"), std::string::npos);
  EXPECT_TRUE(IsDamaged(g.status()));
  EXPECT_TRUE(IsDamaged(Unavailable("database step failed: database disk image is malformed")));
  EXPECT_FALSE(IsDamaged(Unavailable("database step failed: database is locked")));

  const std::string header = dir.path() + "/header.db";
  std::string damaged = bytes;
  for (size_t i = 0; i < 100; ++i) damaged[i] = static_cast<char>(0xA5 ^ i);
  WriteFile(header, damaged);
  auto h = OpenSqliteMetaStore(header);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), Code::kFailedPrecondition) << h.status().ToString();
}

// M9: with must_exist, a missing or 0-byte file is refused, not created.
TEST(SqliteOpen, M9MustExistRefusesMissingAndEmpty) {
  testing::TempDir dir;
  SqliteOptions options;
  options.must_exist = true;
  const std::string missing = dir.path() + "/missing.db";
  auto m = OpenSqliteMetaStore(missing, options);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(m.status().message().find("is missing"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(missing));

  const std::string empty = dir.path() + "/empty.db";
  WriteFile(empty, "");
  auto e = OpenSqliteMetaStore(empty, options);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(e.status().message().find("is empty (0 bytes)"), std::string::npos);
  EXPECT_EQ(std::filesystem::file_size(empty), 0u);

  auto fresh = OpenSqliteMetaStore(empty);  // without must_exist: a new store
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  auto again = OpenSqliteMetaStore(empty, options);  // now it exists
  EXPECT_TRUE(again.ok()) << again.status().ToString();
}

// L13: an error from sqlite3_exec is said once, not "X: X".
TEST(SqliteOpen, L13ExecErrorIsNotRepeated) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  Status s = sqlite::ExecSql(db, "SELECT * FROM no_such_table");
  EXPECT_EQ(s.message(), "no such table: no_such_table");
  sqlite::Close(db);
}

// Code review 3.10.2: ":memory:" is one store for both connections (the
// reader used to see another, empty database: "no such table: meta").
TEST(SqliteOpen, MemoryStoreWorks) {
  auto store = OpenSqliteMetaStore(":memory:");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE(CommitOne(**store, "s1").ok());
  auto rows = (*store)->ListMetrics({});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].sensor, "s1");
  EXPECT_GT(*(*store)->Generation(), 0);
  auto other = OpenSqliteMetaStore(":memory:");  // another, private store
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE((*other)->ListMetrics({})->empty());
}

// Code review 3.10.3: FileRecord.bytes is read back by FindFile and ListFiles.
TEST(SqliteOpen, FileBytesAreReadBack) {
  auto store = OpenSqliteMetaStore(":memory:");
  ASSERT_TRUE(store.ok());
  {
    auto b = (*store)->BeginBatch();
    ASSERT_TRUE(b.ok());
    FileRecord f = testing::TestFile("h1", "s1", 0, 4242);
    ASSERT_TRUE((*b)->RecordFile(f).ok());
    f.hash = "h2";
    f.bytes = -1;  // unknown: stays unknown
    ASSERT_TRUE((*b)->RecordFile(f).ok());
    ASSERT_TRUE((*b)->Commit().ok());
  }
  EXPECT_EQ((*(*store)->FindFile("h1", "s1"))->bytes, 4242);
  auto files = (*store)->ListFiles();
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].bytes, 4242);
  EXPECT_EQ((*files)[1].bytes, -1);
}

}  // namespace
}  // namespace aquasense::storage
