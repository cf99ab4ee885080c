#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <map>
#include <thread>

#include "notify/channels.h"
#include "notify/format.h"
#include "notify/notifier.h"
#include "notify/redact.h"

namespace aquasense::notify {
namespace {

// A delivery being sent is leased for its channel's timeout plus this margin,
// so a second process does not send it at the same time, and a process killed
// mid-send leaves it due again soon after.
constexpr int64_t kLeaseMarginMs = 2'000;
// Outcomes of a log channel recorded per transaction (see SendAll).
constexpr size_t kRecordBatch = 512;

void Add(DeliveryStats& into, const DeliveryStats& s) {
  into.delivered += s.delivered;
  into.failed += s.failed;
  into.skipped += s.skipped;
  into.gave_up += s.gave_up;
  into.deferred += s.deferred;
}

int64_t Work(const DeliveryStats& s) { return s.delivered + s.failed + s.skipped + s.gave_up; }

// channel.Send with an exception boundary: a channel that throws (a library
// bug, bad_alloc) fails this delivery, which is retried like any failure.
Status SendOne(Channel& channel, const storage::Alert& alert) {
  try {
    return channel.Send(alert);
  } catch (const std::exception& e) {
    return Internal(std::string("the channel failed unexpectedly: ") + e.what());
  } catch (...) {
    return Internal("the channel failed unexpectedly");
  }
}

// An exclusive flock(2) on a file, held while alive; released by the kernel
// if the process dies.
class LockFile {
 public:
  ~LockFile() {
    if (fd_ >= 0) close(fd_);  // drops the lock
  }
  // Tries until `deadline_ms` (by `clock`). Returns false when another holder kept it.
  Result<bool> Acquire(const std::string& path, const Clock& clock, int64_t deadline_ms) {
    fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return Unavailable("cannot open " + path + ": " + std::strerror(errno));
    while (true) {
      if (flock(fd_, LOCK_EX | LOCK_NB) == 0) return true;
      if (errno != EWOULDBLOCK && errno != EINTR) {
        return Unavailable("cannot lock " + path + ": " + std::strerror(errno));
      }
      if (clock.NowMs() >= deadline_ms) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

 private:
  int fd_ = -1;
};

}  // namespace

Result<std::unique_ptr<Channel>> MakeChannel(const ChannelConfig& config, const Clock& clock) {
  switch (config.type) {
    case ChannelType::kLog:
      return NewLogChannel(config);
    case ChannelType::kWebhook:
      return NewWebhookChannel(config);
    case ChannelType::kEmail:
      return NewEmailChannel(config, clock);
    case ChannelType::kSns:
      return NewSnsChannel(config, clock, aws::ProcessEnv());
  }
  return InvalidArgument("unknown channel type");
}

Dispatcher::Dispatcher(storage::MetaStore& store, std::vector<Target> targets, const Clock& clock,
                       RetryPolicy retry)
    : store_(store), targets_(std::move(targets)), clock_(clock), retry_(retry) {}

Status Dispatcher::Record(const storage::Delivery& d) { return store_.UpdateDelivery(d); }

Result<int64_t> Dispatcher::PendingCount(size_t limit) {
  auto all = store_.DueDeliveries(INT64_MAX, limit);
  if (!all.ok()) return all.status();
  return static_cast<int64_t>(all->size());
}

Result<DeliveryStats> Dispatcher::DeliverDue(int64_t deadline_ms, size_t limit) {
  auto due = store_.DueDeliveries(clock_.NowMs(), limit);
  if (!due.ok()) return due.status();

  std::map<std::string, std::vector<storage::Delivery>> by_channel;
  for (storage::Delivery& d : *due) by_channel[d.channel].push_back(std::move(d));

  DeliveryStats total;
  std::vector<const Target*> work;
  std::vector<const std::vector<storage::Delivery>*> lists;
  for (auto& [name, list] : by_channel) {
    auto it = std::find_if(targets_.begin(), targets_.end(),
                           [&wanted = name](const Target& t) { return t.config.name == wanted; });
    if (it != targets_.end()) {
      work.push_back(&*it);
      lists.push_back(&list);
      continue;
    }
    // The channel was removed from the configuration: nothing can send these.
    for (storage::Delivery d : list) {
      d.state = storage::DeliveryState::kGaveUp;
      d.updated_ms = clock_.NowMs();
      d.last_error = "channel \"" + name + "\" is no longer configured";
      AQ_RETURN_IF_ERROR(Record(d));
      ++total.gave_up;
    }
  }

  // One thread per channel, so a slow channel never holds up another. An
  // exception that escapes a channel's round (a store or library bug) ends
  // that channel's round as a round error; the other channels go on.
  std::vector<DeliveryStats> results(work.size());
  auto run = [&](size_t i) {
    try {
      results[i] = SendAll(*work[i], *lists[i], deadline_ms);
    } catch (const std::exception& e) {
      SetStoreError(Internal("channel \"" + work[i]->config.name + "\": " + e.what()));
    } catch (...) {
      SetStoreError(Internal("channel \"" + work[i]->config.name + "\": unknown exception"));
    }
  };
  if (work.size() == 1) {
    run(0);
  } else {
    std::vector<std::jthread> threads;  // joined when they go out of scope
    threads.reserve(work.size());
    for (size_t i = 0; i < work.size(); ++i) threads.emplace_back(run, i);
  }
  for (const DeliveryStats& r : results) Add(total, r);
  if (!store_error_.ok()) {
    Status s = store_error_;
    store_error_ = Status::Ok();
    return s;
  }
  return total;
}

// Long on purpose: the fan-out to channel threads and the single bookkeeping pass after them
// NOLINTNEXTLINE(readability-function-size)
DeliveryStats Dispatcher::SendAll(const Target& target, const std::vector<storage::Delivery>& due,
                                  int64_t deadline_ms) {
  DeliveryStats stats;
  bool broken = false;  // a send of this round failed
  // A log channel's send is local and cannot hang: it needs no lease, and
  // its outcomes are recorded kRecordBatch at a time in one transaction
  // instead of two transactions per alert (a 10M-row ingest raises ~1,000
  // alerts: 2,000 commits and the WAL checkpoints they triggered took
  // ~0.3 s). A crash before such a record only logs those alerts again.
  const bool local = target.config.type == ChannelType::kLog;
  std::vector<storage::Delivery> outcomes;
  auto flush = [&] {
    if (outcomes.empty()) return true;
    Status s = store_.UpdateDeliveries(outcomes);
    outcomes.clear();
    if (!s.ok()) SetStoreError(s);
    return s.ok();
  };
  auto record = [&](const storage::Delivery& d) {
    if (local) {
      outcomes.push_back(d);
      return outcomes.size() < kRecordBatch || flush();
    }
    Status s = Record(d);
    if (!s.ok()) SetStoreError(s);
    return s.ok();
  };
  for (storage::Delivery d : due) {
    if (clock_.NowMs() > deadline_ms) break;
    const storage::Delivery seen = d;  // as read: the claim's condition
    auto alert = store_.GetAlert(d.alert_id);
    if (!alert.ok()) {
      SetStoreError(alert.status());
      break;
    }
    int64_t now = clock_.NowMs();
    d.updated_ms = now;
    if (!target.config.AcceptsAlert(*alert)) {
      d.state = storage::DeliveryState::kDelivered;
      d.last_error = "skipped: the channel's filter excludes this alert";
      if (!record(d)) break;
      ++stats.skipped;
      continue;
    }
    if (retry_.give_up_after_ms > 0 && now - alert->created_ms > retry_.give_up_after_ms) {
      d.state = storage::DeliveryState::kGaveUp;
      d.last_error = "gave up after " + std::to_string(d.attempts) + " attempts" +
                     (d.last_error.empty() ? "" : "; last error: " + d.last_error);
      if (!record(d)) break;
      ++stats.gave_up;
      continue;
    }
    if (broken) {
      // Not tried again this round; its turn comes after the back-off. Its
      // last_error stays its own (L8): this row was not tried.
      d.next_attempt_ms = now + BackoffMs(retry_, std::max(d.attempts, 1));
      if (!record(d)) break;
      ++stats.deferred;
      continue;
    }
    if (!local) {
      // Claimed with a conditional write: of several hosts that read this
      // delivery as due, one sends it; the others get kAborted and skip it.
      storage::Delivery lease = d;
      lease.next_attempt_ms = now + target.config.timeout_ms + kLeaseMarginMs;
      Status claimed = store_.ClaimDelivery(seen, lease);
      if (claimed.code() == Code::kAborted) continue;
      if (!claimed.ok()) {
        SetStoreError(claimed);
        break;
      }
    }

    Status sent = SendOne(*target.channel, *alert);
    d.attempts += 1;
    d.updated_ms = clock_.NowMs();
    if (sent.ok()) {
      d.state = storage::DeliveryState::kDelivered;
      d.last_error.clear();
      ++stats.delivered;
    } else {
      d.next_attempt_ms = d.updated_ms + BackoffMs(retry_, d.attempts);
      d.last_error = SafeError(sent.message());
      broken = true;
      ++stats.failed;
    }
    if (!record(d)) break;
  }
  flush();
  return stats;
}

void Dispatcher::SetStoreError(const Status& s) {
  std::lock_guard<std::mutex> lock(mu_);
  if (store_error_.ok()) store_error_ = s;
}

Result<DeliveryStats> RunDelivery(storage::MetaStore& store, const nlohmann::json& config,
                                  const Clock& clock, const RunOptions& options) {
  auto cfg = ParseAlertsConfig(config);
  if (!cfg.ok()) return cfg.status();
  std::vector<Dispatcher::Target> targets;
  for (const ChannelConfig& c : cfg->channels) {
    auto ch = MakeChannel(c, clock);
    if (!ch.ok()) return ch.status();
    targets.push_back({c, std::move(*ch)});
  }
  Dispatcher dispatcher(store, std::move(targets), clock, cfg->retry);

  const int64_t deadline = clock.NowMs() + options.budget.count();
  DeliveryStats total;
  LockFile lock;
  if (!options.lock_path.empty()) {
    auto got = lock.Acquire(options.lock_path, clock, deadline);
    if (!got.ok()) return got.status();
    if (!*got) {
      total.busy = true;
      auto pending = dispatcher.PendingCount();
      if (!pending.ok()) return pending.status();
      total.pending = *pending;
      return total;
    }
  }
  while (true) {
    auto round = dispatcher.DeliverDue(deadline);
    if (!round.ok()) return round.status();
    Add(total, *round);
    if (clock.NowMs() >= deadline) break;
    if (!options.until_empty) {
      // Go on while rounds make progress; failures wait for their back-off.
      if (round->delivered + round->skipped + round->gave_up == 0) break;
      continue;
    }
    if (Work(*round) > 0) continue;
    auto pending = dispatcher.PendingCount(1);
    if (!pending.ok()) return pending.status();
    if (*pending == 0) break;
    int64_t left = deadline - clock.NowMs();
    std::this_thread::sleep_for(std::chrono::milliseconds(std::clamp<int64_t>(left, 0, 100)));
  }
  auto pending = dispatcher.PendingCount();
  if (!pending.ok()) return pending.status();
  total.pending = *pending;
  return total;
}

Status DeliverPending(storage::MetaStore& store, const nlohmann::json& config, const Clock& clock,
                      std::chrono::milliseconds budget, const std::string& lock_path) {
  RunOptions options;
  options.budget = budget;
  options.lock_path = lock_path;
  try {
    auto r = RunDelivery(store, config, clock, options);
    return r.ok() ? Status::Ok() : r.status();
  } catch (const std::exception& e) {
    return Internal(std::string("alert delivery failed unexpectedly: ") + e.what());
  } catch (...) {
    return Internal("alert delivery failed unexpectedly");
  }
}

std::optional<std::string> RepeatLimiter::Next(const Status& s, int64_t now_ms) {
  if (s.ok()) {
    if (last_.empty()) return std::nullopt;
    last_.clear();
    return "alert delivery resumed";
  }
  const std::string& error = s.message();
  if (error != last_) {
    last_ = error;
    logged_ms_ = now_ms;
    repeats_ = 0;
    return "alert delivery postponed: " + error;
  }
  ++repeats_;
  if (now_ms - logged_ms_ < interval_ms_) return std::nullopt;
  std::string line = "alert delivery postponed: " + error + " (again " + std::to_string(repeats_) +
                     " times since it was last logged)";
  logged_ms_ = now_ms;
  repeats_ = 0;
  return line;
}

std::string OutboxLockPath(const std::string& data_dir) { return data_dir + "/outbox.lock"; }

}  // namespace aquasense::notify
