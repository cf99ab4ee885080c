// AppContext: what every subcommand needs, wired once in main(): the data
// directory, the merged configuration (flags > AQUASENSE_* env > config file),
// the stores and the pipeline. src/cli is the only place that wires modules.
//
//   AppContext ctx;  ctx.data_dir = "...";
//   if (Status s = ctx.Open(); !s.ok()) return ExitCodeFor(s);
//   ctx.pipeline->IngestPaths(...);
//
// Not thread-safe to Open(); the objects it owns are (see their headers).
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/status.h"
#include "pipeline/pipeline.h"
#include "storage/meta_store.h"
#include "storage/object_store.h"

namespace CLI {
class App;
}

namespace aquasense::cli {

// Exit codes of SPEC §7.
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;
inline constexpr int kExitInput = 2;
inline constexpr int kExitStore = 3;

struct AppContext {
  std::string data_dir = "./aquasense-data";
  std::string store_url;     // --store: a directory or s3://B[/P]; empty: data_dir
  std::string config_path;   // empty: DIR/aquasense.json when it exists
  nlohmann::json config;     // the parsed config file ({} when none)

  SystemClock clock;
  std::unique_ptr<storage::ObjectStore> objects;
  std::unique_ptr<storage::MetaStore> meta;
  std::unique_ptr<pipeline::Pipeline> pipeline;

  // Loads the config file, creates the data directory and opens the stores.
  // Errors: kInvalidArgument (bad config), kUnavailable (store).
  Status Open();
};

// Prints `status` as one sentence on stderr and returns its exit code.
int ReportError(const Status& status, int exit_code);

// Subcommands defined outside main.cc register themselves through these.
void RegisterServeCommand(CLI::App& app, AppContext& ctx, int& exit_code);
void RegisterAlertsCommand(CLI::App& app, AppContext& ctx, int& exit_code);
void RegisterReadingsCommand(CLI::App& app, AppContext& ctx, int& exit_code);

}  // namespace aquasense::cli
