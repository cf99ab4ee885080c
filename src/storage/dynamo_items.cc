#include "storage/dynamo_items.h"

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

Json FileItem(const FileRecord& f) {
  Json item = Key(kLedgerPk, FileSk(f.hash, f.default_sensor));
  item["seq"] = N(f.seq);
  item["hash"] = S(f.hash);
  item["default_sensor"] = S(f.default_sensor);
  item["landing_key"] = S(f.landing_key);
  item["source_name"] = S(f.source_name);
  item["on_conflict"] = S(f.on_conflict == OnConflict::kReplace ? "replace" : "reject");
  item["ingested_ms"] = N(f.ingested_ms);
  item["rows"] = N(f.rows);
  item["valid"] = N(f.valid);
  item["invalid"] = N(f.invalid);
  item["duplicates"] = N(f.duplicates);
  item["alerts"] = N(f.alerts);
  item["bytes"] = N(f.bytes);
  return item;
}

FileRecord FileFrom(const Json& item) {
  FileRecord f;
  f.seq = GetN(item, "seq").value_or(0);
  f.hash = GetS(item, "hash").value_or("");
  f.default_sensor = GetS(item, "default_sensor").value_or("");
  f.landing_key = GetS(item, "landing_key").value_or("");
  f.source_name = GetS(item, "source_name").value_or("");
  f.on_conflict =
      GetS(item, "on_conflict") == "replace" ? OnConflict::kReplace : OnConflict::kReject;
  f.ingested_ms = GetN(item, "ingested_ms").value_or(0);
  f.rows = GetN(item, "rows").value_or(0);
  f.valid = GetN(item, "valid").value_or(0);
  f.invalid = GetN(item, "invalid").value_or(0);
  f.duplicates = GetN(item, "duplicates").value_or(0);
  f.alerts = GetN(item, "alerts").value_or(0);
  f.bytes = GetN(item, "bytes").value_or(-1);
  return f;
}

Json AlertItem(const Alert& a) {
  Json item = Key(kAlertPk, Pad20(a.id));
  item["id"] = N(a.id);
  item["kind"] = S(a.kind);
  item["sensor"] = S(a.sensor);
  item["file_hash"] = S(a.file_hash);
  item["default_sensor"] = S(a.default_sensor);
  item["source_name"] = S(a.source_name);
  item["created_ms"] = N(a.created_ms);
  item["payload"] = S(a.payload_json);
  return item;
}

Alert AlertFrom(const Json& item) {
  Alert a;
  a.id = GetN(item, "id").value_or(0);
  a.kind = GetS(item, "kind").value_or("");
  a.sensor = GetS(item, "sensor").value_or("");
  a.file_hash = GetS(item, "file_hash").value_or("");
  a.default_sensor = GetS(item, "default_sensor").value_or("");
  a.source_name = GetS(item, "source_name").value_or("");
  a.created_ms = GetN(item, "created_ms").value_or(0);
  a.payload_json = GetS(item, "payload").value_or("");
  return a;
}

Json DeliveryItem(const Delivery& d) {
  Json item = Key(kDeliveryPk, DeliverySk(d.alert_id, d.channel));
  item["alert_id"] = N(d.alert_id);
  item["channel"] = S(d.channel);
  item["state"] = N(static_cast<int64_t>(d.state));
  item["attempts"] = N(d.attempts);
  item["next_attempt_ms"] = N(d.next_attempt_ms);
  item["updated_ms"] = N(d.updated_ms);
  item["last_error"] = S(d.last_error);
  return item;
}

Delivery DeliveryFrom(const Json& item) {
  Delivery d;
  d.alert_id = GetN(item, "alert_id").value_or(0);
  d.channel = GetS(item, "channel").value_or("");
  d.state = static_cast<DeliveryState>(GetN(item, "state").value_or(0));
  d.attempts = static_cast<int32_t>(GetN(item, "attempts").value_or(0));
  d.next_attempt_ms = GetN(item, "next_attempt_ms").value_or(0);
  d.updated_ms = GetN(item, "updated_ms").value_or(0);
  d.last_error = GetS(item, "last_error").value_or("");
  return d;
}

Json AppliedItem(std::string_view sensor, const AppliedFile& f) {
  Json item = Key(SensorPk(sensor), AppliedSk(f.hash, f.default_sensor));
  item["hash"] = S(f.hash);
  item["default_sensor"] = S(f.default_sensor);
  item["valid"] = N(f.valid);
  item["duplicates"] = N(f.duplicates);
  return item;
}

AppliedFile AppliedFrom(const Json& item) {
  AppliedFile f;
  f.hash = GetS(item, "hash").value_or("");
  f.default_sensor = GetS(item, "default_sensor").value_or("");
  f.valid = GetN(item, "valid").value_or(0);
  f.duplicates = GetN(item, "duplicates").value_or(0);
  return f;
}

}  // namespace aquasense::storage::dynamo
