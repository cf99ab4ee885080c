// `aquasense worker`: ingests what arrives in the bucket's inbox/, driven by
// the SQS queue its ObjectCreated events go to (SPEC §9; the loop is
// cloud::QueueWorker, docs/aws.md). Runs until SIGTERM or SIGINT (the file
// being ingested is finished, a message not started is released), or with
// --exit-when-idle until the queue has nothing; then prints a summary (the
// AWS requests and bytes per service included) and exits 0.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/config.h"
#include "cli/context.h"
#include "cloud/worker.h"
#include "common/aws/credentials.h"
#include "common/aws/sqs_client.h"
#include "notify/notifier.h"
#include "storage/s3_object_store.h"

namespace aquasense::cli {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void OnStopSignal(int) { g_stop.store(true); }

struct WorkerFlags {
  std::string queue;
  int wait_s = 10;
  int visibility_s = 60;
  int retry_delay_s = 10;
  bool exit_when_idle = false;
  bool json = false;
  bool quiet = false;
};

void InstallStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
}

int RunWorker(AppContext& ctx, const WorkerFlags& flags) {
  if (flags.queue.empty())
    return ReportError(InvalidArgument("worker needs --queue NAME|URL (or AQUASENSE_QUEUE)"),
                       kExitUsage);
  auto loc = RequireS3Store(ctx, "worker");
  if (!loc.ok()) return ReportError(loc.status(), kExitUsage);
  if (Status s = ctx.Open(Access::kWrite); !s.ok()) return ReportError(s);
  auto options = PipelineOptionsFrom(ctx.config);
  if (!options.ok()) return ReportError(options.status());
  auto http = std::make_shared<aws::HttpClient>();
  aws::Env env{aws::ProcessEnv(), http.get(), &ctx.clock};
  auto sqso = aws::SqsOptionsFromEnvironment(env, http);
  if (!sqso.ok()) return ReportError(sqso.status());
  aws::SqsClient sqs(*sqso);
  auto url = sqs.ResolveQueue(flags.queue);
  if (!url.ok()) return ReportError(url.status());

  cloud::WorkerDeps deps{.sqs = &sqs,
                         .objects = ctx.objects.get(),
                         .meta = ctx.meta.get(),
                         .pipeline = ctx.pipeline.get(),
                         .clock = &ctx.clock};
  deps.after_commit = [&ctx] {
    Status s = notify::DeliverPending(*ctx.meta, ctx.config, ctx.clock, std::chrono::seconds(10),
                                      ctx.OutboxLock());
    if (!s.ok())
      std::fprintf(stderr, "aquasense worker: alert delivery postponed: %s\n", s.message().c_str());
  };
  if (!flags.quiet)
    deps.log = [](const std::string& line) {
      std::fprintf(stderr, "aquasense worker: %s\n", line.c_str());
    };
  cloud::QueueWorker worker(deps, {.queue_url = *url,
                                   .bucket = loc->bucket,
                                   .prefix = loc->prefix,
                                   .wait_s = flags.wait_s,
                                   .visibility_s = flags.visibility_s,
                                   .retry_delay_s = flags.retry_delay_s,
                                   .exit_when_idle = flags.exit_when_idle,
                                   .alert_channels = options->alert_channels});
  InstallStopHandlers();
  Status s = worker.Run(g_stop);
  const cloud::WorkerStats& st = worker.stats();
  if (flags.json) {
    std::printf("%s\n", worker.StatsJson().c_str());
  } else {
    std::printf(
        "worker: %lld messages, %lld files ingested, %lld already ingested, %lld rows, "
        "%lld retried, %lld to the dead-letter queue\n",
        static_cast<long long>(st.messages), static_cast<long long>(st.files_ingested),
        static_cast<long long>(st.files_already), static_cast<long long>(st.rows),
        static_cast<long long>(st.failures), static_cast<long long>(st.dead_lettered));
  }
  std::fflush(stdout);
  return s.ok() ? kExitOk : ReportError(s);
}

}  // namespace

void RegisterWorkerCommand(CLI::App& app, AppContext& ctx, int& exit_code) {
  auto flags = std::make_shared<WorkerFlags>();
  CLI::App* cmd = app.add_subcommand(
      "worker",
      "Ingest the files uploaded to the bucket's inbox/, as its SQS queue announces them");
  AddQueueOption(*cmd, flags->queue, "SQS queue name or URL");
  cmd->add_option("--wait", flags->wait_s, "Long-poll seconds per receive (default 10)")
      ->check(CLI::Range(0, 20));
  cmd->add_option("--visibility-timeout", flags->visibility_s,
                  "Seconds a message stays hidden, extended while its file runs (default 60)")
      ->check(CLI::Range(3, 43200));
  cmd->add_option("--retry-delay", flags->retry_delay_s,
                  "Seconds before a failed file is tried again (default 10)")
      ->check(CLI::Range(0, 43200));
  cmd->add_flag("--exit-when-idle", flags->exit_when_idle, "Exit when a receive gets nothing");
  cmd->add_flag("--json", flags->json, "Print the summary as one JSON object");
  cmd->add_flag("--quiet", flags->quiet, "No progress lines on stderr");
  cmd->callback([&ctx, &exit_code, flags] { exit_code = RunWorker(ctx, *flags); });
}

}  // namespace aquasense::cli
