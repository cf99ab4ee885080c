#include "common/aws/request_stats.h"

#include <mutex>
#include <nlohmann/json.hpp>

namespace aquasense::aws {
namespace {

std::mutex& Mu() {
  static std::mutex mu;
  return mu;
}

std::map<std::string, ServiceCount>& Counts() {
  static std::map<std::string, ServiceCount> counts;
  return counts;
}

}  // namespace

void CountRequest(std::string_view service, uint64_t bytes_sent, uint64_t bytes_received) {
  std::lock_guard lock(Mu());
  ServiceCount& c = Counts()[std::string(service)];
  ++c.requests;
  c.bytes_sent += static_cast<int64_t>(bytes_sent);
  c.bytes_received += static_cast<int64_t>(bytes_received);
}

std::map<std::string, ServiceCount> RequestCounts() {
  std::lock_guard lock(Mu());
  return Counts();
}

void ResetRequestCounts() {
  std::lock_guard lock(Mu());
  Counts().clear();
}

std::string ServiceOfAuthorization(std::string_view auth) {
  constexpr std::string_view kCredential = "Credential=";
  const size_t at = auth.find(kCredential);
  if (!auth.starts_with("AWS4-HMAC-SHA256") || at == std::string_view::npos) return "";
  std::string_view scope = auth.substr(at + kCredential.size());
  scope = scope.substr(0, scope.find_first_of(", "));
  // AK/date/region/service/aws4_request
  size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    pos = scope.find('/', pos);
    if (pos == std::string_view::npos) return "";
    ++pos;
  }
  const size_t end = scope.find('/', pos);
  if (end == std::string_view::npos) return "";
  return std::string(scope.substr(pos, end - pos));
}

std::string RequestCountsJson() {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [service, c] : RequestCounts()) {
    j[service] = {{"requests", c.requests},
                  {"bytes_sent", c.bytes_sent},
                  {"bytes_received", c.bytes_received}};
  }
  return j.dump();
}

}  // namespace aquasense::aws
