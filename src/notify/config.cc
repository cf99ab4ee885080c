// Parsing of the "alerts" section of the config file.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <set>

#include "common/enum_names.h"
#include "notify/format.h"
#include "notify/notifier.h"

namespace aquasense::notify {
namespace {

using nlohmann::json;

bool ValidName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

class Reader {
 public:
  Reader(const json& obj, std::string where) : obj_(obj), where_(std::move(where)) {}

  Status Str(const char* key, std::string* out) {
    if (!obj_.contains(key)) return Status::Ok();
    if (!obj_[key].is_string()) return Bad(key, "must be a string");
    *out = obj_[key].get<std::string>();
    return Status::Ok();
  }
  // `key` or the environment variable named by `key`_env.
  Status Secret(const char* key, std::string* out) {
    AQ_RETURN_IF_ERROR(Str(key, out));
    std::string env_key = std::string(key) + "_env";
    std::string var;
    AQ_RETURN_IF_ERROR(Str(env_key.c_str(), &var));
    if (!var.empty()) {
      const char* v = std::getenv(var.c_str());  // NOLINT(concurrency-mt-unsafe)
      if (v == nullptr) return Bad(env_key.c_str(), "names an unset variable " + var);
      *out = v;
    }
    return Status::Ok();
  }
  Status StrList(const char* key, std::vector<std::string>* out) {
    if (!obj_.contains(key)) return Status::Ok();
    const json& v = obj_[key];
    if (v.is_string()) {
      out->push_back(v.get<std::string>());
      return Status::Ok();
    }
    if (!v.is_array()) return Bad(key, "must be a list of strings");
    for (const json& e : v) {
      if (!e.is_string()) return Bad(key, "must be a list of strings");
      out->push_back(e.get<std::string>());
    }
    return Status::Ok();
  }
  Status Int(const char* key, int64_t min, int64_t max, int64_t* out) {
    if (!obj_.contains(key)) return Status::Ok();
    const json& v = obj_[key];
    if (!v.is_number_integer() && !v.is_number_unsigned()) return Bad(key, "must be an integer");
    int64_t x =
        v.is_number_unsigned() && v.get<uint64_t>() > INT64_MAX ? INT64_MAX : v.get<int64_t>();
    if (x < min || x > max) {
      return Bad(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    *out = x;
    return Status::Ok();
  }
  Status Bool(const char* key, bool* out) {
    if (!obj_.contains(key)) return Status::Ok();
    if (!obj_[key].is_boolean()) return Bad(key, "must be true or false");
    *out = obj_[key].get<bool>();
    return Status::Ok();
  }
  Status Bad(const char* key, const std::string& what) const {
    return InvalidArgument("config " + where_ + "." + key + " " + what);
  }
  Status Require(const char* key, const std::string& value) const {
    return value.empty() ? Bad(key, "is required for this channel type") : Status::Ok();
  }
  // "url": required, and starting with `scheme` or `secure_scheme`.
  Status Url(const char* scheme, const char* secure_scheme, std::string* out) {
    AQ_RETURN_IF_ERROR(Str("url", out));
    AQ_RETURN_IF_ERROR(Require("url", *out));
    if (!out->starts_with(scheme) && !out->starts_with(secure_scheme)) {
      return Bad("url", std::string("must start with ") + scheme + " or " + secure_scheme);
    }
    return Status::Ok();
  }

 private:
  const json& obj_;
  std::string where_;
};

// The TLS keys every network channel takes.
Status ParseTls(Reader& r, ChannelConfig* c) {
  AQ_RETURN_IF_ERROR(r.Str("ca_file", &c->ca_file));
  return r.Bool("insecure_tls", &c->insecure_tls);
}

Status ParseWebhook(const json& j, Reader& r, ChannelConfig* c) {
  AQ_RETURN_IF_ERROR(r.Url("http://", "https://", &c->url));
  AQ_RETURN_IF_ERROR(r.Secret("secret", &c->secret));
  if (j.contains("headers")) {
    if (!j["headers"].is_object()) return r.Bad("headers", "must be an object of strings");
    for (const auto& [k, v] : j["headers"].items()) {
      if (!v.is_string()) return r.Bad("headers", "must be an object of strings");
      c->headers.emplace_back(k, v.get<std::string>());
    }
  }
  return ParseTls(r, c);
}

Status ParseEmail(Reader& r, ChannelConfig* c) {
  AQ_RETURN_IF_ERROR(r.Url("smtp://", "smtps://", &c->url));
  AQ_RETURN_IF_ERROR(r.Str("from", &c->from));
  AQ_RETURN_IF_ERROR(r.Require("from", c->from));
  AQ_RETURN_IF_ERROR(r.StrList("to", &c->to));
  if (c->to.empty()) return r.Bad("to", "needs at least one recipient");
  std::string tls = c->url.starts_with("smtps://") ? "implicit" : "none";
  AQ_RETURN_IF_ERROR(r.Str("tls", &tls));
  if (tls == "none") {
    c->tls = SmtpTls::kNone;
  } else if (tls == "starttls") {
    c->tls = SmtpTls::kStartTls;
  } else if (tls == "implicit") {
    c->tls = SmtpTls::kImplicit;
  } else {
    return r.Bad("tls", "must be none, starttls or implicit");
  }
  AQ_RETURN_IF_ERROR(r.Str("username", &c->username));
  AQ_RETURN_IF_ERROR(r.Secret("password", &c->password));
  return ParseTls(r, c);
}

Status ParseSns(Reader& r, ChannelConfig* c) {
  AQ_RETURN_IF_ERROR(r.Str("topic_arn", &c->topic_arn));
  AQ_RETURN_IF_ERROR(r.Require("topic_arn", c->topic_arn));
  // arn:aws:sns:REGION:ACCOUNT:NAME
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i <= c->topic_arn.size(); ++i) {
    if (i == c->topic_arn.size() || c->topic_arn[i] == ':') {
      parts.push_back(c->topic_arn.substr(start, i - start));
      start = i + 1;
    }
  }
  if (parts.size() != 6 || parts[0] != "arn" || parts[2] != "sns" || parts[5].empty()) {
    return r.Bad("topic_arn", "must look like arn:aws:sns:REGION:ACCOUNT:TOPIC");
  }
  c->region = parts[3];
  AQ_RETURN_IF_ERROR(r.Str("region", &c->region));
  if (c->region.empty()) return r.Bad("region", "is required when the ARN has none");
  AQ_RETURN_IF_ERROR(r.Str("endpoint", &c->endpoint));
  if (c->endpoint.empty()) c->endpoint = "https://sns." + c->region + ".amazonaws.com/";
  AQ_RETURN_IF_ERROR(r.Str("profile", &c->profile));
  return ParseTls(r, c);
}

Result<ChannelConfig> ParseChannel(const json& j, const std::string& where) {
  if (!j.is_object()) return InvalidArgument("config " + where + " must be an object");
  Reader r(j, where);
  ChannelConfig c;
  std::string type;
  AQ_RETURN_IF_ERROR(r.Str("type", &type));
  if (type == "log") {
    c.type = ChannelType::kLog;
  } else if (type == "webhook") {
    c.type = ChannelType::kWebhook;
  } else if (type == "email" || type == "smtp") {
    c.type = ChannelType::kEmail;
  } else if (type == "sns") {
    c.type = ChannelType::kSns;
  } else {
    return r.Bad("type", "must be log, webhook, email or sns");
  }
  // The name is what the outbox records and `aquasense alerts` shows; it
  // defaults to the type (docs/alerts.md), so two unnamed channels of one
  // type are two channels with the same name (refused below).
  c.name = type;
  AQ_RETURN_IF_ERROR(r.Str("name", &c.name));
  if (!ValidName(c.name)) return r.Bad("name", "must match [A-Za-z0-9._-]{1,64}");
  AQ_RETURN_IF_ERROR(r.StrList("kinds", &c.kinds));
  for (const std::string& k : c.kinds) {
    if (k != "deviation" && k != "data_quality") {
      return r.Bad("kinds", "may only hold \"deviation\" and \"data_quality\"");
    }
  }
  AQ_RETURN_IF_ERROR(r.StrList("sensors", &c.sensors));
  AQ_RETURN_IF_ERROR(r.Int("timeout_ms", 100, 600'000, &c.timeout_ms));

  switch (c.type) {
    case ChannelType::kLog:
      AQ_RETURN_IF_ERROR(r.Str("path", &c.path));
      break;
    case ChannelType::kWebhook:
      AQ_RETURN_IF_ERROR(ParseWebhook(j, r, &c));
      break;
    case ChannelType::kEmail:
      AQ_RETURN_IF_ERROR(ParseEmail(r, &c));
      break;
    case ChannelType::kSns:
      AQ_RETURN_IF_ERROR(ParseSns(r, &c));
      break;
  }
  return c;
}

}  // namespace

const char* ChannelTypeName(ChannelType t) {
  // Indexed by ChannelType: keep in the order of the enum.
  static constexpr std::array<const char*, 4> kNames = {"log", "webhook", "email", "sns"};
  static_assert(kNames.size() == static_cast<size_t>(ChannelType::kSns) + 1);
  return EnumName(t, kNames, "?");
}

bool ChannelConfig::Accepts(std::string_view kind, std::string_view sensor) const {
  auto has = [](const std::vector<std::string>& v, std::string_view x) {
    return v.empty() || std::find(v.begin(), v.end(), x) != v.end();
  };
  return has(kinds, kind) && has(sensors, sensor);
}

bool ChannelConfig::AcceptsAlert(const storage::Alert& alert) const {
  auto in = [](const std::vector<std::string>& v, std::string_view x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  if (!kinds.empty() && !in(kinds, alert.kind)) return false;
  if (sensors.empty()) return true;
  if (!alert.sensor.empty()) return in(sensors, alert.sensor);
  bool complete = true;
  const std::vector<std::string> names = PayloadSensorNames(alert, &complete);
  if (!complete) return true;
  if (names.empty()) return in(sensors, alert.default_sensor);
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& n) { return in(sensors, n); });
}

int64_t BackoffMs(const RetryPolicy& policy, int32_t attempts) {
  int64_t delay = std::max<int64_t>(policy.initial_ms, 1);
  for (int32_t i = 1; i < attempts && delay < policy.max_ms; ++i) delay *= 2;
  return std::min(delay, std::max<int64_t>(policy.max_ms, 1));
}

Result<AlertsConfig> ParseAlertsConfig(const nlohmann::json& config) {
  AlertsConfig out;
  const json empty = json::object();
  const json& a = config.is_object() && config.contains("alerts") ? config["alerts"] : empty;
  if (!a.is_object()) return InvalidArgument("config alerts must be an object");
  Reader r(a, "alerts");
  if (a.contains("sd_limit")) {
    if (!a["sd_limit"].is_number() || !(a["sd_limit"].get<double>() >= 0)) {
      return r.Bad("sd_limit", "must be a number >= 0");
    }
    out.sd_limit = a["sd_limit"].get<double>();
  }
  if (a.contains("retry")) {
    if (!a["retry"].is_object()) return r.Bad("retry", "must be an object");
    Reader rr(a["retry"], "alerts.retry");
    AQ_RETURN_IF_ERROR(rr.Int("initial_ms", 1, 86'400'000, &out.retry.initial_ms));
    AQ_RETURN_IF_ERROR(rr.Int("max_ms", 1, 86'400'000, &out.retry.max_ms));
    int64_t give_up_s = 0;
    AQ_RETURN_IF_ERROR(rr.Int("give_up_after_s", 0, INT64_MAX / 1000, &give_up_s));
    out.retry.give_up_after_ms = give_up_s * 1000;
  }
  bool log = true;
  AQ_RETURN_IF_ERROR(r.Bool("log", &log));

  std::set<std::string> names;
  if (a.contains("channels")) {
    if (!a["channels"].is_array()) return r.Bad("channels", "must be a list");
    for (size_t i = 0; i < a["channels"].size(); ++i) {
      auto c = ParseChannel(a["channels"][i], "alerts.channels[" + std::to_string(i) + "]");
      if (!c.ok()) return c.status();
      if (!names.insert(c->name).second) {
        return InvalidArgument("config alerts.channels: two channels are named \"" + c->name +
                               "\"");
      }
      out.channels.push_back(std::move(*c));
    }
  }
  if (log && names.count("log") == 0) {
    ChannelConfig c;
    c.name = "log";
    out.channels.insert(out.channels.begin(), std::move(c));
  }
  return out;
}

Result<std::vector<ChannelConfig>> ParseChannels(const nlohmann::json& config) {
  auto a = ParseAlertsConfig(config);
  if (!a.ok()) return a.status();
  return std::move(a->channels);
}

std::vector<std::string> ChannelNames(const nlohmann::json& config) {
  auto channels = ParseChannels(config);
  if (!channels.ok()) return {"log"};
  std::vector<std::string> names;
  for (const ChannelConfig& c : *channels) names.push_back(c.name);
  return names;
}

}  // namespace aquasense::notify
