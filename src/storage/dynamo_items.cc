#include "storage/dynamo_items.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace aquasense::storage::dynamo {

using aws::GetN;
using aws::GetS;
using aws::N;
using aws::S;

Json Key(std::string_view pk, std::string_view sk) { return {{"pk", S(pk)}, {"sk", S(sk)}}; }

std::string SensorPk(std::string_view sensor) { return "S#" + std::string(sensor); }

std::string MonthText(int32_t month) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d", core::YearOf(month), core::MonthOf(month));
  return buf;
}

std::string BlockSk(int32_t month) { return "B#" + MonthText(month); }
std::string MetricsSk(int32_t month) { return "M#" + MonthText(month); }

std::string AppliedSk(std::string_view hash, std::string_view default_sensor) {
  return "F#" + std::string(hash) + "#" + std::string(default_sensor);
}

std::string Pad20(int64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020lld", static_cast<long long>(id));
  return buf;
}

std::string ChangeSk(int64_t commit_id, std::string_view sensor) {
  return Pad20(commit_id) + "#" + std::string(sensor);
}

std::string FileSk(std::string_view hash, std::string_view default_sensor) {
  return std::string(hash) + "#" + std::string(default_sensor);
}

std::string SizeSk(std::string_view default_sensor, int64_t bytes) {
  return std::string(default_sensor) + "#" + std::to_string(bytes);
}

std::string AlertKeySk(const Alert& a) {
  return a.file_hash + "#" + a.default_sensor + "#" + a.kind + "#" + a.sensor;
}

std::string DeliverySk(int64_t alert_id, std::string_view channel) {
  return Pad20(alert_id) + "#" + std::string(channel);
}

Result<Json> Number(double v) {
  if (!std::isfinite(v)) return InvalidArgument("DynamoDB cannot store a non-finite number");
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return Json{{"N", std::string(buf)}};
}

std::optional<double> GetDouble(const Json& item, std::string_view name) {
  auto it = item.find(name);
  if (it == item.end() || !it->is_object() || !it->contains("N")) return std::nullopt;
  const std::string& s = (*it)["N"].get_ref<const std::string&>();
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return v;
}

Result<Json> MetricsItem(const core::MonthlyMetrics& m, int64_t version) {
  const int32_t month = core::MonthIndex(m.year, m.month);
  Json item = Key(SensorPk(m.sensor), MetricsSk(month));
  item["year"] = N(m.year);
  item["month"] = N(m.month);
  item["readings"] = N(m.readings);
  item["ver"] = N(version);
  const std::pair<const char*, double> values[] = {
      {"mean_temp", m.mean_temp}, {"max_temp", m.max_temp}, {"max_sd", m.max_sd}};
  for (const auto& [name, v] : values) {
    auto n = Number(v);
    if (!n.ok()) return n.status();
    item[name] = std::move(*n);
  }
  if (m.max_temp_diff) {
    auto n = Number(*m.max_temp_diff);
    if (!n.ok()) return n.status();
    item["max_temp_diff"] = std::move(*n);
  }
  return item;
}

Result<core::MonthlyMetrics> MetricsFrom(const Json& item, std::string_view sensor) {
  core::MonthlyMetrics m;
  m.sensor = std::string(sensor);
  auto year = GetN(item, "year"), month = GetN(item, "month"), n = GetN(item, "readings");
  auto mean = GetDouble(item, "mean_temp"), max = GetDouble(item, "max_temp"),
       sd = GetDouble(item, "max_sd");
  if (!year || !month || !n || !mean || !max || !sd)
    return Internal("DynamoDB metrics item of " + std::string(sensor) + " lacks attributes");
  m.year = static_cast<int32_t>(*year);
  m.month = static_cast<int32_t>(*month);
  m.readings = *n;
  m.mean_temp = *mean;
  m.max_temp = *max;
  m.max_sd = *sd;
  m.max_temp_diff = GetDouble(item, "max_temp_diff");
  return m;
}

namespace {

// One attribute of an item type: a text (S) or a number (N) member of T.
// Each item type has one table of them, read both ways (Put, Get), so an
// attribute's name is written once.
template <typename T>
struct Attr {
  const char* name;
  std::string T::*text = nullptr;
  int64_t T::*number = nullptr;
  int64_t absent = 0;  // the number read when the item lacks it
};

template <typename T>
constexpr Attr<T> Text(const char* name, std::string T::*member) {
  return {.name = name, .text = member};
}

template <typename T>
constexpr Attr<T> Num(const char* name, int64_t T::*member, int64_t absent = 0) {
  return {.name = name, .number = member, .absent = absent};
}

// `item` (its key) with the attributes of `v`.
template <typename T, size_t Count>
Json Put(Json item, const T& v, const std::array<Attr<T>, Count>& attrs) {
  for (const Attr<T>& a : attrs) item[a.name] = a.text != nullptr ? S(v.*a.text) : N(v.*a.number);
  return item;
}

// A T from the attributes of `item`: "" or `absent` for those it lacks.
template <typename T, size_t Count>
T Get(const Json& item, const std::array<Attr<T>, Count>& attrs) {
  T v;
  for (const Attr<T>& a : attrs) {
    if (a.text != nullptr) {
      v.*a.text = GetS(item, a.name).value_or("");
    } else {
      v.*a.number = GetN(item, a.name).value_or(a.absent);
    }
  }
  return v;
}

// "on_conflict" is a text; "bytes" reads -1 (unknown) in ledgers before it was kept.
constexpr std::array<Attr<FileRecord>, 12> kFileAttrs = {
    Num("seq", &FileRecord::seq),
    Text("hash", &FileRecord::hash),
    Text("default_sensor", &FileRecord::default_sensor),
    Text("landing_key", &FileRecord::landing_key),
    Text("source_name", &FileRecord::source_name),
    Num("ingested_ms", &FileRecord::ingested_ms),
    Num("rows", &FileRecord::rows),
    Num("valid", &FileRecord::valid),
    Num("invalid", &FileRecord::invalid),
    Num("duplicates", &FileRecord::duplicates),
    Num("alerts", &FileRecord::alerts),
    Num("bytes", &FileRecord::bytes, -1),
};

constexpr std::array<Attr<Alert>, 8> kAlertAttrs = {
    Num("id", &Alert::id),
    Text("kind", &Alert::kind),
    Text("sensor", &Alert::sensor),
    Text("file_hash", &Alert::file_hash),
    Text("default_sensor", &Alert::default_sensor),
    Text("source_name", &Alert::source_name),
    Num("created_ms", &Alert::created_ms),
    Text("payload", &Alert::payload_json),
};

// "state" and "attempts" are numbers of other types.
constexpr std::array<Attr<Delivery>, 5> kDeliveryAttrs = {
    Num("alert_id", &Delivery::alert_id),
    Text("channel", &Delivery::channel),
    Num("next_attempt_ms", &Delivery::next_attempt_ms),
    Num("updated_ms", &Delivery::updated_ms),
    Text("last_error", &Delivery::last_error),
};

constexpr std::array<Attr<AppliedFile>, 4> kAppliedAttrs = {
    Text("hash", &AppliedFile::hash),
    Text("default_sensor", &AppliedFile::default_sensor),
    Num("valid", &AppliedFile::valid),
    Num("duplicates", &AppliedFile::duplicates),
};

}  // namespace

Json FileItem(const FileRecord& f) {
  Json item = Put(Key(kLedgerPk, FileSk(f.hash, f.default_sensor)), f, kFileAttrs);
  item["on_conflict"] = S(f.on_conflict == OnConflict::kReplace ? "replace" : "reject");
  return item;
}

FileRecord FileFrom(const Json& item) {
  FileRecord f = Get(item, kFileAttrs);
  f.on_conflict =
      GetS(item, "on_conflict") == "replace" ? OnConflict::kReplace : OnConflict::kReject;
  return f;
}

Json AlertItem(const Alert& a) { return Put(Key(kAlertPk, Pad20(a.id)), a, kAlertAttrs); }

Alert AlertFrom(const Json& item) { return Get(item, kAlertAttrs); }

Json DeliveryItem(const Delivery& d) {
  Json item = Put(Key(kDeliveryPk, DeliverySk(d.alert_id, d.channel)), d, kDeliveryAttrs);
  item["state"] = N(static_cast<int64_t>(d.state));
  item["attempts"] = N(d.attempts);
  return item;
}

Delivery DeliveryFrom(const Json& item) {
  Delivery d = Get(item, kDeliveryAttrs);
  d.state = static_cast<DeliveryState>(GetN(item, "state").value_or(0));
  d.attempts = static_cast<int32_t>(GetN(item, "attempts").value_or(0));
  return d;
}

Json AppliedItem(std::string_view sensor, const AppliedFile& f) {
  return Put(Key(SensorPk(sensor), AppliedSk(f.hash, f.default_sensor)), f, kAppliedAttrs);
}

AppliedFile AppliedFrom(const Json& item) { return Get(item, kAppliedAttrs); }

}  // namespace aquasense::storage::dynamo
