#include "core/grouping.h"

#include <algorithm>

namespace aquasense::core {

void GroupBySensorMonth(std::span<const ParsedRow> rows, size_t sensor_count, Grouping& g) {
  g.keys.clear();
  g.ids.clear();
  g.row_group.resize(rows.size());
  // Per sensor: the last month seen and its group, so that files
  // interleaving many sensors hash only when a sensor's month changes.
  g.last_month.assign(sensor_count, INT32_MIN);
  g.last_group.resize(sensor_count);
  for (uint32_t i = 0; i < rows.size(); ++i) {
    const uint32_t s = rows[i].sensor;
    if (rows[i].month != g.last_month[s]) {
      const uint64_t key = static_cast<uint64_t>(s) << 32 | static_cast<uint32_t>(rows[i].month);
      auto [it, inserted] = g.ids.try_emplace(key, static_cast<uint32_t>(g.keys.size()));
      if (inserted) g.keys.push_back(key);
      g.last_group[s] = it->second;
      g.last_month[s] = rows[i].month;
    }
    g.row_group[i] = g.last_group[s];
  }
  // Counting sort of the rows into their groups (stable: input order kept).
  g.start.assign(g.keys.size() + 1, 0);
  for (uint32_t grp : g.row_group) g.start[grp + 1]++;
  for (size_t k = 0; k < g.keys.size(); ++k) g.start[k + 1] += g.start[k];
  g.fill.assign(g.start.begin(), g.start.end() - 1);
  g.incoming.resize(rows.size());
  for (uint32_t i = 0; i < rows.size(); ++i) {
    const ParsedRow& r = rows[i];
    g.incoming[g.fill[g.row_group[i]]++] = {{r.when, r.temperature, r.sd}, i};
  }
  const auto by_time = [](const Incoming& a, const Incoming& b) {
    return a.reading.when < b.reading.when;
  };
  for (size_t k = 0; k < g.keys.size(); ++k) {
    auto first = g.incoming.begin() + g.start[k];
    auto last = g.incoming.begin() + g.start[k + 1];
    if (!std::is_sorted(first, last, by_time)) std::stable_sort(first, last, by_time);
  }
}

}  // namespace aquasense::core
