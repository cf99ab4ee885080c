// Notify: delivers the alerts of the persistent outbox (SPEC §6) to the
// configured channels — log, webhook (HTTP POST, JSON), email (SMTP) and AWS
// SNS — at least once, with exponential back-off, never twice once a channel
// acknowledged it.
//
//   // after a batch that may have created alerts has committed:
//   Status s = notify::DeliverPending(*ctx.meta, ctx.config, ctx.clock, 10s);
//   // when creating alerts: one pending delivery per configured channel:
//   options.alert_channels = notify::ChannelNames(ctx.config);
//
// Configuration: the config file's "alerts" object (docs/alerts.md). The
// pipeline creates alerts; this module only reads the outbox and updates
// delivery rows. Channels run in parallel (one thread per channel in a
// round), so a slow or dead channel never holds up the others.
// Thread-safety: Dispatcher is not thread-safe (one per thread or process);
// several processes may deliver from one store (a delivery being sent is
// leased for its timeout). Errors: kInvalidArgument for a bad "alerts"
// section, kUnavailable/kInternal from the store; a failing channel is not an
// error of DeliverDue, it is recorded in the delivery row and retried.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "storage/meta_store.h"

namespace aquasense::notify {

enum class ChannelType : uint8_t { kLog, kWebhook, kEmail, kSns };
enum class SmtpTls : uint8_t { kNone, kStartTls, kImplicit };

const char* ChannelTypeName(ChannelType t);

// One entry of "alerts.channels" (unset fields keep these defaults).
struct ChannelConfig {
  std::string name;  // unique, [A-Za-z0-9._-]{1,64}
  ChannelType type = ChannelType::kLog;
  std::vector<std::string> kinds;    // "deviation" / "data_quality"; empty = all
  std::vector<std::string> sensors;  // empty = all
  int64_t timeout_ms = 10'000;       // whole send, connection included

  // log: one line per alert on stderr, or JSON lines appended to `path`.
  std::string path;
  // webhook: http(s) URL; email: smtp:// or smtps:// URL.
  std::string url;
  // webhook: HMAC-SHA256 key ("secret", or the variable named by "secret_env").
  std::string secret;
  std::vector<std::pair<std::string, std::string>> headers;  // extra HTTP headers
  // email
  std::string from;
  std::vector<std::string> to;
  SmtpTls tls = SmtpTls::kNone;
  std::string username, password;  // optional login ("password_env" allowed)
  std::string ca_file;             // extra CA bundle for TLS
  bool insecure_tls = false;       // skip certificate checks (tests only)
  // sns
  std::string topic_arn;
  std::string region;    // default: the ARN's region
  std::string endpoint;  // default: https://sns.REGION.amazonaws.com/
  std::string profile;   // shared-credentials profile (default AWS_PROFILE/default)

  // True when this channel wants an alert of `kind` about `sensor`.
  bool Accepts(std::string_view kind, std::string_view sensor) const;
  // True when it wants `alert`: its kind, and one of its sensors (an alert
  // about more sensors than its payload names passes a sensor filter: the
  // others cannot be checked).
  bool AcceptsAlert(const storage::Alert& alert) const;
};

// Back-off after the n-th failed attempt: initial * 2^(n-1), capped.
struct RetryPolicy {
  int64_t initial_ms = 1'000;
  int64_t max_ms = 300'000;
  int64_t give_up_after_ms = 0;  // 0: retry forever; else kGaveUp once the alert is older
};
int64_t BackoffMs(const RetryPolicy& policy, int32_t attempts);

struct AlertsConfig {
  double sd_limit = 0.5;
  RetryPolicy retry;
  std::vector<ChannelConfig> channels;  // the "log" channel first unless disabled
};

// Reads config["alerts"] (absent: defaults, log channel only). Errors:
// kInvalidArgument naming the offending field.
Result<AlertsConfig> ParseAlertsConfig(const nlohmann::json& config);
Result<std::vector<ChannelConfig>> ParseChannels(const nlohmann::json& config);

// Names of the configured channels, for the pipeline's new alerts; {"log"}
// when the section is invalid (ParseAlertsConfig reports why).
std::vector<std::string> ChannelNames(const nlohmann::json& config);

// A destination. Send returns OK only once the other side acknowledged the
// alert (2xx, SMTP 250, SNS MessageId); kUnavailable = try again later.
// Implementations must be safe to call from one thread at a time.
class Channel {
 public:
  virtual ~Channel() = default;
  virtual Status Send(const storage::Alert& alert) = 0;
};

// Builds the channel for `config`. `clock` must outlive the channel.
Result<std::unique_ptr<Channel>> MakeChannel(const ChannelConfig& config, const Clock& clock);

struct DeliveryStats {
  int64_t delivered = 0;  // acknowledged in this run
  int64_t failed = 0;     // attempts that failed (retried later)
  int64_t deferred = 0;   // not tried: their channel failed earlier in the round
  int64_t skipped = 0;    // excluded by the channel's filter
  int64_t gave_up = 0;
  int64_t pending = 0;  // still pending at the end (RunDelivery only)
  bool busy = false;    // another sender held the lock for the whole budget
};

class Dispatcher {
 public:
  struct Target {
    ChannelConfig config;
    std::unique_ptr<Channel> channel;
  };
  Dispatcher(storage::MetaStore& store, std::vector<Target> targets, const Clock& clock,
             RetryPolicy retry);

  // Sends every delivery due now once (up to `limit`), channels in parallel;
  // starts no new send after `deadline_ms`. A channel that fails is not tried
  // again in this round: its other due deliveries are deferred with back-off.
  Result<DeliveryStats> DeliverDue(int64_t deadline_ms = INT64_MAX, size_t limit = 1000);

  // Number of deliveries still pending (due now or later), up to `limit`.
  Result<int64_t> PendingCount(size_t limit = 100'000);

 private:
  DeliveryStats SendAll(const Target& target, const std::vector<storage::Delivery>& due,
                        int64_t deadline_ms);
  Status Record(const storage::Delivery& d);
  void SetStoreError(const Status& s);

  storage::MetaStore& store_;
  std::vector<Target> targets_;
  const Clock& clock_;
  RetryPolicy retry_;
  std::mutex mu_;
  Status store_error_;  // first store failure of the current round (guarded by mu_)
};

struct RunOptions {
  std::chrono::milliseconds budget{10'000};
  // Keep going until nothing is pending (waiting for back-offs), or the budget ends.
  bool until_empty = false;
  // When set (e.g. DIR/outbox.lock), only one process or thread at a time
  // delivers: the others wait for it within their budget, then leave the work
  // to it (stats.busy). Without it, concurrent senders may both send a new alert.
  std::string lock_path;
};

// Parses the config, builds the channels and delivers what is due, in rounds,
// within the budget. Errors: kInvalidArgument (config), store errors.
Result<DeliveryStats> RunDelivery(storage::MetaStore& store, const nlohmann::json& config,
                                  const Clock& clock, const RunOptions& options);

// One call for `ingest` and `serve`: RunDelivery without waiting for back-offs.
// Never throws: an exception inside becomes kInternal.
// Pass lock_path = DATA_DIR + "/outbox.lock" (OutboxLockPath) so that two
// processes never send the same alert at once.
Status DeliverPending(storage::MetaStore& store, const nlohmann::json& config, const Clock& clock,
                      std::chrono::milliseconds budget, const std::string& lock_path = "");

// Keeps a background sender's log quiet while one error repeats (L7: an
// unwritable outbox.lock every 2 s forever). Next(s) returns the line to
// log: "alert delivery postponed: <error>" the first time an error is seen,
// then the same error at most once per `interval_ms` (with how often it came
// meanwhile), and "alert delivery resumed" once it is OK again.
// Not thread-safe (one per sender loop).
class RepeatLimiter {
 public:
  explicit RepeatLimiter(int64_t interval_ms = 600'000) : interval_ms_(interval_ms) {}
  std::optional<std::string> Next(const Status& s, int64_t now_ms);

 private:
  int64_t interval_ms_;
  std::string last_;  // the error logged last ("" = none since OK)
  int64_t logged_ms_ = 0;
  int64_t repeats_ = 0;  // times `last_` came back since it was logged
};

// When a background sender (serve's delivery thread) runs a round. A round
// reads the outbox (two Queries on dynamodb://), so on a shared store an
// idle replica skips it unless `version` (its snapshot's) moved since the
// last round (a commit may have raised alerts), that round left work
// (pending deliveries, another sender busy, an error), or `fallback_ms`
// passed (alerts committed without metrics, e.g. a worker's dead-letter
// alert; workers deliver their own alerts after each commit). Not shared
// (a local store): every call is due. Not thread-safe (one per sender loop).
struct DeliveryGate {
  bool shared = false;
  int64_t fallback_ms = 60'000;
  uint64_t seen_version = 0;
  bool work_left = true;  // the first call is due
  int64_t last_ms = 0;

  bool Due(uint64_t version, int64_t now_ms) const {
    return !shared || work_left || version != seen_version || now_ms - last_ms >= fallback_ms;
  }
  void Ran(uint64_t version, int64_t now_ms, bool left) {
    seen_version = version;
    last_ms = now_ms;
    work_left = left;
  }
};

// DATA_DIR + "/outbox.lock".
std::string OutboxLockPath(const std::string& data_dir);

// "pending", "delivered", "skipped" (excluded by the channel's filter) or "gave_up".
const char* DeliveryStateName(const storage::Delivery& d);

// The listing of `aquasense alerts --json` and GET /v1/alerts:
// {"alerts":[{"id","kind","sensor","default_sensor","file","file_sha256","time",
//   "summary","idempotency_key","counts","examples",
//   "deliveries":[{"channel","state","attempts","next_attempt","updated","last_error"}]}]}
// (times ISO 8601 UTC; next_attempt null unless pending; updated null if never).
nlohmann::json AlertListJson(
    const std::vector<std::pair<storage::Alert, std::vector<storage::Delivery>>>& alerts);

}  // namespace aquasense::notify
