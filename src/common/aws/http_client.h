// HttpClient: the one HTTP client every AWS call goes through (libcurl,
// loaded on first use), with kept-alive connections, timeouts, streamed
// bodies and ranged reads; SendWithRetry adds the SDKs' retry policy.
//
//   aws::HttpClient http;
//   aws::HttpRequest req{.method = "GET", .url = "http://127.0.0.1:5000/b/k",
//                        .headers = {{"Range", "bytes=0-99"}}};
//   Result<aws::HttpResponse> r = http.Send(req);    // r->status == 206
//   Status s = aws::StatusFromResponse(*r, "GET s3://b/k");  // 404 -> kNotFound
//
// Keep-alive: finished easy handles go back to a pool and are reused, so
// their connections (and DNS and TLS sessions) are too.
// Thread-safe: Send may be called from any number of threads at once.
// Errors from Send: kUnavailable for transport failures (refused, reset,
// timeout, TLS, libcurl missing); an HTTP error status is a response, which
// StatusFromResponse maps to a code.
// Every request signed with SigV4 is counted per service (request_stats.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/aws/sigv4.h"
#include "common/status.h"

namespace aquasense::aws {

struct HttpRequest {
  std::string method = "GET";  // GET PUT HEAD DELETE POST
  std::string url{};
  std::vector<Header> headers{};
  // The body (PUT, POST): `body` as is, or, when `body_source` is set,
  // `body_size` bytes read through it (it may be asked again from offset 0
  // on a retry).
  std::string_view body{};
  std::function<size_t(uint64_t offset, char* buf, size_t n)> body_source{};
  uint64_t body_size = 0;
  // Where the response body goes: when set, called with each piece (return
  // false to abort the transfer); else kept in HttpResponse::body, up to
  // `max_body` bytes (more is an error).
  std::function<bool(std::string_view)> on_body{};
  size_t max_body = 64u << 20;
  int64_t timeout_ms = 60'000;  // the whole exchange
  int64_t connect_timeout_ms = 5'000;
  int64_t low_speed_time_s = 30;  // abort when under 1 byte/s for this long
  // TLS: an extra CA bundle (empty: the system's), or no verification at all.
  std::string ca_file{};
  bool insecure_tls = false;
};

struct HttpResponse {
  long status = 0;
  std::vector<Header> headers{};  // names as received
  std::string body{};             // unless HttpRequest::on_body took it

  // The value of header `name` (case-insensitive), "" when absent.
  std::string HeaderValue(std::string_view name) const;
};

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  Result<HttpResponse> Send(const HttpRequest& request);

 private:
  struct Pool;
  std::unique_ptr<Pool> pool_;
};

// The AWS error code of an error response: <Code> of an XML body (S3, SQS,
// SNS), "__type" of a JSON one (DynamoDB, without its namespace), else "".
std::string AwsErrorCode(const HttpResponse& response);

// OK for 2xx; else the code for the status, the message naming `what`:
// 404 -> kNotFound; 400 (other than throttling), 405, 411, 413, 414 ->
// kInvalidArgument; 401, 403 -> kFailedPrecondition (credentials or access
// refused); 409, 412 -> kFailedPrecondition (a condition failed); a
// retryable response (IsRetryable) -> kUnavailable; others -> kInternal.
Status StatusFromResponse(const HttpResponse& response, std::string_view what);

// Whether AWS documents the response as worth retrying: 500, 502, 503, 504,
// 429, and the throttling and transient error codes (Throttling,
// ThrottlingException, ThrottledException, RequestThrottledException,
// TooManyRequestsException, ProvisionedThroughputExceededException,
// RequestLimitExceeded, BandwidthLimitExceeded, LimitExceededException,
// SlowDown, RequestThrottled, PriorRequestNotComplete, RequestTimeout,
// RequestTimeoutException, InternalError, TransactionConflictException,
// TransactionInProgressException), whatever the status.
bool IsRetryable(const HttpResponse& response);

struct RetryPolicy {
  int max_attempts = 5;         // AWS_MAX_ATTEMPTS overrides (see credentials.h)
  int64_t base_delay_ms = 100;  // the first back-off's upper bound
  int64_t max_delay_ms = 20'000;
  // Injected for tests: the sleep, and a uniform random in [0, bound].
  std::function<void(int64_t ms)> sleep;
  std::function<int64_t(int64_t bound)> random;
};

// Full-jitter back-off before retry number `attempt` (1, 2, ...): uniform
// in [0, min(max_delay, base_delay * 2^(attempt-1))].
int64_t BackoffMs(const RetryPolicy& policy, int attempt);

// Sends the request `make()` builds (called again for every attempt, so it
// is signed afresh), retrying transport errors and retryable responses with
// full-jitter back-off, up to policy.max_attempts in all. Returns the last
// response (which may be an error status: see StatusFromResponse) or the
// last transport error (kUnavailable).
Result<HttpResponse> SendWithRetry(HttpClient& client,
                                   const std::function<Result<HttpRequest>()>& make,
                                   const RetryPolicy& policy);

}  // namespace aquasense::aws
