#include "pipeline/batch_state.h"

#include <algorithm>

namespace aquasense::pipeline::internal {

Result<uint32_t> BatchState::SensorId(const std::string& name) {
  auto it = ids_.find(name);
  if (it != ids_.end()) return it->second;
  auto months = batch_.BlockMonths(name);
  if (!months.ok()) return months.status();
  auto s = std::make_unique<SensorState>();
  s->name = name;
  s->before.insert(months->begin(), months->end());
  const auto id = static_cast<uint32_t>(sensors_.size());
  sensors_.push_back(std::move(s));
  ids_.emplace(name, id);
  return id;
}

void BatchState::Touch(uint32_t sensor, int32_t month, const core::MonthAgg& agg) {
  touched_[Key(sensor, month)] = agg;
  SensorState& s = *sensors_[sensor];
  if (s.before.count(month) == 0) s.added.insert(month);
}

Result<std::optional<double>> BatchState::MaxTempOf(uint32_t sensor, int32_t month) {
  auto t = touched_.find(Key(sensor, month));
  if (t != touched_.end()) return std::optional<double>(t->second.max_temp);
  const SensorState& s = *sensors_[sensor];
  if (s.before.count(month) == 0) return std::optional<double>();
  auto m = batch_.GetMetrics(s.name, month);
  if (!m.ok()) return m.status();
  if (!*m) return std::optional<double>();
  return std::optional<double>((*m)->max_temp);
}

Result<int64_t> BatchState::FinalizeMetrics() {
  // Deterministic order (sensor name, month) so every run writes alike.
  std::vector<std::pair<uint64_t, const core::MonthAgg*>> keys;
  keys.reserve(touched_.size());
  for (const auto& [k, agg] : touched_) keys.emplace_back(k, &agg);
  std::sort(keys.begin(), keys.end(), [&](const auto& a, const auto& b) {
    const auto& na = sensors_[a.first >> 32]->name;
    const auto& nb = sensors_[b.first >> 32]->name;
    return na != nb ? na < nb : static_cast<int32_t>(a.first) < static_cast<int32_t>(b.first);
  });

  int64_t changed = 0;
  for (const auto& [key, agg] : keys) {
    const auto sid = static_cast<uint32_t>(key >> 32);
    const auto month = static_cast<int32_t>(static_cast<uint32_t>(key));
    const SensorState& s = *sensors_[sid];
    core::MonthlyMetrics m;
    m.sensor = s.name;
    m.year = core::YearOf(month);
    m.month = core::MonthOf(month);
    m.mean_temp = agg->mean_temp;
    m.max_temp = agg->max_temp;
    m.max_sd = agg->max_sd;
    m.readings = agg->readings;
    auto prev = MaxTempOf(sid, month - 1);
    if (!prev.ok()) return prev.status();
    if (*prev) m.max_temp_diff = m.max_temp - **prev;

    std::optional<core::MonthlyMetrics> old;
    if (s.before.count(month) > 0) {
      auto o = batch_.GetMetrics(s.name, month);
      if (!o.ok()) return o.status();
      old = std::move(*o);
    }
    if (!old || !(*old == m)) {
      AQ_RETURN_IF_ERROR(batch_.PutMetrics(m));
      ++changed;
    }

    // The next month's max_temp_diff depends on this month's max_temp.
    const int32_t next = month + 1;
    if (touched_.count(Key(sid, next)) > 0 || s.before.count(next) == 0) continue;
    auto n = batch_.GetMetrics(s.name, next);
    if (!n.ok()) return n.status();
    if (!*n) continue;
    core::MonthlyMetrics nm = **n;
    nm.max_temp_diff = nm.max_temp - m.max_temp;
    if (!(nm == **n)) {
      AQ_RETURN_IF_ERROR(batch_.PutMetrics(nm));
      ++changed;
    }
  }
  return changed;
}

}  // namespace aquasense::pipeline::internal
