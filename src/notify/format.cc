#include "notify/format.h"

#include <ctime>
#include <initializer_list>
#include <optional>

#include "common/crypto.h"
#include "notify/redact.h"

namespace aquasense::notify {
namespace {

using nlohmann::json;

json Payload(const storage::Alert& a) {
  json p = json::parse(a.payload_json, nullptr, /*allow_exceptions=*/false);
  if (p.is_discarded()) return json();
  return p;
}

std::string Basename(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// First numeric value among `keys` in `obj`, looking one level into "counts".
std::optional<json> FindNumber(const json& obj, std::initializer_list<const char*> keys) {
  if (!obj.is_object()) return std::nullopt;
  for (const char* k : keys) {
    auto it = obj.find(k);
    if (it != obj.end() && it->is_number()) return *it;
  }
  return std::nullopt;
}

std::string Scalar(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

json PayloadSensorsOf(const storage::Alert& a, const json& p) {
  if (p.is_object() && p.contains("sensors") && p["sensors"].is_object()) {
    const json& s = p["sensors"];
    if (s.contains("count") && s["count"].is_number_integer() && s.contains("first") &&
        s["first"].is_array()) {
      return {{"count", s["count"]}, {"first", s["first"]}};
    }
  }
  // Alerts from before one alert per file: one sensor each.
  return {{"count", 1}, {"first", json::array({a.sensor.empty() ? a.default_sensor : a.sensor})}};
}

// The alert's one sensor: its own, else the only one its payload names, else
// the file's default sensor when it names none; "" when it names several.
std::string SensorOf(const storage::Alert& a) {
  if (!a.sensor.empty()) return a.sensor;
  const json s = PayloadSensorsOf(a, Payload(a));
  const int64_t count = s["count"].get<int64_t>();
  if (count == 1 && !s["first"].empty() && s["first"][0].is_string())
    return s["first"][0].get<std::string>();
  return count > 1 ? "" : a.default_sensor;
}

std::string Plural(const json& n, const char* one, const char* many) {
  return Scalar(n) + " " + (n.is_number() && n.get<double>() == 1 ? one : many);
}

// "sensor s1", or "500 sensors (s000, s001, s002, ...)" for an alert about several.
std::string SensorsPhrase(const storage::Alert& a, const json& sensors) {
  const int64_t count = sensors["count"].get<int64_t>();
  if (count <= 1) return "sensor " + SensorOf(a);
  std::string list;
  size_t shown = 0;
  for (const json& n : sensors["first"]) {
    if (shown++ == 3) break;
    list += (list.empty() ? "" : ", ") + Scalar(n);
  }
  if (count > static_cast<int64_t>(std::min<size_t>(shown, 3))) list += ", ...";
  return std::to_string(count) + " sensors (" + list + ")";
}

}  // namespace

std::string IdempotencyKey(const storage::Alert& a) {
  std::string id = a.file_hash + '\n' + a.default_sensor + '\n' + a.kind + '\n' + a.sensor;
  return "aquasense-" + Sha256Hex(id).substr(0, 32);
}

json PayloadCounts(const storage::Alert& a) {
  // The pipeline's payloads: deviation {"sd_limit", "counts": {"readings_above_limit"}},
  // data_quality {"rows", "invalid", "counts": {reason: n}}. Totals become
  // counts; a data-quality alert's per-reason counts go under "reasons".
  json p = Payload(a);
  json counts = json::object();
  if (!p.is_object()) return counts;
  for (const auto& [k, v] : p.items()) {
    if (v.is_number() && k != "sd_limit" && k != "limit") counts[k] = v;
  }
  if (p.contains("counts") && p["counts"].is_object()) {
    if (a.kind == "data_quality" && !p["counts"].contains("reasons")) {
      counts["reasons"] = p["counts"];
    } else {
      for (const auto& [k, v] : p["counts"].items()) counts[k] = v;
    }
  }
  if (p.contains("sensors") && p["sensors"].is_object())
    counts["sensors"] = PayloadSensors(a)["count"];
  return counts;
}

std::optional<double> PayloadSdLimit(const storage::Alert& a) {
  json p = Payload(a);
  auto v = FindNumber(p, {"sd_limit", "limit"});
  if (!v && p.is_object() && p.contains("counts")) v = FindNumber(p["counts"], {"sd_limit"});
  if (!v) return std::nullopt;
  return v->get<double>();
}

json PayloadSensors(const storage::Alert& a) { return PayloadSensorsOf(a, Payload(a)); }

std::vector<std::string> PayloadSensorNames(const storage::Alert& a, bool* complete) {
  const json s = PayloadSensors(a);
  std::vector<std::string> names;
  for (const json& n : s["first"]) {
    if (n.is_string()) names.push_back(n.get<std::string>());
  }
  if (complete != nullptr)
    *complete = s["count"].get<int64_t>() <= static_cast<int64_t>(names.size());
  return names;
}

json PayloadExamples(const storage::Alert& a) {
  json p = Payload(a);
  if (p.is_object() && p.contains("examples") && p["examples"].is_array()) return p["examples"];
  return json::array();
}

std::string Iso8601(int64_t epoch_ms) {
  std::time_t t = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string s = buf;
  if (int ms = static_cast<int>(epoch_ms % 1000); ms > 0) {
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03d", ms);
    s += frac;
  }
  return s + "Z";
}

std::string Rfc5322Date(int64_t epoch_ms) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t t = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::string AlertSummary(const storage::Alert& a) {
  const json counts = PayloadCounts(a);
  const std::string file = Basename(a.source_name);
  if (a.kind == "deviation") {
    auto n = FindNumber(counts, {"readings_above_limit", "readings", "count"});
    std::optional<double> limit = PayloadSdLimit(a);
    std::string s = "deviation: " + SensorsPhrase(a, PayloadSensors(a));
    if (n) {
      s += ", " + Plural(*n, "reading", "readings") + " with sd";
      s += limit ? " > " + Scalar(json(*limit)) : " above the limit";
    }
    return s + " in " + file;
  }
  if (a.kind == "data_quality") {
    // "data quality: 3 of 10 rows invalid in f.csv (bad_date 2, bad_number 1) for sensor s1"
    auto invalid = FindNumber(counts, {"invalid", "invalid_rows", "count"});
    auto rows = FindNumber(counts, {"rows"});
    std::string s = "data quality: ";
    if (invalid && rows) {
      s += Scalar(*invalid) + " of " + Plural(*rows, "row", "rows") + " invalid";
    } else if (invalid) {
      s += Plural(*invalid, "invalid row", "invalid rows");
    } else {
      s += "invalid rows";
    }
    s += " in " + file;
    if (counts.contains("reasons") && counts["reasons"].is_object() && !counts["reasons"].empty()) {
      std::string list;
      for (const auto& [k, v] : counts["reasons"].items()) {
        list += (list.empty() ? "" : ", ") + k + " " + Scalar(v);
      }
      s += " (" + list + ")";
    }
    return s + " for " + SensorsPhrase(a, PayloadSensors(a));
  }
  return a.kind + ": sensor " + SensorOf(a) + " in " + file;
}

std::string AlertSubject(const storage::Alert& a) {
  std::string s = "[AquaSense] " + AlertSummary(a);
  for (char& c : s) {
    if (c == '\r' || c == '\n' || c == '\t') c = ' ';
  }
  if (s.size() > 200) s = s.substr(0, 197) + "...";
  return s;
}

std::string AlertText(const storage::Alert& a) {
  std::string t = "AquaSense alert: " + AlertSummary(a) + "\n\n";
  t += "Kind:    " + a.kind + "\n";
  const json sensors = PayloadSensors(a);
  if (sensors["count"].get<int64_t>() > 1) {
    t += "Sensors: " + SensorsPhrase(a, sensors) + "\n";
  } else {
    t += "Sensor:  " + SensorOf(a) + "\n";
  }
  t += "File:    " + a.source_name + "\n";
  t += "SHA-256: " + a.file_hash + "\n";
  t += "Time:    " + Iso8601(a.created_ms) + "\n";
  t += "Key:     " + IdempotencyKey(a) + "\n";

  const json counts = PayloadCounts(a);
  if (!counts.empty()) {
    t += "\nCounts:\n";
    for (const auto& [k, v] : counts.items()) {
      if (v.is_object()) {
        t += "  " + k + ":\n";
        for (const auto& [k2, v2] : v.items()) t += "    " + k2 + ": " + Scalar(v2) + "\n";
      } else {
        t += "  " + k + ": " + Scalar(v) + "\n";
      }
    }
  }
  const json examples = PayloadExamples(a);
  if (!examples.empty()) {
    t += "\nFirst examples:\n";
    for (const json& e : examples) {
      std::string line = "  -";
      if (e.is_object()) {
        if (e.contains("line")) line += " line " + Scalar(e["line"]) + ":";
        for (const auto& [k, v] : e.items()) {
          if (k == "line" || (v.is_string() && v.get<std::string>().empty())) continue;
          std::string value = Scalar(v);
          if (value.size() > 200) {
            size_t cut = 200;
            while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;
            value = value.substr(0, cut) + "...";
          }
          line += " " + k + "=" + value;
        }
      } else {
        line += " " + Scalar(e);
      }
      t += line + "\n";
    }
  }
  if (Payload(a).is_null() && !a.payload_json.empty()) t += "\nPayload: " + a.payload_json + "\n";
  return t;
}

json WebhookDocument(const storage::Alert& a) {
  json doc = {
      {"id", a.id},
      {"idempotency_key", IdempotencyKey(a)},
      {"kind", a.kind},
      {"sensor", SensorOf(a)},
      {"default_sensor", a.default_sensor},
      {"file", a.source_name},
      {"file_sha256", a.file_hash},
      {"summary", AlertSummary(a)},
      {"counts", PayloadCounts(a)},
      {"sensors", PayloadSensors(a)},
      {"examples", PayloadExamples(a)},
      {"time", Iso8601(a.created_ms)},
  };
  if (auto limit = PayloadSdLimit(a)) doc["sd_limit"] = *limit;
  if (Payload(a).is_null() && !a.payload_json.empty()) doc["payload"] = a.payload_json;
  return doc;
}

const char* DeliveryStateName(const storage::Delivery& d) {
  switch (d.state) {
    case storage::DeliveryState::kPending:
      return "pending";
    case storage::DeliveryState::kGaveUp:
      return "gave_up";
    case storage::DeliveryState::kDelivered:
      return d.attempts == 0 && d.last_error.rfind("skipped", 0) == 0 ? "skipped" : "delivered";
  }
  return "unknown";
}

namespace {

// A delivery's error as listed: redacted again (rows stored by older
// versions may hold a URL's secrets, M4), and none for a row never tried
// (older versions stored another alert's error on deferred rows, L8).
std::string ShownError(const storage::Delivery& d) {
  if (d.state == storage::DeliveryState::kPending && d.attempts == 0) return "";
  return SafeError(d.last_error);
}

}  // namespace

json AlertListJson(
    const std::vector<std::pair<storage::Alert, std::vector<storage::Delivery>>>& list) {
  json alerts = json::array();
  for (const auto& [a, deliveries] : list) {
    json d = json::array();
    for (const storage::Delivery& x : deliveries) {
      bool pending = x.state == storage::DeliveryState::kPending;
      d.push_back({{"channel", x.channel},
                   {"state", DeliveryStateName(x)},
                   {"attempts", x.attempts},
                   {"next_attempt", pending ? json(Iso8601(x.next_attempt_ms)) : json(nullptr)},
                   {"updated", x.updated_ms > 0 ? json(Iso8601(x.updated_ms)) : json(nullptr)},
                   {"last_error", ShownError(x)}});
    }
    json payload = Payload(a);
    const bool rederived = payload.is_object() && payload.value("rederived", false) == true;
    alerts.push_back({{"id", a.id},
                      {"kind", a.kind},
                      {"sensor", SensorOf(a)},
                      {"default_sensor", a.default_sensor},
                      {"file", a.source_name},
                      {"file_sha256", a.file_hash},
                      {"time", Iso8601(a.created_ms)},
                      {"summary", AlertSummary(a)},
                      {"idempotency_key", IdempotencyKey(a)},
                      {"counts", PayloadCounts(a)},
                      {"sensors", PayloadSensors(a)},
                      {"examples", PayloadExamples(a)},
                      {"rederived", rederived},
                      {"deliveries", std::move(d)}});
  }
  return {{"alerts", std::move(alerts)}};
}

}  // namespace aquasense::notify
