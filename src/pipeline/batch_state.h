// BatchState: what one ingest batch knows while it runs: the sensors it has
// met (with the months that have a stored block), a bounded cache of the
// decoded blocks being merged into (BlockCache), and which sensor-months'
// metrics rows now differ from what the batch started with.
//
// Metrics are streamed: when a dirty block leaves the cache, it is encoded
// and its month's metrics row computed, with max_temp_diff from the previous
// month and the next month's max_temp_diff fixed. Both go to a bounded
// write-behind buffer, kept per sensor. When it is full, the sensors next in
// name order (the store's key order), round robin, are written out, each in
// month order, until an eighth of the buffer is free: a sensor's B-tree
// leaves are written about once per round whatever the order of the input,
// and the work is spread evenly over the chunks (writing the whole buffer at
// once stalled the merging thread ~0.15 s at a time, and the parser with it).
// A block that comes back later (out-of-order input, another file) is stored
// and its metrics written again; FinalizeMetrics flushes the rest and counts
// the rows whose final value differs from the row before the batch.
// Read-your-writes: a batch that reads its own writes (SQLite, memory:
// Batch::ReadsOwnWrites) is asked for what the buffer handed to it. Else
// (DynamoDB) what the buffer hands to the batch is kept (`written_`) and read
// back from there. Rows the batch never wrote are read from the store's
// committed state, which the sensor's version (ExpectVersion, given on first
// sight) fences.
// Memory: the cache's and the buffer's bounds, a byte per month in each
// sensor's range of months, the original rows of pre-existing months this
// batch rewrites, and, for a batch that does not read its own writes, the
// encoded blocks and rows it wrote (about 6-18 bytes a reading: this grows
// with the input).
// Internal to the pipeline; not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "core/block.h"
#include "pipeline/block_cache.h"
#include "storage/meta_store.h"

namespace aquasense::pipeline::internal {

class SensorState {
 public:
  explicit SensorState(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }

  // A block (and metrics row) for `month` existed before this batch.
  bool HadBefore(int32_t month) const { return Flags(month) & kBefore; }
  // A block is in the store now (before this batch, or written by it).
  bool Has(int32_t month) const { return Flags(month) & (kBefore | kStored); }
  // The metrics row was written by this batch / differs from the one before it.
  bool RowWritten(int32_t month) const { return Flags(month) & kRowWritten; }
  bool Differs(int32_t month) const { return Flags(month) & kDiffers; }
  int64_t DifferingMonths() const;
  // The first of them (INT32_MAX when there is none).
  int32_t FirstDifferingMonth() const;

  void MarkBefore(int32_t month) { Set(month, kBefore, true); }
  // Some month existed before this batch (the store knew the sensor).
  bool HadAnyBefore() const;
  void MarkStored(int32_t month) { Set(month, kStored, true); }
  void MarkRowWritten(int32_t month, bool differs) {
    Set(month, kRowWritten, true);
    Set(month, kDiffers, differs);
  }

  // The last metrics row this batch wrote or read for the sensor: its month's
  // max_temp (a cheap answer for the previous month when months flush in order).
  void Remember(int32_t month, double max_temp) {
    memo_month_ = month;
    memo_max_temp_ = max_temp;
  }
  std::optional<double> Recall(int32_t month) const {
    return memo_month_ == month ? std::optional<double>(memo_max_temp_) : std::nullopt;
  }

 private:
  static constexpr uint8_t kBefore = 1, kStored = 2, kRowWritten = 4, kDiffers = 8;
  uint8_t Flags(int32_t month) const {
    return month >= base_ && month < base_ + static_cast<int32_t>(flags_.size())
               ? flags_[Slot(month)]
               : 0;
  }
  size_t Slot(int32_t month) const { return static_cast<size_t>(month - base_); }
  void Set(int32_t month, uint8_t flag, bool on);
  void SlotFor(int32_t month);  // grows the range to hold `month`

  std::string name_;
  int32_t base_ = 0;  // month index of flags_[0]
  std::vector<uint8_t> flags_;
  int32_t memo_month_ = INT32_MIN;
  double memo_max_temp_ = 0;
};

// A sensor whose metrics the batch changed: the rows from `first_month` on;
// INT32_MIN for a sensor new to the store (every row is new, and it has no
// committed monthly file to keep a part of: none is read).
struct ChangedSensor {
  std::string name;
  int32_t first_month = 0;
};

struct BatchLimits {
  BlockCache::Options cache;
  // Encoded blocks and rows awaiting the store. Writing a sensor out appends
  // to its last B-tree leaves, so the store rewrites a leaf about once per
  // round: 16 MiB (bookkeeping included) is about two thirds of a 16 KiB leaf
  // per sensor for a thousand sensors (10M rows: 8 MiB costs ~0.5 s more CPU).
  size_t write_behind_bytes = 16 << 20;
};

class BatchState {
 public:
  // `fresh`: the batch started with ResetDerived() (rebuild): the store's
  // committed state is not read, every sensor starts empty at version 0.
  BatchState(storage::MetaStore& meta, storage::Batch& batch, bool fresh, BatchLimits limits = {})
      : meta_(meta),
        batch_(batch),
        fresh_(fresh),
        own_reads_(batch.ReadsOwnWrites()),
        cache_(limits.cache),
        write_behind_bytes_(limits.write_behind_bytes) {}

  storage::Batch& batch() { return batch_; }
  storage::MetaStore& meta() { return meta_; }

  // The metrics of `q.sensor` (required) as this batch sees them: the
  // committed rows overlaid with the batch's own, sorted by month.
  Result<std::vector<core::MonthlyMetrics>> ListMetrics(const storage::MetricsQuery& q);
  // Every sensor with metrics as this batch sees them, sorted.
  Result<std::vector<std::string>> ListSensors();
  // The id of sensor `name`, loading its stored months on first sight.
  Result<uint32_t> SensorId(const std::string& name);
  SensorState& sensor(uint32_t id) { return *sensors_[id]; }

  // The block of sensor `id` for `month` to merge into: from the cache, else
  // read from the store (empty when there is none). Set `dirty` on the entry
  // after changing its readings. Valid until the next EndChunk/FinalizeMetrics.
  Result<BlockCache::Entry*> Block(uint32_t id, int32_t month);
  // A chunk is merged: stores the blocks the cache lets go (with their metrics).
  Status EndChunk();

  // Stores every block still cached with its metrics. Returns the number of
  // sensor-months whose metrics row differs from the one before the batch
  // (fixed max_temp_diff of a following month included); `changed` gets the
  // sensors concerned, sorted by name.
  Result<int64_t> FinalizeMetrics(std::vector<ChangedSensor>& changed);

  // Bytes of block data kept of what the batch wrote (0 when the batch reads
  // its own writes): the part of the memory that grows with the input.
  size_t KeptBytes() const { return kept_bytes_; }

 private:
  // Cache keys by sensor name, then month; needs RankSensors() first.
  bool ByName(uint64_t a, uint64_t b) const;
  void RankSensors();  // brings by_name_ and name_rank_ up to date with sensors_
  Status Flush(std::vector<uint64_t> keys);
  Status StoreBlock(uint32_t id, int32_t month, BlockCache::Entry& e);
  Result<std::optional<double>> MaxTempOf(uint32_t id, int32_t month);
  Status FixNextDiff(uint32_t id, int32_t month, double max_temp);
  Status PutRow(uint32_t id, int32_t month, const core::MonthlyMetrics& m);
  // The metrics row as this batch sees it (the write-behind buffer first).
  Result<std::optional<core::MonthlyMetrics>> CurrentRow(uint32_t id, int32_t month);
  // The stored block as this batch sees it (the write-behind buffer first).
  Result<std::optional<std::string>> StoredBlock(uint32_t id, int32_t month);
  // Writes out sensors from the round-robin cursor on until the buffer holds
  // at most `target` bytes (0: all of them).
  Status WritePending(size_t target = 0);

  // A block and/or metrics row written by the batch but not yet given to the
  // store. Block bytes live in the sensor's arena (a block stored again
  // leaves its old bytes there until the sensor is written out).
  struct Pending {
    size_t block_offset = 0, block_size = 0;
    bool has_block = false, has_row = false, has_diff = false;
    double mean_temp = 0, max_temp = 0, max_sd = 0, max_temp_diff = 0;
    int64_t readings = 0;
  };
  // One sensor's part of the write-behind buffer.
  struct SensorPending {
    std::map<int32_t, Pending> months;
    std::string arena;
    size_t bytes = 0;  // arena plus an estimate per entry
  };
  Pending& PendingFor(uint32_t id, int32_t month);
  const Pending* FindPending(uint32_t id, int32_t month) const;
  std::string_view BlockOf(uint32_t id, const Pending& p) const {
    return {pending_[id].arena.data() + p.block_offset, p.block_size};
  }
  core::MonthlyMetrics RowOf(uint32_t id, int32_t month, const Pending& p);
  Status WriteSensor(uint32_t id);
  void Keep(uint32_t id);  // copies pending_[id] into written_[id]
  // What the batch wrote of sensor `id` (given to the store, kept here
  // unless own_reads_).
  const Pending* FindWritten(uint32_t id, int32_t month) const;
  std::string_view WrittenBlockOf(uint32_t id, const Pending& p) const {
    return {written_[id].arena.data() + p.block_offset, p.block_size};
  }
  Result<std::optional<core::MonthlyMetrics>> CommittedRow(uint32_t id, int32_t month);

  storage::MetaStore& meta_;
  storage::Batch& batch_;
  const bool fresh_;
  const bool own_reads_;  // batch_.ReadsOwnWrites(): written_ stays empty
  BlockCache cache_;
  core::BlockEncoder encoder_;
  std::vector<SensorPending> pending_;  // by sensor id
  std::vector<SensorPending> written_;  // by sensor id: handed to batch_, kept for reads
  size_t pending_bytes_ = 0;            // of all sensors
  size_t kept_bytes_ = 0;               // the arenas of written_
  uint32_t next_rank_ = 0;              // the round robin's cursor (a name rank)
  size_t write_behind_bytes_;
  std::vector<std::unique_ptr<SensorState>> sensors_;
  std::unordered_map<std::string, uint32_t> ids_;
  // The sensor ids sorted by name, and per sensor id its position there, so
  // the frequent sorts by name compare integers, not strings.
  std::vector<uint32_t> by_name_, name_rank_;
  // Rows before the batch of the pre-existing months it rewrote, by cache key.
  std::unordered_map<uint64_t, std::optional<core::MonthlyMetrics>> originals_;
};

}  // namespace aquasense::pipeline::internal
