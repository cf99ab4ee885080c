// Where AWS settings come from, the SDK way: credentials through the
// standard chain, the region, the endpoint of each service, retries.
//
//   aws::Env env{aws::ProcessEnv(), &http, &clock};
//   auto settings = aws::LoadSettings(env);            // region, profile, attempts
//   auto creds = aws::NewDefaultCredentialsChain(env); // shared, refreshing
//   Result<aws::Credentials> c = creds->Get();
//   std::string s3 = aws::ResolveEndpoint(env.lookup, "s3", settings->region);
//
// The credential chain, first hit wins (as the AWS SDKs):
//   1. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);
//   2. profile AWS_PROFILE (else "default") of the shared files:
//      AWS_SHARED_CREDENTIALS_FILE (else ~/.aws/credentials), then
//      AWS_CONFIG_FILE (else ~/.aws/config, sections "[profile NAME]");
//   3. ECS container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
//      (on 169.254.170.2) or AWS_CONTAINER_CREDENTIALS_FULL_URI (https, or
//      http on a loopback or the ECS/EKS link-local hosts), with
//      AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE) as Authorization header;
//   4. EC2 IMDSv2 (unless AWS_EC2_METADATA_DISABLED=true): PUT
//      /latest/api/token, then GET the role and its credentials with that
//      token; AWS_EC2_METADATA_SERVICE_ENDPOINT overrides the address.
// Temporary credentials (3, 4, or with an expiry) are fetched again when
// less than 5 minutes of their lifetime remain.
// Not supported (yet): role_arn / source_profile, credential_process, SSO,
// web identity tokens: a profile using only those is reported as such.
//
// Thread-safe. Errors: kUnavailable when no source has credentials (the
// message says what was tried), kInvalidArgument for an AWS_PROFILE that no
// file defines or a malformed answer of a credentials endpoint.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/aws/http_client.h"
#include "common/aws/sigv4.h"
#include "common/clock.h"
#include "common/status.h"

namespace aquasense::aws {

// Looks a variable up (the process environment in production).
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnv();

// What the chain reads: variables, files (through `read_file`, the real
// file system when empty), HTTP for ECS and IMDS, the clock for expiry.
struct Env {
  EnvLookup lookup{};
  HttpClient* http = nullptr;
  const Clock* clock = nullptr;
  std::function<std::optional<std::string>(const std::string& path)> read_file{};
  // The hosts of the ECS relative URI and of IMDS (tests point them at 127.0.0.1).
  std::string ecs_base = "http://169.254.170.2";
  std::string imds_base = "http://169.254.169.254";
  int64_t metadata_timeout_ms = 1'000;  // per metadata request, as the SDKs
};

// An INI file as the AWS shared files write it: section -> key -> value.
// Keys are lower-cased; comments (#, ;) and indented sub-settings skipped;
// section names trimmed ("profile x" kept as written). Input is bounded:
// lines over 64 KiB or files over 4 MiB are kInvalidArgument.
using IniFile = std::map<std::string, std::map<std::string, std::string>>;
Result<IniFile> ParseIniFile(std::string_view text);

// The profile's settings merged from both files (credentials file first),
// or nullopt when neither defines it.
std::optional<std::map<std::string, std::string>> ProfileSettings(const IniFile& credentials,
                                                                  const IniFile& config,
                                                                  const std::string& profile);

struct Settings {
  std::string profile = "default";
  std::string region = "us-east-1";  // AWS_REGION, AWS_DEFAULT_REGION, profile's region, else this
  int max_attempts = 5;              // AWS_MAX_ATTEMPTS, else the profile's max_attempts
};
Result<Settings> LoadSettings(const Env& env);

// The endpoint of `service` ("s3", "dynamodb", "sqs", "sns"), without a
// trailing slash: AWS_ENDPOINT_URL_<SERVICE>, else AWS_ENDPOINT_URL, else
// AWS's own https://<service>.<region>.amazonaws.com (unless
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true). `custom` tells whether a
// variable chose it (S3 then uses path-style addressing).
std::string ResolveEndpoint(const EnvLookup& env, std::string_view service,
                            const std::string& region, bool* custom = nullptr);

// ISO 8601 UTC time ("2026-12-04T20:00:00Z", fractions allowed) in epoch ms.
std::optional<int64_t> ParseIso8601Ms(std::string_view s);

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Current credentials, fetched or refreshed when needed.
  virtual Result<Credentials> Get() = 0;
};

// Fixed credentials (tests, and callers that already have them).
std::shared_ptr<CredentialsProvider> NewStaticCredentials(Credentials c);

// The chain above. `env` is copied; its http and clock must outlive the provider.
std::shared_ptr<CredentialsProvider> NewDefaultCredentialsChain(Env env);

}  // namespace aquasense::aws
