#include "http/snapshot.h"

#include <algorithm>
#include <limits>

#include "core/metric_values.h"

namespace aquasense::http {

namespace {

// Entries of `rows` (any order; a duplicate (sensor, month) keeps the last
// one), sorted by sensor id.
std::vector<SensorEntry> EntriesOf(std::vector<core::MonthlyMetrics> rows) {
  auto key = [](const core::MonthlyMetrics& m) { return core::MonthIndex(m.year, m.month); };
  auto before = [&](const core::MonthlyMetrics& a, const core::MonthlyMetrics& b) {
    if (a.sensor != b.sensor) return a.sensor < b.sensor;
    return key(a) < key(b);
  };
  // The store returns them sorted: then a linear check instead of a sort.
  if (!std::is_sorted(rows.begin(), rows.end(), before)) {
    std::stable_sort(rows.begin(), rows.end(), before);
  }
  std::vector<SensorEntry> entries;
  std::vector<MonthRecord> months;
  auto close = [&] {
    if (entries.empty()) return;
    months.shrink_to_fit();
    entries.back().months = std::make_shared<const std::vector<MonthRecord>>(std::move(months));
    months = {};
  };
  for (size_t i = 0; i < rows.size(); ++i) {
    const core::MonthlyMetrics& m = rows[i];
    if (i + 1 < rows.size() && rows[i + 1].sensor == m.sensor && key(rows[i + 1]) == key(m)) {
      continue;  // duplicate key: the later row wins
    }
    if (entries.empty() || entries.back().id != m.sensor) {
      close();
      entries.push_back(SensorEntry{m.sensor, nullptr, 0});
    }
    MonthRecord r;
    r.month = key(m);
    core::CopyMetricValues(m, r);
    entries.back().readings += m.readings;
    months.push_back(r);
  }
  close();
  return entries;
}

size_t CountRecords(const std::vector<SensorEntry>& sensors) {
  size_t n = 0;
  for (const SensorEntry& e : sensors) n += e.months->size();
  return n;
}

}  // namespace

Snapshot::Snapshot(std::vector<core::MonthlyMetrics> rows, int64_t generation, int64_t built_ms)
    : sensors_(EntriesOf(std::move(rows))), generation_(generation), built_ms_(built_ms) {
  sensors_.shrink_to_fit();
  record_count_ = CountRecords(sensors_);
}

Snapshot::Snapshot(const Snapshot& base, const std::vector<std::string>& changed,
                   std::vector<core::MonthlyMetrics> rows, int64_t generation, int64_t built_ms)
    : generation_(generation), built_ms_(built_ms) {
  std::vector<std::string> gone;  // changed, sorted; those without rows are dropped
  gone.reserve(changed.size() + 1);
  gone.assign(changed.begin(), changed.end());
  for (const core::MonthlyMetrics& m : rows) {
    if (gone.empty() || gone.back() != m.sensor) gone.push_back(m.sensor);
  }
  std::sort(gone.begin(), gone.end());
  gone.erase(std::unique(gone.begin(), gone.end()), gone.end());
  std::vector<SensorEntry> fresh = EntriesOf(std::move(rows));

  // Merge three sorted lists: base's sensors minus `gone`, plus `fresh`.
  sensors_.reserve(base.sensors_.size() + fresh.size());
  auto g = gone.begin();
  auto f = fresh.begin();
  for (const SensorEntry& e : base.sensors_) {
    for (; f != fresh.end() && f->id < e.id; ++f) sensors_.push_back(std::move(*f));
    while (g != gone.end() && *g < e.id) ++g;
    if (g == gone.end() || *g != e.id) sensors_.push_back(e);
  }
  for (; f != fresh.end(); ++f) sensors_.push_back(std::move(*f));
  record_count_ = CountRecords(sensors_);
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
  auto first = e->months->begin();
  auto last = e->months->end();
  auto it = std::lower_bound(first, last, month,
                             [](const MonthRecord& r, int32_t m) { return r.month < m; });
  if (it == last || it->month != month) return nullptr;
  return &*it;
}

std::span<const MonthRecord> Snapshot::Months(const SensorEntry& sensor, int32_t from,
                                              int32_t to) const {
  auto first = sensor.months->begin();
  auto last = sensor.months->end();
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
  auto fail = [&](const Status& s) { return MarkUnhealthy(s); };
  Result<int64_t> gen = meta_->Generation();
  if (!gen.ok()) return fail(gen.status());
  if (force || !loaded_generation_ || *loaded_generation_ != *gen) {
    // Since the loaded generation, in one read transaction: the delta may
    // already include a batch committed after Generation() was read, and
    // then carries that batch's generation.
    const auto start = std::chrono::steady_clock::now();  // for refresh_us() only
    const int64_t since = force || !loaded_generation_ ? -1 : *loaded_generation_;
    auto delta = meta_->MetricsSince(since);
    if (!delta.ok()) return fail(delta.status());
    std::shared_ptr<const Snapshot> next;
    if (delta->full) {
      next = std::make_shared<const Snapshot>(std::move(delta->rows), delta->generation,
                                              clock_->NowMs());
    } else if (delta->generation != since) {
      next = std::make_shared<const Snapshot>(*current_.load(std::memory_order_acquire),
                                              delta->sensors, std::move(delta->rows),
                                              delta->generation, clock_->NowMs());
    }
    if (next) {
      current_.store(std::move(next), std::memory_order_release);
      version_.fetch_add(1, std::memory_order_acq_rel);
      reloads_.fetch_add(1, std::memory_order_relaxed);
      if (delta->full) full_reloads_.fetch_add(1, std::memory_order_relaxed);
    }
    loaded_generation_ = delta->generation;
    const auto took = std::chrono::steady_clock::now() - start;
    refresh_us_.fetch_add(
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(took).count()),
        std::memory_order_relaxed);
  }
  last_check_ms_.store(clock_->NowMs(), std::memory_order_release);
  healthy_.store(true, std::memory_order_release);
  return Status::Ok();
}

Status SnapshotHolder::MarkUnhealthy(const Status& s) {
  healthy_.store(false, std::memory_order_release);
  std::lock_guard elock(error_mu_);
  last_error_ = s.message();
  return s;
}

void SnapshotHolder::Start(std::chrono::milliseconds interval) {
  Stop();
  poller_ = std::jthread([this, interval](std::stop_token stop) { Poll(stop, interval); });
}

void SnapshotHolder::Stop() {
  if (!poller_.joinable()) return;
  poller_.request_stop();  // wakes the wait in Poll()
  poller_.join();
}

void SnapshotHolder::Poll(std::stop_token stop, std::chrono::milliseconds interval) {
  LogThrottle errors(std::chrono::minutes(1));
  std::unique_lock lock(stop_mu_);
  while (!stop.stop_requested()) {
    lock.unlock();
    PollOnce(errors);
    lock.lock();
    stop_cv_.wait_for(lock, stop, interval, [] { return false; });
  }
}

// One refresh on the poller thread, its boundary: an exception is recorded
// as a failed refresh and logged (throttled), never let out.
void SnapshotHolder::PollOnce(LogThrottle& errors) {
  std::string what;
  try {
    (void)Refresh();  // failures are recorded in healthy()/last_error()
    return;
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "unknown exception";
  }
  (void)MarkUnhealthy(Internal("the store check failed unexpectedly: " + what));
  if (auto line = errors.Next("snapshot poller: refresh failed: " + what,
                              std::chrono::steady_clock::now())) {
    LogLine(*line);
  }
}

}  // namespace aquasense::http
