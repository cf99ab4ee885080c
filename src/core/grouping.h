// GroupBySensorMonth: the rows of a parsed chunk arranged by sensor-month,
// each group's readings in time order (input order among equal times), ready
// for MergeInto, so the merging stage only walks contiguous groups.
//
//   Grouping g;
//   GroupBySensorMonth(out.rows, parser.sensors().size(), g);
//   for (size_t i = 0; i < g.keys.size(); ++i) MergeInto(block, g.Group(i), ...);
//
// Pure; a Grouping is reused across chunks (it keeps its capacity).
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "core/block.h"
#include "core/validate.h"

namespace aquasense::core {

struct Grouping {
  std::vector<uint64_t> keys;      // parser sensor << 32 | month, in order of first appearance
  std::vector<uint32_t> start;     // group i is incoming[start[i], start[i + 1])
  std::vector<Incoming> incoming;  // Incoming::order = the row's index in the chunk

  static uint32_t SensorOf(uint64_t key) { return static_cast<uint32_t>(key >> 32); }
  static int32_t MonthOf(uint64_t key) { return static_cast<int32_t>(static_cast<uint32_t>(key)); }
  std::span<const Incoming> Group(size_t i) const {
    return {incoming.data() + start[i], start[i + 1] - start[i]};
  }

  // Scratch.
  std::unordered_map<uint64_t, uint32_t> ids;
  std::vector<int32_t> last_month;
  std::vector<uint32_t> last_group, row_group, fill;
};

void GroupBySensorMonth(std::span<const ParsedRow> rows, size_t sensor_count, Grouping& g);

}  // namespace aquasense::core
