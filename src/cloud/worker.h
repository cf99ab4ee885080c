// QueueWorker: the loop of `aquasense worker` (SPEC §9). It long-polls the
// SQS queue the bucket's inbox/ ObjectCreated events go to and ingests each
// file <prefix>/inbox/<sensor>/<name>.csv through the pipeline into the
// content-addressed landing/, then deletes the message and the inbox object.
//
//   QueueWorker w({.sqs = &sqs, .objects = store, .meta = meta, .pipeline = p,
//                  .clock = &clock}, {.queue_url = url, .bucket = "b", .prefix = ""});
//   Status s = w.Run(stop_flag);          // until stop_flag, or idle with exit_when_idle
//
// Guarantees (docs/aws.md has the detail):
// - Each reading counts once: the ledger dedupes a file by (hash, sensor), so
//   a redelivered message, a duplicate event (multipart uploads emit two) or
//   two workers taking the same file ingest it once. The message is deleted
//   only after the batch committed.
// - Arrival order: among files of one sensor the one that reached the bucket
//   first wins a conflict. Before ingesting a file the worker lists
//   inbox/<sensor>/ and ingests every file that arrived earlier (by S3
//   LastModified, then key) and is still there; ingested files are deleted
//   from inbox/, so the inbox is the list of files not ingested yet. An
//   earlier file lost to another worker's commit of the sensor (kAborted,
//   retried) holds the later one back (its message retries); an earlier
//   file failing otherwise does not (its own message retries it).
// - A long file: a heartbeat thread extends the message's visibility timeout
//   every visibility_s / 3 while it runs.
// - A failing file is released for a retry after retry_delay_s; at the
//   max_receive-th receive it raises one data-quality alert (SPEC §6) and is
//   left to SQS's redrive policy, which moves it to the dead-letter queue.
// - Stop (SIGTERM): the file being ingested is finished; a message received
//   but not started is released (visibility 0). Run then returns OK.
// Not thread-safe: one Run at a time per QueueWorker; run several processes
// (or several QueueWorkers) to scale.
// Errors from Run: the queue's (kNotFound: no such queue, kFailedPrecondition:
// credentials or access); transient SQS errors are logged and retried.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cloud/s3_event.h"
#include "common/aws/sqs_client.h"
#include "common/clock.h"
#include "common/status.h"
#include "pipeline/pipeline.h"
#include "storage/meta_store.h"
#include "storage/object_store.h"

namespace aquasense::cloud {

struct WorkerDeps {
  const aws::SqsClient* sqs = nullptr;
  storage::ObjectStore* objects = nullptr;  // the --store (keys relative to its prefix)
  storage::MetaStore* meta = nullptr;
  pipeline::Pipeline* pipeline = nullptr;
  const Clock* clock = nullptr;
  // Called after each committed batch (delivers the outbox); may be empty.
  std::function<void()> after_commit{};
  // Where progress lines go; may be empty.
  std::function<void(const std::string&)> log{};
};

struct WorkerOptions {
  std::string queue_url{};
  std::string bucket{};                     // events of other buckets are ignored
  std::string prefix{};                     // the store's prefix ("" for none)
  int wait_s = 10;                          // long poll (also how long a stop may wait)
  int visibility_s = 60;                    // what the heartbeat extends the message to
  int retry_delay_s = 10;                   // a failed file is received again after this
  int max_receive = aws::kMaxReceiveCount;  // the redrive policy's maxReceiveCount
  bool exit_when_idle = false;              // return after a receive that got nothing
  std::vector<std::string> alert_channels{};
};

struct WorkerStats {
  int64_t messages = 0;        // received
  int64_t files_ingested = 0;  // new files committed
  int64_t files_already = 0;   // already in the ledger (duplicates, redeliveries)
  int64_t files_gone = 0;      // no longer in inbox/: another worker ingested them
  int64_t events_ignored = 0;  // test events, other buckets, keys outside inbox/<sensor>/
  int64_t failures = 0;        // messages released for a retry
  int64_t dead_lettered = 0;   // messages given up (alert raised, left for the DLQ)
  int64_t rows = 0;
};

class QueueWorker {
 public:
  QueueWorker(WorkerDeps deps, WorkerOptions options);

  Status Run(const std::atomic<bool>& stop);

  // One message: ingests what it names; deletes it, releases it for a retry
  // or gives it up. Exposed for tests.
  enum class Outcome { kDeleted, kRetry, kGaveUp };
  Outcome Handle(const aws::SqsMessage& message);

  const WorkerStats& stats() const { return stats_; }
  // {"messages":N,...,"aws":{"sqs":{"requests":N,...},...}} on one line.
  std::string StatsJson() const;

 private:
  Status IngestInbox(const InboxFile& file);
  Status IngestObject(const InboxFile& file);
  // IngestObject, run again (after a jittered back-off) while another
  // worker's commit of the sensor wins the race (kAborted: the staged copy
  // went with the refused batch, so the pipeline cannot run it again
  // itself); kAborted still after kConflictTries tries.
  Status IngestObjectRetrying(const InboxFile& file);
  Status RaiseDeadLetterAlert(const InboxFile& file, const aws::SqsMessage& m,
                              const std::string& error);
  void Log(const std::string& line) const;

  WorkerDeps d_;
  WorkerOptions o_;
  WorkerStats stats_;
};

}  // namespace aquasense::cloud
