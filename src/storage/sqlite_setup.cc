#include "storage/sqlite_setup.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "storage/sqlite_util.h"

namespace aquasense::storage::sqlite {

namespace {

// Blocks and metrics rows are keyed by an integer sensor id (sensor_ids) and
// live in rowid tables with a unique index on (sid, month_index): a batch's
// rows append to the table's last page, so pages fill completely and each is
// written to the WAL once, whatever order the batch writes sensors in (keyed
// by (sensor, month_index), every round of the ingest's writes touched every
// leaf page, and a 2 MiB cache spilled each of them to the WAL again).
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta(key, value) VALUES('generation', 0), ('schema', 1);
CREATE TABLE IF NOT EXISTS sensor_ids(id INTEGER PRIMARY KEY, sensor TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS blocks(
  sid INTEGER NOT NULL, month_index INTEGER NOT NULL, data BLOB NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS blocks_key ON blocks(sid, month_index);
CREATE TABLE IF NOT EXISTS metrics(
  sid INTEGER NOT NULL, month_index INTEGER NOT NULL,
  mean_temp REAL NOT NULL, max_temp REAL NOT NULL, max_sd REAL NOT NULL, max_temp_diff REAL,
  readings INTEGER NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS metrics_key ON metrics(sid, month_index);
CREATE TABLE IF NOT EXISTS files(
  seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, default_sensor TEXT NOT NULL,
  landing_key TEXT NOT NULL, source_name TEXT NOT NULL, on_conflict INTEGER NOT NULL,
  ingested_ms INTEGER NOT NULL, rows INTEGER NOT NULL, valid INTEGER NOT NULL,
  invalid INTEGER NOT NULL, duplicates INTEGER NOT NULL, alerts INTEGER NOT NULL,
  bytes INTEGER,
  UNIQUE(hash, default_sensor));
CREATE TABLE IF NOT EXISTS alerts(
  id INTEGER PRIMARY KEY, kind TEXT NOT NULL, sensor TEXT NOT NULL, file_hash TEXT NOT NULL,
  default_sensor TEXT NOT NULL, source_name TEXT NOT NULL, created_ms INTEGER NOT NULL,
  payload TEXT NOT NULL,
  UNIQUE(file_hash, default_sensor, kind, sensor));
CREATE TABLE IF NOT EXISTS deliveries(
  alert_id INTEGER NOT NULL, channel TEXT NOT NULL, state INTEGER NOT NULL,
  attempts INTEGER NOT NULL, next_attempt_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  PRIMARY KEY(alert_id, channel)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(state, next_attempt_ms);
CREATE TABLE IF NOT EXISTS changes(
  generation INTEGER NOT NULL, sensor TEXT NOT NULL,
  PRIMARY KEY(generation, sensor)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sensors(
  sensor TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS applied(
  sensor TEXT NOT NULL, hash TEXT NOT NULL, default_sensor TEXT NOT NULL,
  valid INTEGER NOT NULL, duplicates INTEGER NOT NULL,
  PRIMARY KEY(sensor, hash, default_sensor)) WITHOUT ROWID;
INSERT OR IGNORE INTO meta(key, value)
  SELECT 'changes_from', value FROM meta WHERE key = 'generation'
  UNION ALL SELECT 'changes_gen', value FROM meta WHERE key = 'generation';
)sql";

// PRAGMA user_version of a database whose schema is complete. Opening a
// store at this version skips the schema statements: parsing them was a
// fifth of the CPU time of a small ingest. Bump it with every schema change.
// 3: the change log (table changes); 4: sensor versions and applied files
// (MetaStore contract v2); 5: integer sensor ids, rowid blocks and metrics
// tables, no year/month columns (see MigrateToSensorIds).
constexpr int64_t kSchemaVersion = 5;

// Schema 1-4 stores keyed blocks and metrics by the sensor's name (WITHOUT
// ROWID tables, metrics with year and month columns): copied into the
// schema 5 tables in key order, in one transaction.
constexpr const char* kMigrateToSensorIds = R"sql(
BEGIN IMMEDIATE;
CREATE TABLE sensor_ids(id INTEGER PRIMARY KEY, sensor TEXT NOT NULL UNIQUE);
INSERT INTO sensor_ids(sensor)
  SELECT sensor FROM blocks UNION SELECT sensor FROM metrics ORDER BY 1;
CREATE TABLE blocks_v5(sid INTEGER NOT NULL, month_index INTEGER NOT NULL, data BLOB NOT NULL);
INSERT INTO blocks_v5(sid, month_index, data)
  SELECT i.id, b.month_index, b.data FROM sensor_ids i JOIN blocks b ON b.sensor = i.sensor
  ORDER BY i.id, b.month_index;
CREATE TABLE metrics_v5(
  sid INTEGER NOT NULL, month_index INTEGER NOT NULL,
  mean_temp REAL NOT NULL, max_temp REAL NOT NULL, max_sd REAL NOT NULL, max_temp_diff REAL,
  readings INTEGER NOT NULL);
INSERT INTO metrics_v5(sid, month_index, mean_temp, max_temp, max_sd, max_temp_diff, readings)
  SELECT i.id, m.month_index, m.mean_temp, m.max_temp, m.max_sd, m.max_temp_diff, m.readings
  FROM sensor_ids i JOIN metrics m ON m.sensor = i.sensor ORDER BY i.id, m.month_index;
DROP TABLE blocks;
DROP TABLE metrics;
ALTER TABLE blocks_v5 RENAME TO blocks;
ALTER TABLE metrics_v5 RENAME TO metrics;
CREATE UNIQUE INDEX blocks_key ON blocks(sid, month_index);
CREATE UNIQUE INDEX metrics_key ON metrics(sid, month_index);
COMMIT;
)sql";

// 16 KiB pages (for a new database): a quarter of the page writes of the
// default for the bulk of block and metric rows. A 2 MiB writer cache
// between batches (kWriterCachePragma): the ingest pipeline buffers and
// sorts its writes itself; a batch raises it (kBatchCachePragma).
constexpr const char* kWriterPragmas =
    "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
    "PRAGMA cache_size=-2048; PRAGMA journal_size_limit=67108864;";
constexpr const char* kReaderPragmas = "PRAGMA cache_size=-8192;";

// A process that does not take the setup lock (an older AquaSense, the
// sqlite3 shell) can still hold the lock the WAL switch needs: retried with
// back-off, 20 ms doubling to 1 s, for about a minute in all.
constexpr int kBusyRetries = 64;

bool IsBusy(sqlite3* db) {
  const int rc = sqlite3_errcode(db) & 0xff;
  return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

Status Configure(sqlite3* db, Role role) {
  const char* sql = role == Role::kWriter ? kWriterPragmas : kReaderPragmas;
  auto delay = std::chrono::milliseconds(20);
  for (int attempt = 0;; ++attempt) {
    Status s = ExecSql(db, sql);
    if (s.ok() || !IsBusy(db) || attempt == kBusyRetries) return s;
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(1000));
  }
}

// Ledgers written before files.bytes existed get the column (NULL: unknown).
Status AddFileSizes(sqlite3* db) {
  bool missing = false;
  {
    Stmt has(db, "SELECT COUNT(*) FROM pragma_table_info('files') WHERE name='bytes'");
    auto row = has.Step();
    if (!row.ok()) return row.status();
    missing = has.Int(0) == 0;
  }
  if (missing) AQ_RETURN_IF_ERROR(ExecSql(db, "ALTER TABLE files ADD COLUMN bytes INTEGER"));
  return ExecSql(db, "CREATE INDEX IF NOT EXISTS files_by_size ON files(default_sensor, bytes)");
}

// Runs kMigrateToSensorIds when the store has a blocks table keyed by name.
Status MigrateToSensorIds(sqlite3* db) {
  bool by_name = false;
  {
    Stmt has(db, "SELECT COUNT(*) FROM pragma_table_info('blocks') WHERE name='sensor'");
    auto row = has.Step();
    if (!row.ok()) return row.status();
    by_name = has.Int(0) > 0;
  }
  if (!by_name) return Status::Ok();
  Status s = ExecSql(db, kMigrateToSensorIds);
  if (!s.ok()) {
    (void)ExecSql(db, "ROLLBACK");
    return s;
  }
  // The old tables' pages are free now: returned to the file system once
  // (best effort: a reader of another process in the way leaves them).
  (void)ExecSql(db, "VACUUM");
  return Status::Ok();
}

Result<int64_t> UserVersion(sqlite3* db) {
  Stmt s(db, "PRAGMA user_version");
  auto row = s.Step();
  if (!row.ok()) return row.status();
  return *row ? s.Int(0) : 0;
}

// The directory part of a file path ("." when there is none).
std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

std::string ConnectionTarget(const std::string& path) {
  if (path != ":memory:") return path;
  static std::atomic<uint64_t> next{0};
  return "file:aquasense-memory-" + std::to_string(::getpid()) + "-" +
         std::to_string(next.fetch_add(1)) + "?mode=memory&cache=shared";
}

bool LastErrorIsDamage(sqlite3* db) {
  const int rc = sqlite3_errcode(db) & 0xff;
  return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

Result<sqlite3*> OpenConnection(const std::string& target, Role role) {
  // No allocation statistics: they take a global mutex on every SQLite
  // malloc and free (~5% of a large batch's insert time). Must precede
  // SQLite's initialisation, hence here, before the first open.
  static const bool configured = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
  (void)configured;
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (target.rfind("file:", 0) == 0) flags |= SQLITE_OPEN_URI;
  if (sqlite3_open_v2(target.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Unavailable("cannot open the database " + target + ": " + msg);
  }
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  // No checkpoint when a connection closes: the WAL stays for the next
  // process (no new WAL to create and sync the directory for), and the
  // checkpoint runs when the WAL has grown (wal_autocheckpoint), not after
  // every small command, where it cost two more fsyncs and page copies.
  sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  sqlite3_extended_result_codes(db, 0);
  Status s = Configure(db, role);
  if (!s.ok()) {
    const bool damaged = LastErrorIsDamage(db);
    Close(db);
    if (damaged)
      return FailedPrecondition("the database " + target + " is damaged: " + s.message());
    return Unavailable("cannot open the database " + target + ": " + s.message());
  }
  return db;
}

Status CreateSchema(sqlite3* db) {
  auto version = UserVersion(db);
  if (!version.ok()) return version.status();
  if (*version == kSchemaVersion) return Status::Ok();
  AQ_RETURN_IF_ERROR(MigrateToSensorIds(db));
  AQ_RETURN_IF_ERROR(ExecSql(db, kSchema));
  AQ_RETURN_IF_ERROR(AddFileSizes(db));
  return ExecSql(db, ("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
}

Result<SetupGuard> SetupGuard::Acquire(const std::string& db_path) {
  if (db_path == ":memory:") return SetupGuard(-1);
  const std::string dir = DirectoryOf(db_path);
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return Unavailable("cannot open the directory " + dir + ": " + std::strerror(errno));
  }
  int rc = 0;
  while ((rc = ::flock(fd, LOCK_EX)) != 0 && errno == EINTR) {
  }
  // A file system without flock (some network mounts): go on unlocked; the
  // busy retries in OpenConnection still cover most of the race.
  (void)rc;
  return SetupGuard(fd);
}

SetupGuard::~SetupGuard() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

}  // namespace aquasense::storage::sqlite
