// Used only when this build has no HTTP module (src/http holds the readings stream).
#include <CLI/CLI.hpp>

#include "cli/context.h"

namespace aquasense::cli {
void RegisterReadingsCommand(CLI::App& app, AppContext&, int& exit_code) {
  app.add_subcommand("readings", "Stored readings (not in this build)")->callback([&exit_code] {
    exit_code = ReportError(FailedPrecondition("this build has no readings command"), kExitUsage);
  });
}
}  // namespace aquasense::cli
