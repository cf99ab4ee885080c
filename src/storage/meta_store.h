// MetaStore: the tables of AquaSense: reading blocks (one per sensor-month),
// monthly metrics, the ledger of ingested files, and the alert outbox.
//
//   auto batch = store.BeginBatch();          // one transaction
//   (*batch)->PutBlock("s1", m, bytes);
//   (*batch)->PutMetrics(metrics);
//   AQ_RETURN_IF_ERROR((*batch)->Commit());  // all or nothing; Generation() moves
//
// Backends: SQLite (WAL; the embedded default; ":memory:" for quick tests,
// see OpenSqliteMetaStore);
// DynamoDB slots in later behind the same interface. Readers never see a
// half-applied batch. Several processes may share one store: batches are
// serialised (a second BeginBatch waits), reads run beside them.
// Thread-safety: MetaStore methods are safe to call from several threads; a
// Batch belongs to one thread. Errors: kUnavailable when the store cannot be
// opened or read, kInternal for unexpected failures.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "core/reading.h"

namespace aquasense::storage {

enum class OnConflict : uint8_t { kReject = 0, kReplace = 1 };

// One ingested file in the ledger. (hash, default_sensor) identifies it: the
// same bytes ingested for another default sensor are another file.
struct FileRecord {
  int64_t seq = 0;               // ingestion order, assigned by the store
  std::string hash;              // SHA-256 of the bytes, hex
  std::string default_sensor;    // sensor for rows without a sensor column
  std::string landing_key;       // where the bytes are kept
  std::string source_name;       // as given by the user (path, "-", upload)
  OnConflict on_conflict = OnConflict::kReject;
  int64_t ingested_ms = 0;
  int64_t rows = 0, valid = 0, invalid = 0, duplicates = 0, alerts = 0;
  int64_t bytes = -1;            // the file's size; -1 unknown (ledgers before it was kept)
};

// An alert in the outbox (SPEC §6). (file_hash, default_sensor, kind, sensor)
// is unique, so re-deriving a file never creates a second alert.
struct Alert {
  int64_t id = 0;                // assigned by the store
  std::string kind;              // "deviation" | "data_quality"
  std::string sensor;            // the sensor concerned ("" for a whole file)
  std::string file_hash;
  std::string default_sensor;
  std::string source_name;
  int64_t created_ms = 0;
  std::string payload_json;      // counts and first examples, as JSON
};

enum class DeliveryState : uint8_t { kPending = 0, kDelivered = 1, kGaveUp = 2 };

struct Delivery {
  int64_t alert_id = 0;
  std::string channel;           // configured channel name
  DeliveryState state = DeliveryState::kPending;
  int32_t attempts = 0;
  int64_t next_attempt_ms = 0;
  int64_t updated_ms = 0;
  std::string last_error;
};

// What changed in the metrics between a generation a reader holds and now
// (MetaStore::MetricsSince): enough to bring an in-memory copy up to date
// without reading the whole table.
struct MetricsDelta {
  int64_t generation = 0;  // the generation this delta brings the reader to
  // True when the changes since the reader's generation are unknown (a
  // rebuild, a change log pruned or not kept): `rows` then holds every metric.
  bool full = false;
  // When !full: the sensors whose metrics may have changed, sorted, unique. A
  // sensor listed without rows has none left.
  std::vector<std::string> sensors;
  // full: all metrics; else every metric of `sensors`. Sorted by sensor, month.
  std::vector<core::MonthlyMetrics> rows;
};

struct MetricsQuery {
  std::optional<std::string> sensor;   // all sensors when empty
  int32_t from_month = INT32_MIN;      // inclusive month index (core::MonthIndex)
  int32_t to_month = INT32_MAX;        // inclusive
};

class Batch {
 public:
  virtual ~Batch() = default;  // without Commit(): rolled back

  // Reading blocks: opaque bytes (core/block.h) keyed by sensor-month.
  // GetBlock: the stored bytes, nothing when the sensor-month has no block.
  virtual Result<std::optional<std::string>> GetBlock(std::string_view sensor,
                                                      int32_t month) = 0;
  // Inserts or replaces the block of a sensor-month (visible after Commit).
  virtual Status PutBlock(std::string_view sensor, int32_t month, std::string_view bytes) = 0;
  // Month indexes of every stored block of `sensor`, ascending.
  virtual Result<std::vector<int32_t>> BlockMonths(std::string_view sensor) = 0;

  // The metrics of a sensor-month as this batch sees them; nothing if none.
  virtual Result<std::optional<core::MonthlyMetrics>> GetMetrics(std::string_view sensor,
                                                                  int32_t month) = 0;
  // Inserts or replaces the metrics of m.sensor's month.
  virtual Status PutMetrics(const core::MonthlyMetrics& m) = 0;

  // Metrics as this batch sees them (its own writes included), sorted.
  virtual Result<std::vector<core::MonthlyMetrics>> ListMetrics(const MetricsQuery& q) = 0;
  // The same, one row at a time (memory independent of the table's size).
  virtual Status ScanMetrics(const MetricsQuery& q,
                             const std::function<Status(const core::MonthlyMetrics&)>& fn) = 0;
  // The store's generation before this batch commits.
  virtual Result<int64_t> Generation() = 0;

  // Ledger. RecordFile assigns and returns the record's seq.
  virtual Result<int64_t> RecordFile(const FileRecord& f) = 0;
  // False when no file of `bytes` bytes (nor of unknown size) is in the
  // ledger for `default_sensor`: then a file of that size cannot be one
  // already ingested, and needs no hashing before it is parsed.
  virtual Result<bool> MayHaveFile(std::string_view default_sensor, uint64_t bytes) = 0;

  // Outbox: adds the alert (ignored if its unique key exists) with one pending
  // delivery per channel. Returns true when the alert is new.
  virtual Result<bool> AddAlert(const Alert& a, const std::vector<std::string>& channels) = 0;

  // Empties blocks, metrics and the ledger (not the outbox): for rebuild.
  virtual Status ResetDerived() = 0;

  // The batch writes nothing more before Commit (reads may follow): a store
  // may start making its writes durable meanwhile. A hint; nothing to do by
  // default.
  virtual void WritesDone() {}

  // Makes everything above visible atomically and durably; advances Generation().
  virtual Status Commit() = 0;
};

class MetaStore {
 public:
  virtual ~MetaStore() = default;

  // Starts a write transaction; waits for another process's batch to finish.
  virtual Result<std::unique_ptr<Batch>> BeginBatch() = 0;

  // A number that changes whenever a batch commits (in any process).
  virtual Result<int64_t> Generation() = 0;

  // Metrics sorted by sensor, then month.
  virtual Result<std::vector<core::MonthlyMetrics>> ListMetrics(const MetricsQuery& q) = 0;

  // The metrics changed by the batches committed after `generation`, read in
  // one consistent view: delta.generation and delta.rows belong to the same
  // committed state, so a batch is in the delta wholly or not at all. A
  // `generation` below 0 (or one the store cannot account for) gives a full
  // delta. This default keeps no change log: unless the generation did not
  // move (an empty delta), it answers full from Generation() and
  // ListMetrics(), whose rows may then include a batch newer than
  // delta.generation (a reader then sees the generation move again).
  virtual Result<MetricsDelta> MetricsSince(int64_t generation);
  virtual Result<std::vector<std::string>> ListSensors() = 0;
  virtual Result<std::optional<std::string>> ReadBlock(std::string_view sensor,
                                                       int32_t month) = 0;

  // The ledger entry of (hash, default_sensor), nothing if never ingested.
  // FileRecord.bytes is read back as stored (-1 for ledgers without it).
  virtual Result<std::optional<FileRecord>> FindFile(std::string_view hash,
                                                     std::string_view default_sensor) = 0;
  // The ledger in ingestion order.
  virtual Result<std::vector<FileRecord>> ListFiles() = 0;

  // Outbox reads and delivery bookkeeping.
  virtual Result<std::vector<Delivery>> DueDeliveries(int64_t now_ms, size_t limit) = 0;
  virtual Result<Alert> GetAlert(int64_t id) = 0;
  virtual Status UpdateDelivery(const Delivery& d) = 0;
  // Several at once: in one transaction (all or none) where the backend can;
  // by default one by one.
  virtual Status UpdateDeliveries(std::span<const Delivery> ds) {
    for (const Delivery& d : ds) AQ_RETURN_IF_ERROR(UpdateDelivery(d));
    return Status::Ok();
  }
  // The newest alerts first, with their deliveries.
  virtual Result<std::vector<std::pair<Alert, std::vector<Delivery>>>> RecentAlerts(
      size_t limit) = 0;
};

inline Result<MetricsDelta> MetaStore::MetricsSince(int64_t generation) {
  MetricsDelta delta;
  auto now = Generation();
  if (!now.ok()) return now.status();
  delta.generation = *now;
  if (generation >= 0 && generation == *now) return delta;  // nothing changed
  delta.full = true;
  auto rows = ListMetrics(MetricsQuery{});
  if (!rows.ok()) return rows.status();
  delta.rows = std::move(*rows);
  return delta;
}

struct SqliteOptions {
  // Refuse to create the database: a missing or empty (0-byte) file is an
  // error. For callers that know the store existed (files in landing/).
  bool must_exist = false;
};

// The SQLite database at `path` (created if missing), in WAL mode. Several
// processes may open (and create) the same path at once. ":memory:" opens a
// new, private in-memory store (tests; a read waits for a running batch's
// table locks less gracefully than on a file: it fails with "locked").
// Errors: kFailedPrecondition when the file is damaged ("not a database",
// "malformed") or, with must_exist, missing or empty; kUnavailable when it
// cannot be opened or set up (locked past the busy timeout, read-only, I/O).
Result<std::unique_ptr<MetaStore>> OpenSqliteMetaStore(const std::string& path,
                                                       const SqliteOptions& options = {});

// True when `s` reports a damaged database file ("database disk image is
// malformed", "file is not a database"), at open or later.
bool IsDamaged(const Status& s);

}  // namespace aquasense::storage
