#include "storage/sqlite_util.h"

#include <map>
#include <mutex>
#include <utility>

namespace aquasense::storage::sqlite {

namespace {
// `what`: the failing step; SQLite's message is added unless `what` already
// is that message (a message never repeats itself: review L13).
Status ErrorStatus(sqlite3* db, int rc, std::string_view what) {
  const std::string_view detail = sqlite3_errmsg(db);
  std::string msg(what);
  if (msg.empty()) {
    msg = detail;
  } else if (what != detail) {
    msg += ": ";
    msg += detail;
  }
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED || rc == SQLITE_CANTOPEN || rc == SQLITE_IOERR ||
      rc == SQLITE_FULL || rc == SQLITE_READONLY || rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT)
    return Unavailable(msg);
  return Internal(msg);
}
}  // namespace

namespace {
// Idle prepared statements by connection and SQL text.
struct KeyLess {  // (connection, SQL), looked up by string_view too
  using is_transparent = void;
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    if (a.first != b.first) return std::less<sqlite3*>()(a.first, b.first);
    return std::string_view(a.second) < std::string_view(b.second);
  }
};
std::mutex cache_mu;
std::multimap<std::pair<sqlite3*, std::string>, sqlite3_stmt*, KeyLess> idle;
}  // namespace

Stmt::Stmt(sqlite3* db, std::string_view sql) : db_(db), sql_(sql) {
  {
    std::lock_guard<std::mutex> lock(cache_mu);
    auto it = idle.find(std::pair<sqlite3*, std::string_view>(db, sql));
    if (it != idle.end()) {
      s_ = it->second;
      idle.erase(it);
      return;
    }
  }
  if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &s_, nullptr) != SQLITE_OK) {
    error_ = sqlite3_errmsg(db);
    s_ = nullptr;
  }
}

Stmt::~Stmt() {
  if (s_ == nullptr) return;
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
  std::lock_guard<std::mutex> lock(cache_mu);
  idle.emplace(std::pair<sqlite3*, std::string>(db_, std::move(sql_)), s_);
}

void Close(sqlite3* db) {
  if (db == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(cache_mu);
    for (auto it = idle.lower_bound(std::pair<sqlite3*, std::string_view>(db, ""));
         it != idle.end() && it->first.first == db;) {
      sqlite3_finalize(it->second);
      it = idle.erase(it);
    }
  }
  sqlite3_close_v2(db);
}

Stmt& Stmt::Bind(int i, int64_t v) {
  sqlite3_bind_int64(s_, i, v);
  return *this;
}
Stmt& Stmt::Bind(int i, double v) {
  sqlite3_bind_double(s_, i, v);
  return *this;
}
Stmt& Stmt::Bind(int i, std::string_view text) {
  sqlite3_bind_text(s_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::BindBlob(int i, std::string_view bytes) {
  sqlite3_bind_blob(s_, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::BindBlobStatic(int i, std::string_view bytes) {
  sqlite3_bind_blob(s_, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_STATIC);
  return *this;
}
Stmt& Stmt::BindNull(int i) {
  sqlite3_bind_null(s_, i);
  return *this;
}

Result<bool> Stmt::Step() {
  if (s_ == nullptr) return Internal("statement did not compile: " + error_);
  const int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status st = ErrorStatus(db_, rc, "database step failed");
  sqlite3_reset(s_);
  return st;
}

Status Stmt::Exec() {
  auto r = Step();
  Reset();
  if (!r.ok()) return r.status();
  return Status::Ok();
}

void Stmt::Reset() {
  if (s_ == nullptr) return;
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

std::string Stmt::Text(int col) const {
  const auto* p = sqlite3_column_text(s_, col);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<size_t>(sqlite3_column_bytes(s_, col)))
           : std::string();
}

std::string_view Stmt::Blob(int col) const {
  const void* p = sqlite3_column_blob(s_, col);
  return p ? std::string_view(static_cast<const char*>(p),
                              static_cast<size_t>(sqlite3_column_bytes(s_, col)))
           : std::string_view();
}

Status ExecSql(sqlite3* db, const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  // sqlite3_exec's message is sqlite3_errmsg's: said once.
  sqlite3_free(err);
  return ErrorStatus(db, rc, "");
}

}  // namespace aquasense::storage::sqlite
