#include "cloud/worker.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <stop_token>
#include <thread>

#include "common/aws/request_stats.h"
#include "common/crypto.h"

namespace aquasense::cloud {
namespace {

// Extends a message's visibility while its file runs: every period, to
// `visibility_s` from then. Stops (and joins) when destroyed.
class Heartbeat {
 public:
  Heartbeat(const aws::SqsClient& sqs, std::string url, std::string receipt, int visibility_s)
      : thread_([&sqs, url = std::move(url), receipt = std::move(receipt), visibility_s,
                 this](std::stop_token stop) {
          const auto period = std::chrono::milliseconds(std::max(1, visibility_s) * 1000 / 3);
          std::unique_lock lock(mu_);
          while (!cv_.wait_for(lock, stop, period, [] { return false; }) &&
                 !stop.stop_requested()) {
            lock.unlock();
            (void)sqs.ChangeMessageVisibility(url, receipt, visibility_s);  // best effort
            lock.lock();
          }
        }) {}

 private:
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::jthread thread_;  // last: joined before the members it uses go
};

constexpr int kConflictTries = 8;  // IngestObjectRetrying

bool Earlier(const storage::ObjectInfo& a, const storage::ObjectInfo& b) {
  return a.mtime_ms != b.mtime_ms ? a.mtime_ms < b.mtime_ms : a.key < b.key;
}

}  // namespace

QueueWorker::QueueWorker(WorkerDeps deps, WorkerOptions options)
    : d_(std::move(deps)), o_(std::move(options)) {}

void QueueWorker::Log(const std::string& line) const {
  if (d_.log) d_.log(line);
}

Status QueueWorker::Run(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    auto msgs = d_.sqs->ReceiveMessage(o_.queue_url, {.max_messages = 1, .wait_s = o_.wait_s});
    if (!msgs.ok()) {
      const Code c = msgs.status().code();
      if (c == Code::kNotFound || c == Code::kFailedPrecondition || c == Code::kInvalidArgument)
        return msgs.status();
      Log("receive failed, retrying: " + msgs.status().message());
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    if (msgs->empty() && o_.exit_when_idle) break;
    for (const aws::SqsMessage& m : *msgs) {
      ++stats_.messages;
      if (stop.load()) {  // not started: let another worker have it now
        (void)d_.sqs->ChangeMessageVisibility(o_.queue_url, m.receipt_handle, 0);
        continue;
      }
      Handle(m);
    }
  }
  return Status::Ok();
}

QueueWorker::Outcome QueueWorker::Handle(const aws::SqsMessage& m) {
  Heartbeat heartbeat(*d_.sqs, o_.queue_url, m.receipt_handle, o_.visibility_s);
  Status failed = Status::Ok();
  std::optional<InboxFile> failed_file;
  auto event = ParseS3Event(m.body);
  if (!event.ok()) {
    failed = event.status();
  } else {
    if (event->test_event) ++stats_.events_ignored;
    for (const S3EventObject& o : event->objects) {
      auto file = o.bucket == o_.bucket ? ParseInboxKey(o.key, o_.prefix) : std::nullopt;
      if (!file) {
        ++stats_.events_ignored;
        Log("ignored s3://" + o.bucket + "/" + o.key + ": not <prefix>/inbox/<sensor>/<name>.csv");
        continue;
      }
      if (Status s = IngestInbox(*file); !s.ok() && failed.ok()) {
        failed = s;
        failed_file = *file;
      }
    }
  }
  if (failed.ok()) {
    if (Status s = d_.sqs->DeleteMessage(o_.queue_url, m.receipt_handle); !s.ok())
      Log("delete of message " + m.message_id +
          " failed (it comes again, counted once): " + s.message());
    return Outcome::kDeleted;
  }
  if (m.receive_count >= o_.max_receive) {
    ++stats_.dead_lettered;
    Log("giving up message " + m.message_id + " after " + std::to_string(m.receive_count) +
        " receives (to the dead-letter queue): " + failed.message());
    InboxFile f = failed_file.value_or(InboxFile{"", "", ""});
    if (Status s = RaiseDeadLetterAlert(f, m, failed.message()); !s.ok())
      Log("the dead-letter alert could not be recorded: " + s.message());
    // Visible again at once: the next receive moves it to the dead-letter queue.
    (void)d_.sqs->ChangeMessageVisibility(o_.queue_url, m.receipt_handle, 0);
    return Outcome::kGaveUp;
  }
  ++stats_.failures;
  Log("message " + m.message_id + " failed (receive " + std::to_string(m.receive_count) +
      "), retried in " + std::to_string(o_.retry_delay_s) + " s: " + failed.message());
  (void)d_.sqs->ChangeMessageVisibility(o_.queue_url, m.receipt_handle, o_.retry_delay_s);
  return Outcome::kRetry;
}

// Ingests, oldest first, every file of the sensor still in the inbox that
// arrived before `file`, then `file`. Those earlier files are best effort
// (their own messages retry them); only `file`'s failure is returned.
Status QueueWorker::IngestInbox(const InboxFile& file) {
  const std::string folder = "inbox/" + file.sensor + "/";
  auto listed = d_.objects->List(folder);
  if (!listed.ok()) return listed.status();
  auto me = std::find_if(listed->begin(), listed->end(),
                         [&](const storage::ObjectInfo& i) { return i.key == file.key; });
  if (me == listed->end()) {  // ingested and removed by a worker already
    ++stats_.files_gone;
    return Status::Ok();
  }
  const storage::ObjectInfo mine = *me;
  std::vector<storage::ObjectInfo> earlier;
  for (const storage::ObjectInfo& i : *listed)
    if (Earlier(i, mine)) earlier.push_back(i);
  std::sort(earlier.begin(), earlier.end(), Earlier);
  for (const storage::ObjectInfo& i : earlier) {
    auto f = ParseInboxKey(o_.prefix.empty() ? i.key : o_.prefix + "/" + i.key, o_.prefix);
    if (!f) continue;
    Status s = IngestObjectRetrying(*f);
    // Still racing another worker on the sensor: going on would commit the
    // later file first. This message comes back after the retry delay.
    if (s.code() == Code::kAborted) return s;
    if (!s.ok()) Log("earlier file " + i.key + " not ingested yet: " + s.message());
  }
  return IngestObjectRetrying(file);
}

Status QueueWorker::IngestObjectRetrying(const InboxFile& file) {
  thread_local std::minstd_rand rng(std::random_device{}());
  Status s;
  for (int attempt = 0; attempt < kConflictTries; ++attempt) {
    s = IngestObject(file);
    if (s.code() != Code::kAborted) return s;
    const int64_t cap_ms = int64_t{10} << std::min(attempt, 7);
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(cap_ms / 2, cap_ms)(rng)));
  }
  return s;
}

Status QueueWorker::IngestObject(const InboxFile& file) {
  auto reader = d_.objects->Open(file.key);
  if (!reader.ok()) {
    if (reader.status().code() != Code::kNotFound) return reader.status();
    ++stats_.files_gone;  // another worker finished it meanwhile
    return Status::Ok();
  }
  auto writer = d_.pipeline->NewLandingWriter(file.sensor, file.key);
  if (!writer.ok()) return writer.status();
  std::string buf(1u << 20, '\0');
  for (;;) {
    auto n = (*reader)->Read(buf.data(), buf.size());
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    AQ_RETURN_IF_ERROR((*writer)->Append(std::string_view(buf.data(), *n)));
  }
  auto staged = (*writer)->FinishForBatch();
  if (!staged.ok()) return staged.status();
  pipeline::IngestRequest req;
  req.default_sensor = file.sensor;
  auto summary = d_.pipeline->IngestStaged({*staged}, req);
  if (!summary.ok()) return summary.status();
  for (const pipeline::FileSummary& f : summary->per_file) {
    if (f.status == "unreadable") return Unavailable(file.key + ": " + f.error);
    if (f.status == "already_ingested") ++stats_.files_already;
    if (f.status == "ingested") ++stats_.files_ingested;
  }
  stats_.rows += summary->rows;
  Log("ingested " + file.key + ": " + std::to_string(summary->rows) + " rows" +
      (summary->files == 0 ? " (already ingested)" : ""));
  if (d_.after_commit) d_.after_commit();
  // Committed: the inbox copy can go (landing/ keeps the bytes). A failure
  // here only costs a second, deduplicated, ingest.
  if (Status s = d_.objects->Delete(file.key); !s.ok())
    Log("could not remove " + file.key + " from the inbox: " + s.message());
  return Status::Ok();
}

Status QueueWorker::RaiseDeadLetterAlert(const InboxFile& f, const aws::SqsMessage& m,
                                         const std::string& error) {
  // One alert per object (or per message body when it named none): the
  // outbox's unique key drops a second one, from any worker.
  const std::string what = f.key.empty() ? "message:" + Sha256Hex(m.body) : "object:" + f.key;
  storage::Alert a;
  a.kind = "data_quality";
  a.file_hash = Sha256Hex("dead-letter\n" + what);
  a.default_sensor = f.sensor;
  a.source_name = f.key.empty() ? "sqs message " + m.message_id : f.key;
  a.created_ms = d_.clock->NowMs();
  nlohmann::json p = {
      {"kind", "data_quality"},
      {"reason", "dead_letter"},
      {"sensor", f.sensor},
      {"file", a.source_name},
      {"receive_count", m.receive_count},
      {"dead_letter_queue", aws::DeadLetterQueueName(aws::QueueNameOf(o_.queue_url))},
      {"error", error.substr(0, 500)}};
  a.payload_json = p.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  {
    // The batch is gone before after_commit: a store may hold a lock while one lives.
    auto batch = d_.meta->BeginBatch();
    if (!batch.ok()) return batch.status();
    AQ_RETURN_IF_ERROR((*batch)->AddAlert(a, o_.alert_channels));
    AQ_RETURN_IF_ERROR((*batch)->Commit());
  }
  if (d_.after_commit) d_.after_commit();
  return Status::Ok();
}

std::string QueueWorker::StatsJson() const {
  nlohmann::json j = {{"messages", stats_.messages},
                      {"files_ingested", stats_.files_ingested},
                      {"files_already_ingested", stats_.files_already},
                      {"files_gone", stats_.files_gone},
                      {"events_ignored", stats_.events_ignored},
                      {"failures", stats_.failures},
                      {"dead_lettered", stats_.dead_lettered},
                      {"rows", stats_.rows},
                      {"aws", nlohmann::json::parse(aws::RequestCountsJson())}};
  return j.dump();
}

}  // namespace aquasense::cloud
