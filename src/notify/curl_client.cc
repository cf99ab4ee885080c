#include "notify/curl_client.h"

#include <curl/curl.h>
#include <strings.h>

#include <algorithm>
#include <cstring>

#include "common/aws/curl_api.h"
#include "notify/redact.h"

namespace aquasense::notify {
namespace {

using aws::CurlApi;
using aws::LoadCurl;

constexpr size_t kMaxResponse = 64 * 1024;

size_t KeepBody(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  size_t bytes = size * n;
  if (out->size() < kMaxResponse) out->append(data, std::min(bytes, kMaxResponse - out->size()));
  return bytes;
}

struct Upload {
  const std::string* data;
  size_t pos = 0;
};

size_t ReadUpload(char* buf, size_t size, size_t n, void* user) {
  auto* up = static_cast<Upload*>(user);
  size_t len = std::min(size * n, up->data->size() - up->pos);
  // Bytes, not a string: nothing to terminate.
  // NOLINTNEXTLINE(bugprone-not-null-terminated-result)
  std::memcpy(buf, up->data->data() + up->pos, len);
  up->pos += len;
  return len;
}

struct Easy {
  explicit Easy(const CurlApi& c) : api(c), h(c.easy_init()) {}
  ~Easy() {
    api.slist_free_all(list);
    if (h != nullptr) api.easy_cleanup(h);
  }
  void Append(curl_slist** l, const std::string& s) { *l = api.slist_append(*l, s.c_str()); }
  template <typename T>
  void Set(CURLoption option, T value) {
    api.easy_setopt(h, option, value);
  }

  const CurlApi& api;
  CURL* h;
  curl_slist* list = nullptr;
  char error[CURL_ERROR_SIZE] = {0};
};

void CommonOptions(Easy& e, const std::string& url, int64_t timeout_ms, const TlsOptions& tls) {
  e.Set(CURLOPT_URL, url.c_str());
  e.Set(CURLOPT_NOSIGNAL, 1L);
  e.Set(CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
  e.Set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<int64_t>(timeout_ms, 5000)));
  e.Set(CURLOPT_ERRORBUFFER, e.error);
  if (!tls.ca_file.empty()) e.Set(CURLOPT_CAINFO, tls.ca_file.c_str());
  if (tls.insecure) {
    e.Set(CURLOPT_SSL_VERIFYPEER, 0L);
    e.Set(CURLOPT_SSL_VERIFYHOST, 0L);
  }
}

// The URL is shown as scheme://host[:port] only: its userinfo, path and
// query may be secrets (M4); libcurl's message is redacted the same way.
Status Failure(const Easy& e, CURLcode rc, const std::string& url) {
  std::string msg = e.error[0] != '\0' ? e.error : e.api.easy_strerror(rc);
  return Unavailable(RedactUrl(url) + ": " + SafeError(msg));
}

// One transfer to req.url on a new handle: the options every request shares
// (CommonOptions), then those `setup` adds. The response code (HTTP status,
// or the last SMTP reply), or why there was none.
template <typename Request, typename Setup>
Result<long> Transfer(const Request& req, Setup&& setup) {
  std::string error;
  const CurlApi* api = LoadCurl(&error);
  if (api == nullptr) return Unavailable(error);
  Easy e(*api);
  if (e.h == nullptr) return Internal("curl_easy_init failed");
  CommonOptions(e, req.url, req.timeout_ms, req.tls);
  setup(e);
  CURLcode rc = api->easy_perform(e.h);
  if (rc != CURLE_OK) return Failure(e, rc, req.url);
  long code = 0;
  api->easy_getinfo(e.h, CURLINFO_RESPONSE_CODE, &code);
  return code;
}

}  // namespace

Status EnsureCurlInitialized() {
  std::string error;
  return LoadCurl(&error) != nullptr ? Status::Ok() : Unavailable(error);
}

Result<HttpResponse> HttpPost(const HttpRequest& req) {
  HttpResponse resp;
  auto code = Transfer(req, [&](Easy& e) {
    e.Set(CURLOPT_PROTOCOLS_STR, "http,https");
    e.Set(CURLOPT_POST, 1L);
    e.Set(CURLOPT_POSTFIELDS, req.body.data());
    e.Set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    bool has_expect = false;
    for (const auto& [k, v] : req.headers) {
      e.Append(&e.list, k + ": " + v);
      has_expect = has_expect || strcasecmp(k.c_str(), "Expect") == 0;
    }
    if (!has_expect) e.Append(&e.list, "Expect:");  // no 100-continue round trip
    e.Set(CURLOPT_HTTPHEADER, e.list);
    e.Set(CURLOPT_WRITEFUNCTION, KeepBody);
    e.Set(CURLOPT_WRITEDATA, &resp.body);
  });
  if (!code.ok()) return code.status();
  resp.status = *code;
  return resp;
}

Status SmtpSend(const SmtpRequest& req) {
  const std::string from = "<" + req.from + ">";
  Upload up{&req.message};
  auto setup = [&](Easy& e) {
    e.Set(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    e.Set(CURLOPT_USE_SSL, static_cast<long>(req.require_tls ? CURLUSESSL_ALL : CURLUSESSL_NONE));
    if (!req.username.empty()) {
      e.Set(CURLOPT_USERNAME, req.username.c_str());
      e.Set(CURLOPT_PASSWORD, req.password.c_str());
    }
    e.Set(CURLOPT_MAIL_FROM, from.c_str());
    for (const std::string& to : req.to) e.Append(&e.list, "<" + to + ">");
    e.Set(CURLOPT_MAIL_RCPT, e.list);
    e.Set(CURLOPT_READFUNCTION, ReadUpload);
    e.Set(CURLOPT_READDATA, &up);
    e.Set(CURLOPT_UPLOAD, 1L);
  };
  return Transfer(req, setup).status();
}

}  // namespace aquasense::notify
