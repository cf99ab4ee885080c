// Snapshot: an immutable in-memory copy of the monthly metrics table, and the
// SnapshotHolder that swaps a new one in atomically when the store changes.
//
//   SnapshotHolder holder(meta, clock);
//   holder.Start(std::chrono::milliseconds(100));   // polls MetaStore::Generation()
//   std::shared_ptr<const Snapshot> s = holder.Get();
//   if (const MonthRecord* r = s->Find("default", core::MonthIndex(2024, 1))) ...
//
// Reads never touch SQLite: a request loads the current snapshot pointer and
// works on it; a refresh reads MetaStore::MetricsSince(loaded generation)
// (one read transaction, so a batch is either wholly in it or not at all)
// and publishes a new snapshot with one atomic store. It shares the months of
// the unchanged sensors with the old one and replaces those of the changed
// sensors, so a batch that touched a few sensors costs a few sensors; when
// the store cannot say what changed, everything is reloaded. Changes made by
// another process are noticed through Generation(). Thread-safety: Snapshot
// is immutable (also the month vectors it shares); SnapshotHolder
// is thread-safe (refreshes are serialised by a mutex, Get() is lock-free for
// readers apart from the shared_ptr's own lock).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "core/reading.h"
#include "http/log.h"
#include "storage/meta_store.h"

namespace aquasense::http {

// One sensor-month, compact (the sensor is implied by its SensorEntry).
struct MonthRecord {
  int32_t month = 0;  // core::MonthIndex
  bool has_diff = false;
  double mean_temp = 0;
  double max_temp = 0;
  double max_sd = 0;
  double max_temp_diff = 0;  // meaningful when has_diff
  int64_t readings = 0;
};

struct SensorEntry {
  std::string id;
  // Ascending by month, never empty; shared by the snapshots in which this
  // sensor did not change.
  std::shared_ptr<const std::vector<MonthRecord>> months;
  int64_t readings = 0;
};

class Snapshot {
 public:
  // `rows` in any order; a (sensor, month) given twice keeps the last one.
  Snapshot(std::vector<core::MonthlyMetrics> rows, int64_t generation, int64_t built_ms);
  // `base` with the months of every sensor in `changed` (and of every sensor
  // in `rows`) replaced by those in `rows`: a changed sensor without rows is
  // dropped. The other sensors' months are shared with `base`, not copied.
  Snapshot(const Snapshot& base, const std::vector<std::string>& changed,
           std::vector<core::MonthlyMetrics> rows, int64_t generation, int64_t built_ms);

  const MonthRecord* Find(std::string_view sensor, int32_t month) const;
  const SensorEntry* FindSensor(std::string_view sensor) const;
  // Records of `sensor` with from <= month <= to, ascending.
  std::span<const MonthRecord> Months(const SensorEntry& sensor, int32_t from, int32_t to) const;

  const std::vector<SensorEntry>& sensors() const { return sensors_; }
  size_t record_count() const { return record_count_; }
  int64_t generation() const { return generation_; }
  int64_t built_ms() const { return built_ms_; }

 private:
  std::vector<SensorEntry> sensors_;  // sorted by id (byte order)
  size_t record_count_ = 0;
  int64_t generation_;
  int64_t built_ms_;
};

// How often `serve` checks the store for a new generation unless
// --refresh-interval says otherwise.
inline constexpr std::chrono::milliseconds kDefaultRefreshInterval{100};

class SnapshotHolder {
 public:
  SnapshotHolder(storage::MetaStore* meta, const Clock* clock);
  ~SnapshotHolder();  // stops the poller
  SnapshotHolder(const SnapshotHolder&) = delete;
  SnapshotHolder& operator=(const SnapshotHolder&) = delete;

  // The current snapshot (never null: empty before the first load).
  std::shared_ptr<const Snapshot> Get() const { return current_.load(std::memory_order_acquire); }
  // Increases every time a new snapshot is published; lets a thread keep a
  // cached copy of Get() and reload it only when this moves.
  uint64_t version() const { return version_.load(std::memory_order_acquire); }

  // Checks the store's generation and, when it moved, applies what changed
  // since the loaded one (or reloads everything: the first time, with
  // `force`, or when the store cannot say what changed).
  // On error the old snapshot stays and healthy() turns false.
  Status Refresh(bool force = false);

  // Starts / stops a background thread calling Refresh() every `interval`.
  // A refresh that throws counts as a failed one (healthy() false, the
  // message in last_error(), a log line at most once a minute); the thread
  // keeps polling.
  void Start(std::chrono::milliseconds interval);
  void Stop();

  bool healthy() const { return healthy_.load(std::memory_order_acquire); }
  std::string last_error() const;
  // When the snapshot was last confirmed current (ms since epoch), 0 if never.
  int64_t last_check_ms() const { return last_check_ms_.load(std::memory_order_acquire); }
  // Snapshots published, and how many of them were full reloads.
  uint64_t reloads() const { return reloads_.load(std::memory_order_relaxed); }
  uint64_t full_reloads() const { return full_reloads_.load(std::memory_order_relaxed); }
  // Time spent in Refresh() calls that found the generation moved (reading
  // the delta, building and publishing), in microseconds.
  uint64_t refresh_us() const { return refresh_us_.load(std::memory_order_relaxed); }

 private:
  void Poll(std::stop_token stop, std::chrono::milliseconds interval);
  void PollOnce(LogThrottle& errors);
  Status MarkUnhealthy(const Status& s);

  storage::MetaStore* meta_;
  const Clock* clock_;
  std::atomic<std::shared_ptr<const Snapshot>> current_;
  std::atomic<uint64_t> version_{0};
  std::atomic<bool> healthy_{false};
  std::atomic<int64_t> last_check_ms_{0};
  std::atomic<uint64_t> reloads_{0};
  std::atomic<uint64_t> full_reloads_{0};
  std::atomic<uint64_t> refresh_us_{0};

  std::mutex refresh_mu_;                     // serialises Refresh()
  std::optional<int64_t> loaded_generation_;  // guarded by refresh_mu_
  mutable std::mutex error_mu_;
  std::string last_error_;

  std::mutex stop_mu_;
  std::condition_variable_any stop_cv_;  // woken by the poller's stop_token
  std::jthread poller_;                  // last: joined before the members it uses go
};

}  // namespace aquasense::http
