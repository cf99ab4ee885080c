// Thin RAII helpers over the SQLite C API, for the storage backends only.
// A connection and its statements belong to one thread at a time.
//
// Prepared statements are cached per connection: a Stmt takes an idle one
// for the same SQL when there is one and gives it back, reset, when it is
// destroyed (preparing costs 3-7 us a statement, ~0.3 ms of a small batch
// and its snapshot refresh). Close connections with Close(), which
// finalizes the connection's cached statements first.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace aquasense::storage::sqlite {

class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, std::string_view sql);
  ~Stmt();  // resets the statement and leaves it in the connection's cache
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt(Stmt&& o) noexcept
      : db_(o.db_), s_(o.s_), sql_(std::move(o.sql_)), error_(std::move(o.error_)) {
    o.s_ = nullptr;
  }

  bool valid() const { return s_ != nullptr; }
  const std::string& error() const { return error_; }

  Stmt& Bind(int i, int64_t v);
  Stmt& Bind(int i, double v);
  Stmt& Bind(int i, std::string_view text);
  Stmt& BindBlob(int i, std::string_view bytes);
  // Without SQLite's copy: `bytes` must stay valid until Reset (or Exec).
  Stmt& BindBlobStatic(int i, std::string_view bytes);
  Stmt& BindNull(int i);
  Stmt& Bind(int i, const std::optional<double>& v) { return v ? Bind(i, *v) : BindNull(i); }

  // SQLITE_ROW -> true, SQLITE_DONE -> false; errors -> Status.
  Result<bool> Step();
  // Runs to completion and resets.
  Status Exec();
  void Reset();

  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  double Real(int col) const { return sqlite3_column_double(s_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::string Text(int col) const;
  std::string_view Blob(int col) const;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* s_ = nullptr;
  std::string sql_;  // the cache key
  std::string error_;
};

// Finalizes `db`'s cached statements, then closes it.
void Close(sqlite3* db);

// Executes one or more statements without results.
Status ExecSql(sqlite3* db, const char* sql);

}  // namespace aquasense::storage::sqlite
