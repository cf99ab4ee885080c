#include "common/crypto.h"
#include "notify/channels.h"
#include "notify/format.h"
#include "notify/redact.h"

namespace aquasense::notify {
namespace {

class WebhookChannel final : public Channel {
 public:
  explicit WebhookChannel(ChannelConfig config) : config_(std::move(config)) {}

  Status Send(const storage::Alert& alert) override {
    auto resp = HttpPost(BuildWebhookRequest(config_, alert));
    if (!resp.ok()) return resp.status();
    if (resp->status >= 200 && resp->status < 300) return Status::Ok();
    // Neither the URL's secrets nor the receiver's whole answer go into the
    // stored error (M4): scheme://host:port and a short printable excerpt.
    const std::string body = ResponseExcerpt(resp->body);
    return Unavailable("HTTP " + std::to_string(resp->status) + " from " + RedactUrl(config_.url) +
                       (body.empty() ? "" : ": " + body));
  }

 private:
  ChannelConfig config_;
};

}  // namespace

std::string WebhookSignature(const std::string& secret, const std::string& body) {
  return "sha256=" + HexEncode(HmacSha256(secret, body));
}

HttpRequest BuildWebhookRequest(const ChannelConfig& config, const storage::Alert& alert) {
  HttpRequest req;
  req.url = config.url;
  req.timeout_ms = config.timeout_ms;
  req.tls = {config.ca_file, config.insecure_tls};
  req.body = DumpJson(WebhookDocument(alert));
  req.headers = {{"Content-Type", "application/json"},
                 {"User-Agent", "aquasense"},
                 {"Idempotency-Key", IdempotencyKey(alert)},
                 {"X-AquaSense-Event", alert.kind}};
  if (!config.secret.empty()) {
    req.headers.emplace_back("X-AquaSense-Signature", WebhookSignature(config.secret, req.body));
  }
  for (const auto& h : config.headers) req.headers.push_back(h);
  return req;
}

std::unique_ptr<Channel> NewWebhookChannel(const ChannelConfig& config) {
  return std::make_unique<WebhookChannel>(config);
}

}  // namespace aquasense::notify
