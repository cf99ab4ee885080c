#include "pipeline/batch_state.h"

#include <algorithm>

namespace aquasense::pipeline::internal {

void SensorState::SlotFor(int32_t month) {
  if (flags_.empty()) {
    base_ = month;
    flags_.assign(1, 0);
    aggs_.resize(1);
    return;
  }
  if (month < base_) {
    const size_t grow = static_cast<size_t>(base_ - month);
    flags_.insert(flags_.begin(), grow, 0);
    aggs_.insert(aggs_.begin(), grow, core::MonthAgg{});
    base_ = month;
  } else if (Slot(month) >= flags_.size()) {
    flags_.resize(Slot(month) + 1, 0);
    aggs_.resize(Slot(month) + 1);
  }
}

std::vector<int32_t> SensorState::TouchedMonths() const {
  std::vector<int32_t> out;
  for (size_t i = 0; i < flags_.size(); ++i)
    if (flags_[i] & kTouched) out.push_back(base_ + static_cast<int32_t>(i));
  return out;
}

Result<uint32_t> BatchState::SensorId(const std::string& name) {
  auto it = ids_.find(name);
  if (it != ids_.end()) return it->second;
  auto months = batch_.BlockMonths(name);
  if (!months.ok()) return months.status();
  auto s = std::make_unique<SensorState>(name);
  if (!months->empty()) {
    s->MarkBefore(months->front());  // sorted: two calls size the range once
    s->MarkBefore(months->back());
  }
  for (int32_t m : *months) s->MarkBefore(m);
  const auto id = static_cast<uint32_t>(sensors_.size());
  sensors_.push_back(std::move(s));
  ids_.emplace(name, id);
  return id;
}

Result<std::optional<double>> BatchState::MaxTempOf(const SensorState& s, int32_t month) {
  if (s.Touched(month)) return std::optional<double>(s.Agg(month).max_temp);
  if (!s.HadBefore(month)) return std::optional<double>();
  auto m = batch_.GetMetrics(s.name(), month);
  if (!m.ok()) return m.status();
  if (!*m) return std::optional<double>();
  return std::optional<double>((*m)->max_temp);
}

Result<int64_t> BatchState::FinalizeMetrics(std::vector<std::string>& changed_sensors) {
  // Deterministic order (sensor name, month) so every run writes alike.
  std::vector<const SensorState*> order;
  for (const auto& s : sensors_) order.push_back(s.get());
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->name() < b->name(); });

  int64_t changed = 0;
  for (const SensorState* sp : order) {
    const SensorState& s = *sp;
    const int64_t changed_before = changed;
    for (int32_t month : s.TouchedMonths()) {
      const core::MonthAgg& agg = s.Agg(month);
      core::MonthlyMetrics m;
      m.sensor = s.name();
      m.year = core::YearOf(month);
      m.month = core::MonthOf(month);
      m.mean_temp = agg.mean_temp;
      m.max_temp = agg.max_temp;
      m.max_sd = agg.max_sd;
      m.readings = agg.readings;
      auto prev = MaxTempOf(s, month - 1);
      if (!prev.ok()) return prev.status();
      if (*prev) m.max_temp_diff = m.max_temp - **prev;

      std::optional<core::MonthlyMetrics> old;
      if (s.HadBefore(month)) {
        auto o = batch_.GetMetrics(s.name(), month);
        if (!o.ok()) return o.status();
        old = std::move(*o);
      }
      if (!old || !(*old == m)) {
        AQ_RETURN_IF_ERROR(batch_.PutMetrics(m));
        ++changed;
      }

      // The next month's max_temp_diff depends on this month's max_temp.
      const int32_t next = month + 1;
      if (s.Touched(next) || !s.HadBefore(next)) continue;
      auto n = batch_.GetMetrics(s.name(), next);
      if (!n.ok()) return n.status();
      if (!*n) continue;
      core::MonthlyMetrics nm = **n;
      nm.max_temp_diff = nm.max_temp - m.max_temp;
      if (!(nm == **n)) {
        AQ_RETURN_IF_ERROR(batch_.PutMetrics(nm));
        ++changed;
      }
    }
    if (changed > changed_before) changed_sensors.push_back(s.name());
  }
  return changed;
}

}  // namespace aquasense::pipeline::internal
