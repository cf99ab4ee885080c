#include "notify/curl_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <strings.h>

#include <cstring>
#include <mutex>

namespace aquasense::notify {
namespace {

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
  std::memcpy(buf, up->data->data() + up->pos, len);
  up->pos += len;
  return len;
}

struct Easy {
  CURL* h = curl_easy_init();
  curl_slist* list = nullptr;
  char error[CURL_ERROR_SIZE] = {0};
  ~Easy() {
    curl_slist_free_all(list);
    if (h != nullptr) curl_easy_cleanup(h);
  }
  void Append(curl_slist** l, const std::string& s) { *l = curl_slist_append(*l, s.c_str()); }
};

void CommonOptions(Easy& e, const std::string& url, int64_t timeout_ms, const TlsOptions& tls) {
  curl_easy_setopt(e.h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e.h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e.h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
  curl_easy_setopt(e.h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<int64_t>(timeout_ms, 5000)));
  curl_easy_setopt(e.h, CURLOPT_ERRORBUFFER, e.error);
  if (!tls.ca_file.empty()) curl_easy_setopt(e.h, CURLOPT_CAINFO, tls.ca_file.c_str());
  if (tls.insecure) {
    curl_easy_setopt(e.h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e.h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
}

Status Failure(const Easy& e, CURLcode rc, const std::string& url) {
  std::string msg = e.error[0] != '\0' ? e.error : curl_easy_strerror(rc);
  return Unavailable(url + ": " + msg);
}

}  // namespace

void EnsureCurlInitialized() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Result<HttpResponse> HttpPost(const HttpRequest& req) {
  EnsureCurlInitialized();
  Easy e;
  if (e.h == nullptr) return Internal("curl_easy_init failed");
  CommonOptions(e, req.url, req.timeout_ms, req.tls);
  curl_easy_setopt(e.h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e.h, CURLOPT_POST, 1L);
  curl_easy_setopt(e.h, CURLOPT_POSTFIELDS, req.body.data());
  curl_easy_setopt(e.h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  bool has_expect = false;
  for (const auto& [k, v] : req.headers) {
    e.Append(&e.list, k + ": " + v);
    has_expect = has_expect || strcasecmp(k.c_str(), "Expect") == 0;
  }
  if (!has_expect) e.Append(&e.list, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(e.h, CURLOPT_HTTPHEADER, e.list);
  HttpResponse resp;
  curl_easy_setopt(e.h, CURLOPT_WRITEFUNCTION, KeepBody);
  curl_easy_setopt(e.h, CURLOPT_WRITEDATA, &resp.body);
  CURLcode rc = curl_easy_perform(e.h);
  if (rc != CURLE_OK) return Failure(e, rc, req.url);
  curl_easy_getinfo(e.h, CURLINFO_RESPONSE_CODE, &resp.status);
  return resp;
}

Status SmtpSend(const SmtpRequest& req) {
  EnsureCurlInitialized();
  Easy e;
  if (e.h == nullptr) return Internal("curl_easy_init failed");
  CommonOptions(e, req.url, req.timeout_ms, req.tls);
  curl_easy_setopt(e.h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(e.h, CURLOPT_USE_SSL,
                   static_cast<long>(req.require_tls ? CURLUSESSL_ALL : CURLUSESSL_NONE));
  if (!req.username.empty()) {
    curl_easy_setopt(e.h, CURLOPT_USERNAME, req.username.c_str());
    curl_easy_setopt(e.h, CURLOPT_PASSWORD, req.password.c_str());
  }
  std::string from = "<" + req.from + ">";
  curl_easy_setopt(e.h, CURLOPT_MAIL_FROM, from.c_str());
  for (const std::string& to : req.to) e.Append(&e.list, "<" + to + ">");
  curl_easy_setopt(e.h, CURLOPT_MAIL_RCPT, e.list);
  Upload up{&req.message};
  curl_easy_setopt(e.h, CURLOPT_READFUNCTION, ReadUpload);
  curl_easy_setopt(e.h, CURLOPT_READDATA, &up);
  curl_easy_setopt(e.h, CURLOPT_UPLOAD, 1L);
  CURLcode rc = curl_easy_perform(e.h);
  if (rc != CURLE_OK) return Failure(e, rc, req.url);
  return Status::Ok();
}

}  // namespace aquasense::notify
