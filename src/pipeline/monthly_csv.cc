#include "pipeline/monthly_csv.h"

#include <algorithm>
#include <charconv>
#include <memory>
#include <set>

#include "core/metrics_format.h"

namespace aquasense::pipeline::internal {

namespace {

constexpr std::string_view kPrefix = "analysis/monthly/";
constexpr std::string_view kSuffix = ".csv";
constexpr const char* kIntentKey = "analysis/monthly.intent";
constexpr const char* kAllSensors = "*";  // an intent line: every file (rebuild)
constexpr size_t kGroup = 256;            // files committed together (bounds open files)

// "<generation>\n<sensor>\n..." -> (generation, sensors); false when malformed.
bool ParseIntent(std::string_view text, int64_t& generation, std::vector<std::string>& sensors) {
  size_t nl = text.find('\n');
  if (nl == std::string_view::npos) return false;
  const std::string_view first = text.substr(0, nl);
  auto [end, ec] = std::from_chars(first.data(), first.data() + first.size(), generation);
  if (ec != std::errc() || end != first.data() + first.size()) return false;
  for (size_t start = nl + 1; start < text.size(); start = nl + 1) {
    nl = text.find('\n', start);
    if (nl == std::string_view::npos) return false;  // every line ends with \n
    sensors.emplace_back(text.substr(start, nl - start));
  }
  return true;
}

// The sensors whose files a batch that never committed may have rewritten.
Result<std::vector<std::string>> LeftBehind(storage::ObjectStore& objects, int64_t generation,
                                            bool& all) {
  std::vector<std::string> sensors;
  auto text = objects.ReadAll(kIntentKey);
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound) return sensors;
    return text.status();
  }
  int64_t intent_generation = 0;
  if (!ParseIntent(*text, intent_generation, sensors)) {
    all = true;  // unreadable: trust nothing
    return std::vector<std::string>{};
  }
  if (intent_generation <= generation) return std::vector<std::string>{};  // it committed
  if (std::find(sensors.begin(), sensors.end(), kAllSensors) != sensors.end()) all = true;
  return sensors;
}

}  // namespace

Status CommitPending(storage::ObjectStore& objects,
                     std::vector<std::unique_ptr<storage::ObjectWriter>>& pending) {
  std::vector<storage::ObjectWriter*> group;
  for (auto& w : pending) group.push_back(w.get());
  AQ_RETURN_IF_ERROR(objects.CommitAll(group));
  pending.clear();
  return Status::Ok();
}

std::string MonthlyKey(std::string_view sensor) {
  return std::string(kPrefix) + std::string(sensor) + std::string(kSuffix);
}

Status UpdateMonthlyFiles(storage::ObjectStore& objects, storage::Batch& batch,
                          const std::vector<std::string>& changed_sensors, bool full,
                          std::vector<std::unique_ptr<storage::ObjectWriter>>& pending) {
  auto generation = batch.Generation();
  if (!generation.ok()) return generation.status();
  auto left = LeftBehind(objects, *generation, full);
  if (!left.ok()) return left.status();

  std::set<std::string> sensors(changed_sensors.begin(), changed_sensors.end());
  sensors.insert(left->begin(), left->end());
  sensors.erase(kAllSensors);
  if (full) {
    // Every sensor with metrics, and every file there is (to remove strays).
    AQ_RETURN_IF_ERROR(batch.ScanMetrics({}, [&](const core::MonthlyMetrics& m) {
      sensors.insert(m.sensor);
      return Status::Ok();
    }));
    auto files = objects.List(std::string(kPrefix));
    if (!files.ok()) return files.status();
    for (const auto& f : *files) {
      if (!f.key.ends_with(kSuffix)) continue;
      sensors.insert(f.key.substr(kPrefix.size(), f.key.size() - kPrefix.size() - kSuffix.size()));
    }
  }
  if (sensors.empty()) return CommitPending(objects, pending);

  // The intent record first: the batch's generation and what it rewrites.
  std::string intent = std::to_string(*generation + 1) + "\n";
  if (full) intent += std::string(kAllSensors) + "\n";
  else for (const std::string& s : sensors) intent += s + "\n";
  auto intent_writer = objects.NewWriter(kIntentKey);
  if (!intent_writer.ok()) return intent_writer.status();
  AQ_RETURN_IF_ERROR((*intent_writer)->Append(intent));

  std::vector<std::unique_ptr<storage::ObjectWriter>> writers;
  std::vector<storage::ObjectWriter*> group = {intent_writer->get()};
  bool intent_done = false;
  auto flush = [&]() -> Status {
    AQ_RETURN_IF_ERROR(objects.CommitAll(group, /*first_is_intent=*/!intent_done));
    intent_done = true;
    group.clear();
    writers.clear();
    return Status::Ok();
  };
  std::vector<std::string> removed;  // after the intent record is durable
  std::string text;
  for (const std::string& sensor : sensors) {
    storage::MetricsQuery q;
    q.sensor = sensor;
    auto rows = batch.ListMetrics(q);
    if (!rows.ok()) return rows.status();
    if (rows->empty()) {  // no metrics (left) for this sensor: no file
      removed.push_back(MonthlyKey(sensor));
      continue;
    }
    text.clear();
    core::AppendMetricsCsvHeader(text);
    for (const auto& m : *rows) core::AppendMetricsCsvRow(text, m);
    auto w = objects.NewWriter(MonthlyKey(sensor));
    if (!w.ok()) return w.status();
    AQ_RETURN_IF_ERROR((*w)->Append(text));
    group.push_back(w->get());
    writers.push_back(std::move(*w));
    if (group.size() >= kGroup) AQ_RETURN_IF_ERROR(flush());
  }
  for (auto& w : pending) group.push_back(w.get());
  AQ_RETURN_IF_ERROR(flush());
  pending.clear();
  for (const std::string& key : removed) AQ_RETURN_IF_ERROR(objects.Delete(key));
  return Status::Ok();
}

}  // namespace aquasense::pipeline::internal
