// Sensor-month blocks: the stored form of readings, the de-duplication
// decisions of SPEC §3 when new readings meet stored ones, and monthly
// aggregation (SPEC §4).
//
//   std::vector<Reading> block;                     // sorted by time
//   DecodeBlock(bytes, month, block);
//   MergeInto(block, incoming, OnConflict::kReject, decisions);
//   std::string bytes2 = EncodeBlock(block, month);
//   MonthAgg agg = Aggregate(block);
//
// Pure functions, thread-safe. The encoding is compact (about 4 bytes for a
// daily reading with two decimals, 15 with full-precision doubles) and exact:
// every double round-trips. Blocks of the previous version are still read.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/reading.h"

namespace aquasense::core {

namespace block_internal {
// One value's code in the encoding (a nibble) and its payload.
struct Coded {
  uint8_t code = 0;      // 0..6: decimal scale; 7 + n: n low bytes of the XOR
  uint64_t payload = 0;  // zigzag mantissa, or the XOR with the column's previous bits
};
// The smallest k <= 6 with v == M / 10^k exactly for an integer M (|M| <
// 2^53), setting `mantissa` to M; else 15 (no decimal structure: raw bits).
int ScaleOf(double v, int64_t& mantissa);
// A cheap test (no division, no table) that is true only for values
// ScaleOf gives 15: those read from full-precision text nearly all are.
bool ClearlyRaw(double v);
}  // namespace block_internal

enum class ConflictMode : uint8_t { kReject = 0, kReplace = 1 };

// Encodes readings (sorted by `when`, all in `month`).
std::string EncodeBlock(std::span<const Reading> readings, int32_t month);
// The same bytes, appended to `out` (no allocation of its own).
void AppendEncodedBlock(std::span<const Reading> readings, int32_t month, std::string& out);
// AppendEncodedBlock for many blocks: the same bytes, faster when values
// repeat (a sensor's readings take a few thousand distinct values), as it
// remembers how each recent value is encoded. 128 KiB; not thread-safe.
class BlockEncoder {
 public:
  BlockEncoder();
  void Append(std::span<const Reading> readings, int32_t month, std::string& out);

 private:
  static constexpr int kMemoBits = 13;
  static constexpr size_t kMemoSlots = size_t{1} << kMemoBits;
  struct Slot {
    uint64_t bits;   // the value's bit pattern
    int64_t packed;  // mantissa * 16 + scale
  };
  std::vector<Slot> memo_;  // direct-mapped by a hash of the bits
  std::vector<std::pair<block_internal::Coded, block_internal::Coded>> codes_;  // scratch
};

// Decodes into `out` (cleared first). False when the bytes are corrupt.
bool DecodeBlock(std::string_view bytes, int32_t month, std::vector<Reading>& out);

// One incoming reading; `order` breaks ties (input order).
struct Incoming {
  Reading reading;
  uint32_t order = 0;
};

enum class Decision : uint8_t {
  kStored,     // new reading, now in the block
  kDuplicate,  // same time and values as a reading already there: dropped, counted
  kConflict,   // same time, other values: rejected; `other` = the stored reading
  kReplaced,   // same time, other values, --on-conflict=replace: this one is stored,
               //   `other` = the reading it replaced (recorded as invalid)
};

struct MergeDecision {
  Decision decision = Decision::kStored;
  Reading other;
};

// Merges `incoming` (sorted by when, then order) into `block` (sorted by when).
// decisions[i] tells what happened to incoming[i]. Returns true when the
// block changed.
bool MergeInto(std::vector<Reading>& block, std::span<const Incoming> incoming, ConflictMode mode,
               std::span<MergeDecision> decisions);

struct MonthAgg {
  double mean_temp = 0;
  double max_temp = 0;
  double max_sd = 0;
  int64_t readings = 0;
  bool operator==(const MonthAgg&) const = default;
};

// Aggregates a non-empty block; temperatures are summed in time order.
MonthAgg Aggregate(std::span<const Reading> block);

}  // namespace aquasense::core
