// AWS Signature Version 4, header form: the one signer every AWS call uses
// (S3 here; SNS, DynamoDB and SQS to follow). The time is a parameter, so
// tests check it against AWS's published test-suite vectors and botocore.
//
//   aws::SignRequest r{.method = "GET", .host = "b.s3.eu-west-1.amazonaws.com",
//                      .path = "/landing/a%20b.csv", .query = {{"list-type", "2"}}};
//   r.payload_sha256 = aws::kUnsignedPayload;          // S3 streaming upload
//   auto headers = aws::Sign(r, creds, {"eu-west-1", "s3"}, clock.NowMs());
//
// Encoding rules (what libcurl's CURLOPT_AWS_SIGV4 gets wrong, see docs/cloud.md):
// - `path` is the path as sent on the wire (each segment already encoded
//   once, e.g. by UriEncodePath). S3 signs it as is; every other service
//   normalises it (no "." / ".." / empty segments) and encodes it again.
// - `query` holds raw (unencoded) name/value pairs; the signer encodes and
//   sorts them (by name, then value); a valueless parameter signs as "name=".
//   CanonicalQuery() gives the same string for the URL.
// - S3 requests always carry and sign x-amz-content-sha256 (the body's hash,
//   or UNSIGNED-PAYLOAD for a streamed body).
// Pure functions, thread-safe, no errors.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aquasense::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials
  int64_t expires_ms = 0;     // 0: does not expire
};

using Header = std::pair<std::string, std::string>;
using QueryParam = std::pair<std::string, std::string>;

// SHA-256 of the empty string, and the S3 marker for a body not hashed.
inline constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

struct SignRequest {
  std::string method = "GET";
  std::string host{};               // Host header value: host[:port]
  std::string path = "/";           // as on the wire (see above)
  std::vector<QueryParam> query{};  // raw pairs, any order
  std::vector<Header> headers{};    // extra headers to sign (Content-Type, Range, ...)
  std::string payload_sha256 = std::string(kEmptySha256);  // lower-case hex or kUnsignedPayload
};

struct Scope {
  std::string region;   // "eu-west-1"
  std::string service;  // "s3", "dynamodb", "sqs", "sns"; "s3" selects S3's rules
};

// "20150830T123600Z" for `epoch_ms`.
std::string AmzDate(int64_t epoch_ms);

// RFC 3986 percent-encoding of everything but A-Z a-z 0-9 - _ . ~ (and '/'
// when `keep_slash`), upper-case hex, as SigV4 requires.
std::string UriEncode(std::string_view s, bool keep_slash = false);

// An object key as a wire path: "/" + each '/'-separated segment encoded.
std::string UriEncodePath(std::string_view key);

// The canonical query string: pairs encoded, sorted, joined with '&'.
std::string CanonicalQuery(const std::vector<QueryParam>& query);

// The canonical URI for `wire_path` under the service's rules.
std::string CanonicalUri(std::string_view wire_path, bool s3);

// The canonical request for `r` with `all_headers` (those to sign, including
// Host and X-Amz-Date); `signed_headers` receives "host;x-amz-date;...".
// Exposed for tests and debugging.
std::string CanonicalRequest(const SignRequest& r, const std::vector<Header>& all_headers, bool s3,
                             std::string* signed_headers);

// Returns every header to send: the request's headers plus Host, X-Amz-Date,
// x-amz-content-sha256 (S3), X-Amz-Security-Token (with a session token) and
// Authorization.
std::vector<Header> Sign(const SignRequest& r, const Credentials& creds, const Scope& scope,
                         int64_t epoch_ms);

}  // namespace aquasense::aws
