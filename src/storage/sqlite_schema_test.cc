// SQLite schema 5 (issue 11): stores of schema 4 are migrated on open, and
// a batch that writes sensors round by round fills whole pages.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

#include "storage/meta_store.h"
#include "storage/test_dir.h"

namespace aquasense::storage {
namespace {

// The blocks and metrics tables as schema 1-4 wrote them (keyed by name).
constexpr const char* kSchema4Tables = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO meta(key, value) VALUES('generation', 7), ('schema', 1);
CREATE TABLE blocks(
  sensor TEXT NOT NULL, month_index INTEGER NOT NULL, data BLOB NOT NULL,
  PRIMARY KEY(sensor, month_index)) WITHOUT ROWID;
CREATE TABLE metrics(
  sensor TEXT NOT NULL, month_index INTEGER NOT NULL, year INTEGER NOT NULL, month INTEGER NOT NULL,
  mean_temp REAL NOT NULL, max_temp REAL NOT NULL, max_sd REAL NOT NULL, max_temp_diff REAL,
  readings INTEGER NOT NULL,
  PRIMARY KEY(sensor, month_index)) WITHOUT ROWID;
CREATE TABLE sensors(sensor TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO blocks VALUES('zeta', 24289, x'0102'), ('alpha', 24290, x'03'), ('alpha', 24288, x'04');
INSERT INTO metrics VALUES('zeta', 24289, 2024, 2, 1.5, 2.5, 0.25, NULL, 3),
  ('alpha', 24290, 2024, 3, 4.125, 5, 0.5, -1.25, 2), ('alpha', 24288, 2024, 1, 7, 8, 0.75, 2, 1);
INSERT INTO sensors VALUES('zeta', 7), ('alpha', 6);
PRAGMA user_version=4;
)sql";

int64_t QueryInt(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &s, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  const int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
  sqlite3_finalize(s);
  sqlite3_close(db);
  return v;
}

core::MonthlyMetrics M(std::string sensor, int y, int m, double mean, double max, double sd,
                       std::optional<double> diff, int64_t readings) {
  return {std::move(sensor), y, m, mean, max, sd, diff, readings};
}

TEST(SqliteSchema, I11_Schema4StoreIsMigratedOnOpen) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/t.db";
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, kSchema4Tables, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  for (int open = 0; open < 2; ++open) {  // the second open finds schema 5
    auto store = OpenSqliteMetaStore(path);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    MetaStore& s = **store;
    EXPECT_EQ(*s.Generation(), 7);
    EXPECT_EQ(**s.ReadBlock("zeta", 24289), std::string("\x01\x02"));
    EXPECT_EQ(**s.ReadBlock("alpha", 24288), std::string("\x04"));
    EXPECT_FALSE(s.ReadBlock("alpha", 24289)->has_value());
    auto head = s.ReadSensor("alpha");
    ASSERT_TRUE(head.ok());
    EXPECT_EQ(head->version, 6);
    EXPECT_EQ(head->months, (std::vector<int32_t>{24288, 24290}));
    EXPECT_EQ(*s.ListSensors(), (std::vector<std::string>{"alpha", "zeta"}));
    const std::vector<core::MonthlyMetrics> want = {
        M("alpha", 2024, 1, 7, 8, 0.75, 2, 1), M("alpha", 2024, 3, 4.125, 5, 0.5, -1.25, 2),
        M("zeta", 2024, 2, 1.5, 2.5, 0.25, std::nullopt, 3)};
    EXPECT_EQ(*s.ListMetrics({}), want);
    EXPECT_EQ(**s.GetMetrics("alpha", 24290), want[1]);
  }
  EXPECT_EQ(QueryInt(path, "PRAGMA user_version"), 5);
  EXPECT_EQ(QueryInt(path, "PRAGMA freelist_count"), 0);  // the old tables' pages are gone
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM pragma_table_info('blocks') WHERE name='sensor'"),
            0);
  // New writes go on from the migrated ids.
  auto store = OpenSqliteMetaStore(path);
  ASSERT_TRUE(store.ok());
  auto b = (*store)->BeginBatch();
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE((*b)->ExpectVersion("alpha", 6).ok());
  ASSERT_TRUE((*b)->ExpectVersion("beta", 0).ok());
  ASSERT_TRUE((*b)->PutBlock("alpha", 24288, "new").ok());
  ASSERT_TRUE((*b)->PutBlock("beta", 24288, "b").ok());
  ASSERT_TRUE((*b)->PutMetrics(M("beta", 2024, 1, 1, 2, 0.5, std::nullopt, 1)).ok());
  ASSERT_TRUE((*b)->Commit().ok());
  EXPECT_EQ(**(*store)->ReadBlock("alpha", 24288), "new");
  EXPECT_EQ(**(*store)->ReadBlock("beta", 24288), "b");
  EXPECT_EQ(*(*store)->ListSensors(), (std::vector<std::string>{"alpha", "beta", "zeta"}));
  EXPECT_EQ((*store)->ReadSensor("alpha")->months, (std::vector<int32_t>{24288, 24290}));
}

// The ingest writes a large batch round by round (every sensor's next months,
// then again): with blocks keyed by (sensor, month) each round split pages in
// the middle of the table and left ~10% of every page free; schema 5 appends.
TEST(SqliteSchema, I11_RoundByRoundBatchFillsPages) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/t.db";
  constexpr int kSensors = 300, kRounds = 4, kMonthsPerRound = 6, kBlockBytes = 420;
  int64_t payload = 0;
  {
    auto store = OpenSqliteMetaStore(path);
    ASSERT_TRUE(store.ok());
    auto b = (*store)->BeginBatch();
    ASSERT_TRUE(b.ok());
    auto name = [](int i) { return "sensor-" + std::to_string(1000 + i); };
    for (int i = 0; i < kSensors; ++i) ASSERT_TRUE((*b)->ExpectVersion(name(i), 0).ok());
    for (int r = 0; r < kRounds; ++r)
      for (int i = 0; i < kSensors; ++i)
        for (int m = r * kMonthsPerRound; m < (r + 1) * kMonthsPerRound; ++m) {
          const std::string block(kBlockBytes, static_cast<char>('a' + (i + m) % 26));
          ASSERT_TRUE((*b)->PutBlock(name(i), 24000 + m, block).ok());
          payload += kBlockBytes;
        }
    ASSERT_TRUE((*b)->Commit().ok());
  }
  const int64_t used = QueryInt(
      path, "SELECT SUM(pgsize - unused) FROM dbstat WHERE name IN ('blocks', 'blocks_key')");
  const int64_t pages =
      QueryInt(path, "SELECT SUM(pgsize) FROM dbstat WHERE name IN ('blocks', 'blocks_key')");
  ASSERT_GT(used, payload);
  // Free space in the block pages: 3.1% (schema 4: 9.2%); pages per payload
  // byte, keys and index included: 1.10 (schema 4: 1.16).
  EXPECT_LT(static_cast<double>(pages - used) / static_cast<double>(pages), 0.05);
  EXPECT_LT(static_cast<double>(pages) / static_cast<double>(payload), 1.12);
}

}  // namespace
}  // namespace aquasense::storage
