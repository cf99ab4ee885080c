// CurlApi: the libcurl functions AquaSense calls, loaded on first use.
//
//   std::string error;
//   const CurlApi* curl = LoadCurl(&error);
//   if (curl == nullptr) return Unavailable(error);
//   CURL* h = curl->easy_init();
//
// libcurl is opened with dlopen, not linked: it pulls in ~25 shared libraries
// (TLS, LDAP, Kerberos, SSH, IDN, ...) whose loading costs ~2 ms at every
// process start, more than a small ingest's whole budget, and only the AWS
// clients and the webhook, email and SNS channels need it. One loader serves
// them all (common/aws/http_client.cc, notify/curl_client.cc).
// Thread-safe: the library is loaded and curl_global_init run once.
#pragma once

#include <curl/curl.h>

#include <string>

namespace aquasense::aws {

struct CurlApi {
  decltype(&::curl_global_init) global_init;
  decltype(&::curl_easy_init) easy_init;
  decltype(&::curl_easy_cleanup) easy_cleanup;
  decltype(&::curl_easy_reset) easy_reset;
  decltype(&::curl_easy_perform) easy_perform;
  decltype(&::curl_easy_strerror) easy_strerror;
  decltype(&::curl_slist_append) slist_append;
  decltype(&::curl_slist_free_all) slist_free_all;
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
};

// The loaded API, or nullptr with `*error` (when given) saying why: libcurl.so.4
// missing, a function missing from it, or curl_global_init failing. The answer
// of the first call is kept for the life of the process.
const CurlApi* LoadCurl(std::string* error = nullptr);

}  // namespace aquasense::aws
