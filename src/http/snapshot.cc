#include "http/snapshot.h"

#include <algorithm>
#include <limits>

namespace aquasense::http {

Snapshot::Snapshot(std::vector<core::MonthlyMetrics> rows, int64_t generation, int64_t built_ms)
    : generation_(generation), built_ms_(built_ms) {
  auto key = [](const core::MonthlyMetrics& m) { return core::MonthIndex(m.year, m.month); };
  std::stable_sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) {
    if (a.sensor != b.sensor) return a.sensor < b.sensor;
    return key(a) < key(b);
  });
  records_.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const core::MonthlyMetrics& m = rows[i];
    if (i + 1 < rows.size() && rows[i + 1].sensor == m.sensor && key(rows[i + 1]) == key(m)) {
      continue;  // duplicate key: the later row wins
    }
    if (sensors_.empty() || sensors_.back().id != m.sensor) {
      if (!sensors_.empty()) sensors_.back().end = static_cast<uint32_t>(records_.size());
      SensorEntry e;
      e.id = m.sensor;
      e.begin = static_cast<uint32_t>(records_.size());
      sensors_.push_back(std::move(e));
    }
    MonthRecord r;
    r.month = key(m);
    r.mean_temp = m.mean_temp;
    r.max_temp = m.max_temp;
    r.max_sd = m.max_sd;
    r.has_diff = m.max_temp_diff.has_value();
    r.max_temp_diff = m.max_temp_diff.value_or(0);
    r.readings = m.readings;
    sensors_.back().readings += m.readings;
    records_.push_back(r);
  }
  if (!sensors_.empty()) sensors_.back().end = static_cast<uint32_t>(records_.size());
  records_.shrink_to_fit();
  sensors_.shrink_to_fit();
}

const SensorEntry* Snapshot::FindSensor(std::string_view sensor) const {
  auto it = std::lower_bound(sensors_.begin(), sensors_.end(), sensor,
                             [](const SensorEntry& e, std::string_view s) { return e.id < s; });
  if (it == sensors_.end() || it->id != sensor) return nullptr;
  return &*it;
}

const MonthRecord* Snapshot::Find(std::string_view sensor, int32_t month) const {
  const SensorEntry* e = FindSensor(sensor);
  if (e == nullptr) return nullptr;
  auto first = records_.begin() + e->begin;
  auto last = records_.begin() + e->end;
  auto it = std::lower_bound(first, last, month,
                             [](const MonthRecord& r, int32_t m) { return r.month < m; });
  if (it == last || it->month != month) return nullptr;
  return &*it;
}

std::span<const MonthRecord> Snapshot::Months(const SensorEntry& sensor, int32_t from,
                                              int32_t to) const {
  auto first = records_.begin() + sensor.begin;
  auto last = records_.begin() + sensor.end;
  auto lo = std::lower_bound(first, last, from,
                             [](const MonthRecord& r, int32_t m) { return r.month < m; });
  auto hi =
      std::upper_bound(lo, last, to, [](int32_t m, const MonthRecord& r) { return m < r.month; });
  return {lo, hi};
}

SnapshotHolder::SnapshotHolder(storage::MetaStore* meta, const Clock* clock)
    : meta_(meta), clock_(clock) {
  current_.store(std::make_shared<const Snapshot>(std::vector<core::MonthlyMetrics>{}, -1, 0));
}

SnapshotHolder::~SnapshotHolder() { Stop(); }

std::string SnapshotHolder::last_error() const {
  std::lock_guard lock(error_mu_);
  return last_error_;
}

Status SnapshotHolder::Refresh(bool force) {
  std::lock_guard lock(refresh_mu_);
  auto fail = [&](const Status& s) {
    healthy_.store(false, std::memory_order_release);
    std::lock_guard elock(error_mu_);
    last_error_ = s.message();
    return s;
  };
  Result<int64_t> gen = meta_->Generation();
  if (!gen.ok()) return fail(gen.status());
  if (force || !loaded_generation_ || *loaded_generation_ != *gen) {
    auto rows = meta_->ListMetrics(storage::MetricsQuery{});
    if (!rows.ok()) return fail(rows.status());
    // The rows may already include a batch committed after Generation() was
    // read; then the next poll sees a newer generation and reloads again.
    auto next = std::make_shared<const Snapshot>(std::move(*rows), *gen, clock_->NowMs());
    current_.store(std::move(next), std::memory_order_release);
    version_.fetch_add(1, std::memory_order_acq_rel);
    reloads_.fetch_add(1, std::memory_order_relaxed);
    loaded_generation_ = *gen;
  }
  last_check_ms_.store(clock_->NowMs(), std::memory_order_release);
  healthy_.store(true, std::memory_order_release);
  return Status::Ok();
}

void SnapshotHolder::Start(std::chrono::milliseconds interval) {
  Stop();
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = false;
  }
  poller_ = std::thread([this, interval] { Poll(interval); });
}

void SnapshotHolder::Stop() {
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (poller_.joinable()) poller_.join();
}

void SnapshotHolder::Poll(std::chrono::milliseconds interval) {
  std::unique_lock lock(stop_mu_);
  while (!stopping_) {
    lock.unlock();
    (void)Refresh();  // failures are recorded in healthy()/last_error()
    lock.lock();
    stop_cv_.wait_for(lock, interval, [this] { return stopping_; });
  }
}

}  // namespace aquasense::http
