// Used only when this build has no HTTP module (src/http).
#include <CLI/CLI.hpp>

#include "cli/context.h"

namespace aquasense::cli {
void RegisterServeCommand(CLI::App& app, AppContext&, int& exit_code) {
  app.add_subcommand("serve", "HTTP API (not in this build)")->callback([&exit_code] {
    exit_code = ReportError(FailedPrecondition("this build has no HTTP server"), kExitUsage);
  });
}
}  // namespace aquasense::cli
