// `aquasense setup-aws`: creates, idempotently, what the cloud URLs name
// (SPEC §9, docs/aws.md): the bucket of --store s3://BUCKET[/PREFIX] (with a
// location constraint outside us-east-1), the queue of --queue and its
// dead-letter queue <NAME>-dlq (maxReceiveCount 5), the queue policy that
// lets the bucket send to it, the bucket's ObjectCreated notification for
// PREFIX/inbox/ -> the queue, and the table of --meta dynamodb://T.
// Running it again changes nothing (the notification configuration and the
// queue attributes are written again with the same values).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/context.h"
#include "common/aws/credentials.h"
#include "common/aws/sqs_client.h"
#include "storage/dynamo_meta_store.h"
#include "storage/s3_client.h"
#include "storage/s3_object_store.h"

namespace aquasense::cli {
namespace {

struct SetupFlags {
  std::string queue;  // name or URL; empty: no queue, no notification
  std::string meta;   // dynamodb://TABLE_PREFIX; empty: SQLite in --data, nothing to create
  int visibility_s = 60;
};

// The DynamoDB table <TABLE_PREFIX>-meta of --meta dynamodb://T (either the
// global --meta or this command's), created unless it exists by the DynamoDB
// store's EnsureDynamoTables; nothing to do for SQLite in --data.
Status EnsureMetaTables(const std::string& meta_url, const Clock& clock) {
  if (meta_url.empty()) return Status::Ok();
  if (!meta_url.starts_with("dynamodb://"))
    return InvalidArgument("--meta must be dynamodb://TABLE_PREFIX, got \"" + meta_url + "\"");
  if (Status s = storage::EnsureDynamoTables(meta_url, clock); !s.ok()) return s;
  std::printf("table store %s: ready\n", meta_url.c_str());
  return Status::Ok();
}

// Allows the bucket (and only it) to send its events to the queue.
std::string QueuePolicy(const std::string& queue_arn, const std::string& bucket) {
  nlohmann::json statement = {
      {"Sid", "aquasense-s3-inbox"},
      {"Effect", "Allow"},
      {"Principal", {{"Service", "s3.amazonaws.com"}}},
      {"Action", "sqs:SendMessage"},
      {"Resource", queue_arn},
      {"Condition", {{"ArnLike", {{"aws:SourceArn", "arn:aws:s3:::" + bucket}}}}}};
  return nlohmann::json{{"Version", "2012-10-17"}, {"Statement", {statement}}}.dump();
}

Result<std::string> QueueArn(const aws::SqsClient& sqs, const std::string& url) {
  auto attrs = sqs.GetQueueAttributes(url, {"QueueArn"});
  if (!attrs.ok()) return attrs.status();
  auto it = attrs->find("QueueArn");
  if (it == attrs->end()) return Unavailable("SQS GetQueueAttributes: no QueueArn for " + url);
  return it->second;
}

// The queue and its dead-letter queue; returns the queue's ARN.
Result<std::string> SetUpQueue(const aws::SqsClient& sqs, const std::string& name,
                               const std::string& bucket, int visibility_s) {
  auto dlq = sqs.CreateQueue(aws::DeadLetterQueueName(name), {});
  if (!dlq.ok()) return dlq.status();
  // Dead letters are kept 14 days, SQS's most.
  AQ_RETURN_IF_ERROR(sqs.SetQueueAttributes(*dlq, {{"MessageRetentionPeriod", "1209600"}}));
  auto dlq_arn = QueueArn(sqs, *dlq);
  if (!dlq_arn.ok()) return dlq_arn.status();
  auto url = sqs.CreateQueue(name, {});
  if (!url.ok()) return url.status();
  auto arn = QueueArn(sqs, *url);
  if (!arn.ok()) return arn.status();
  const std::string redrive =
      nlohmann::json{{"deadLetterTargetArn", *dlq_arn},
                     {"maxReceiveCount", std::to_string(aws::kMaxReceiveCount)}}
          .dump();
  AQ_RETURN_IF_ERROR(
      sqs.SetQueueAttributes(*url, {{"RedrivePolicy", redrive},
                                    {"Policy", QueuePolicy(*arn, bucket)},
                                    {"VisibilityTimeout", std::to_string(visibility_s)}}));
  std::printf("queue %s: ready (dead-letter queue %s after %d receives)\n", url->c_str(),
              dlq->c_str(), aws::kMaxReceiveCount);
  return arn;
}

int RunSetupAws(AppContext& ctx, const SetupFlags& flags) {
  auto loc = RequireS3Store(ctx, "setup-aws");
  if (!loc.ok()) return ReportError(loc.status(), kExitUsage);
  auto http = std::make_shared<aws::HttpClient>();
  aws::Env env{aws::ProcessEnv(), http.get(), &ctx.clock};
  auto s3o = storage::S3OptionsFromEnvironment(env, http);
  if (!s3o.ok()) return ReportError(s3o.status());
  storage::S3Client s3(loc->bucket, *s3o);
  if (Status s = storage::CreateBucket(s3, s3o->region); !s.ok()) return ReportError(s);
  std::printf("bucket s3://%s: ready (%s)\n", loc->bucket.c_str(), s3o->region.c_str());
  if (!flags.queue.empty()) {
    auto sqso = aws::SqsOptionsFromEnvironment(env, http);
    if (!sqso.ok()) return ReportError(sqso.status());
    aws::SqsClient sqs(*sqso);
    auto arn = SetUpQueue(sqs, aws::QueueNameOf(flags.queue), loc->bucket, flags.visibility_s);
    if (!arn.ok()) return ReportError(arn.status());
    const std::string inbox = loc->prefix.empty() ? "inbox/" : loc->prefix + "/inbox/";
    if (Status s = storage::PutInboxNotification(s3, inbox, *arn); !s.ok()) return ReportError(s);
    std::printf("notification: s3://%s/%s* ObjectCreated -> %s\n", loc->bucket.c_str(),
                inbox.c_str(), arn->c_str());
  }
  const std::string& meta = flags.meta.empty() ? ctx.meta_url : flags.meta;
  if (Status s = EnsureMetaTables(meta, ctx.clock); !s.ok()) return ReportError(s);
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace

void RegisterSetupAwsCommand(CLI::App& app, AppContext& ctx, int& exit_code) {
  auto flags = std::make_shared<SetupFlags>();
  CLI::App* cmd = app.add_subcommand(
      "setup-aws",
      "Create the bucket, queue, dead-letter queue and inbox notification (idempotent)");
  AddQueueOption(*cmd, flags->queue, "SQS queue name or URL for the inbox/ events");
  cmd->add_option("--meta", flags->meta, "Table store: dynamodb://TABLE_PREFIX")
      ->envname("AQUASENSE_META");
  cmd->add_option("--visibility-timeout", flags->visibility_s,
                  "The queue's visibility timeout in seconds (default 60)")
      ->check(CLI::Range(1, 43200));
  cmd->callback([&ctx, &exit_code, flags] { exit_code = RunSetupAws(ctx, *flags); });
}

}  // namespace aquasense::cli
