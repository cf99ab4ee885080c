#include "common/aws/http_client.h"

#include <curl/curl.h>
#include <strings.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "common/aws/curl_api.h"
#include "common/aws/request_stats.h"

namespace aquasense::aws {
namespace {

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// One exchange's state, seen by libcurl's callbacks.
struct Exchange {
  const HttpRequest* req;
  HttpResponse* resp;
  uint64_t sent = 0;
  uint64_t received = 0;  // response body bytes (request_stats.h)
  bool too_big = false;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* x = static_cast<Exchange*>(user);
  const size_t bytes = size * n;
  x->received += bytes;
  if (x->req->on_body) return x->req->on_body(std::string_view(data, bytes)) ? bytes : 0;
  if (x->resp->body.size() + bytes > x->req->max_body) {
    x->too_big = true;
    return 0;
  }
  x->resp->body.append(data, bytes);
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* x = static_cast<Exchange*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) x->resp->headers.clear();  // a new response (after 100, redirects)
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
      value.remove_suffix(1);
    x->resp->headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  return size * n;
}

size_t OnUpload(char* buf, size_t size, size_t n, void* user) {
  auto* x = static_cast<Exchange*>(user);
  const HttpRequest& r = *x->req;
  const uint64_t total = r.body_source ? r.body_size : r.body.size();
  const size_t want = static_cast<size_t>(std::min<uint64_t>(size * n, total - x->sent));
  size_t got = want;
  if (r.body_source) {
    got = r.body_source(x->sent, buf, want);
    if (got == 0 && want > 0) return CURL_READFUNC_ABORT;
  } else {
    std::memcpy(buf, r.body.data() + x->sent, want);
  }
  x->sent += got;
  return got;
}

int OnSeek(void* user, curl_off_t offset, int origin) {  // libcurl rewinds on redirects/auth
  auto* x = static_cast<Exchange*>(user);
  if (origin != SEEK_SET || offset < 0) return CURL_SEEKFUNC_CANTSEEK;
  x->sent = static_cast<uint64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

}  // namespace

std::string HttpResponse::HeaderValue(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (IEquals(k, name)) return v;
  return "";
}

// Idle easy handles: each keeps its connections open for the next request.
struct HttpClient::Pool {
  std::mutex mu;
  std::vector<CURL*> idle;
  const CurlApi* api = nullptr;
};

HttpClient::HttpClient() : pool_(std::make_unique<Pool>()) {}

HttpClient::~HttpClient() {
  for (CURL* h : pool_->idle) pool_->api->easy_cleanup(h);
}

// Long on purpose: one request and its retry loop, curl options and retry rule read together
// NOLINTNEXTLINE(readability-function-size)
Result<HttpResponse> HttpClient::Send(const HttpRequest& req) {
  std::string error;
  const CurlApi* api = LoadCurl(&error);
  if (api == nullptr) return Unavailable(error);
  CURL* h = nullptr;
  {
    std::lock_guard lock(pool_->mu);
    pool_->api = api;
    if (!pool_->idle.empty()) {
      h = pool_->idle.back();
      pool_->idle.pop_back();
    }
  }
  if (h == nullptr)
    h = api->easy_init();
  else
    api->easy_reset(h);  // options cleared, connections kept
  if (h == nullptr) return Internal("curl_easy_init failed");

  HttpResponse resp;
  Exchange x{&req, &resp};
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_slist* list = nullptr;
  bool has_type = false;
  for (const auto& [k, v] : req.headers) {
    list = api->slist_append(list, (k + ": " + v).c_str());
    has_type = has_type || IEquals(k, "Content-Type");
  }
  // moto stores a body sent without a type under curl's form default; no
  // 100-continue round trip; no Accept header of curl's own.
  if (!has_type) list = api->slist_append(list, "Content-Type: application/octet-stream");
  list = api->slist_append(list, "Expect:");
  list = api->slist_append(list, "Accept:");

  auto set = [&](CURLoption o, auto v) { api->easy_setopt(h, o, v); };
  set(CURLOPT_URL, req.url.c_str());
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout_ms));
  set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(req.connect_timeout_ms));
  set(CURLOPT_LOW_SPEED_LIMIT, 1L);
  set(CURLOPT_LOW_SPEED_TIME, static_cast<long>(req.low_speed_time_s));
  set(CURLOPT_ERRORBUFFER, errbuf);
  set(CURLOPT_HTTPHEADER, list);
  set(CURLOPT_WRITEFUNCTION, OnBody);
  set(CURLOPT_WRITEDATA, &x);
  set(CURLOPT_HEADERFUNCTION, OnHeader);
  set(CURLOPT_HEADERDATA, &x);
  const uint64_t size = req.body_source ? req.body_size : req.body.size();
  if (req.method == "HEAD") {
    set(CURLOPT_NOBODY, 1L);
  } else if (req.method == "PUT" || req.method == "POST") {
    set(CURLOPT_UPLOAD, 1L);  // PUT with a read callback; POST switches the verb below
    set(CURLOPT_READFUNCTION, OnUpload);
    set(CURLOPT_READDATA, &x);
    set(CURLOPT_SEEKFUNCTION, OnSeek);
    set(CURLOPT_SEEKDATA, &x);
    set(CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
    if (req.method == "POST") set(CURLOPT_CUSTOMREQUEST, "POST");
  } else if (req.method != "GET") {
    set(CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
  if (!req.ca_file.empty()) set(CURLOPT_CAINFO, req.ca_file.c_str());
  if (req.insecure_tls) {
    set(CURLOPT_SSL_VERIFYPEER, 0L);
    set(CURLOPT_SSL_VERIFYHOST, 0L);
  }
  const CURLcode rc = api->easy_perform(h);
  for (const auto& [k, v] : req.headers) {
    if (!IEquals(k, "Authorization")) continue;
    if (std::string service = ServiceOfAuthorization(v); !service.empty())
      CountRequest(service, rc == CURLE_OK ? size : x.sent, x.received);
  }
  api->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status);
  api->slist_free_all(list);
  {
    std::lock_guard lock(pool_->mu);
    pool_->idle.push_back(h);
  }
  if (x.too_big) {
    return Unavailable(req.method + " " + req.url + ": response body over " +
                       std::to_string(req.max_body) + " bytes");
  }
  if (rc != CURLE_OK) {
    return Unavailable(req.method + " " + req.url + ": " +
                       (errbuf[0] != '\0' ? errbuf : api->easy_strerror(rc)));
  }
  return resp;
}

std::string AwsErrorCode(const HttpResponse& r) {
  const std::string& b = r.body;
  const size_t open = b.find("<Code>");
  if (open != std::string::npos) {
    const size_t close = b.find("</Code>", open);
    if (close != std::string::npos) return b.substr(open + 6, close - open - 6);
  }
  if (!b.empty() && b.front() == '{') {
    auto j = nlohmann::json::parse(b, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("__type") && j["__type"].is_string()) {
      std::string type = j["__type"];
      const size_t hash = type.rfind('#');
      return hash == std::string::npos ? type : type.substr(hash + 1);
    }
  }
  return r.HeaderValue("x-amzn-ErrorType").substr(0, r.HeaderValue("x-amzn-ErrorType").find(':'));
}

bool IsRetryable(const HttpResponse& r) {
  if (r.status == 429 || r.status == 500 || r.status == 502 || r.status == 503 || r.status == 504)
    return true;
  if (r.status < 400) return false;
  static constexpr std::string_view kCodes[] = {"Throttling",
                                                "ThrottlingException",
                                                "ThrottledException",
                                                "RequestThrottledException",
                                                "TooManyRequestsException",
                                                "ProvisionedThroughputExceededException",
                                                "RequestLimitExceeded",
                                                "BandwidthLimitExceeded",
                                                "LimitExceededException",
                                                "SlowDown",
                                                "RequestThrottled",
                                                "PriorRequestNotComplete",
                                                "RequestTimeout",
                                                "RequestTimeoutException",
                                                "InternalError",
                                                "TransactionConflictException",
                                                "TransactionInProgressException"};
  const std::string code = AwsErrorCode(r);
  return std::find(std::begin(kCodes), std::end(kCodes), code) != std::end(kCodes);
}

Status StatusFromResponse(const HttpResponse& r, std::string_view what) {
  if (r.status >= 200 && r.status < 300) return Status::Ok();
  std::string code = AwsErrorCode(r);
  std::string msg =
      std::string(what) + ": HTTP " + std::to_string(r.status) + (code.empty() ? "" : " " + code);
  if (IsRetryable(r)) return Unavailable(msg);
  switch (r.status) {
    case 404:
      return NotFound(msg);
    case 400:
    case 405:
    case 411:
    case 413:
    case 414:
      return InvalidArgument(msg);
    case 401:
    case 403:
      return FailedPrecondition(msg + " (check the AWS credentials and permissions)");
    case 409:
    case 412:
      return FailedPrecondition(msg);
    default:
      return Internal(msg);
  }
}

int64_t BackoffMs(const RetryPolicy& p, int attempt) {
  int64_t bound = p.base_delay_ms;
  for (int i = 1; i < attempt && bound < p.max_delay_ms; ++i) bound *= 2;
  bound = std::min(bound, p.max_delay_ms);
  if (p.random) return std::clamp<int64_t>(p.random(bound), 0, bound);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_int_distribution<int64_t>(0, bound)(rng);
}

Result<HttpResponse> SendWithRetry(HttpClient& client,
                                   const std::function<Result<HttpRequest>()>& make,
                                   const RetryPolicy& policy) {
  for (int attempt = 1;; ++attempt) {
    auto req = make();
    if (!req.ok()) return req.status();
    auto resp = client.Send(*req);
    const bool again = !resp.ok() ? resp.status().code() == Code::kUnavailable : IsRetryable(*resp);
    if (!again || attempt >= std::max(1, policy.max_attempts)) return resp;
    const int64_t ms = BackoffMs(policy, attempt);
    if (policy.sleep)
      policy.sleep(ms);
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }
}

}  // namespace aquasense::aws
