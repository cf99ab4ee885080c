// ServerMetrics: counters and histograms behind GET /metrics (Prometheus text
// exposition format 0.0.4, written by hand).
//
//   ServerMetrics m(/*shards=*/2);
//   m.RecordRequest(shard, Route::kTemp, 200, 0.00012);
//   std::string text = m.Render(holder, clock.NowMs());
//
// Request counters are sharded per I/O thread (each shard on its own cache
// lines) so the hot path is one relaxed atomic add per counter without
// contention; Render() sums the shards. Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "http/handlers.h"
#include "http/snapshot.h"

namespace aquasense::http {

struct IngestCounts {
  int64_t files = 0, rows = 0, valid = 0, invalid = 0, duplicates = 0, alerts = 0;
  int64_t months_updated = 0;
  double seconds = 0;
};

class ServerMetrics {
 public:
  // Latency histogram upper bounds, seconds.
  static constexpr std::array<double, 14> kBuckets = {
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5};
  // Status codes counted individually; anything else is counted as "other".
  static constexpr std::array<int, 12> kCodes = {200, 400, 401, 403, 404, 405,
                                                 408, 413, 431, 500, 503, 0};

  explicit ServerMetrics(int shards);
  ~ServerMetrics();

  void RecordRequest(int shard, Route route, int status, double seconds);

  void ConnectionOpened() { open_connections_.fetch_add(1, std::memory_order_relaxed); }
  void ConnectionClosed() { open_connections_.fetch_sub(1, std::memory_order_relaxed); }
  int64_t open_connections() const { return open_connections_.load(std::memory_order_relaxed); }
  void ConnectionRejected() { rejected_.fetch_add(1, std::memory_order_relaxed); }
  void Timeout() { timeouts_.fetch_add(1, std::memory_order_relaxed); }

  // One ingest batch from `source` ("upload" or "watch").
  void RecordIngest(std::string_view source, bool ok, const IngestCounts& counts);

  std::string Render(const SnapshotHolder& holder, int64_t now_ms) const;

 private:
  static constexpr int kSources = 2;
  struct alignas(64) Shard {
    std::array<std::array<std::atomic<uint64_t>, kCodes.size()>, kRouteCount> count{};
    std::array<std::array<std::atomic<uint64_t>, kBuckets.size() + 1>, kRouteCount> bucket{};
    std::array<std::atomic<uint64_t>, kRouteCount> sum_ns{};
  };
  struct IngestSource {
    std::atomic<uint64_t> ok{0}, failed{0};
    std::atomic<int64_t> files{0}, rows{0}, valid{0}, invalid{0}, duplicates{0}, alerts{0},
        months_updated{0};
    std::atomic<uint64_t> seconds_us{0};
  };

  int shard_count_;
  std::unique_ptr<Shard[]> shards_;
  std::atomic<int64_t> open_connections_{0};
  std::atomic<uint64_t> rejected_{0};
  std::atomic<uint64_t> timeouts_{0};
  std::array<IngestSource, kSources> ingest_;
};

}  // namespace aquasense::http
