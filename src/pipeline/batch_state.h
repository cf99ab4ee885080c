// BatchState: what one ingest batch knows while it runs: the sensors it has
// met (with the months that have a stored block), and the sensor-months it
// changed, whose metrics are written once at the end (FinalizeMetrics), with
// max_temp_diff recomputed for them and for the month after each.
// Memory is a few bytes per month in each sensor's range of months (no hash
// node per sensor-month). Internal to the pipeline; not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "core/block.h"
#include "storage/meta_store.h"

namespace aquasense::pipeline::internal {

class SensorState {
 public:
  explicit SensorState(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }

  // A block for `month` existed before this batch / exists now.
  bool HadBefore(int32_t month) const { return Flags(month) & kBefore; }
  bool Has(int32_t month) const { return Flags(month) & (kBefore | kTouched); }
  bool Touched(int32_t month) const { return Flags(month) & kTouched; }
  const core::MonthAgg& Agg(int32_t month) const { return aggs_[Slot(month)]; }

  void MarkBefore(int32_t month) { SlotFor(month); flags_[Slot(month)] |= kBefore; }
  void Touch(int32_t month, const core::MonthAgg& agg) {
    SlotFor(month);
    flags_[Slot(month)] |= kTouched;
    aggs_[Slot(month)] = agg;
  }
  // Touched months, ascending.
  std::vector<int32_t> TouchedMonths() const;

 private:
  static constexpr uint8_t kBefore = 1, kTouched = 2;
  uint8_t Flags(int32_t month) const {
    return month >= base_ && month < base_ + static_cast<int32_t>(flags_.size()) ? flags_[Slot(month)] : 0;
  }
  size_t Slot(int32_t month) const { return static_cast<size_t>(month - base_); }
  void SlotFor(int32_t month);  // grows the range to hold `month`

  std::string name_;
  int32_t base_ = 0;                 // month index of flags_[0]
  std::vector<uint8_t> flags_;
  std::vector<core::MonthAgg> aggs_;  // valid where kTouched
};

class BatchState {
 public:
  explicit BatchState(storage::Batch& batch) : batch_(batch) {}

  storage::Batch& batch() { return batch_; }
  // The id of sensor `name`, loading its stored months on first sight.
  Result<uint32_t> SensorId(const std::string& name);
  SensorState& sensor(uint32_t id) { return *sensors_[id]; }

  // Writes the metrics of every touched month and fixes max_temp_diff of the
  // month after each. Returns the number of sensor-months whose metrics
  // changed; `changed_sensors` gets the sensors concerned, sorted.
  Result<int64_t> FinalizeMetrics(std::vector<std::string>& changed_sensors);

 private:
  Result<std::optional<double>> MaxTempOf(const SensorState& s, int32_t month);

  storage::Batch& batch_;
  std::vector<std::unique_ptr<SensorState>> sensors_;
  std::unordered_map<std::string, uint32_t> ids_;
};

}  // namespace aquasense::pipeline::internal
