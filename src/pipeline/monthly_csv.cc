#include "pipeline/monthly_csv.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>

#include "common/crypto.h"
#include "core/metrics_format.h"
#include "core/reading.h"
#include "pipeline/monthly_intent.h"
#include "storage/keys.h"

namespace aquasense::pipeline::internal {

namespace {

constexpr const char* kAllSensors = "*";  // an intent line: every file (rebuild)
constexpr size_t kGroup = 128;            // files committed together (bounds open files)

// The sensors whose files a batch that never committed may have rewritten;
// `in_place`: the record there now checks itself (see IntentText).
Result<std::vector<std::string>> LeftBehind(storage::ObjectStore& objects, int64_t generation,
                                            bool& all, bool& in_place) {
  std::vector<std::string> sensors;
  in_place = false;
  auto text = objects.ReadAll(storage::keys::kMonthlyIntent);
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound) return sensors;
    return text.status();
  }
  int64_t intent_generation = 0;
  if (!ParseIntent(*text, intent_generation, sensors, in_place)) {
    all = true;  // unreadable: trust nothing
    return std::vector<std::string>{};
  }
  if (intent_generation <= generation) return std::vector<std::string>{};  // it committed
  if (std::find(sensors.begin(), sensors.end(), kAllSensors) != sensors.end()) all = true;
  return sensors;
}

// A rendered monthly file.
struct Rendered {
  std::string key, text;
};

// Writes `items` and commits them together with `extra` (first the intent
// record when `first_is_intent`).
Status WriteGroup(storage::ObjectStore& objects, std::vector<Rendered> items,
                  std::vector<std::unique_ptr<storage::ObjectWriter>> extra, bool first_is_intent) {
  std::vector<std::unique_ptr<storage::ObjectWriter>> writers = std::move(extra);
  for (Rendered& r : items) {
    auto w = objects.NewWriter(r.key);
    if (!w.ok()) return w.status();
    AQ_RETURN_IF_ERROR((*w)->Append(r.text));
    writers.push_back(std::move(*w));
  }
  std::vector<storage::ObjectWriter*> group;
  for (auto& w : writers) group.push_back(w.get());
  return objects.CommitAll(group, first_is_intent);
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

std::string MonthlyKey(std::string_view sensor) { return storage::keys::Monthly(sensor); }

// Long on purpose: the crash-consistency sequence (intent, write, commit) kept in one place
// NOLINTNEXTLINE(readability-function-size)
Status UpdateMonthlyFiles(storage::ObjectStore& objects, BatchState& state,
                          const std::vector<ChangedSensor>& changed_sensors, bool full,
                          std::vector<std::unique_ptr<storage::ObjectWriter>>& pending) {
  // SQLite holds its write lock for the batch: no commit lands meanwhile.
  auto generation = state.meta().Generation();
  if (!generation.ok()) return generation.status();
  bool in_place = false;
  auto left = LeftBehind(objects, *generation, full, in_place);
  if (!left.ok()) return left.status();

  // Each sensor to rewrite, with the first month whose row changed
  // (INT32_MIN: render the whole file).
  std::map<std::string, int32_t> sensors;
  for (const ChangedSensor& c : changed_sensors) sensors[c.name] = full ? INT32_MIN : c.first_month;
  for (const std::string& s : *left) sensors[s] = INT32_MIN;
  sensors.erase(kAllSensors);
  if (full) {
    // Every sensor with metrics, and every file there is (to remove strays).
    auto with_rows = state.ListSensors();
    if (!with_rows.ok()) return with_rows.status();
    for (const std::string& s : *with_rows) sensors.emplace(s, INT32_MIN);
    auto files = objects.List(storage::keys::kMonthlyPrefix);
    if (!files.ok()) return files.status();
    for (const auto& f : *files) {
      if (auto sensor = storage::keys::ParseMonthly(f.key)) sensors.emplace(*sensor, INT32_MIN);
    }
  }
  if (sensors.empty()) return CommitPending(objects, pending);

  // The intent record first: the batch's generation and what it rewrites.
  std::vector<std::string> names;
  if (full)
    names.push_back(kAllSensors);
  else
    for (const auto& [sensor, first_month] : sensors) names.push_back(sensor);
  auto intent_writer = objects.NewWriter(storage::keys::kMonthlyIntent);
  if (!intent_writer.ok()) return intent_writer.status();
  AQ_RETURN_IF_ERROR((*intent_writer)->Append(IntentText(*generation + 1, names)));
  // Rewritten in place (one sync less) over a record that checks itself: a
  // torn one then reads as unreadable, and every file is rendered again.
  if (in_place) (*intent_writer)->AllowInPlace();

  // This thread renders a group of files (the batch's reads) while another
  // creates and commits the group before: a create can cost 0.1-0.2 ms of
  // kernel time (ext4 without a journal walks past recently freed inodes),
  // which for a thousand sensors is as long as rendering them. Groups commit
  // in order, the intent record with the first, `pending` with the last.
  std::vector<Rendered> ready;
  std::vector<std::unique_ptr<storage::ObjectWriter>> extra;
  extra.push_back(std::move(*intent_writer));
  bool first = true;
  std::future<Status> in_flight;
  auto ship = [&](bool last) -> Status {
    if (in_flight.valid()) AQ_RETURN_IF_ERROR(in_flight.get());
    if (last) {
      for (auto& w : pending) extra.push_back(std::move(w));
      pending.clear();
      return WriteGroup(objects, std::move(ready), std::move(extra), first);
    }
    in_flight = std::async(std::launch::async, WriteGroup, std::ref(objects), std::move(ready),
                           std::move(extra), first);
    ready.clear();
    extra.clear();
    first = false;
    return Status::Ok();
  };
  std::vector<std::string> removed;  // after the intent record is durable
  for (const auto& [sensor, first_month] : sensors) {
    // Only the rows from the first changed month on when the file is there
    // (and committed: see LeftBehind), so that a week of new data costs a
    // few rows, not the sensor's whole history.
    storage::MetricsQuery q;
    q.sensor = sensor;
    std::string text;
    if (first_month != INT32_MIN) {
      auto old = objects.ReadAll(MonthlyKey(sensor));
      if (!old.ok() && old.status().code() != Code::kNotFound) return old.status();
      const auto keep = old.ok() ? RowsFrom(*old, sensor, first_month) : std::nullopt;
      if (keep) {
        text.assign(*old, 0, *keep);
        q.from_month = first_month;
      }
    }
    auto rows = state.ListMetrics(q);
    if (!rows.ok()) return rows.status();
    if (text.empty() && rows->empty()) {  // no metrics (left) for this sensor: no file
      removed.push_back(MonthlyKey(sensor));
      continue;
    }
    if (text.empty()) core::AppendMetricsCsvHeader(text);
    for (const auto& m : *rows) core::AppendMetricsCsvRow(text, m);
    ready.push_back({MonthlyKey(sensor), std::move(text)});
    if (ready.size() >= kGroup) AQ_RETURN_IF_ERROR(ship(false));
  }
  AQ_RETURN_IF_ERROR(ship(true));
  for (const std::string& key : removed) AQ_RETURN_IF_ERROR(objects.Delete(key));
  return Status::Ok();
}

}  // namespace aquasense::pipeline::internal
