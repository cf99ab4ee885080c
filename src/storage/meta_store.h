// MetaStore: the tables of AquaSense: reading blocks (one per sensor-month),
// monthly metrics, the ledger of ingested files, and the alert outbox.
// The contract is shaped so that a distributed key-value store (DynamoDB:
// conditional writes, 100-item transactions, 400 KB items, no truncate, no
// auto-increment) can meet it; SQLite meets it and is stronger (see below).
//
//   auto head = store.ReadSensor("s1");        // committed state + its version
//   auto batch = store.BeginBatch();
//   (*batch)->ExpectVersion("s1", head->version);   // fencing token
//   (*batch)->PutBlock("s1", m, bytes);
//   (*batch)->PutMetrics(metrics);
//   (*batch)->ApplyFile("s1", {hash, "default", valid, duplicates});
//   (*batch)->RecordFile(record);             // the ledger: after its sensors
//   Status s = (*batch)->Commit();            // kAborted: s1 moved, re-read, retry
//
// ATOMICITY PER SENSOR. A sensor's state (its blocks, its metrics rows, the
// files it applied, its version) changes in one step: a reader sees every
// write a commit made to that sensor, or none of them. A batch that writes
// several sensors commits them one by one in any order (a backend may commit
// them together); a reader may see sensor A of a batch before sensor B.
// Every commit of a sensor is guarded by the version the writer read
// (ExpectVersion): it fails with kAborted, writing nothing of that sensor,
// when another commit moved the version meanwhile. So files of different
// sensors commit in parallel, files of one sensor serialise, and no process
// holds a lock across the work (no flock, no lease, no BEGIN IMMEDIATE wait
// required by the contract).
//
// READ-YOUR-WRITES is the caller's job unless the batch offers it: readers
// (MetaStore methods) see committed state only. A Batch whose
// ReadsOwnWrites() is true (SQLite, memory) answers reads of blocks and
// metrics with its own writes overlaid on the store; otherwise (DynamoDB)
// the pipeline's BatchState keeps what it wrote until the commit.
//
// ORDER OF A COMMIT. Sensors first; then alerts (AddAlert, idempotent on their
// unique key); then the ledger records (RecordFile). A crash in between leaves
// sensors that applied a file without its ledger record: running the file
// again finds, per sensor, FindApplied(sensor, hash, default_sensor) and skips
// that sensor's readings (taking the recorded counts), so a retried file
// neither double counts nor changes the ledger's numbers.
//
// ERRORS, for every method unless it says otherwise:
//   kAborted            a conditional write lost (a sensor's version moved, a
//                       delivery claimed by another host): re-read, retry.
//   kUnavailable        transient (network, throttling, busy, I/O): retry with
//                       back-off. A failed Commit may have applied some sensors
//                       wholly (never part of one) and none of the ledger
//                       records of files whose sensors are not all applied.
//   kFailedPrecondition the store is damaged or not set up; not retryable.
//   kInvalidArgument    the call breaks this contract; not retryable.
//   kNotFound           only where stated (GetAlert).
//   kInternal           a bug or an unexpected answer; not retryable.
//
// BACKENDS. SQLite (WAL; the embedded default, OpenSqliteMetaStore) is
// stronger than required: a batch is one transaction, all sensors and the
// ledger commit together, and BeginBatch takes SQLite's write lock, so within
// one database versions never move under a running batch. Memory
// (memory_meta_store.h): one mutex, every commit all or nothing. DynamoDB
// (dynamo_meta_store.h): per-sensor TransactWriteItems, or versioned items
// plus one conditional write of the sensor's version item when a sensor's
// writes exceed a transaction.
// Thread-safety: MetaStore methods are safe from several threads; a Batch
// belongs to one thread.
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
#include "core/block.h"  // ConflictMode
#include "core/reading.h"

namespace aquasense::storage {

// What a file does to a reading already stored with other values: one enum from the
// merge (core::MergeInto) to the ledger.
using OnConflict = core::ConflictMode;

// Blocks larger than this do not fit an item of a store with DynamoDB's
// 400 KB limit (room left for keys and attributes): such a backend keeps the
// bytes in its ObjectStore (key "meta-blocks/<sensor>/<month>-<version>") and
// the item names them. Callers may PutBlock any size.
inline constexpr size_t kMaxInlineBlockBytes = 350 * 1024;

// Store-assigned ids (FileRecord::seq, Alert::id) are sortable, not dense:
// NewSortableId(now_ms) = now_ms << 21 | 21 bits (11 random per process, 10
// of a per-process sequence; the ms move on when it wraps). Ids of one
// process increase; ids of several processes are ordered by their ms
// (ties: arbitrary). A backend with auto-increment may use it instead; ids
// must increase with assignment time either way. Thread-safe.
int64_t NewSortableId(int64_t now_ms);

// One ingested file in the ledger. (hash, default_sensor) identifies it: the
// same bytes ingested for another default sensor are another file.
struct FileRecord {
  // The ingestion order (sortable id, assigned by RecordFile): the order
  // Rebuild replays. SPEC §9 "the file that reached the store first wins"
  // is the order files are committed in per sensor, which a sensor's version
  // serialises; seq follows it for the files of one sensor.
  int64_t seq = 0;
  std::string hash;            // SHA-256 of the bytes, hex
  std::string default_sensor;  // sensor for rows without a sensor column
  std::string landing_key;     // where the bytes are kept
  std::string source_name;     // as given by the user (path, "-", upload)
  OnConflict on_conflict = OnConflict::kReject;
  int64_t ingested_ms = 0;
  int64_t rows = 0, valid = 0, invalid = 0, duplicates = 0, alerts = 0;
  int64_t bytes = -1;  // the file's size; -1 unknown (ledgers before it was kept)
};

// A file's part in one sensor, recorded by that sensor's commit.
struct AppliedFile {
  std::string hash;
  std::string default_sensor;
  int64_t valid = 0, duplicates = 0;  // this file's readings of this sensor
};

// A sensor's committed state as far as a writer needs it.
struct SensorHead {
  // 0: the sensor was never written (or was reset). Any other value is
  // opaque: only equality means "nothing committed since".
  int64_t version = 0;
  std::vector<int32_t> months;  // months with a block, ascending
};

// An alert in the outbox (SPEC §6). (file_hash, default_sensor, kind, sensor)
// is unique, so re-deriving a file never creates a second alert.
struct Alert {
  int64_t id = 0;      // assigned by the store (sortable, see NewSortableId)
  std::string kind;    // "deviation" | "data_quality"
  std::string sensor;  // the sensor concerned ("" for a whole file)
  std::string file_hash;
  std::string default_sensor;
  std::string source_name;
  int64_t created_ms = 0;
  std::string payload_json;  // counts and first examples, as JSON
};

enum class DeliveryState : uint8_t { kPending = 0, kDelivered = 1, kGaveUp = 2 };

struct Delivery {
  int64_t alert_id = 0;
  std::string channel;  // configured channel name
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
  std::optional<std::string> sensor;  // all sensors when empty
  int32_t from_month = INT32_MIN;     // inclusive month index (core::MonthIndex)
  int32_t to_month = INT32_MAX;       // inclusive
};

// A write set. Nothing is visible before Commit; without Commit nothing is
// written (a backend may have written invisible staged items, which a later
// commit or a sweep removes). Calls after a failed call or Commit:
// kInvalidArgument.
class Batch {
 public:
  virtual ~Batch() = default;

  // Fencing: the commit of `sensor` succeeds only if its version is still
  // `version` (SensorHead::version as read; 0 = a sensor not written yet).
  // Required once for every sensor the batch writes (blocks, metrics,
  // ApplyFile), before its first write: else Commit fails with
  // kInvalidArgument. After ResetDerived() every sensor's version is 0.
  virtual Status ExpectVersion(std::string_view sensor, int64_t version) = 0;

  // Inserts or replaces the block of a sensor-month: opaque bytes
  // (core/block.h), any size (see kMaxInlineBlockBytes).
  virtual Status PutBlock(std::string_view sensor, int32_t month, std::string_view bytes) = 0;
  // Inserts or replaces the metrics of m.sensor's month.
  virtual Status PutMetrics(const core::MonthlyMetrics& m) = 0;
  // Records, in `sensor`'s commit, that this batch applied file f to it.
  virtual Status ApplyFile(std::string_view sensor, const AppliedFile& f) = 0;

  // Ledger: written after every sensor of the batch committed. Returns the
  // record's seq (assigned now, sortable). A record for (hash,
  // default_sensor) already in the ledger is left as it is.
  virtual Result<int64_t> RecordFile(const FileRecord& f) = 0;

  // Outbox: adds the alert (nothing if its unique key exists) with one
  // pending delivery per channel, after the sensors and before the ledger.
  virtual Status AddAlert(const Alert& a, const std::vector<std::string>& channels) = 0;

  // Empties blocks, metrics, applied files, versions and the ledger (not the
  // outbox): for rebuild. SQLite and memory: inside the commit. A store
  // without truncate may do it at Commit before the sensors, item by item
  // (readers then see the store emptying and filling again) or by switching
  // a generation namespace; either way it is idempotent and retryable.
  virtual Status ResetDerived() = 0;

  // ---- Reading its own writes (optional) ----
  // True when the four reads below are answered. They see the store's
  // committed state (none of it after ResetDerived; committed as of the
  // batch's start or of the read: the versions fence either) overlaid with
  // every PutBlock/PutMetrics of this batch so far, exactly as given, the
  // last write of a key winning. Same sorting as the MetaStore reads of the
  // same names. False by default: the reads then fail with kInvalidArgument.
  // (Defined here, not in meta_store.cc: a Batch without an out-of-line
  // virtual has its typeinfo in every user, which UBSan's vptr checks need in
  // binaries that do not link the storage library.)
  virtual bool ReadsOwnWrites() const { return false; }
  virtual Result<std::optional<std::string>> ReadBlock(std::string_view /*sensor*/,
                                                       int32_t /*month*/) {
    return NoOwnReads();
  }
  virtual Result<std::optional<core::MonthlyMetrics>> GetMetrics(std::string_view /*sensor*/,
                                                                 int32_t /*month*/) {
    return NoOwnReads();
  }
  virtual Result<std::vector<core::MonthlyMetrics>> ListMetrics(const MetricsQuery& /*q*/) {
    return NoOwnReads();
  }
  virtual Result<std::vector<std::string>> ListSensors() { return NoOwnReads(); }

  // The batch writes nothing more before Commit: a store may start making
  // its writes durable meanwhile. A hint; nothing to do by default.
  virtual void WritesDone() {}

  // Commits per sensor (see the top), then alerts, then the ledger; advances
  // Generation(). Errors: kAborted (a sensor's version moved: the batch wrote
  // nothing of that sensor; run the files again from fresh reads),
  // kUnavailable, kInvalidArgument (see ExpectVersion).
  virtual Status Commit() = 0;

 private:
  static Status NoOwnReads() { return InvalidArgument("this batch does not read its own writes"); }
};

class MetaStore {
 public:
  virtual ~MetaStore() = default;

  // A new, empty write set. It may take a backend's own write lock (SQLite:
  // the database's, released by Commit or the Batch's destruction).
  virtual Result<std::unique_ptr<Batch>> BeginBatch() = 0;

  // True when a failed Commit can leave some of its sensors applied and its
  // ledger records not written (per-sensor commits: DynamoDB). A writer then
  // asks FindApplied before it applies a file that is not in the ledger (a
  // retry, maybe). False (SQLite, memory): a batch commits all or nothing, a
  // file missing from the ledger applied no sensor, and no such read is due.
  virtual bool MayApplyPartially() const { return false; }

  // ---- Committed reads (never a running batch's writes) ----

  // The sensor's version and block months, read together (one sensor state).
  virtual Result<SensorHead> ReadSensor(std::string_view sensor) = 0;
  virtual Result<std::optional<std::string>> ReadBlock(std::string_view sensor, int32_t month) = 0;
  virtual Result<std::optional<core::MonthlyMetrics>> GetMetrics(std::string_view sensor,
                                                                 int32_t month) = 0;
  // Metrics sorted by sensor, then month. A query over all sensors reads one
  // sensor at a time (a reader may see sensors of different commits).
  virtual Result<std::vector<core::MonthlyMetrics>> ListMetrics(const MetricsQuery& q) = 0;
  // Sensors with metrics, sorted.
  virtual Result<std::vector<std::string>> ListSensors() = 0;
  // Whether `sensor` applied file (hash, default_sensor), with its counts.
  virtual Result<std::optional<AppliedFile>> FindApplied(std::string_view sensor,
                                                         std::string_view hash,
                                                         std::string_view default_sensor) = 0;

  // A store-wide number that increases whenever a commit lands (in any
  // process). Costs a small read (the server polls it ~10 times a second).
  virtual Result<int64_t> Generation() = 0;
  // The metrics of every sensor committed after `generation`: delta.generation
  // is a generation at or after every commit in the delta; each sensor's rows
  // are one committed state of it (per-sensor atomic). A commit may be
  // reported twice (a backend with sortable commit ids re-reads a short
  // window), never missed. A `generation` below 0 (or one the store cannot
  // account for) gives a full delta. No full scan unless full. This default
  // keeps no change log: unless the generation did not move it answers full.
  virtual Result<MetricsDelta> MetricsSince(int64_t generation);

  // Ledger. FindFile: the entry of (hash, default_sensor), nothing if never
  // ingested; bytes read back as stored (-1 for ledgers without it).
  virtual Result<std::optional<FileRecord>> FindFile(std::string_view hash,
                                                     std::string_view default_sensor) = 0;
  // False when no file of `bytes` bytes (nor of unknown size) is in the
  // ledger for `default_sensor`: a file of that size cannot be one already
  // ingested, and needs no hashing before it is parsed.
  virtual Result<bool> MayHaveFile(std::string_view default_sensor, uint64_t bytes) = 0;
  // The ledger in ingestion order (seq ascending).
  virtual Result<std::vector<FileRecord>> ListFiles() = 0;

  // ---- Outbox ----
  // Pending deliveries with next_attempt_ms <= now_ms, earliest first.
  virtual Result<std::vector<Delivery>> DueDeliveries(int64_t now_ms, size_t limit) = 0;
  // kNotFound when there is no alert `id`.
  virtual Result<Alert> GetAlert(int64_t id) = 0;
  // Conditional: replaces the delivery (alert_id, channel) with `next` only if
  // it still equals `seen` (state, attempts, next_attempt_ms, updated_ms), so
  // of two hosts that read the same due delivery one claims it (a lease:
  // next.next_attempt_ms in the future) and the other gets kAborted.
  virtual Status ClaimDelivery(const Delivery& seen, const Delivery& next) = 0;
  // Unconditional bookkeeping by the host holding the claim.
  virtual Status UpdateDelivery(const Delivery& d) = 0;
  // Several at once: in one transaction (all or none) where the backend can;
  // by default one by one.
  virtual Status UpdateDeliveries(std::span<const Delivery> ds) {
    for (const Delivery& d : ds) AQ_RETURN_IF_ERROR(UpdateDelivery(d));
    return Status::Ok();
  }
  // The newest alerts first (id descending), with their deliveries.
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
// new, private in-memory store (tests).
// Errors: kFailedPrecondition when the file is damaged ("not a database",
// "malformed") or, with must_exist, missing or empty; kUnavailable when it
// cannot be opened or set up (locked past the busy timeout, read-only, I/O).
Result<std::unique_ptr<MetaStore>> OpenSqliteMetaStore(const std::string& path,
                                                       const SqliteOptions& options = {});

// True when `s` reports a damaged database file ("database disk image is
// malformed", "file is not a database"), at open or later.
bool IsDamaged(const Status& s);

}  // namespace aquasense::storage
