// Request counters per AWS service, kept by the process: every request the
// one HTTP client (http_client.h) sends with a SigV4 Authorization header is
// counted under the service its credential scope names ("s3", "sqs",
// "dynamodb", "sns"), retries included, with the bytes of its body and of
// the response body. `worker --json`, bench/aws and /metrics report them.
//
//   aws::CountRequest("sqs", 120, 800);
//   for (const auto& [service, n] : aws::RequestCounts()) ... n.requests ...
//
// Thread-safe (one mutex; a counter update per request). No errors.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace aquasense::aws {

struct ServiceCount {
  int64_t requests = 0;
  int64_t bytes_sent = 0;      // request bodies
  int64_t bytes_received = 0;  // response bodies
};

void CountRequest(std::string_view service, uint64_t bytes_sent, uint64_t bytes_received);

// A copy of the counters, by service name.
std::map<std::string, ServiceCount> RequestCounts();

// Sets every counter back to zero (tests, benchmarks).
void ResetRequestCounts();

// The service of a SigV4 Authorization header value
// ("AWS4-HMAC-SHA256 Credential=AK/20260101/eu-west-1/sqs/aws4_request, ..."
// -> "sqs"), "" when it is not one.
std::string ServiceOfAuthorization(std::string_view authorization);

// {"s3":{"requests":N,"bytes_sent":N,"bytes_received":N},...} on one line.
std::string RequestCountsJson();

}  // namespace aquasense::aws
