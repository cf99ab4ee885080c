// The channel implementations behind MakeChannel (notifier.h), one file each,
// and the pure request builders they use, exposed so tests can check the
// exact bytes without a server.
//
//   HttpRequest req = BuildWebhookRequest(config, alert);
//   std::string msg = BuildEmailMessage(config, alert, now_ms);
//   SnsRequest sns = BuildSnsRequest(config, alert, creds, now_ms);  // common/aws signer
//
// Builders are pure and thread-safe; each Channel is used by one thread at a time.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "common/aws/credentials.h"
#include "common/aws/http_client.h"
#include "common/clock.h"
#include "notify/curl_client.h"
#include "notify/notifier.h"

namespace aquasense::notify {

// Log: a line on `out` (stderr by default) or a JSON line appended to config.path.
std::unique_ptr<Channel> NewLogChannel(const ChannelConfig& config, std::FILE* out = stderr);

// Webhook: POST of WebhookDocument with Idempotency-Key and, with a secret,
// X-AquaSense-Signature: sha256=<hex HMAC-SHA256(secret, body)>.
HttpRequest BuildWebhookRequest(const ChannelConfig& config, const storage::Alert& alert);
std::string WebhookSignature(const std::string& secret, const std::string& body);
std::unique_ptr<Channel> NewWebhookChannel(const ChannelConfig& config);

// Email: a text/plain UTF-8 message with Date, From, To, Subject, Message-ID.
std::string BuildEmailMessage(const ChannelConfig& config, const storage::Alert& alert,
                              int64_t now_ms);
std::unique_ptr<Channel> NewEmailChannel(const ChannelConfig& config, const Clock& clock);

// SNS: Publish, form-encoded, signed at `now_ms` by the one SigV4 signer
// and sent by the one HTTP client of src/common/aws. `http.body` is left
// empty: it views `body` once the request is in its final place.
struct SnsRequest {
  aws::HttpRequest http;
  std::string body;
};
SnsRequest BuildSnsRequest(const ChannelConfig& config, const storage::Alert& alert,
                           const aws::Credentials& creds, int64_t now_ms);
// Credentials come from the SDK chain (common/aws/credentials.h), with the
// channel's "profile" (when set) in place of AWS_PROFILE.
std::unique_ptr<Channel> NewSnsChannel(const ChannelConfig& config, const Clock& clock,
                                       aws::EnvLookup env);

// JSON text that never throws (invalid UTF-8 is replaced).
std::string DumpJson(const nlohmann::json& j);

}  // namespace aquasense::notify
