#include "notify/format.h"

#include <ctime>
#include <initializer_list>
#include <optional>

#include "notify/crypto.h"

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

std::string SensorOf(const storage::Alert& a) {
  return a.sensor.empty() ? a.default_sensor : a.sensor;
}

std::string Plural(const json& n, const char* one, const char* many) {
  return Scalar(n) + " " + (n.is_number() && n.get<double>() == 1 ? one : many);
}

}  // namespace

std::string IdempotencyKey(const storage::Alert& a) {
  std::string id = a.file_hash + '\n' + a.default_sensor + '\n' + a.kind + '\n' + a.sensor;
  return "aquasense-" + Sha256Hex(id).substr(0, 32);
}

json PayloadCounts(const storage::Alert& a) {
  json p = Payload(a);
  if (!p.is_object()) return json::object();
  if (p.contains("counts") && p["counts"].is_object()) return p["counts"];
  json counts = json::object();
  for (const auto& [k, v] : p.items()) {
    if (k != "examples") counts[k] = v;
  }
  return counts;
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
  const json payload = Payload(a);
  const std::string file = Basename(a.source_name);
  if (a.kind == "deviation") {
    auto n = FindNumber(counts, {"readings", "above_limit", "count", "alerts"});
    auto limit = FindNumber(counts, {"sd_limit", "limit"});
    if (!limit) limit = FindNumber(payload, {"sd_limit", "limit"});
    std::string s = "deviation: sensor " + SensorOf(a);
    if (n) {
      s += ", " + Plural(*n, "reading", "readings") + " with sd";
      s += limit ? " > " + Scalar(*limit) : " above the limit";
    }
    return s + " in " + file;
  }
  if (a.kind == "data_quality") {
    auto n = FindNumber(counts, {"invalid", "invalid_rows", "rows", "count"});
    std::string s = "data quality: ";
    s += n ? Plural(*n, "invalid row", "invalid rows") : std::string("invalid rows");
    s += " in " + file;
    const json* reasons = nullptr;
    if (counts.contains("reasons") && counts["reasons"].is_object()) reasons = &counts["reasons"];
    if (reasons == nullptr && counts.contains("by_reason") && counts["by_reason"].is_object()) {
      reasons = &counts["by_reason"];
    }
    if (reasons != nullptr && !reasons->empty()) {
      std::string list;
      for (const auto& [k, v] : reasons->items()) {
        list += (list.empty() ? "" : ", ") + k + " " + Scalar(v);
      }
      s += " (" + list + ")";
    }
    if (!a.default_sensor.empty()) s += " for sensor " + SensorOf(a);
    return s;
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
  t += "Sensor:  " + SensorOf(a) + "\n";
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
          if (k != "line") line += " " + k + "=" + Scalar(v);
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
      {"examples", PayloadExamples(a)},
      {"time", Iso8601(a.created_ms)},
  };
  if (Payload(a).is_null() && !a.payload_json.empty()) doc["payload"] = a.payload_json;
  return doc;
}

}  // namespace aquasense::notify
