#include "storage/keys.h"

#include "core/validate.h"

namespace aquasense::storage::keys {
namespace {

constexpr std::string_view kCsv = ".csv";

std::string Join(std::string_view prefix, std::string_view sensor, std::string_view name,
                 std::string_view suffix) {
  std::string key;
  key.reserve(prefix.size() + sensor.size() + 1 + name.size() + suffix.size());
  key.append(prefix).append(sensor).append(1, '/').append(name).append(suffix);
  return key;
}

}  // namespace

bool IsSha256Hex(std::string_view s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

std::string Landing(std::string_view sensor, std::string_view sha256) {
  return Join(kLandingPrefix, sensor, sha256, kCsv);
}

std::string LandingIncoming(std::string_view sensor) {
  return Join(kLandingPrefix, sensor, "incoming", kCsv);
}

std::optional<LandingName> ParseLanding(std::string_view key) {
  if (!key.starts_with(kLandingPrefix) || !key.ends_with(kCsv)) return std::nullopt;
  std::string_view rest = key.substr(kLandingPrefix.size());
  rest.remove_suffix(kCsv.size());
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view sensor = rest.substr(0, slash);
  const std::string_view hash = rest.substr(slash + 1);
  if (!core::IsValidSensorId(sensor) || !IsSha256Hex(hash)) return std::nullopt;
  return LandingName{std::string(sensor), std::string(hash)};
}

std::string FilteredValid(std::string_view sensor, std::string_view name) {
  return Join(kFilteredPrefix, sensor, name, ".valid.csv");
}

std::string FilteredInvalid(std::string_view sensor, std::string_view name) {
  return Join(kFilteredPrefix, sensor, name, ".invalid.csv");
}

std::string Monthly(std::string_view sensor) {
  std::string key(kMonthlyPrefix);
  key.append(sensor).append(kCsv);
  return key;
}

std::optional<std::string> ParseMonthly(std::string_view key) {
  if (!key.starts_with(kMonthlyPrefix) || !key.ends_with(kCsv)) return std::nullopt;
  std::string_view sensor = key.substr(kMonthlyPrefix.size());
  sensor.remove_suffix(kCsv.size());
  return std::string(sensor);
}

}  // namespace aquasense::storage::keys
