// BatchState: what one ingest batch knows while it runs: the sensors it has
// met (with the months that have a stored block), and the sensor-months it
// changed, whose metrics are written once at the end (FinalizeMetrics), with
// max_temp_diff recomputed for them and for the month after each.
// Internal to the pipeline; not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/status.h"
#include "core/block.h"
#include "storage/meta_store.h"

namespace aquasense::pipeline::internal {

struct SensorState {
  std::string name;
  std::unordered_set<int32_t> before;  // months with a block before this batch
  std::unordered_set<int32_t> added;   // months that got their first block in this batch
  bool Has(int32_t month) const { return before.count(month) > 0 || added.count(month) > 0; }
};

class BatchState {
 public:
  explicit BatchState(storage::Batch& batch) : batch_(batch) {}

  storage::Batch& batch() { return batch_; }
  // The id of sensor `name`, loading its stored months on first sight.
  Result<uint32_t> SensorId(const std::string& name);
  SensorState& sensor(uint32_t id) { return *sensors_[id]; }

  // Records the new aggregate of a changed sensor-month.
  void Touch(uint32_t sensor, int32_t month, const core::MonthAgg& agg);

  // Writes the metrics of every touched month and fixes max_temp_diff of the
  // month after each. Returns the number of sensor-months whose metrics changed.
  Result<int64_t> FinalizeMetrics();

 private:
  static uint64_t Key(uint32_t sensor, int32_t month) {
    return static_cast<uint64_t>(sensor) << 32 | static_cast<uint32_t>(month);
  }
  Result<std::optional<double>> MaxTempOf(uint32_t sensor, int32_t month);

  storage::Batch& batch_;
  std::vector<std::unique_ptr<SensorState>> sensors_;
  std::unordered_map<std::string, uint32_t> ids_;
  std::unordered_map<uint64_t, core::MonthAgg> touched_;
};

}  // namespace aquasense::pipeline::internal
