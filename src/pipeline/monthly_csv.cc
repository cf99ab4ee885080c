#include "pipeline/monthly_csv.h"

#include <algorithm>
#include <cstring>

#include "core/metrics_format.h"

namespace aquasense::pipeline::internal {

namespace {

constexpr const char* kCsvKey = "analysis/monthly.csv";
constexpr const char* kMarkerKey = "analysis/monthly.csv.generation";

// The sensor field of the line starting at `pos`.
std::string_view SensorAt(std::string_view text, size_t pos) {
  const size_t comma = text.find(',', pos);
  return text.substr(pos, (comma == std::string_view::npos ? text.size() : comma) - pos);
}

// The first line start in [from, text.size()] whose sensor is not below
// `sensor` (strictly above it when `after`); `from` is a line start and the
// lines are sorted by sensor. A binary search over byte offsets: f(x), the
// first line start at or after x, is monotonic, and so is the predicate on it.
size_t LowerBound(std::string_view text, size_t from, std::string_view sensor, bool after) {
  auto line_at = [&](size_t x) {
    if (x == from || x >= text.size() || text[x - 1] == '\n') return std::min(x, text.size());
    const size_t nl = text.find('\n', x);
    return nl == std::string_view::npos ? text.size() : nl + 1;
  };
  auto pred = [&](size_t ls) {
    if (ls >= text.size()) return true;
    const std::string_view s = SensorAt(text, ls);
    return after ? s > sensor : s >= sensor;
  };
  size_t lo = from, hi = text.size();
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (pred(line_at(mid))) hi = mid;
    else lo = mid + 1;
  }
  return line_at(lo);
}

Status WriteFull(storage::ObjectStore& objects, storage::Batch& batch) {
  auto w = objects.NewWriter(kCsvKey);
  if (!w.ok()) return w.status();
  std::string buf;
  core::AppendMetricsCsvHeader(buf);
  AQ_RETURN_IF_ERROR(batch.ScanMetrics({}, [&](const core::MonthlyMetrics& m) {
    core::AppendMetricsCsvRow(buf, m);
    if (buf.size() < (1 << 20)) return Status::Ok();
    Status s = (*w)->Append(buf);
    buf.clear();
    return s;
  }));
  AQ_RETURN_IF_ERROR((*w)->Append(buf));
  return (*w)->Commit();
}

Status Splice(storage::ObjectStore& objects, storage::Batch& batch, const std::string& old,
              const std::vector<std::string>& changed) {
  const std::string_view text(old);
  const size_t header_end = text.find('\n') + 1;
  auto w = objects.NewWriter(kCsvKey);
  if (!w.ok()) return w.status();
  size_t pos = 0;
  std::string rendered;
  for (const std::string& sensor : changed) {
    const size_t a = LowerBound(text, std::max(pos, header_end), sensor, false);
    const size_t b = LowerBound(text, a, sensor, true);
    AQ_RETURN_IF_ERROR((*w)->Append(text.substr(pos, a - pos)));
    storage::MetricsQuery q;
    q.sensor = sensor;
    auto rows = batch.ListMetrics(q);
    if (!rows.ok()) return rows.status();
    rendered.clear();
    for (const auto& m : *rows) core::AppendMetricsCsvRow(rendered, m);
    AQ_RETURN_IF_ERROR((*w)->Append(rendered));
    pos = b;
  }
  AQ_RETURN_IF_ERROR((*w)->Append(text.substr(pos)));
  return (*w)->Commit();
}

}  // namespace

Status UpdateMonthlyCsv(storage::ObjectStore& objects, storage::Batch& batch,
                        const std::vector<std::string>& changed_sensors, bool full) {
  auto gen = batch.Generation();
  if (!gen.ok()) return gen.status();
  const std::string before = std::to_string(*gen);
  const std::string after = std::to_string(*gen + 1);  // what Commit() makes it

  std::string old;
  bool current = false;
  if (!full) {
    auto marker = objects.ReadAll(kMarkerKey);
    if (marker.ok() && *marker == before) {
      auto csv = objects.ReadAll(kCsvKey);
      if (csv.ok() && csv->starts_with("sensor,")) {
        old = std::move(*csv);
        current = true;
      }
    }
  }
  if (!current) {
    AQ_RETURN_IF_ERROR(WriteFull(objects, batch));
  } else if (!changed_sensors.empty()) {
    AQ_RETURN_IF_ERROR(Splice(objects, batch, old, changed_sensors));
  }
  // After the file: a crash in between leaves an older marker, hence a full
  // rewrite next time, never a stale file taken for current.
  return objects.WriteAll(kMarkerKey, after);
}

}  // namespace aquasense::pipeline::internal
