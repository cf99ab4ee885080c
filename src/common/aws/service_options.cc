#include "common/aws/service_options.h"

#include <utility>

#include "common/crypto.h"

namespace aquasense::aws {

Result<ServiceOptions> ServiceOptionsFromEnvironment(const Env& env,
                                                     std::shared_ptr<HttpClient> http,
                                                     std::string_view service,
                                                     bool* custom_endpoint) {
  auto settings = LoadSettings(env);
  if (!settings.ok()) return settings.status();
  ServiceOptions o;
  o.region = settings->region;
  o.endpoint = ResolveEndpoint(env.lookup, service, o.region, custom_endpoint);
  o.credentials = NewDefaultCredentialsChain(env);
  o.http = std::move(http);
  o.clock = env.clock;
  o.retry.max_attempts = settings->max_attempts;
  return o;
}

std::pair<std::string, std::string> SplitEndpoint(std::string_view endpoint) {
  const size_t colon = endpoint.find("://");
  std::string_view scheme = colon == std::string_view::npos ? "https" : endpoint.substr(0, colon);
  std::string_view rest = colon == std::string_view::npos ? endpoint : endpoint.substr(colon + 3);
  return {std::string(scheme), std::string(rest.substr(0, rest.find('/')))};
}

Result<HttpRequest> SignedJsonPost(const ServiceOptions& o, std::string_view service,
                                   const std::string& target, const std::string& body) {
  auto creds = o.credentials->Get();
  if (!creds.ok()) return creds.status();
  const auto [scheme, authority] = SplitEndpoint(o.endpoint);
  SignRequest s;
  s.method = "POST";
  s.host = authority;
  s.path = "/";
  s.headers = {{"Content-Type", "application/x-amz-json-1.0"}, {"X-Amz-Target", target}};
  s.payload_sha256 = Sha256Hex(body);
  HttpRequest req;
  req.method = "POST";
  req.url = scheme + "://" + authority + "/";
  req.headers = Sign(s, *creds, {o.region, std::string(service)}, o.clock->NowMs());
  req.body = body;
  return req;
}

}  // namespace aquasense::aws
