// Used only when this build has no notify module (src/notify).
#include <CLI/CLI.hpp>

#include "cli/context.h"

namespace aquasense::cli {
void RegisterAlertsCommand(CLI::App& app, AppContext&, int& exit_code) {
  app.add_subcommand("alerts", "Alerts (not in this build)")->callback([&exit_code] {
    exit_code = ReportError(FailedPrecondition("this build has no alert channels"), kExitUsage);
  });
}
}  // namespace aquasense::cli
