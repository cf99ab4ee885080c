// ServiceOptions: what every AWS service client holds (where to send, how to
// sign, how to retry), and the one reading of it from the SDK settings.
//
//   aws::Env env{aws::ProcessEnv(), http.get(), &clock};
//   auto o = aws::ServiceOptionsFromEnvironment(env, http, "sqs");
//   if (!o.ok()) return o.status();
//
// The clients' options (SqsOptions, DynamoOptions, storage::S3Options) are
// ServiceOptions plus their own settings. Plain values; the pointers must
// outlive the client. Errors: those of LoadSettings (a bad profile, a bad
// AWS_MAX_ATTEMPTS).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "common/aws/credentials.h"
#include "common/aws/http_client.h"
#include "common/clock.h"
#include "common/status.h"

namespace aquasense::aws {

struct ServiceOptions {
  std::string endpoint;  // "https://sqs.eu-west-1.amazonaws.com" or a custom one
  std::string region = "us-east-1";
  std::shared_ptr<CredentialsProvider> credentials;
  std::shared_ptr<HttpClient> http;
  const Clock* clock = nullptr;  // signing time
  RetryPolicy retry;
};

// Options from the SDK settings (credentials.h): the region, the endpoint of
// `service` ("s3", "dynamodb", "sqs": AWS_ENDPOINT_URL_<SERVICE>,
// AWS_ENDPOINT_URL, else AWS's own), the default credential chain and the
// attempts (AWS_MAX_ATTEMPTS). `custom_endpoint`, when given, tells whether a
// variable chose the endpoint (S3 then addresses path-style). `env.clock` and
// `http` must outlive the client.
Result<ServiceOptions> ServiceOptionsFromEnvironment(const Env& env,
                                                     std::shared_ptr<HttpClient> http,
                                                     std::string_view service,
                                                     bool* custom_endpoint = nullptr);

// "https://host:port/path" -> {"https", "host:port"}; "host" -> {"https", "host"}.
std::pair<std::string, std::string> SplitEndpoint(std::string_view endpoint);

// A signed `POST /` to o.endpoint in the AWS JSON protocol 1.0 (DynamoDB, SQS):
// Content-Type application/x-amz-json-1.0, X-Amz-Target `target`, and `body`,
// signed for `service` at o.clock's time. Errors: those of o.credentials.
Result<HttpRequest> SignedJsonPost(const ServiceOptions& o, std::string_view service,
                                   const std::string& target, const std::string& body);

}  // namespace aquasense::aws
