#include "common/crypto.h"
#include "notify/channels.h"
#include "notify/format.h"

namespace aquasense::notify {
namespace {

// "Name <a@b.c>" -> "a@b.c"; a bare address is returned as is.
std::string Address(const std::string& s) {
  size_t lt = s.find('<'), gt = s.rfind('>');
  if (lt != std::string::npos && gt != std::string::npos && gt > lt) {
    return s.substr(lt + 1, gt - lt - 1);
  }
  return s;
}

bool IsAscii(const std::string& s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

// RFC 2047 encoded-word for non-ASCII header text.
std::string EncodeHeader(const std::string& s) {
  if (IsAscii(s)) return s;
  return "=?UTF-8?B?" + Base64(s) + "?=";
}

std::string Crlf(const std::string& text) {
  std::string out;
  out.reserve(text.size() + text.size() / 20);
  for (char c : text) {
    if (c == '\r') continue;
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

class EmailChannel final : public Channel {
 public:
  EmailChannel(ChannelConfig config, const Clock& clock)
      : config_(std::move(config)), clock_(clock) {}

  Status Send(const storage::Alert& alert) override {
    SmtpRequest req;
    req.url = config_.url;
    if (config_.tls == SmtpTls::kImplicit && req.url.rfind("smtp://", 0) == 0) {
      req.url = "smtps://" + req.url.substr(7);
    }
    req.require_tls = config_.tls != SmtpTls::kNone;
    req.username = config_.username;
    req.password = config_.password;
    req.from = Address(config_.from);
    for (const std::string& to : config_.to) req.to.push_back(Address(to));
    req.message = BuildEmailMessage(config_, alert, clock_.NowMs());
    req.timeout_ms = config_.timeout_ms;
    req.tls = {config_.ca_file, config_.insecure_tls};
    return SmtpSend(req);
  }

 private:
  ChannelConfig config_;
  const Clock& clock_;
};

}  // namespace

std::string BuildEmailMessage(const ChannelConfig& config, const storage::Alert& alert,
                              int64_t now_ms) {
  std::string to;
  for (const std::string& t : config.to) to += (to.empty() ? "" : ", ") + t;
  const std::string key = IdempotencyKey(alert);
  std::string m;
  m += "Date: " + Rfc5322Date(now_ms) + "\r\n";
  m += "From: " + config.from + "\r\n";
  m += "To: " + to + "\r\n";
  m += "Subject: " + EncodeHeader(AlertSubject(alert)) + "\r\n";
  m += "Message-ID: <" + key + "@aquasense>\r\n";
  m += "X-AquaSense-Idempotency-Key: " + key + "\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=utf-8\r\n";
  m += "Content-Transfer-Encoding: 8bit\r\n";
  m += "\r\n";
  m += Crlf(AlertText(alert));
  return m;
}

std::unique_ptr<Channel> NewEmailChannel(const ChannelConfig& config, const Clock& clock) {
  return std::make_unique<EmailChannel>(config, clock);
}

}  // namespace aquasense::notify
