// SqliteMetaStore: the embedded default MetaStore. One SQLite file in WAL
// mode; a write connection used by one Batch at a time (BEGIN IMMEDIATE, so
// batches of several processes serialise), and a read connection for reads,
// which see the last committed batch and never wait for a running one.
//
// The change log: every batch records, in its own transaction, the sensors
// whose metrics it wrote (table `changes`, under the generation its commit
// creates; `*` for a rebuild), so MetricsSince() reads only those. meta
// `changes_from` = G: the changes of every generation after G are in the
// log; `changes_gen` = the last generation that recorded its changes (a
// batch of an older AquaSense without a change log leaves it behind, and the
// next batch then moves `changes_from` past it).
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "storage/meta_store.h"
#include "storage/sqlite_queries.h"
#include "storage/sqlite_setup.h"
#include "storage/sqlite_util.h"

namespace aquasense::storage {

namespace {

using sqlite::Close;
using sqlite::ExecSql;
using sqlite::kBusyTimeoutMs;
using sqlite::OpenConnection;
using sqlite::Role;
using sqlite::Stmt;
using sqlite::queries::AlertFromRow;
using sqlite::queries::DeliveryFromRow;
using sqlite::queries::FileFromRow;
using sqlite::queries::kAlertColumns;
using sqlite::queries::kAllSensors;
using sqlite::queries::kChangeLogGenerations;
using sqlite::queries::kDeliveryColumns;
using sqlite::queries::kFileColumns;
using sqlite::queries::kMetricsColumns;
using sqlite::queries::kMetricsFrom;
using sqlite::queries::MetricsFromRow;
using sqlite::queries::QueryBlock;
using sqlite::queries::QueryGeneration;
using sqlite::queries::QueryLogState;
using sqlite::queries::QueryMetrics;
using sqlite::queries::QueryMetricsRow;
using sqlite::queries::QuerySensors;
using sqlite::queries::ReadMetricsDelta;

// Every process that opens the database first reads the whole WAL (the WAL
// outlives commands, see OpenConnection), so a store closing with more than
// kWalKeepBytes there moves it into the database file and truncates it.
// Best effort, without waiting: a reader of another process in the way
// leaves it to a later close.
constexpr sqlite3_int64 kWalKeepBytes = 1 << 20;

void KeepWalShort(sqlite3* db) {
  sqlite3_file* wal = nullptr;
  sqlite3_int64 size = 0;
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) != SQLITE_OK ||
      wal == nullptr || wal->pMethods == nullptr ||
      wal->pMethods->xFileSize(wal, &size) != SQLITE_OK || size <= kWalKeepBytes) {
    return;
  }
  sqlite3_busy_timeout(db, 0);
  sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
}

// A batch is one SQLite transaction (stronger than the contract requires):
// BEGIN IMMEDIATE at BeginBatch, so versions never move under it within one
// database; the version checks at Commit still guard against a database
// changed by another writer without the lock (and keep the contract honest).
class SqliteBatch final : public Batch {
 public:
  SqliteBatch(sqlite3* db, std::unique_lock<std::mutex> lock)
      : db_(db),
        lock_(std::move(lock)),
        put_block_(db, "INSERT OR REPLACE INTO blocks(sid, month_index, data) VALUES(?1,?2,?3)"),
        put_metrics_(db,
                     "INSERT OR REPLACE INTO metrics(sid, month_index, mean_temp, max_temp, "
                     "max_sd, max_temp_diff, readings) VALUES(?1,?2,?3,?4,?5,?6,?7)") {}

  ~SqliteBatch() override {
    if (presync_.joinable()) presync_.join();
    if (!done_) (void)ExecSql(db_, "ROLLBACK");
    // The batch's cache back to the writer's (frees the pages over it).
    (void)ExecSql(db_, sqlite::kWriterCachePragma);
  }

  // Writes the cached pages into the WAL and syncs it on another thread, so
  // that the commit finds little left to sync: for a batch of 10M readings
  // that is ~100 MB, ~70 ms of device writes, done while the pipeline
  // renders its monthly files. (Through an fd of our own: SQLite's file
  // handle belongs to this connection's thread.)
  void WritesDone() override {
    if (sqlite3_db_cacheflush(db_) != SQLITE_OK) return;
    const char* db_path = sqlite3_db_filename(db_, "main");
    if (db_path == nullptr || *db_path == '\0') return;
    presync_ = std::thread([wal = std::string(db_path) + "-wal"] {
      const int fd = ::open(wal.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return;
      (void)::fdatasync(fd);
      ::close(fd);
    });
  }

  Status Begin() {
    AQ_RETURN_IF_ERROR(ExecSql(db_, sqlite::kBatchCachePragma));
    return ExecSql(db_, "BEGIN IMMEDIATE");
  }

  // Reads on the writer connection, inside this batch's transaction: they
  // see the committed rows and the batch's own (ResetDerived's DELETEs too).
  bool ReadsOwnWrites() const override { return true; }
  Result<std::optional<std::string>> ReadBlock(std::string_view sensor, int32_t month) override {
    return QueryBlock(db_, sensor, month);
  }
  Result<std::optional<core::MonthlyMetrics>> GetMetrics(std::string_view sensor,
                                                         int32_t month) override {
    return QueryMetricsRow(db_, sensor, month);
  }
  Result<std::vector<core::MonthlyMetrics>> ListMetrics(const MetricsQuery& q) override {
    return QueryMetrics(db_, q);
  }
  Result<std::vector<std::string>> ListSensors() override { return QuerySensors(db_); }

  Status ExpectVersion(std::string_view sensor, int64_t version) override {
    expected_.insert_or_assign(std::string(sensor), version);
    return Status::Ok();
  }

  Status PutBlock(std::string_view sensor, int32_t month, std::string_view bytes) override {
    Wrote(sensor);
    auto id = SensorId(sensor);
    if (!id.ok()) return id.status();
    put_block_.Bind(1, *id).Bind(2, static_cast<int64_t>(month)).BindBlobStatic(3, bytes);
    return put_block_.Exec();
  }

  Status PutMetrics(const core::MonthlyMetrics& m) override {
    if (m.sensor != last_changed_) {  // grouped by sensor: one set lookup per group
      changed_.insert(m.sensor);
      last_changed_ = m.sensor;
    }
    Wrote(m.sensor);
    auto id = SensorId(m.sensor);
    if (!id.ok()) return id.status();
    put_metrics_.Bind(1, *id)
        .Bind(2, static_cast<int64_t>(core::MonthIndex(m.year, m.month)))
        .Bind(3, m.mean_temp)
        .Bind(4, m.max_temp)
        .Bind(5, m.max_sd)
        .Bind(6, m.max_temp_diff)
        .Bind(7, m.readings);
    return put_metrics_.Exec();
  }

  Status ApplyFile(std::string_view sensor, const AppliedFile& f) override {
    Wrote(sensor);
    Stmt& s = apply_file_;
    s.Bind(1, sensor).Bind(2, f.hash).Bind(3, f.default_sensor).Bind(4, f.valid);
    return s.Bind(5, f.duplicates).Exec();
  }

  Result<int64_t> RecordFile(const FileRecord& f) override {
    Stmt s(db_,
           "INSERT OR IGNORE INTO files(hash, default_sensor, landing_key, source_name, "
           "on_conflict, ingested_ms, rows, valid, invalid, duplicates, alerts, bytes) "
           "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)");
    s.Bind(1, f.hash).Bind(2, f.default_sensor).Bind(3, f.landing_key).Bind(4, f.source_name);
    s.Bind(5, static_cast<int64_t>(f.on_conflict)).Bind(6, f.ingested_ms).Bind(7, f.rows);
    s.Bind(8, f.valid).Bind(9, f.invalid).Bind(10, f.duplicates).Bind(11, f.alerts);
    if (f.bytes >= 0) s.Bind(12, f.bytes);
    AQ_RETURN_IF_ERROR(s.Exec());
    if (sqlite3_changes(db_) > 0) return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
    Stmt old(db_, "SELECT seq FROM files WHERE hash=?1 AND default_sensor=?2");
    old.Bind(1, f.hash).Bind(2, f.default_sensor);
    auto row = old.Step();
    if (!row.ok()) return row.status();
    return *row ? old.Int(0) : int64_t{0};
  }

  Status AddAlert(const Alert& a, const std::vector<std::string>& channels) override {
    Stmt& s = add_alert_;
    s.Bind(1, a.kind).Bind(2, a.sensor).Bind(3, a.file_hash).Bind(4, a.default_sensor);
    s.Bind(5, a.source_name).Bind(6, a.created_ms).Bind(7, a.payload_json);
    AQ_RETURN_IF_ERROR(s.Exec());
    if (sqlite3_changes(db_) == 0) return Status::Ok();
    const int64_t id = sqlite3_last_insert_rowid(db_);
    Stmt& d = add_delivery_;
    for (const std::string& channel : channels) {
      d.Bind(1, id).Bind(2, channel).Bind(3, a.created_ms);
      AQ_RETURN_IF_ERROR(d.Exec());
    }
    return Status::Ok();
  }

  Status ResetDerived() override {
    reset_ = true;
    return ExecSql(db_,
                   "DELETE FROM blocks; DELETE FROM metrics; DELETE FROM files; "
                   "DELETE FROM sensors; DELETE FROM applied;");
  }

  Status Commit() override {
    if (presync_.joinable()) presync_.join();
    AQ_RETURN_IF_ERROR(CheckVersions());
    AQ_RETURN_IF_ERROR(RecordChanges());
    AQ_RETURN_IF_ERROR(
        ExecSql(db_, "UPDATE meta SET value = value + 1 WHERE key = 'generation'; COMMIT"));
    done_ = true;
    return Status::Ok();
  }

 private:
  // The integer id of `sensor` in sensor_ids, given one on its first write.
  // Rows come grouped by sensor: one lookup per group.
  Result<int64_t> SensorId(std::string_view sensor) {
    if (sensor == id_sensor_ && id_ > 0) return id_;
    for (int attempt = 0; attempt < 2; ++attempt) {
      get_id_.Bind(1, sensor);
      auto row = get_id_.Step();
      if (!row.ok()) return row.status();
      const int64_t id = *row ? get_id_.Int(0) : 0;
      get_id_.Reset();
      if (id > 0) {
        id_sensor_.assign(sensor);
        id_ = id;
        return id;
      }
      AQ_RETURN_IF_ERROR(add_id_.Bind(1, sensor).Exec());
    }
    return Internal("sensor " + std::string(sensor) + " got no id");
  }

  // Rows come grouped by sensor: one set insertion per group.
  void Wrote(std::string_view sensor) {
    if (sensor == last_written_) return;
    last_written_.assign(sensor);
    written_.insert(last_written_);
  }

  // Every written sensor was expected, at the version it still has; each
  // gets the generation this commit creates as its new version.
  Status CheckVersions() {
    for (const std::string& s : written_)
      if (expected_.find(s) == expected_.end())
        return InvalidArgument("sensor " + s + " written without ExpectVersion");
    auto gen = QueryGeneration(db_);
    if (!gen.ok()) return gen.status();
    Stmt get(db_, "SELECT version FROM sensors WHERE sensor=?1");
    Stmt set(db_, "INSERT OR REPLACE INTO sensors(sensor, version) VALUES(?1, ?2)");
    for (const auto& [sensor, version] : expected_) {
      get.Bind(1, sensor);
      auto row = get.Step();
      if (!row.ok()) return row.status();
      const int64_t now = *row ? get.Int(0) : 0;
      get.Reset();
      if (now != version)
        return Aborted("sensor " + sensor + " moved to version " + std::to_string(now) +
                       " (expected " + std::to_string(version) + ")");
      if (written_.count(sensor) == 0) continue;
      AQ_RETURN_IF_ERROR(set.Bind(1, sensor).Bind(2, *gen + 1).Exec());
    }
    return Status::Ok();
  }

  sqlite3* db_;
  std::unique_lock<std::mutex> lock_;
  bool done_ = false;
  Stmt put_block_, put_metrics_;
  Stmt get_id_{db_, "SELECT id FROM sensor_ids WHERE sensor=?1"};
  Stmt add_id_{db_, "INSERT INTO sensor_ids(sensor) VALUES(?1)"};
  std::string id_sensor_;  // SensorId's last answer
  int64_t id_ = 0;
  Stmt apply_file_{db_,
                   "INSERT OR REPLACE INTO applied(sensor, hash, default_sensor, valid, "
                   "duplicates) VALUES(?1,?2,?3,?4,?5)"};
  Stmt add_alert_{db_,
                  "INSERT OR IGNORE INTO alerts(kind, sensor, file_hash, default_sensor, "
                  "source_name, created_ms, payload) VALUES(?1,?2,?3,?4,?5,?6,?7)"};
  Stmt add_delivery_{db_,
                     "INSERT OR IGNORE INTO deliveries(alert_id, channel, state, attempts, "
                     "next_attempt_ms, updated_ms, last_error) VALUES(?1,?2,0,0,?3,?3,'')"};

  // Writes this batch's entries into the change log under the generation its
  // commit creates, and drops what the log no longer needs to keep.
  Status RecordChanges() {
    auto st = QueryLogState(db_);
    if (!st.ok()) return st.status();
    const int64_t gen = st->generation + 1;
    int64_t from = st->changes_from == INT64_MAX ? st->generation : st->changes_from;
    // A batch committed without a change log since the last entry: the
    // changes up to now are unknown.
    if (st->changes_gen != st->generation) from = std::max(from, st->generation);
    if (reset_) {  // everything changed: older entries say nothing more
      changed_ = {std::string(kAllSensors)};
      from = std::max(from, gen - 1);
    }
    from = std::max(from, gen - kChangeLogGenerations);
    Stmt add(db_, "INSERT OR IGNORE INTO changes(generation, sensor) VALUES(?1, ?2)");
    for (const std::string& sensor : changed_) {
      add.Bind(1, gen).Bind(2, sensor);
      AQ_RETURN_IF_ERROR(add.Exec());
    }
    Stmt prune(db_, "DELETE FROM changes WHERE generation <= ?1");
    AQ_RETURN_IF_ERROR(prune.Bind(1, from).Exec());
    Stmt set(
        db_,
        "INSERT OR REPLACE INTO meta(key, value) VALUES('changes_from', ?1), ('changes_gen', ?2)");
    return set.Bind(1, from).Bind(2, gen).Exec();
  }

  std::map<std::string, int64_t, std::less<>> expected_;  // ExpectVersion
  std::set<std::string> written_;  // sensors with a block, row or applied file
  std::string last_written_;
  std::set<std::string> changed_;  // sensors whose metrics this batch wrote
  std::string last_changed_;
  bool reset_ = false;   // ResetDerived() called
  std::thread presync_;  // see WritesDone
};

// WAL frames after which a commit starts a checkpoint (SQLite's default for
// its own automatic one).
constexpr int kCheckpointFrames = 1000;

class SqliteMetaStore final : public MetaStore {
 public:
  SqliteMetaStore(sqlite3* writer, sqlite3* reader, std::string path)
      : writer_(writer), reader_(reader), path_(std::move(path)) {
    // Checkpoints run on a thread and connection of their own instead of
    // inside the commit that crosses the threshold: for a large batch,
    // copying the WAL into the database and syncing it takes ~0.15 s that
    // the committing thread can spend delivering alerts or answering
    // requests. (This hook replaces SQLite's automatic checkpoint.)
    sqlite3_wal_hook(writer_, &SqliteMetaStore::AfterCommit, this);
  }
  ~SqliteMetaStore() override {
    if (checkpointer_.joinable()) checkpointer_.join();
    if (checkpoint_db_ != nullptr) Close(checkpoint_db_);
    Close(reader_);
    KeepWalShort(writer_);
    Close(writer_);
  }

  // On the committing thread, with the WAL `frames` long.
  static int AfterCommit(void* self, sqlite3*, const char*, int frames) {
    if (frames >= kCheckpointFrames) static_cast<SqliteMetaStore*>(self)->StartCheckpoint();
    return SQLITE_OK;
  }

  // A passive checkpoint on another thread, unless one is running: it does
  // not wait for readers or block the writer; what it leaves, a later one
  // (or KeepWalShort at close) copies.
  void StartCheckpoint() {
    if (checkpoint_running_.exchange(true)) return;
    if (checkpointer_.joinable()) checkpointer_.join();
    checkpointer_ = std::thread([this] {
      if (checkpoint_db_ == nullptr) {
        auto db = OpenConnection(path_, Role::kReader);
        if (db.ok()) checkpoint_db_ = *db;
      }
      if (checkpoint_db_ != nullptr)
        sqlite3_wal_checkpoint_v2(checkpoint_db_, "main", SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                  nullptr);
      checkpoint_running_ = false;
    });
  }

  Result<std::unique_ptr<Batch>> BeginBatch() override {
    std::unique_lock<std::mutex> lock(write_mu_);
    auto batch = std::make_unique<SqliteBatch>(writer_, std::move(lock));
    AQ_RETURN_IF_ERROR(batch->Begin());
    return std::unique_ptr<Batch>(std::move(batch));
  }

  Result<int64_t> Generation() override {
    std::lock_guard<std::mutex> lock(read_mu_);
    return QueryGeneration(reader_);
  }

  Result<std::vector<core::MonthlyMetrics>> ListMetrics(const MetricsQuery& q) override {
    std::lock_guard<std::mutex> lock(read_mu_);
    return QueryMetrics(reader_, q);
  }

  Result<MetricsDelta> MetricsSince(int64_t generation) override {
    std::lock_guard<std::mutex> lock(read_mu_);
    AQ_RETURN_IF_ERROR(ExecSql(reader_, "BEGIN"));  // one consistent view
    auto delta = ReadMetricsDelta(reader_, generation);
    (void)ExecSql(reader_, "COMMIT");
    return delta;
  }

  Result<std::vector<std::string>> ListSensors() override {
    std::lock_guard<std::mutex> lock(read_mu_);
    return QuerySensors(reader_);
  }

  Result<std::optional<std::string>> ReadBlock(std::string_view sensor, int32_t month) override {
    std::lock_guard<std::mutex> lock(read_mu_);
    return QueryBlock(reader_, sensor, month);
  }

  Result<SensorHead> ReadSensor(std::string_view sensor) override {
    std::lock_guard<std::mutex> lock(read_mu_);
    AQ_RETURN_IF_ERROR(ExecSql(reader_, "BEGIN"));  // version and months of one state
    SensorHead head;
    Stmt v(reader_, "SELECT version FROM sensors WHERE sensor=?1");
    v.Bind(1, sensor);
    Status st = ReadAll(v, [&] { head.version = v.Int(0); });
    Stmt m(reader_,
           "SELECT b.month_index FROM sensor_ids i CROSS JOIN blocks b ON b.sid = i.id"
           " WHERE i.sensor=?1 ORDER BY b.month_index");
    m.Bind(1, sensor);
    if (st.ok()) st = ReadAll(m, [&] { head.months.push_back(static_cast<int32_t>(m.Int(0))); });
    (void)ExecSql(reader_, "COMMIT");
    if (!st.ok()) return st;
    return head;
  }

  Result<std::optional<core::MonthlyMetrics>> GetMetrics(std::string_view sensor,
                                                         int32_t month) override {
    std::lock_guard<std::mutex> lock(read_mu_);
    return QueryMetricsRow(reader_, sensor, month);
  }

  Result<std::optional<AppliedFile>> FindApplied(std::string_view sensor, std::string_view hash,
                                                 std::string_view default_sensor) override {
    std::lock_guard<std::mutex> lock(read_mu_);
    Stmt s(reader_,
           "SELECT valid, duplicates FROM applied WHERE sensor=?1 AND hash=?2 AND "
           "default_sensor=?3");
    s.Bind(1, sensor).Bind(2, hash).Bind(3, default_sensor);
    std::optional<AppliedFile> out;
    AQ_RETURN_IF_ERROR(ReadAll(s, [&] {
      out = AppliedFile{std::string(hash), std::string(default_sensor), s.Int(0), s.Int(1)};
    }));
    return out;
  }

  Result<bool> MayHaveFile(std::string_view default_sensor, uint64_t bytes) override {
    std::lock_guard<std::mutex> lock(read_mu_);
    Stmt s(reader_,
           "SELECT 1 FROM files WHERE default_sensor=?1 AND (bytes=?2 OR bytes IS NULL) LIMIT 1");
    s.Bind(1, default_sensor).Bind(2, static_cast<int64_t>(bytes));
    auto row = s.Step();
    if (!row.ok()) return row.status();
    return *row;
  }

  Status ClaimDelivery(const Delivery& seen, const Delivery& next) override {
    if (seen.alert_id != next.alert_id || seen.channel != next.channel)
      return InvalidArgument("ClaimDelivery: seen and next name different deliveries");
    std::lock_guard<std::mutex> lock(write_mu_);
    Stmt s(writer_,
           "UPDATE deliveries SET state=?3, attempts=?4, next_attempt_ms=?5, updated_ms=?6, "
           "last_error=?7 WHERE alert_id=?1 AND channel=?2 AND state=?8 AND attempts=?9 AND "
           "next_attempt_ms=?10 AND updated_ms=?11");
    s.Bind(1, next.alert_id).Bind(2, next.channel).Bind(3, static_cast<int64_t>(next.state));
    s.Bind(4, static_cast<int64_t>(next.attempts)).Bind(5, next.next_attempt_ms);
    s.Bind(6, next.updated_ms).Bind(7, next.last_error).Bind(8, static_cast<int64_t>(seen.state));
    s.Bind(9, static_cast<int64_t>(seen.attempts)).Bind(10, seen.next_attempt_ms);
    s.Bind(11, seen.updated_ms);
    // One statement, its own transaction; not synced, as UpdateDeliveries
    // (a claim lost to a power cut only lets the delivery be claimed again).
    AQ_RETURN_IF_ERROR(ExecSql(writer_, "PRAGMA synchronous=NORMAL"));
    Status st = s.Exec();
    Status restore = ExecSql(writer_, "PRAGMA synchronous=FULL");
    AQ_RETURN_IF_ERROR(st);
    AQ_RETURN_IF_ERROR(restore);
    if (sqlite3_changes(writer_) == 0)
      return Aborted("delivery of alert " + std::to_string(seen.alert_id) + " to " + seen.channel +
                     " changed since it was read");
    return Status::Ok();
  }

  Result<std::optional<FileRecord>> FindFile(std::string_view hash,
                                             std::string_view default_sensor) override {
    std::lock_guard<std::mutex> lock(read_mu_);
    Stmt s(reader_, std::string("SELECT ") + kFileColumns +
                        " FROM files WHERE hash=?1 AND default_sensor=?2");
    s.Bind(1, hash).Bind(2, default_sensor);
    std::optional<FileRecord> out;
    AQ_RETURN_IF_ERROR(ReadAll(s, [&] { out = FileFromRow(s); }));
    return out;
  }

  Result<std::vector<FileRecord>> ListFiles() override {
    std::lock_guard<std::mutex> lock(read_mu_);
    Stmt s(reader_, std::string("SELECT ") + kFileColumns + " FROM files ORDER BY seq");
    std::vector<FileRecord> out;
    AQ_RETURN_IF_ERROR(ReadAll(s, [&] { out.push_back(FileFromRow(s)); }));
    return out;
  }

  Result<std::vector<Delivery>> DueDeliveries(int64_t now_ms, size_t limit) override {
    std::lock_guard<std::mutex> lock(read_mu_);
    Stmt s(reader_, std::string("SELECT ") + kDeliveryColumns +
                        " FROM deliveries WHERE state = 0 AND next_attempt_ms <= ?1"
                        " ORDER BY next_attempt_ms, alert_id, channel LIMIT ?2");
    s.Bind(1, now_ms).Bind(2, static_cast<int64_t>(limit));
    std::vector<Delivery> out;
    AQ_RETURN_IF_ERROR(ReadAll(s, [&] { out.push_back(DeliveryFromRow(s)); }));
    return out;
  }

  Result<Alert> GetAlert(int64_t id) override {
    std::lock_guard<std::mutex> lock(read_mu_);
    Stmt s(reader_, std::string("SELECT ") + kAlertColumns + " FROM alerts WHERE id=?1");
    s.Bind(1, id);
    std::optional<Alert> out;
    AQ_RETURN_IF_ERROR(ReadAll(s, [&] { out = AlertFromRow(s); }));
    if (!out) return NotFound("no alert " + std::to_string(id));
    return *out;
  }

  Status UpdateDelivery(const Delivery& d) override { return UpdateDeliveries({&d, 1}); }

  Status UpdateDeliveries(std::span<const Delivery> ds) override {
    // A short write transaction of its own: it waits for a running batch.
    // Without an fsync (synchronous=NORMAL: atomic, durable at the next
    // synced commit): losing it to a power cut only means a lease that ends
    // early or an alert sent again, which at-least-once delivery with
    // idempotency keys allows; it is never lost to a crash of the process.
    std::lock_guard<std::mutex> lock(write_mu_);
    AQ_RETURN_IF_ERROR(ExecSql(writer_, "PRAGMA synchronous=NORMAL"));
    Status st = ExecSql(writer_, "BEGIN IMMEDIATE");
    if (st.ok()) {
      Stmt s(writer_,
             "UPDATE deliveries SET state=?3, attempts=?4, next_attempt_ms=?5, updated_ms=?6, "
             "last_error=?7 WHERE alert_id=?1 AND channel=?2");
      for (const Delivery& d : ds) {
        s.Bind(1, d.alert_id).Bind(2, d.channel).Bind(3, static_cast<int64_t>(d.state));
        s.Bind(4, static_cast<int64_t>(d.attempts))
            .Bind(5, d.next_attempt_ms)
            .Bind(6, d.updated_ms);
        s.Bind(7, d.last_error);
        st = s.Exec();
        if (!st.ok()) break;
      }
      st = st.ok() ? ExecSql(writer_, "COMMIT") : st;
      if (!st.ok()) (void)ExecSql(writer_, "ROLLBACK");
    }
    Status restore = ExecSql(writer_, "PRAGMA synchronous=FULL");
    return st.ok() ? restore : st;
  }

  Result<std::vector<std::pair<Alert, std::vector<Delivery>>>> RecentAlerts(size_t limit) override {
    std::lock_guard<std::mutex> lock(read_mu_);
    AQ_RETURN_IF_ERROR(ExecSql(reader_, "BEGIN"));  // one consistent view of both tables
    std::vector<std::pair<Alert, std::vector<Delivery>>> out;
    Stmt a(reader_,
           std::string("SELECT ") + kAlertColumns + " FROM alerts ORDER BY id DESC LIMIT ?1");
    a.Bind(1, static_cast<int64_t>(limit));
    Status st = ReadAll(a, [&] { out.push_back({AlertFromRow(a), {}}); });
    Stmt d(reader_, std::string("SELECT ") + kDeliveryColumns +
                        " FROM deliveries WHERE alert_id=?1 ORDER BY channel");
    for (auto& [alert, deliveries] : out) {
      if (!st.ok()) break;
      d.Bind(1, alert.id);
      st = ReadAll(d, [&d, &list = deliveries] { list.push_back(DeliveryFromRow(d)); });
      d.Reset();
    }
    (void)ExecSql(reader_, "COMMIT");
    if (!st.ok()) return st;
    return out;
  }

 private:
  template <typename F>
  static Status ReadAll(Stmt& s, F&& on_row) {
    while (true) {
      auto row = s.Step();
      if (!row.ok()) return row.status();
      if (!*row) return Status::Ok();
      on_row();
    }
  }

  sqlite3* writer_;
  sqlite3* reader_;
  const std::string path_;
  std::mutex write_mu_;
  std::mutex read_mu_;
  // The background checkpoint (see StartCheckpoint) and its connection.
  std::thread checkpointer_;
  std::atomic<bool> checkpoint_running_{false};
  sqlite3* checkpoint_db_ = nullptr;
};

}  // namespace

namespace {

// kFailedPrecondition when `path` is missing or empty and must not be created.
Status CheckExisting(const std::string& path, const SqliteOptions& options) {
  if (!options.must_exist || path == ":memory:") return Status::Ok();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return FailedPrecondition("the database " + path + " is missing");
    return Unavailable("cannot read the database " + path + ": " + std::strerror(errno));
  }
  if (st.st_size == 0) return FailedPrecondition("the database " + path + " is empty (0 bytes)");
  return Status::Ok();
}

Status SchemaError(const std::string& path, sqlite3* db, const Status& s) {
  if (sqlite::LastErrorIsDamage(db))
    return FailedPrecondition("the database " + path + " is damaged: " + s.message());
  return Unavailable("cannot create the schema in " + path + ": " + s.message());
}

}  // namespace

Result<std::unique_ptr<MetaStore>> OpenSqliteMetaStore(const std::string& path,
                                                       const SqliteOptions& options) {
  // One process at a time sets a database up (see sqlite_setup.h); the
  // guard is released once the schema is in place.
  auto guard = sqlite::SetupGuard::Acquire(path);
  if (!guard.ok()) return guard.status();
  AQ_RETURN_IF_ERROR(CheckExisting(path, options));
  const std::string target = sqlite::ConnectionTarget(path);
  auto writer = OpenConnection(target, Role::kWriter);
  if (!writer.ok()) return writer.status();
  if (Status s = sqlite::CreateSchema(*writer); !s.ok()) {
    Status error = SchemaError(path, *writer, s);
    Close(*writer);
    return error;
  }
  auto reader = OpenConnection(target, Role::kReader);
  if (!reader.ok()) {
    Close(*writer);
    return reader.status();
  }
  return std::unique_ptr<MetaStore>(new SqliteMetaStore(*writer, *reader, target));
}

bool IsDamaged(const Status& s) {
  if (s.ok()) return false;
  const std::string& m = s.message();
  return (s.code() == Code::kFailedPrecondition && m.find(" is damaged") != std::string::npos) ||
         m.find("database disk image is malformed") != std::string::npos ||
         m.find("file is not a database") != std::string::npos;
}

}  // namespace aquasense::storage
