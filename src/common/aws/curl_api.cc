#include "common/aws/curl_api.h"

#include <dlfcn.h>

#include <mutex>
#include <type_traits>

namespace aquasense::aws {
namespace {

constexpr const char* kCurlLibrary = "libcurl.so.4";  // Debian's libcurl4 (soname 4)

// Fills `api` from the library; the first problem met, or "".
std::string Load(CurlApi& api) {
  void* lib = ::dlopen(kCurlLibrary, RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* e = ::dlerror();
    return std::string("cannot load ") + kCurlLibrary +
           " (install libcurl4): " + (e != nullptr ? e : "unknown error");
  }
  std::string failure;
  auto sym = [&](auto& fn, const char* name) {
    void* p = ::dlsym(lib, name);
    if (p == nullptr && failure.empty()) failure = std::string(kCurlLibrary) + " lacks " + name;
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(p);
  };
  sym(api.global_init, "curl_global_init");
  sym(api.easy_init, "curl_easy_init");
  sym(api.easy_cleanup, "curl_easy_cleanup");
  sym(api.easy_reset, "curl_easy_reset");
  sym(api.easy_perform, "curl_easy_perform");
  sym(api.easy_strerror, "curl_easy_strerror");
  sym(api.slist_append, "curl_slist_append");
  sym(api.slist_free_all, "curl_slist_free_all");
  sym(api.easy_setopt, "curl_easy_setopt");
  sym(api.easy_getinfo, "curl_easy_getinfo");
  if (failure.empty() && api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    failure = "curl_global_init failed";
  }
  return failure;
}

}  // namespace

const CurlApi* LoadCurl(std::string* error) {
  static CurlApi api;
  static std::string failure;
  static std::once_flag once;
  std::call_once(once, [] { failure = Load(api); });
  if (!failure.empty()) {
    if (error != nullptr) *error = failure;
    return nullptr;
  }
  return &api;
}

}  // namespace aquasense::aws
