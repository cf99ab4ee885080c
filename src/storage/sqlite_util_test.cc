#include "storage/sqlite_util.h"

#include <gtest/gtest.h>

namespace aquasense::storage::sqlite {
namespace {

// The statements prepared on `db`, and how many of them are mid-step.
std::pair<int, int> Prepared(sqlite3* db) {
  int n = 0, busy = 0;
  for (sqlite3_stmt* s = sqlite3_next_stmt(db, nullptr); s != nullptr;
       s = sqlite3_next_stmt(db, s)) {
    ++n;
    busy += sqlite3_stmt_busy(s) ? 1 : 0;
  }
  return {n, busy};
}

// A statement is prepared once per connection and SQL text and reused; one
// given back mid-iteration is reset (it holds no read transaction) and its
// bindings cleared; Close finalizes what the cache holds.
TEST(SqliteStmt, PreparedStatementsAreReusedPerConnection) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  ASSERT_TRUE(ExecSql(db, "CREATE TABLE t(a INTEGER); INSERT INTO t VALUES (1), (2), (3);").ok());
  const char* sql = "SELECT a FROM t WHERE a >= ?1 ORDER BY a";
  {
    Stmt s(db, sql);
    s.Bind(1, int64_t{2});
    ASSERT_TRUE(*s.Step());
    EXPECT_EQ(s.Int(0), 2);
    EXPECT_EQ(Prepared(db), std::make_pair(1, 1));
  }  // given back mid-iteration
  EXPECT_EQ(Prepared(db), std::make_pair(1, 0));
  {
    Stmt again(db, sql);  // the same statement, unbound: ?1 is NULL, no row
    EXPECT_EQ(Prepared(db).first, 1);
    EXPECT_FALSE(*again.Step());
    Stmt second(db, sql);  // in use twice at once: a second statement
    EXPECT_EQ(Prepared(db).first, 2);
  }
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &other), SQLITE_OK);
  ASSERT_TRUE(ExecSql(other, "CREATE TABLE t(a INTEGER); INSERT INTO t VALUES (7);").ok());
  {
    Stmt s(other, sql);  // another connection: its own statement
    s.Bind(1, int64_t{0});
    ASSERT_TRUE(*s.Step());
    EXPECT_EQ(s.Int(0), 7);
  }
  EXPECT_EQ(Prepared(other).first, 1);
  EXPECT_EQ(Prepared(db).first, 2);
  Close(other);
  Close(db);
}

}  // namespace
}  // namespace aquasense::storage::sqlite
