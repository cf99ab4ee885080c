#include "http/metrics.h"

#include <cstdio>

#include "common/aws/request_stats.h"
#include "http/json_text.h"

namespace aquasense::http {
namespace {

constexpr std::array<std::string_view, 2> kSourceNames = {"upload", "watch"};

// One sample line: `name{labels} value`, the labels left out when empty.
void Sample(std::string& out, std::string_view name, std::string_view labels,
            std::string_view value) {
  out.append(name);
  if (!labels.empty()) out.append("{").append(labels).append("}");
  out.append(" ").append(value).append("\n");
}

void Line(std::string& out, std::string_view name, std::string_view labels, double v) {
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%.17g", v);
  Sample(out, name, labels, std::string_view(buf, static_cast<size_t>(n)));
}

void LineInt(std::string& out, std::string_view name, std::string_view labels, uint64_t v) {
  Sample(out, name, labels, std::to_string(v));
}

void Header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

std::string BucketLabel(double le) {
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%g", le);
  return std::string(buf, static_cast<size_t>(n));
}

// The process's AWS requests per service (common/aws/request_stats.h; none
// on a local --data): what bench/aws prices.
void AppendAwsCounters(std::string& out) {
  const auto counts = aws::RequestCounts();
  if (counts.empty()) return;
  Header(out, "aquasense_aws_requests_total", "counter", "AWS requests sent, retries included.");
  for (const auto& [service, n] : counts)
    LineInt(out, "aquasense_aws_requests_total", "service=\"" + service + "\"",
            static_cast<uint64_t>(n.requests));
  Header(out, "aquasense_aws_bytes_total", "counter", "AWS request and response body bytes.");
  for (const auto& [service, n] : counts) {
    LineInt(out, "aquasense_aws_bytes_total", "service=\"" + service + "\",direction=\"sent\"",
            static_cast<uint64_t>(n.bytes_sent));
    LineInt(out, "aquasense_aws_bytes_total", "service=\"" + service + "\",direction=\"received\"",
            static_cast<uint64_t>(n.bytes_received));
  }
}

}  // namespace

ServerMetrics::ServerMetrics(int shards)
    : shard_count_(shards < 1 ? 1 : shards),
      shards_(new Shard[static_cast<size_t>(shard_count_)]) {}

ServerMetrics::~ServerMetrics() = default;

void ServerMetrics::RecordRequest(int shard, Route route, int status, double seconds) {
  Shard& s = shards_[static_cast<size_t>(shard % shard_count_)];
  auto r = static_cast<size_t>(route);
  size_t code = kCodes.size() - 1;
  for (size_t i = 0; i + 1 < kCodes.size(); ++i) {
    if (kCodes[i] == status) {
      code = i;
      break;
    }
  }
  s.count[r][code].fetch_add(1, std::memory_order_relaxed);
  size_t b = 0;
  while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
  s.bucket[r][b].fetch_add(1, std::memory_order_relaxed);
  s.sum_ns[r].fetch_add(static_cast<uint64_t>(seconds * 1e9), std::memory_order_relaxed);
}

void ServerMetrics::RecordIngest(std::string_view source, bool ok, const IngestCounts& c) {
  IngestSource& s = ingest_[source == "watch" ? 1 : 0];
  (ok ? s.ok : s.failed).fetch_add(1, std::memory_order_relaxed);
  if (!ok) return;
  s.files.fetch_add(c.files, std::memory_order_relaxed);
  s.rows.fetch_add(c.rows, std::memory_order_relaxed);
  s.valid.fetch_add(c.valid, std::memory_order_relaxed);
  s.invalid.fetch_add(c.invalid, std::memory_order_relaxed);
  s.duplicates.fetch_add(c.duplicates, std::memory_order_relaxed);
  s.alerts.fetch_add(c.alerts, std::memory_order_relaxed);
  s.months_updated.fetch_add(c.months_updated, std::memory_order_relaxed);
  s.seconds_us.fetch_add(static_cast<uint64_t>(c.seconds * 1e6), std::memory_order_relaxed);
}

// Long on purpose: one Prometheus exposition: a flat list of metric families
// NOLINTNEXTLINE(readability-function-size)
std::string ServerMetrics::Render(const SnapshotHolder& holder, int64_t now_ms) const {
  std::string out;
  out.reserve(16384);

  Header(out, "aquasense_http_requests_total", "counter",
         "HTTP requests by route and status code.");
  for (int r = 0; r < kRouteCount; ++r) {
    for (size_t c = 0; c < kCodes.size(); ++c) {
      uint64_t v = 0;
      for (int i = 0; i < shard_count_; ++i)
        v += shards_[i].count[r][c].load(std::memory_order_relaxed);
      if (v == 0) continue;
      std::string labels = "route=\"" + std::string(RouteName(static_cast<Route>(r))) +
                           "\",code=\"" + (kCodes[c] == 0 ? "other" : std::to_string(kCodes[c])) +
                           "\"";
      LineInt(out, "aquasense_http_requests_total", labels, v);
    }
  }

  Header(out, "aquasense_http_request_duration_seconds", "histogram",
         "Time from the complete request header to the response written, by route.");
  for (int r = 0; r < kRouteCount; ++r) {
    std::array<uint64_t, kBuckets.size() + 1> b{};
    uint64_t sum_ns = 0;
    for (int i = 0; i < shard_count_; ++i) {
      for (size_t k = 0; k < b.size(); ++k)
        b[k] += shards_[i].bucket[r][k].load(std::memory_order_relaxed);
      sum_ns += shards_[i].sum_ns[r].load(std::memory_order_relaxed);
    }
    uint64_t total = 0;
    for (uint64_t x : b) total += x;
    if (total == 0) continue;
    std::string route = "route=\"" + std::string(RouteName(static_cast<Route>(r))) + "\"";
    uint64_t cum = 0;
    for (size_t k = 0; k < kBuckets.size(); ++k) {
      cum += b[k];
      LineInt(out, "aquasense_http_request_duration_seconds_bucket",
              route + ",le=\"" + BucketLabel(kBuckets[k]) + "\"", cum);
    }
    LineInt(out, "aquasense_http_request_duration_seconds_bucket", route + ",le=\"+Inf\"", total);
    Line(out, "aquasense_http_request_duration_seconds_sum", route,
         static_cast<double>(sum_ns) / 1e9);
    LineInt(out, "aquasense_http_request_duration_seconds_count", route, total);
  }

  Header(out, "aquasense_http_connections_open", "gauge", "Open client connections.");
  LineInt(out, "aquasense_http_connections_open", "",
          static_cast<uint64_t>(std::max<int64_t>(0, open_connections_.load())));
  Header(out, "aquasense_http_connections_rejected_total", "counter",
         "Connections refused because --max-connections were open.");
  LineInt(out, "aquasense_http_connections_rejected_total", "", rejected_.load());
  Header(out, "aquasense_http_timeouts_total", "counter",
         "Connections closed by a header, idle, body or write timeout.");
  LineInt(out, "aquasense_http_timeouts_total", "", timeouts_.load());

  Header(out, "aquasense_ingest_batches_total", "counter", "Ingest batches run by the server.");
  for (size_t i = 0; i < ingest_.size(); ++i) {
    std::string src = "source=\"" + std::string(kSourceNames[i]) + "\"";
    LineInt(out, "aquasense_ingest_batches_total", src + ",result=\"ok\"", ingest_[i].ok.load());
    LineInt(out, "aquasense_ingest_batches_total", src + ",result=\"error\"",
            ingest_[i].failed.load());
  }
  struct Counter {
    const char* name;
    const char* help;
    std::atomic<int64_t> IngestSource::*field;
  };
  const Counter counters[] = {
      {"aquasense_ingest_files_total", "Files newly ingested.", &IngestSource::files},
      {"aquasense_ingest_rows_total", "Data rows read.", &IngestSource::rows},
      {"aquasense_ingest_valid_total", "Valid new readings.", &IngestSource::valid},
      {"aquasense_ingest_invalid_total", "Invalid rows.", &IngestSource::invalid},
      {"aquasense_ingest_duplicates_total", "Exact duplicates dropped.", &IngestSource::duplicates},
      {"aquasense_ingest_alerts_total", "New readings above the sd limit.", &IngestSource::alerts},
      {"aquasense_ingest_months_updated_total", "Sensor-months whose metrics changed.",
       &IngestSource::months_updated},
  };
  for (const Counter& c : counters) {
    Header(out, c.name, "counter", c.help);
    for (size_t i = 0; i < ingest_.size(); ++i) {
      LineInt(out, c.name, "source=\"" + std::string(kSourceNames[i]) + "\"",
              static_cast<uint64_t>((ingest_[i].*c.field).load()));
    }
  }
  Header(out, "aquasense_ingest_seconds_total", "counter", "Time spent in ingest batches.");
  for (size_t i = 0; i < ingest_.size(); ++i) {
    Line(out, "aquasense_ingest_seconds_total", "source=\"" + std::string(kSourceNames[i]) + "\"",
         static_cast<double>(ingest_[i].seconds_us.load()) / 1e6);
  }

  auto snap = holder.Get();
  Header(out, "aquasense_snapshot_age_seconds", "gauge",
         "Seconds since the in-memory snapshot was last confirmed current against the store.");
  int64_t checked = holder.last_check_ms();
  Line(out, "aquasense_snapshot_age_seconds", "",
       checked > 0 ? static_cast<double>(std::max<int64_t>(0, now_ms - checked)) / 1000 : -1.0);
  Header(out, "aquasense_snapshot_built_seconds", "gauge",
         "Unix time when the current snapshot was built.");
  Line(out, "aquasense_snapshot_built_seconds", "", static_cast<double>(snap->built_ms()) / 1000);
  Header(out, "aquasense_snapshot_generation", "gauge",
         "Store generation the snapshot was built from.");
  Line(out, "aquasense_snapshot_generation", "", static_cast<double>(snap->generation()));
  Header(out, "aquasense_snapshot_records", "gauge", "Sensor-months in the snapshot.");
  LineInt(out, "aquasense_snapshot_records", "", snap->record_count());
  Header(out, "aquasense_snapshot_sensors", "gauge", "Sensors in the snapshot.");
  LineInt(out, "aquasense_snapshot_sensors", "", snap->sensors().size());
  Header(out, "aquasense_snapshot_reloads_total", "counter", "Snapshots built.");
  LineInt(out, "aquasense_snapshot_reloads_total", "", holder.reloads());
  Header(out, "aquasense_snapshot_full_reloads_total", "counter",
         "Snapshots built from the whole metrics table (the others applied a delta).");
  LineInt(out, "aquasense_snapshot_full_reloads_total", "", holder.full_reloads());
  Header(out, "aquasense_snapshot_refresh_seconds_total", "counter",
         "Time spent bringing the snapshot up to date after the store changed.");
  Line(out, "aquasense_snapshot_refresh_seconds_total", "",
       static_cast<double>(holder.refresh_us()) / 1e6);
  Header(out, "aquasense_store_up", "gauge", "1 when the store could be read at the last check.");
  LineInt(out, "aquasense_store_up", "", holder.healthy() ? 1 : 0);
  AppendAwsCounters(out);
  return out;
}

}  // namespace aquasense::http
