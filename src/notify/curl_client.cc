#include "notify/curl_client.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <strings.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "notify/redact.h"

namespace aquasense::notify {
namespace {

// libcurl is opened on first use, not linked: it pulls in ~25 shared
// libraries (TLS, LDAP, Kerberos, SSH, IDN, ...) whose loading costs ~2 ms at
// every process start, more than a small ingest's whole budget, and only the
// webhook, email and SNS channels need it. These are the functions we call.
struct CurlApi {
  decltype(&::curl_global_init) global_init;
  decltype(&::curl_easy_init) easy_init;
  decltype(&::curl_easy_cleanup) easy_cleanup;
  decltype(&::curl_easy_perform) easy_perform;
  decltype(&::curl_easy_strerror) easy_strerror;
  decltype(&::curl_slist_append) slist_append;
  decltype(&::curl_slist_free_all) slist_free_all;
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
};

constexpr const char* kCurlLibrary = "libcurl.so.4";  // Debian's libcurl4 (soname 4)

// The loaded API, or nullptr with `error` set.
const CurlApi* Curl(std::string* error = nullptr) {
  static CurlApi api;
  static std::string failure;
  static std::once_flag once;
  std::call_once(once, [] {
    void* lib = ::dlopen(kCurlLibrary, RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      const char* e = ::dlerror();
      failure = std::string("cannot load ") + kCurlLibrary +
                " (install libcurl4): " + (e != nullptr ? e : "unknown error");
      return;
    }
    auto sym = [&](const char* name) {
      void* p = ::dlsym(lib, name);
      if (p == nullptr && failure.empty()) failure = std::string(kCurlLibrary) + " lacks " + name;
      return p;
    };
    api.global_init = reinterpret_cast<decltype(api.global_init)>(sym("curl_global_init"));
    api.easy_init = reinterpret_cast<decltype(api.easy_init)>(sym("curl_easy_init"));
    api.easy_cleanup = reinterpret_cast<decltype(api.easy_cleanup)>(sym("curl_easy_cleanup"));
    api.easy_perform = reinterpret_cast<decltype(api.easy_perform)>(sym("curl_easy_perform"));
    api.easy_strerror = reinterpret_cast<decltype(api.easy_strerror)>(sym("curl_easy_strerror"));
    api.slist_append = reinterpret_cast<decltype(api.slist_append)>(sym("curl_slist_append"));
    api.slist_free_all = reinterpret_cast<decltype(api.slist_free_all)>(sym("curl_slist_free_all"));
    api.easy_setopt = reinterpret_cast<decltype(api.easy_setopt)>(sym("curl_easy_setopt"));
    api.easy_getinfo = reinterpret_cast<decltype(api.easy_getinfo)>(sym("curl_easy_getinfo"));
    if (failure.empty() && api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      failure = "curl_global_init failed";
  });
  if (!failure.empty()) {
    if (error != nullptr) *error = failure;
    return nullptr;
  }
  return &api;
}

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

}  // namespace

Status EnsureCurlInitialized() {
  std::string error;
  return Curl(&error) != nullptr ? Status::Ok() : Unavailable(error);
}

Result<HttpResponse> HttpPost(const HttpRequest& req) {
  std::string error;
  const CurlApi* api = Curl(&error);
  if (api == nullptr) return Unavailable(error);
  Easy e(*api);
  if (e.h == nullptr) return Internal("curl_easy_init failed");
  CommonOptions(e, req.url, req.timeout_ms, req.tls);
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
  HttpResponse resp;
  e.Set(CURLOPT_WRITEFUNCTION, KeepBody);
  e.Set(CURLOPT_WRITEDATA, &resp.body);
  CURLcode rc = api->easy_perform(e.h);
  if (rc != CURLE_OK) return Failure(e, rc, req.url);
  api->easy_getinfo(e.h, CURLINFO_RESPONSE_CODE, &resp.status);
  return resp;
}

Status SmtpSend(const SmtpRequest& req) {
  std::string error;
  const CurlApi* api = Curl(&error);
  if (api == nullptr) return Unavailable(error);
  Easy e(*api);
  if (e.h == nullptr) return Internal("curl_easy_init failed");
  CommonOptions(e, req.url, req.timeout_ms, req.tls);
  e.Set(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  e.Set(CURLOPT_USE_SSL, static_cast<long>(req.require_tls ? CURLUSESSL_ALL : CURLUSESSL_NONE));
  if (!req.username.empty()) {
    e.Set(CURLOPT_USERNAME, req.username.c_str());
    e.Set(CURLOPT_PASSWORD, req.password.c_str());
  }
  std::string from = "<" + req.from + ">";
  e.Set(CURLOPT_MAIL_FROM, from.c_str());
  for (const std::string& to : req.to) e.Append(&e.list, "<" + to + ">");
  e.Set(CURLOPT_MAIL_RCPT, e.list);
  Upload up{&req.message};
  e.Set(CURLOPT_READFUNCTION, ReadUpload);
  e.Set(CURLOPT_READDATA, &up);
  e.Set(CURLOPT_UPLOAD, 1L);
  CURLcode rc = api->easy_perform(e.h);
  if (rc != CURLE_OK) return Failure(e, rc, req.url);
  return Status::Ok();
}

}  // namespace aquasense::notify
