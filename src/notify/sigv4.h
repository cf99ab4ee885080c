// AWS Signature Version 4 (header form) and AWS credential lookup, for the
// SNS channel. The signer takes the time as a parameter, so a test can check
// it against the published AWS test-suite vectors.
//
//   SigV4Request r{.method = "POST", .host = "sns.eu-west-1.amazonaws.com",
//                  .path = "/", .headers = {{"Content-Type", "..."}}, .body = form};
//   auto headers = SignV4(r, creds, "eu-west-1", "sns", clock.NowMs());
//
// Pure and thread-safe, except LoadAwsCredentials, which reads the
// environment (through the given lookup) and the shared credentials file.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace aquasense::notify {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials
};

using Header = std::pair<std::string, std::string>;

struct SigV4Request {
  std::string method = "POST";
  std::string host;                 // Host header value: host[:port]
  std::string path = "/";           // already URI-encoded
  std::string query;                // already canonical (sorted, encoded), may be empty
  std::vector<Header> headers;      // extra headers to sign (besides host, x-amz-date)
  std::string body;
};

// "20150830T123600Z" for `epoch_ms`.
std::string AmzDate(int64_t epoch_ms);

// The canonical request and string to sign (exposed for tests and debugging).
std::string CanonicalRequest(const SigV4Request& r, const std::vector<Header>& all_headers,
                             std::string* signed_headers);
std::string StringToSign(const std::string& amz_date, const std::string& scope,
                         const std::string& canonical_request);

// Returns every header to send: the request's headers plus Host, X-Amz-Date,
// X-Amz-Security-Token (with a session token) and Authorization.
std::vector<Header> SignV4(const SigV4Request& r, const AwsCredentials& creds,
                           const std::string& region, const std::string& service,
                           int64_t epoch_ms);

// RFC 3986 percent-encoding of everything but A-Z a-z 0-9 - _ . ~ (AWS style).
std::string AwsUriEncode(std::string_view s);

// Looks a variable up (the process environment in production).
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnv();

// The standard AWS chain, first hit wins: AWS_ACCESS_KEY_ID +
// AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN); then the shared credentials
// file (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials), profile
// `profile` if not empty, else AWS_PROFILE, else "default".
// Errors: kUnavailable when no credentials are found.
Result<AwsCredentials> LoadAwsCredentials(const EnvLookup& env, const std::string& profile);

// Parses an INI-style credentials file's `profile` section.
// Errors: kNotFound when the profile or its keys are missing.
Result<AwsCredentials> ParseCredentialsFile(std::string_view text, const std::string& profile);

}  // namespace aquasense::notify
