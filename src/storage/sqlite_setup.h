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

// The writer's page cache between batches (as the writer opens), and during
// one. A batch's inserts land in the blocks and metrics rowid
// tables, which only grow at their end, and in their (sid, month_index)
// indexes, whose leaves every round of a large batch touches again (~640
// leaves at 10M rows). A leaf spilled to the WAL and changed again is
// rewritten in place, and then SQLite recomputes the checksum of every frame
// after the first such one at COMMIT: for a 10M-row batch it read back and
// rewrote ~10,500 frame headers (0.10 s) and the fsync wrote them again
// (0.07 s). 48 MiB holds those leaves across rounds (no rewrite at 10M
// rows); the cache only fills with what a batch touches, and is given back
// after it.
inline constexpr const char* kWriterCachePragma = "PRAGMA cache_size=-2048";
inline constexpr const char* kBatchCachePragma = "PRAGMA cache_size=-49152";

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
