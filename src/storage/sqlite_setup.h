// Opening the SQLite database of SqliteMetaStore (internal to src/storage):
// a connection with the store's pragmas, the schema, and the setup that
// makes the first open of a new database safe for several processes.
//
//   auto setup = sqlite::SetupGuard::Acquire(path);   // flock: one process sets up at a time
//   auto writer = sqlite::OpenConnection(target, sqlite::Role::kWriter);
//   AQ_RETURN_IF_ERROR(sqlite::CreateSchema(*writer));
//
// Why a setup lock: `PRAGMA journal_mode=WAL` on a new database needs an
// exclusive lock and SQLite does not wait for it (the busy timeout is not
// consulted), so two processes creating the same store at once saw
// "database is locked" (review M5). The lock is an flock(2) on the directory
// holding the database: no extra file, released by the kernel if the
// process dies. Thread-safe; errors are kUnavailable, kFailedPrecondition for
// a database that is damaged ("not a database", "malformed").
#pragma once

#include <sqlite3.h>

#include <string>

#include "common/status.h"

namespace aquasense::storage::sqlite {

// A batch of another process may run for minutes.
inline constexpr int kBusyTimeoutMs = 600'000;

enum class Role { kWriter, kReader };

// The name SQLite opens for `path`: ":memory:" becomes a new shared-cache
// in-memory database (one per call), so a store's connections see one
// database; anything else is returned unchanged.
std::string ConnectionTarget(const std::string& path);

// Opens one connection with the store's settings: WAL, 16 KiB pages and
// synchronous=FULL for the writer; a larger page cache for readers.
// kFailedPrecondition when the file is not a usable database.
Result<sqlite3*> OpenConnection(const std::string& target, Role role);

// Creates or upgrades the schema; a no-op when user_version is current.
Status CreateSchema(sqlite3* db);

// Holds an exclusive flock(2) on the directory of a database file while
// alive (nothing for ":memory:").
class SetupGuard {
 public:
  static Result<SetupGuard> Acquire(const std::string& db_path);
  SetupGuard(SetupGuard&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  SetupGuard(const SetupGuard&) = delete;
  SetupGuard& operator=(const SetupGuard&) = delete;
  SetupGuard& operator=(SetupGuard&&) = delete;
  ~SetupGuard();

 private:
  explicit SetupGuard(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// True when `db`'s last error says the file is damaged or not a database.
bool LastErrorIsDamage(sqlite3* db);

}  // namespace aquasense::storage::sqlite
