// AppContext: what every subcommand needs, wired once in main(): the data
// directory, the merged configuration (flags > AQUASENSE_* env > config file),
// the stores and the pipeline. src/cli is the only place that wires modules.
//
//   AppContext ctx;  ctx.data_dir = "...";
//   if (Status s = ctx.Open(Access::kWrite); !s.ok()) return ReportError(s);  // exit code too
//   ctx.pipeline->IngestPaths(...);
//
// Not thread-safe to Open(); the objects it owns are (see their headers).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "pipeline/pipeline.h"
#include "storage/meta_store.h"
#include "storage/object_store.h"
#include "storage/s3_object_store.h"

namespace CLI {
class App;
}

namespace aquasense::cli {

// Exit codes of SPEC §7.
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;
inline constexpr int kExitInput = 2;
inline constexpr int kExitStore = 3;

// What a command needs of the data directory (review L4, M9).
enum class Access {
  kCreate,   // serve: created when missing; may be read-only
  kWrite,    // ingest: created when missing; must be writable
  kRead,     // export, months, alerts: must exist (a typo is an error, nothing is created)
  kRebuild,  // rebuild: must exist and be writable; may re-create a missing database
};

struct AppContext {
  std::string data_dir = "./aquasense-data";
  std::string store_url;    // --store: a directory or s3://B[/P]; empty: data_dir
  std::string meta_url;     // --meta: dynamodb://TABLE_PREFIX; empty: SQLite in data_dir
  std::string config_path;  // empty: DIR/aquasense.json when it exists
  nlohmann::json config;    // the parsed config file ({} when none)

  SystemClock clock;
  std::unique_ptr<storage::ObjectStore> objects;
  std::unique_ptr<storage::MetaStore> meta;
  std::unique_ptr<pipeline::Pipeline> pipeline;

  std::vector<std::string> args;  // the command line as given (for SettingName)

  // Checks the data directory for `access`, loads the config file and opens
  // the stores. Errors: kInvalidArgument (empty or missing --data for reads,
  // bad config); kFailedPrecondition (database damaged, or missing/empty
  // while landing/ holds files: the message names the recovery);
  // kUnavailable (read-only directory, store).
  Status Open(Access access = Access::kCreate);

  // Both stores named by URL (SPEC §9): no data lives under --data, and no
  // command but serve (kCreate: its upload spool) needs the directory.
  bool Cloud() const { return !store_url.empty() && !meta_url.empty(); }
  // The file that keeps two local processes from delivering at once
  // (notify::OutboxLockPath); "" on the cloud URLs, where the hosts share
  // no directory and ClaimDelivery's conditional write is what keeps an
  // alert from being sent twice.
  std::string OutboxLock() const;
};

// The commands of the queue (setup-aws, worker): `--queue NAME|URL`, also
// AQUASENSE_QUEUE, described as `what`.
void AddQueueOption(CLI::App& cmd, std::string& queue, const std::string& what);
// The bucket of --store for `command` (setup-aws, worker), which needs
// s3://BUCKET[/PREFIX]: kInvalidArgument otherwise (exit code 1).
Result<storage::S3Location> RequireS3Store(const AppContext& ctx, const std::string& command);

// The SPEC §7 exit code of a failed Status: kInvalidArgument (usage, bad
// settings, --data naming nothing) -> 1, anything else -> 3 (the store).
// Exit code 2 (an input could not be read) is decided per input by ingest.
int ExitCodeFor(const Status& status);

// "268435456", "256MiB", "256M", "64k", "16G": bytes (binary multiples; an
// optional b/k/kb/kib/m/mb/mib/g/gb/gib unit, any case). Nothing when it is
// not such a size or overflows 64 bits.
std::optional<uint64_t> ParseByteSize(std::string_view text);

// Prints `status` as one sentence on stderr and returns `exit_code`
// (ExitCodeFor(status) when not given).
int ReportError(const Status& status, int exit_code);
int ReportError(const Status& status);

// How to name a setting in an error message, by where its value came from:
// `flag` when given on the command line, else its AQUASENSE_* variable when
// that is set, else `config_key` (e.g. "serve.max_upload") for the config.
std::string SettingName(const AppContext& ctx, const CLI::App& cmd, const std::string& flag,
                        const std::string& config_key);

// Subcommands defined outside main.cc register themselves through these.
void RegisterServeCommand(CLI::App& app, AppContext& ctx, int& exit_code);
void RegisterAlertsCommand(CLI::App& app, AppContext& ctx, int& exit_code);
void RegisterReadingsCommand(CLI::App& app, AppContext& ctx, int& exit_code);
// Cloud mode (SPEC §9): setup_aws_command.cc, worker_command.cc.
void RegisterSetupAwsCommand(CLI::App& app, AppContext& ctx, int& exit_code);
void RegisterWorkerCommand(CLI::App& app, AppContext& ctx, int& exit_code);

}  // namespace aquasense::cli
