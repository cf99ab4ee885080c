#include "cli/config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/number.h"
#include "notify/notifier.h"

namespace aquasense::cli {

Result<nlohmann::json> LoadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return InvalidArgument("cannot read the config file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return InvalidArgument("the config file " + path + " is not a JSON object");
  return j;
}

namespace {
Status ReadNumber(const nlohmann::json& obj, const char* key, double& out) {
  if (!obj.is_object() || !obj.contains(key)) return Status::Ok();
  const auto& v = obj[key];
  if (!v.is_number()) return InvalidArgument(std::string("config: \"") + key + "\" must be a number");
  out = v.get<double>();
  return Status::Ok();
}
}  // namespace

Result<pipeline::Options> PipelineOptionsFrom(const nlohmann::json& config) {
  pipeline::Options o;
  const nlohmann::json empty = nlohmann::json::object();
  const auto& limits = config.contains("limits") ? config["limits"] : empty;
  AQ_RETURN_IF_ERROR(ReadNumber(limits, "temp_min", o.limits.temp_min));
  AQ_RETURN_IF_ERROR(ReadNumber(limits, "temp_max", o.limits.temp_max));
  AQ_RETURN_IF_ERROR(ReadNumber(limits, "sd_min", o.limits.sd_min));
  AQ_RETURN_IF_ERROR(ReadNumber(limits, "sd_max", o.limits.sd_max));
  const auto& alerts = config.contains("alerts") ? config["alerts"] : empty;
  AQ_RETURN_IF_ERROR(ReadNumber(alerts, "sd_limit", o.limits.sd_alert));
  if (const char* env = std::getenv("AQUASENSE_SD_LIMIT")) {
    auto v = core::ParseNumber(env, false);
    if (!v) return InvalidArgument("AQUASENSE_SD_LIMIT is not a number");
    o.limits.sd_alert = *v;
  }
  if (o.limits.temp_min > o.limits.temp_max || o.limits.sd_min > o.limits.sd_max)
    return InvalidArgument("config: a limit's minimum is above its maximum");
  // A bad "alerts" section is a usage error now, not an ingest that quietly
  // records alerts for the log channel only.
  auto alerts_config = notify::ParseAlertsConfig(config);
  if (!alerts_config.ok()) return alerts_config.status();
  o.alert_channels = notify::ChannelNames(config);
  return o;
}

}  // namespace aquasense::cli

