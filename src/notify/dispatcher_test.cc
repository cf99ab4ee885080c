// Dispatcher over an in-memory outbox and scripted channels.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <map>
#include <mutex>
#include <stdexcept>

#include "notify/notifier.h"
#include "storage/test_meta_store.h"
#include "storage/test_records.h"

namespace aquasense::notify {
namespace {

using storage::Alert;
using storage::Delivery;
using storage::DeliveryState;

// Only the outbox part of MetaStore.
class FakeOutbox final : public storage::UnusedMetaStore {
 public:
  int64_t Add(Alert a, const std::vector<std::string>& channels) {
    std::lock_guard<std::mutex> l(mu_);
    a.id = static_cast<int64_t>(alerts_.size()) + 1;
    alerts_[a.id] = a;
    for (const auto& c : channels) {
      Delivery d;
      d.alert_id = a.id;
      d.channel = c;
      deliveries_[{a.id, c}] = d;
    }
    return a.id;
  }
  Delivery Get(int64_t id, const std::string& channel) {
    std::lock_guard<std::mutex> l(mu_);
    return deliveries_.at({id, channel});
  }

  Result<std::vector<Delivery>> DueDeliveries(int64_t now_ms, size_t limit) override {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<Delivery> out;
    for (const auto& [k, d] : deliveries_) {
      if (d.state == DeliveryState::kPending && d.next_attempt_ms <= now_ms && out.size() < limit) {
        out.push_back(d);
      }
    }
    return out;
  }
  Result<Alert> GetAlert(int64_t id) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = alerts_.find(id);
    if (it == alerts_.end()) return NotFound("no alert");
    return it->second;
  }
  Status UpdateDelivery(const Delivery& d) override {
    std::lock_guard<std::mutex> l(mu_);
    ++transactions_;
    if (fail_updates_) return Unavailable("disk on fire");
    deliveries_[{d.alert_id, d.channel}] = d;
    return Status::Ok();
  }
  Status UpdateDeliveries(std::span<const Delivery> ds) override {
    std::lock_guard<std::mutex> l(mu_);
    ++transactions_;
    if (fail_updates_) return Unavailable("disk on fire");
    for (const Delivery& d : ds) deliveries_[{d.alert_id, d.channel}] = d;
    return Status::Ok();
  }

  Status ClaimDelivery(const Delivery& seen, const Delivery& next) override {
    std::lock_guard<std::mutex> l(mu_);
    ++transactions_;
    if (fail_updates_) return Unavailable("disk on fire");
    Delivery& d = deliveries_[{seen.alert_id, seen.channel}];
    if (d.attempts != seen.attempts || d.next_attempt_ms != seen.next_attempt_ms ||
        d.state != seen.state || d.updated_ms != seen.updated_ms)
      return Aborted("claimed by another host");
    d = next;
    return Status::Ok();
  }

  bool fail_updates_ = false;
  int transactions_ = 0;  // UpdateDelivery / UpdateDeliveries calls

 private:
  std::mutex mu_;
  std::map<int64_t, Alert> alerts_;
  std::map<std::pair<int64_t, std::string>, Delivery> deliveries_;
};

// Fails while `down` is set; counts what it received.
class ScriptedChannel final : public Channel {
 public:
  Status Send(const Alert& a) override {
    ++calls;
    if (down) return Unavailable("connection refused");
    received.push_back(a.id);
    return Status::Ok();
  }
  bool down = false;
  int calls = 0;
  std::vector<int64_t> received;
};

Alert MakeAlert(const std::string& kind, const std::string& sensor, int64_t created_ms) {
  Alert a = testing::TestAlert(kind, sensor, "f", created_ms);
  a.source_name = "x.csv";
  return a;
}

struct Fixture {
  FakeOutbox store;
  FakeClock clock{1'000'000};
  ScriptedChannel* a = nullptr;
  ScriptedChannel* b = nullptr;
  std::unique_ptr<Dispatcher> dispatcher;

  explicit Fixture(RetryPolicy retry = {}, ChannelConfig b_config = {}) {
    std::vector<Dispatcher::Target> targets;
    auto ca = std::make_unique<ScriptedChannel>();
    auto cb = std::make_unique<ScriptedChannel>();
    a = ca.get();
    b = cb.get();
    // Scripted stand-ins for network channels (leased before each send).
    ChannelConfig config_a;
    config_a.name = "a";
    config_a.type = ChannelType::kWebhook;
    b_config.name = "b";
    b_config.type = ChannelType::kWebhook;
    targets.push_back({config_a, std::move(ca)});
    targets.push_back({b_config, std::move(cb)});
    dispatcher = std::make_unique<Dispatcher>(store, std::move(targets), clock, retry);
  }
};

TEST(Dispatcher, DeliversOnceAndNeverAgain) {
  Fixture f;
  int64_t id = f.store.Add(MakeAlert("deviation", "s1", f.clock.NowMs()), {"a", "b"});
  auto r = f.dispatcher->DeliverDue();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->delivered, 2);
  EXPECT_EQ(f.store.Get(id, "a").state, DeliveryState::kDelivered);
  EXPECT_EQ(f.store.Get(id, "a").attempts, 1);
  f.clock.Advance(3'600'000);
  r = f.dispatcher->DeliverDue();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->delivered, 0);
  EXPECT_EQ(f.a->calls, 1);
  EXPECT_EQ(f.b->calls, 1);
  EXPECT_EQ(*f.dispatcher->PendingCount(), 0);
}

TEST(Dispatcher, DownChannelBacksOffWithoutBlockingOthers) {
  Fixture f;
  f.a->down = true;
  int64_t id1 = f.store.Add(MakeAlert("deviation", "s1", f.clock.NowMs()), {"a", "b"});
  int64_t id2 = f.store.Add(MakeAlert("deviation", "s2", f.clock.NowMs()), {"a", "b"});
  auto r = f.dispatcher->DeliverDue();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->delivered, 2);  // b got both
  EXPECT_EQ(r->failed, 1);
  EXPECT_EQ(r->deferred, 1);
  EXPECT_EQ(f.a->calls, 1);  // the second was deferred, not tried
  Delivery d = f.store.Get(id1, "a");
  EXPECT_EQ(d.state, DeliveryState::kPending);
  EXPECT_EQ(d.attempts, 1);
  EXPECT_EQ(d.next_attempt_ms, f.clock.NowMs() + 1'000);
  EXPECT_EQ(d.last_error, "connection refused");
  EXPECT_EQ(f.store.Get(id2, "a").attempts, 0);

  // Not due yet: nothing happens.
  f.clock.Advance(999);
  ASSERT_TRUE(f.dispatcher->DeliverDue().ok());
  EXPECT_EQ(f.a->calls, 1);
  // Still down: 2 s, then 4 s.
  f.clock.Advance(1);
  ASSERT_TRUE(f.dispatcher->DeliverDue().ok());
  EXPECT_EQ(f.store.Get(id1, "a").next_attempt_ms, f.clock.NowMs() + 2'000);
  f.clock.Advance(2'000);
  ASSERT_TRUE(f.dispatcher->DeliverDue().ok());
  EXPECT_EQ(f.store.Get(id1, "a").next_attempt_ms, f.clock.NowMs() + 4'000);
  // Back up: both arrive, once each.
  f.a->down = false;
  f.clock.Advance(4'000);
  ASSERT_TRUE(f.dispatcher->DeliverDue().ok());
  EXPECT_EQ(f.a->received, (std::vector<int64_t>{id1, id2}));
  EXPECT_EQ(f.b->received, (std::vector<int64_t>{id1, id2}));
  EXPECT_EQ(*f.dispatcher->PendingCount(), 0);
}

TEST(Dispatcher, FilteredAlertsAreSkipped) {
  ChannelConfig only_quality;
  only_quality.kinds = {"data_quality"};
  Fixture f({}, only_quality);
  int64_t id = f.store.Add(MakeAlert("deviation", "s1", f.clock.NowMs()), {"a", "b"});
  auto r = f.dispatcher->DeliverDue();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->delivered, 1);
  EXPECT_EQ(r->skipped, 1);
  EXPECT_EQ(f.b->calls, 0);
  Delivery d = f.store.Get(id, "b");
  EXPECT_EQ(d.state, DeliveryState::kDelivered);
  EXPECT_EQ(d.attempts, 0);
  EXPECT_EQ(d.last_error.rfind("skipped", 0), 0u);
}

TEST(Dispatcher, GivesUpAfterMaxAge) {
  RetryPolicy p;
  p.give_up_after_ms = 60'000;
  Fixture f(p);
  f.a->down = true;
  int64_t id = f.store.Add(MakeAlert("deviation", "s1", f.clock.NowMs()), {"a"});
  ASSERT_TRUE(f.dispatcher->DeliverDue().ok());
  f.clock.Advance(61'000);
  auto r = f.dispatcher->DeliverDue();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->gave_up, 1);
  Delivery d = f.store.Get(id, "a");
  EXPECT_EQ(d.state, DeliveryState::kGaveUp);
  EXPECT_NE(d.last_error.find("connection refused"), std::string::npos);
}

TEST(Dispatcher, RemovedChannelGivesUp) {
  Fixture f;
  int64_t id = f.store.Add(MakeAlert("deviation", "s1", f.clock.NowMs()), {"gone"});
  auto r = f.dispatcher->DeliverDue();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->gave_up, 1);
  EXPECT_EQ(f.store.Get(id, "gone").state, DeliveryState::kGaveUp);
}

TEST(Dispatcher, StoreFailureIsReported) {
  Fixture f;
  f.store.Add(MakeAlert("deviation", "s1", f.clock.NowMs()), {"a", "b"});
  f.store.fail_updates_ = true;
  auto r = f.dispatcher->DeliverDue();
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_EQ(f.a->calls, 0);  // the lease could not be written: nothing sent
}

// A log channel's outcomes are recorded without a lease and together: 1,200
// alerts cost 3 store transactions (512 + 512 + 176), not 2,400; a failing
// store is still reported.
TEST(Dispatcher, LogChannelOutcomesAreRecordedTogether) {
  FakeOutbox store;
  FakeClock clock{1'000'000};
  auto channel = std::make_unique<ScriptedChannel>();
  ScriptedChannel* log = channel.get();
  ChannelConfig config;
  config.name = "log";
  config.type = ChannelType::kLog;
  std::vector<Dispatcher::Target> targets;
  targets.push_back({config, std::move(channel)});
  Dispatcher dispatcher(store, std::move(targets), clock, {});
  std::vector<int64_t> ids;
  for (int i = 0; i < 1200; ++i)
    ids.push_back(
        store.Add(MakeAlert("deviation", "s" + std::to_string(i), clock.NowMs()), {"log"}));
  auto r = dispatcher.DeliverDue(INT64_MAX, 5000);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->delivered, 1200);
  EXPECT_EQ(log->calls, 1200);
  EXPECT_EQ(store.transactions_, 3);
  for (int64_t id : ids) ASSERT_EQ(store.Get(id, "log").state, DeliveryState::kDelivered);

  const int64_t more = store.Add(MakeAlert("deviation", "x", clock.NowMs()), {"log"});
  store.fail_updates_ = true;
  EXPECT_EQ(dispatcher.DeliverDue().status().code(), Code::kUnavailable);
  EXPECT_EQ(store.Get(more, "log").state, DeliveryState::kPending);  // sent again next time
}

TEST(RunDelivery, LogChannelFromConfig) {
  FakeOutbox store;
  FakeClock clock(1'000);
  std::string path = ::testing::TempDir() + "/aq_alerts_log.jsonl";
  std::remove(path.c_str());
  nlohmann::json config = {{"alerts", {{"channels", {{{"type", "log"}, {"path", path}}}}}}};
  int64_t id = store.Add(MakeAlert("deviation", "s1", 1'000), ChannelNames(config));
  ASSERT_TRUE(DeliverPending(store, config, clock, std::chrono::seconds(5)).ok());
  EXPECT_EQ(store.Get(id, "log").state, DeliveryState::kDelivered);
  std::FILE* f = std::fopen(path.c_str(), "r");
  ASSERT_NE(f, nullptr);
  char buf[4096] = {0};
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  auto line = nlohmann::json::parse(std::string(buf, n));
  EXPECT_EQ(line["kind"], "deviation");
  EXPECT_EQ(DeliverPending(store, {{"alerts", 3}}, clock, std::chrono::seconds(1)).code(),
            Code::kInvalidArgument);
}

// L8: a delivery deferred because its channel failed earlier in the round
// keeps its own (empty) error: it was not tried, the other alert's error is
// not its own. The listing shows no error for a row never tried.
TEST(Dispatcher, L8_DeferredRowKeepsItsOwnError) {
  Fixture f;
  f.a->down = true;
  int64_t id1 = f.store.Add(MakeAlert("deviation", "s1", f.clock.NowMs()), {"a"});
  int64_t id2 = f.store.Add(MakeAlert("deviation", "s2", f.clock.NowMs()), {"a"});
  ASSERT_TRUE(f.dispatcher->DeliverDue().ok());
  EXPECT_EQ(f.store.Get(id1, "a").last_error, "connection refused");
  Delivery d2 = f.store.Get(id2, "a");
  EXPECT_EQ(d2.attempts, 0);
  EXPECT_EQ(d2.last_error, "");
  EXPECT_EQ(d2.next_attempt_ms, f.clock.NowMs() + 1'000);

  // A row stored by an older version with another alert's error: not shown.
  Delivery legacy = d2;
  legacy.last_error = "HTTP 500 from http://127.0.0.1:1/x: oops";
  auto list = AlertListJson({{*f.store.GetAlert(id2), {legacy}}});
  EXPECT_EQ(list["alerts"][0]["deliveries"][0]["last_error"], "");
  EXPECT_EQ(list["alerts"][0]["deliveries"][0]["attempts"], 0);
}

// A channel that throws fails that delivery (retried later); the other
// channel of the round delivers; the process does not terminate.
class ThrowingChannel final : public Channel {
 public:
  Status Send(const Alert&) override { throw std::runtime_error("boom"); }
};

TEST(Dispatcher, ChannelExceptionIsThatDeliverysFailure) {
  FakeOutbox store;
  FakeClock clock{1'000'000};
  std::vector<Dispatcher::Target> targets;
  ChannelConfig bad, good;
  bad.name = "bad";
  bad.type = ChannelType::kWebhook;
  good.name = "good";
  good.type = ChannelType::kWebhook;
  auto ok = std::make_unique<ScriptedChannel>();
  ScriptedChannel* okp = ok.get();
  targets.push_back({bad, std::make_unique<ThrowingChannel>()});
  targets.push_back({good, std::move(ok)});
  Dispatcher dispatcher(store, std::move(targets), clock, {});
  int64_t id = store.Add(MakeAlert("deviation", "s1", clock.NowMs()), {"bad", "good"});
  auto r = dispatcher.DeliverDue();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->delivered, 1);
  EXPECT_EQ(r->failed, 1);
  EXPECT_EQ(okp->calls, 1);
  Delivery d = store.Get(id, "bad");
  EXPECT_EQ(d.state, DeliveryState::kPending);
  EXPECT_EQ(d.attempts, 1);
  EXPECT_NE(d.last_error.find("boom"), std::string::npos) << d.last_error;
}

// M4: whatever a channel returns, the stored error carries no URL userinfo,
// path or query.
class LeakyChannel final : public Channel {
 public:
  Status Send(const Alert&) override {
    return Unavailable("POST http://user:hunter2@127.0.0.1:18199/hooks/T0SECRET?k=QSECRET failed");
  }
};

TEST(Dispatcher, M4_StoredErrorIsRedacted) {
  FakeOutbox store;
  FakeClock clock{1'000'000};
  std::vector<Dispatcher::Target> targets;
  ChannelConfig c;
  c.name = "dead";
  c.type = ChannelType::kWebhook;
  targets.push_back({c, std::make_unique<LeakyChannel>()});
  Dispatcher dispatcher(store, std::move(targets), clock, {});
  int64_t id = store.Add(MakeAlert("deviation", "s1", clock.NowMs()), {"dead"});
  ASSERT_TRUE(dispatcher.DeliverDue().ok());
  const std::string e = store.Get(id, "dead").last_error;
  EXPECT_EQ(e, "POST http://127.0.0.1:18199/\u2026 failed");
  for (const char* secret : {"hunter2", "user", "T0SECRET", "QSECRET"})
    EXPECT_EQ(e.find(secret), std::string::npos) << secret;
}

// L7: the same delivery error is logged once, then at most once per interval;
// a new error is logged at once; recovery is logged once.
TEST(RepeatLimiter, L7_SameErrorLoggedOncePerInterval) {
  RepeatLimiter limiter(600'000);
  const Status lock_error = Unavailable("cannot open /d/outbox.lock: Read-only file system");
  auto first = limiter.Next(lock_error, 0);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(*first, "alert delivery postponed: cannot open /d/outbox.lock: Read-only file system");
  int logged = 0;
  for (int64_t t = 2'000; t < 600'000; t += 2'000) logged += limiter.Next(lock_error, t) ? 1 : 0;
  EXPECT_EQ(logged, 0);  // 299 repeats in 10 minutes: silent
  auto again = limiter.Next(lock_error, 600'000);
  ASSERT_TRUE(again.has_value());
  EXPECT_NE(again->find("again 300 times"), std::string::npos) << *again;
  auto other =
      limiter.Next(Unavailable("cannot open /d/outbox.lock: Too many open files"), 602'000);
  ASSERT_TRUE(other.has_value());
  EXPECT_NE(other->find("Too many open files"), std::string::npos);
  EXPECT_EQ(limiter.Next(Status::Ok(), 604'000),
            std::optional<std::string>("alert delivery resumed"));
  EXPECT_FALSE(limiter.Next(Status::Ok(), 606'000).has_value());
}

// K9 (cluster_test): an idle replica on a shared store ran two outbox
// Queries every 2 s (1.0 of its 2.33 DynamoDB requests/s).
TEST(DeliveryGate, K9_IdleSharedReplicaSkipsRoundsUntilSomethingMoves) {
  DeliveryGate gate{.shared = true};  // the default fallback: 60 s
  EXPECT_TRUE(gate.Due(0, 1'000));    // the first round
  gate.Ran(0, 1'000, false);
  int due = 0;
  for (int64_t t = 3'000; t < 61'000; t += 2'000) due += gate.Due(0, t) ? 1 : 0;
  EXPECT_EQ(due, 0);                 // idle: no round for 60 s
  EXPECT_TRUE(gate.Due(0, 61'000));  // then the fallback round
  EXPECT_TRUE(gate.Due(7, 3'000));   // the snapshot moved
  gate.Ran(7, 3'000, true);          // deliveries left pending
  EXPECT_TRUE(gate.Due(7, 5'000));   // retried next tick
  gate.Ran(7, 5'000, false);
  EXPECT_FALSE(gate.Due(7, 7'000));
  DeliveryGate local;  // not shared: every tick, as before
  local.Ran(0, 0, false);
  EXPECT_TRUE(local.Due(0, 2'000));
}

TEST(RunDelivery, OneSenderAtATime) {
  FakeOutbox store;
  SystemClock clock;
  std::string lock = ::testing::TempDir() + "/aq_outbox_test.lock";
  nlohmann::json config = {{"alerts", {{"channels", {{{"type", "log"}, {"path", "/dev/null"}}}}}}};
  int64_t id = store.Add(MakeAlert("deviation", "s1", clock.NowMs()), {"log"});
  int fd = open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(flock(fd, LOCK_EX), 0);  // another sender holds the lock
  RunOptions options;
  options.budget = std::chrono::milliseconds(200);
  options.lock_path = lock;
  auto r = RunDelivery(store, config, clock, options);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->busy);
  EXPECT_EQ(r->pending, 1);
  EXPECT_EQ(store.Get(id, "log").state, DeliveryState::kPending);
  close(fd);  // released
  r = RunDelivery(store, config, clock, options);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->busy);
  EXPECT_EQ(r->delivered, 1);
  EXPECT_EQ(r->pending, 0);
}

}  // namespace
}  // namespace aquasense::notify
