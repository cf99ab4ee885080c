#include "cli/config.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/number.h"
#include "notify/notifier.h"

namespace aquasense::cli {

namespace {

using nlohmann::json;

// Levenshtein distance, for "did you mean" (keys are short).
size_t Distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string Join(std::string_view where, std::string_view key) {
  return where.empty() ? std::string(key) : std::string(where) + "." + std::string(key);
}

Status NotAnObject(std::string_view name) {
  return InvalidArgument("config: \"" + std::string(name) + "\" must be an object");
}

// The keys each channel type takes (notify/config.cc reads them).
std::span<const std::string_view> ChannelKeys(const std::string& type) {
  static constexpr std::string_view kLog[] = {"name",    "type",       "kinds",
                                              "sensors", "timeout_ms", "path"};
  static constexpr std::string_view kWebhook[] = {
      "name",   "type",       "kinds",   "sensors", "timeout_ms",  "url",
      "secret", "secret_env", "headers", "ca_file", "insecure_tls"};
  static constexpr std::string_view kEmail[] = {
      "name", "type", "kinds",    "sensors",  "timeout_ms",   "url",     "tls",
      "from", "to",   "username", "password", "password_env", "ca_file", "insecure_tls"};
  static constexpr std::string_view kSns[] = {"name",       "type",      "kinds",       "sensors",
                                              "timeout_ms", "topic_arn", "region",      "endpoint",
                                              "profile",    "ca_file",   "insecure_tls"};
  static constexpr std::string_view kUnknown[] = {"name", "type"};  // notify names the bad type
  if (type == "log") return kLog;
  if (type == "webhook") return kWebhook;
  if (type == "email" || type == "smtp") return kEmail;
  if (type == "sns") return kSns;
  return kUnknown;
}

Status CheckAlerts(const json& alerts) {
  if (!alerts.is_object()) return NotAnObject("alerts");
  AQ_RETURN_IF_ERROR(CheckKnownKeys(alerts, "alerts", {"sd_limit", "log", "retry", "channels"}));
  if (alerts.contains("retry")) {
    if (!alerts["retry"].is_object()) return NotAnObject("alerts.retry");
    AQ_RETURN_IF_ERROR(CheckKnownKeys(alerts["retry"], "alerts.retry",
                                      {"initial_ms", "max_ms", "give_up_after_s"}));
  }
  if (!alerts.contains("channels") || !alerts["channels"].is_array()) return Status::Ok();
  const json& channels = alerts["channels"];
  for (size_t i = 0; i < channels.size(); ++i) {
    const json& c = channels[i];
    if (!c.is_object()) continue;  // notify says "must be an object"
    const std::string type =
        c.contains("type") && c["type"].is_string() ? c["type"].get<std::string>() : "";
    AQ_RETURN_IF_ERROR(
        CheckKnownKeys(c, "alerts.channels[" + std::to_string(i) + "]", ChannelKeys(type)));
  }
  return Status::Ok();
}

// A limit: a number; `non_negative` for the sd limits.
Status ReadLimit(const json& limits, const char* key, bool non_negative, double& out) {
  if (!limits.contains(key)) return Status::Ok();
  const json& v = limits[key];
  const std::string name = std::string("limits.") + key;
  if (!v.is_number()) return InvalidArgument("config: \"" + name + "\" must be a number");
  const double x = v.get<double>();
  if (!std::isfinite(x)) return InvalidArgument("config: \"" + name + "\" must be finite");
  if (non_negative && x < 0)
    return InvalidArgument("config: \"" + name + "\" must be >= 0, got " + v.dump());
  out = x;
  return Status::Ok();
}

// "line 3, column 7: syntax error while parsing object key - ..." from
// nlohmann's "[json.exception.parse_error.101] parse error at line 3, ...".
std::string ParseErrorText(const json::parse_error& e) {
  std::string what = e.what();
  const std::string marker = "parse error at ";
  const size_t at = what.find(marker);
  if (at != std::string::npos) return what.substr(at + marker.size());
  return what;
}

}  // namespace

EnvLookup EnvFromProcess() {
  return [](const char* name) -> const char* { return std::getenv(name); };
}

Status CheckKnownKeys(const json& obj, std::string_view where,
                      std::initializer_list<std::string_view> known) {
  return CheckKnownKeys(obj, where, std::span<const std::string_view>(known.begin(), known.size()));
}

Status CheckKnownKeys(const json& obj, std::string_view where,
                      std::span<const std::string_view> known) {
  for (const auto& item : obj.items()) {
    const std::string& key = item.key();
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string msg = "config: unknown key \"" + Join(where, key) + "\"";
    std::string_view best;
    size_t best_distance = 3;  // suggest only close names
    for (std::string_view k : known) {
      const size_t d = Distance(key, k);
      if (d < best_distance) best = k, best_distance = d;
    }
    if (!best.empty()) {
      msg += " (did you mean \"" + Join(where, best) + "\"?)";
    } else {
      msg += where.empty() ? " (known:" : " (known in " + std::string(where) + ":";
      for (std::string_view k : known) msg += " " + std::string(k);
      msg += ")";
    }
    return InvalidArgument(msg);
  }
  return Status::Ok();
}

Status CheckConfig(const json& config) {
  if (!config.is_object()) return InvalidArgument("config: the file must hold a JSON object");
  AQ_RETURN_IF_ERROR(CheckKnownKeys(config, "", {"limits", "alerts", "serve"}));
  if (config.contains("limits")) {
    const json& limits = config["limits"];
    if (!limits.is_object()) return NotAnObject("limits");
    AQ_RETURN_IF_ERROR(
        CheckKnownKeys(limits, "limits", {"temp_min", "temp_max", "sd_min", "sd_max"}));
  }
  if (config.contains("alerts")) AQ_RETURN_IF_ERROR(CheckAlerts(config["alerts"]));
  if (config.contains("serve") && !config["serve"].is_object()) return NotAnObject("serve");
  return Status::Ok();
}

Result<json> ParseConfig(std::string_view text, const std::string& name) {
  json j;
  try {
    j = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    return InvalidArgument("the config file " + name + " is not valid JSON: " + ParseErrorText(e));
  } catch (const json::exception& e) {
    return InvalidArgument("the config file " + name + " is not valid JSON: " + e.what());
  }
  if (!j.is_object()) {
    return InvalidArgument("the config file " + name + " must hold a JSON object, not " +
                           (j.is_array() ? "an array" : "a " + std::string(j.type_name())));
  }
  if (Status s = CheckConfig(j); !s.ok()) return InvalidArgument(s.message() + " in " + name);
  return j;
}

Result<json> LoadConfigFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return InvalidArgument("cannot read the config file " + path + ": " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return InvalidArgument("the config file " + path + " is a directory");
  constexpr off_t kMaxConfigBytes = 16 << 20;  // a config is a few KiB
  if (S_ISREG(st.st_mode) && st.st_size > kMaxConfigBytes)
    return InvalidArgument("the config file " + path + " is larger than 16 MiB");
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("cannot read the config file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return InvalidArgument("cannot read the config file " + path);
  return ParseConfig(ss.str(), path);
}

Result<pipeline::Options> PipelineOptionsFrom(const json& config, const EnvLookup& env) {
  pipeline::Options o;
  AQ_RETURN_IF_ERROR(CheckConfig(config.is_null() ? json::object() : config));
  const json empty = json::object();
  const json& limits = config.contains("limits") ? config["limits"] : empty;
  AQ_RETURN_IF_ERROR(ReadLimit(limits, "temp_min", false, o.limits.temp_min));
  AQ_RETURN_IF_ERROR(ReadLimit(limits, "temp_max", false, o.limits.temp_max));
  AQ_RETURN_IF_ERROR(ReadLimit(limits, "sd_min", true, o.limits.sd_min));
  AQ_RETURN_IF_ERROR(ReadLimit(limits, "sd_max", true, o.limits.sd_max));
  if (o.limits.temp_min > o.limits.temp_max)
    return InvalidArgument("config: \"limits.temp_min\" is above \"limits.temp_max\"");
  if (o.limits.sd_min > o.limits.sd_max)
    return InvalidArgument("config: \"limits.sd_min\" is above \"limits.sd_max\"");
  // The "alerts" section (sd_limit included) is notify's to check: a bad one
  // is a usage error now, not an ingest that quietly alerts the log only.
  auto alerts = notify::ParseAlertsConfig(config.is_null() ? json::object() : config);
  if (!alerts.ok()) return alerts.status();
  o.limits.sd_alert = alerts->sd_limit;
  if (const char* value = env("AQUASENSE_SD_LIMIT")) {
    auto v = core::ParseNumber(value, false);
    if (!v || !(*v >= 0) || !std::isfinite(*v)) {
      return InvalidArgument("AQUASENSE_SD_LIMIT must be a number >= 0, got \"" +
                             std::string(value) + "\"");
    }
    o.limits.sd_alert = *v;
  }
  o.alert_channels = notify::ChannelNames(config);
  return o;
}

}  // namespace aquasense::cli
