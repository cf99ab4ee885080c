// A thin blocking libcurl wrapper for the channels: one HTTP POST or one SMTP
// message per call, with a total timeout and a cap on the response kept.
//
//   HttpRequest req{.url = "http://127.0.0.1:9000/hook", .headers = {...}, .body = json};
//   Result<HttpResponse> r = HttpPost(req);   // r->status == 200 ...
//
// Thread-safe (a fresh easy handle per call; libcurl is loaded and
// initialised once, on first use).
// Errors: kUnavailable for transport failures (refused, timeout, TLS), with
// libcurl's message; an HTTP error status is a response, not an error. An
// error names the URL as scheme://host[:port] only (redact.h): never its
// userinfo, path or query.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace aquasense::notify {

struct TlsOptions {
  std::string ca_file;    // extra CA bundle; empty = system default
  bool insecure = false;  // no peer/host verification
};

struct HttpRequest {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int64_t timeout_ms = 10'000;
  TlsOptions tls;
};

struct HttpResponse {
  long status = 0;
  std::string body;  // first 64 KiB
};

Result<HttpResponse> HttpPost(const HttpRequest& request);

struct SmtpRequest {
  std::string url;                 // smtp://host:port or smtps://host:port
  bool require_tls = false;        // STARTTLS (smtp://) or implicit TLS (smtps://)
  std::string username, password;  // login when username is set
  std::string from;
  std::vector<std::string> to;
  std::string message;  // full RFC 5322 message, CRLF line ends
  int64_t timeout_ms = 10'000;
  TlsOptions tls;
};

// OK once the server accepted the message (250 after DATA).
Status SmtpSend(const SmtpRequest& request);

// Loads libcurl (once, on first use: see curl_client.cc). kUnavailable when
// it cannot be loaded; HttpPost and SmtpSend then fail with that error.
Status EnsureCurlInitialized();

}  // namespace aquasense::notify
