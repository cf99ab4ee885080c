#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>

#include "common/aws/sigv4.h"
#include "common/crypto.h"
#include "notify/channels.h"
#include "notify/format.h"
#include "notify/redact.h"

namespace aquasense::notify {
namespace {

constexpr size_t kMaxSubject = 100;         // SNS limit, ASCII only
constexpr size_t kMaxMessage = 256 * 1024;  // SNS limit, bytes

struct UrlParts {
  std::string host;  // host[:port] as it goes in the Host header
  std::string path = "/";
};

UrlParts SplitUrl(const std::string& url) {
  UrlParts p;
  size_t scheme = url.find("://");
  size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  size_t slash = url.find_first_of("/?", start);
  p.host = url.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
  if (size_t at = p.host.rfind('@'); at != std::string::npos) p.host = p.host.substr(at + 1);
  if (slash != std::string::npos && url[slash] == '/') {
    size_t q = url.find('?', slash);
    p.path = url.substr(slash, q == std::string::npos ? std::string::npos : q - slash);
  }
  // A default port is not part of the Host header curl would send either.
  auto strip = [&](const char* scheme_prefix, const char* port) {
    if (url.rfind(scheme_prefix, 0) == 0 && p.host.size() > std::strlen(port) &&
        p.host.compare(p.host.size() - std::strlen(port), std::string::npos, port) == 0) {
      p.host.resize(p.host.size() - std::strlen(port));
    }
  };
  strip("https://", ":443");
  strip("http://", ":80");
  return p;
}

// SNS subjects: ASCII, no control characters, at most 100 characters.
std::string SnsSubject(const storage::Alert& alert) {
  std::string s;
  for (unsigned char c : AlertSubject(alert)) {
    s.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  }
  if (s.size() > kMaxSubject) s = s.substr(0, kMaxSubject - 3) + "...";
  return s;
}

class SnsChannel final : public Channel {
 public:
  SnsChannel(ChannelConfig config, const Clock& clock, aws::EnvLookup env)
      : config_(std::move(config)), clock_(clock), http_(std::make_shared<aws::HttpClient>()) {
    // The channel's profile stands in for AWS_PROFILE; the rest is the SDK chain.
    aws::EnvLookup lookup = [env = std::move(env), profile = config_.profile](
                                const std::string& name) -> std::optional<std::string> {
      if (name == "AWS_PROFILE" && !profile.empty()) return profile;
      return env(name);
    };
    credentials_ = aws::NewDefaultCredentialsChain(aws::Env{lookup, http_.get(), &clock_});
  }

  Status Send(const storage::Alert& alert) override {
    auto creds = credentials_->Get();
    if (!creds.ok()) return creds.status();
    SnsRequest req = BuildSnsRequest(config_, alert, *creds, clock_.NowMs());
    req.http.body = req.body;
    auto resp = http_->Send(req.http);
    if (!resp.ok()) return resp.status();
    if (resp->status >= 200 && resp->status < 300 &&
        resp->body.find("MessageId") != std::string::npos) {
      return Status::Ok();
    }
    // Short cleaned excerpts only: the answer is the receiver's text (M4).
    std::string code = ResponseExcerpt(Between(resp->body, "<Code>", "</Code>"));
    std::string message = ResponseExcerpt(Between(resp->body, "<Message>", "</Message>"));
    return Unavailable("SNS answered HTTP " + std::to_string(resp->status) +
                       (code.empty() ? "" : " " + code) + (message.empty() ? "" : ": " + message));
  }

 private:
  static std::string Between(const std::string& s, const char* open, const char* close) {
    size_t a = s.find(open);
    if (a == std::string::npos) return "";
    a += std::strlen(open);
    size_t b = s.find(close, a);
    return b == std::string::npos ? "" : s.substr(a, std::min<size_t>(b - a, 300));
  }

  ChannelConfig config_;
  const Clock& clock_;
  std::shared_ptr<aws::HttpClient> http_;
  std::shared_ptr<aws::CredentialsProvider> credentials_;
};

}  // namespace

SnsRequest BuildSnsRequest(const ChannelConfig& config, const storage::Alert& alert,
                           const aws::Credentials& creds, int64_t now_ms) {
  std::string message = AlertText(alert);
  if (message.size() > kMaxMessage) message.resize(kMaxMessage);
  std::vector<std::pair<std::string, std::string>> form = {
      {"Action", "Publish"},          {"Message", message},      {"Subject", SnsSubject(alert)},
      {"TopicArn", config.topic_arn}, {"Version", "2010-03-31"},
  };
  if (config.topic_arn.size() > 5 &&
      config.topic_arn.compare(config.topic_arn.size() - 5, 5, ".fifo") == 0) {
    // FIFO topics need a group and take a de-duplication id: the idempotency key.
    form.emplace_back("MessageDeduplicationId", IdempotencyKey(alert));
    form.emplace_back("MessageGroupId", alert.sensor.empty() ? alert.default_sensor : alert.sensor);
  }
  SnsRequest out;
  for (const auto& [k, v] : form) {
    out.body += (out.body.empty() ? "" : "&") + aws::UriEncode(k) + "=" + aws::UriEncode(v);
  }

  UrlParts url = SplitUrl(config.endpoint);
  aws::SignRequest r;
  r.method = "POST";
  r.host = url.host;
  r.path = url.path;
  r.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  r.payload_sha256 = Sha256Hex(out.body);

  out.http.method = "POST";
  out.http.url = config.endpoint;
  out.http.headers = aws::Sign(r, creds, {config.region, "sns"}, now_ms);
  out.http.timeout_ms = config.timeout_ms;
  out.http.max_body = 64 * 1024;
  out.http.ca_file = config.ca_file;
  out.http.insecure_tls = config.insecure_tls;
  return out;
}

std::unique_ptr<Channel> NewSnsChannel(const ChannelConfig& config, const Clock& clock,
                                       aws::EnvLookup env) {
  return std::make_unique<SnsChannel>(config, clock, std::move(env));
}

}  // namespace aquasense::notify
