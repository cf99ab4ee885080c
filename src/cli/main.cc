// aquasense: the command line (SPEC §7). The only place where modules are
// wired together; each subcommand parses its flags, opens the AppContext and
// maps Status codes to exit codes.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "cli/context.h"
#include "cli/progress.h"
#include "core/datetime.h"
#include "core/metrics_format.h"
#include "core/number.h"
#include "core/reading.h"
#include "core/validate.h"
#include "notify/notifier.h"
#include "pipeline/local_file.h"

namespace aquasense::cli {
namespace {

// --sensor of any command: the one rule, the SPEC message (rc 1).
Status CheckSensor(const std::optional<std::string>& sensor) {
  if (sensor && !core::IsValidSensorId(*sensor))
    return InvalidArgument(core::SensorIdError(*sensor));
  return Status::Ok();
}

// True when no input could be read: there is no summary to print.
bool NothingReadable(const pipeline::IngestSummary& s) {
  return !s.per_file.empty() && std::all_of(s.per_file.begin(), s.per_file.end(),
                                            [](const auto& f) { return f.status == "unreadable"; });
}

using pipeline::SummaryJson;

std::string SummaryText(const pipeline::IngestSummary& s) {
  int64_t already = 0;
  for (const auto& f : s.per_file) already += f.status == "already_ingested";
  std::string out = "ingested " + std::to_string(s.files) + (s.files == 1 ? " file" : " files");
  if (already > 0) out += " (" + std::to_string(already) + " already ingested: nothing to do)";
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.3f", s.seconds);
  out += ": " + std::to_string(s.rows) + " rows, " + std::to_string(s.valid) + " valid, " +
         std::to_string(s.invalid) + " invalid, " + std::to_string(s.duplicates) + " duplicates, " +
         std::to_string(s.alerts) + " sd alerts, " + std::to_string(s.months_updated) +
         " months updated in " + secs + " s";
  return out;
}

struct IngestFlags {
  std::vector<std::string> files;
  std::string sensor = "default";
  std::string on_conflict = "reject";
  std::string max_input;  // empty: the config's "ingest.max_input", else the default
  std::string max_input_from = "--max-input";  // where max_input came from (for messages)
  bool json = false;
  bool quiet = false;
};

// --max-input, else AQUASENSE_MAX_INPUT (both through the flag), else the
// config's "ingest": {"max_input": N or "16G"}, else 16 GiB.
Result<uint64_t> MaxInput(const AppContext& ctx, const IngestFlags& flags) {
  std::string text = flags.max_input, from = flags.max_input_from;
  if (text.empty() && ctx.config.contains("ingest")) {
    const auto& ingest = ctx.config["ingest"];
    if (!ingest.is_object()) return InvalidArgument("config: \"ingest\" must be an object");
    if (ingest.contains("max_input")) {
      const auto& v = ingest["max_input"];
      from = "config: \"ingest.max_input\"";
      if (v.is_number_unsigned())
        text = std::to_string(v.get<uint64_t>());
      else if (v.is_string())
        text = v.get<std::string>();
      else
        text = v.dump();
    }
  }
  if (text.empty()) return pipeline::IngestRequest::kDefaultMaxInput;
  auto bytes = ParseByteSize(text);
  if (!bytes || *bytes == 0)
    return InvalidArgument(
        from + " must be a size above 0 in bytes (like 1048576, 512M or 16G), got '" + text + "'");
  return *bytes;
}

int RunIngest(AppContext& ctx, const IngestFlags& flags) {
  if (Status s = CheckSensor(flags.sensor); !s.ok()) return ReportError(s);
  if (Status s = ctx.Open(Access::kWrite); !s.ok()) return ReportError(s);
  auto max_input = MaxInput(ctx, flags);
  if (!max_input.ok()) return ReportError(max_input.status(), kExitUsage);
  pipeline::IngestRequest req;
  req.max_input = *max_input;
  req.default_sensor = flags.sensor;
  req.on_conflict =
      flags.on_conflict == "replace" ? storage::OnConflict::kReplace : storage::OnConflict::kReject;
  ProgressBar bar(!flags.quiet && ::isatty(STDERR_FILENO) == 1);
  req.progress = [&bar](uint64_t done, uint64_t total) { bar.Update(done, total); };
  auto summary = ctx.pipeline->IngestPaths(flags.files, req);
  bar.Done();
  if (!summary.ok()) return ReportError(summary.status());
  for (const auto& f : summary->per_file)
    if (f.status == "unreadable") std::fprintf(stderr, "aquasense: %s\n", f.error.c_str());
  if (!flags.json && NothingReadable(*summary)) {
    std::fprintf(stderr, "aquasense: nothing was ingested: no input could be read\n");
    return kExitInput;
  }
  std::printf("%s\n", (flags.json ? SummaryJson(*summary) : SummaryText(*summary)).c_str());
  std::fflush(stdout);
  // The batch is committed: alerts are safe in the outbox. Deliver what is
  // due now; a channel that is down is retried by the next ingest, `serve`
  // or `aquasense alerts deliver`, and does not fail this command.
  Status delivered = notify::DeliverPending(*ctx.meta, ctx.config, ctx.clock,
                                            std::chrono::seconds(10), ctx.OutboxLock());
  if (!delivered.ok())
    std::fprintf(stderr, "aquasense: alert delivery postponed: %s\n", delivered.message().c_str());
  return summary->any_unreadable() ? kExitInput : kExitOk;
}

int RunRebuild(AppContext& ctx, bool json) {
  if (Status s = ctx.Open(Access::kRebuild); !s.ok()) return ReportError(s);
  auto summary = ctx.pipeline->Rebuild();
  if (!summary.ok()) return ReportError(summary.status());
  std::printf("%s\n", json ? SummaryJson(*summary).c_str()
                           : ("rebuilt from landing/: " + SummaryText(*summary)).c_str());
  return kExitOk;
}

int RunExport(AppContext& ctx, const std::optional<std::string>& sensor,
              const std::string& format) {
  if (Status s = CheckSensor(sensor); !s.ok()) return ReportError(s);
  if (Status s = ctx.Open(Access::kRead); !s.ok()) return ReportError(s);
  storage::MetricsQuery q;
  q.sensor = sensor;
  if (format == "seed" && !q.sensor) q.sensor = "default";
  auto rows = ctx.meta->ListMetrics(q);
  if (!rows.ok()) return ReportError(rows.status());
  std::string out = format == "json"   ? core::MetricsJsonArray(*rows)
                    : format == "seed" ? core::MetricsSeedCsv(*rows)
                                       : core::MetricsCsv(*rows);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? kExitOk : kExitStore;
}

int RunMonths(AppContext& ctx, const std::optional<std::string>& sensor, const std::string& from,
              const std::string& to) {
  if (Status s = CheckSensor(sensor); !s.ok()) return ReportError(s);
  storage::MetricsQuery q;
  q.sensor = sensor;
  if (!from.empty()) {
    auto m = core::ParseYearMonth(from);
    if (!m)
      return ReportError(InvalidArgument("--from must be YYYY-MM, got \"" + from + "\""),
                         kExitUsage);
    q.from_month = *m;
  }
  if (!to.empty()) {
    auto m = core::ParseYearMonth(to);
    if (!m)
      return ReportError(InvalidArgument("--to must be YYYY-MM, got \"" + to + "\""), kExitUsage);
    q.to_month = *m;
  }
  if (q.from_month > q.to_month) {  // as the API's 400
    return ReportError(InvalidArgument("--from " + from + " is after --to " + to), kExitUsage);
  }
  if (Status s = ctx.Open(Access::kRead); !s.ok()) return ReportError(s);
  auto rows = ctx.meta->ListMetrics(q);
  if (!rows.ok()) return ReportError(rows.status());
  // A table for people: three decimals (export and the API keep every digit).
  std::printf("%-16s %7s %10s %10s %8s %13s %8s\n", "sensor", "month", "mean_temp", "max_temp",
              "max_sd", "max_temp_diff", "readings");
  for (const auto& m : *rows) {
    std::string ym;
    core::AppendYearMonth(ym, core::MonthIndex(m.year, m.month));
    char diff[32];
    if (m.max_temp_diff)
      std::snprintf(diff, sizeof diff, "%+.3f", *m.max_temp_diff);
    else
      std::snprintf(diff, sizeof diff, "-");
    std::printf("%-16s %7s %10.3f %10.3f %8.3f %13s %8lld\n", m.sensor.c_str(), ym.c_str(),
                m.mean_temp, m.max_temp, m.max_sd, diff, static_cast<long long>(m.readings));
  }
  if (rows->empty()) std::fprintf(stderr, "aquasense: no monthly metrics match\n");
  return kExitOk;
}

// The options of the top-level command, valid before or after any
// subcommand, shown in every subcommand's --help (review L13).
constexpr const char* kCommonOptionsHelp =
    "\nOptions of every subcommand (before or after its name):\n"
    "  --data DIR        Data directory (default ./aquasense-data; env AQUASENSE_DATA)\n"
    "  --store URL       Object store: a directory or s3://BUCKET[/PREFIX] (default: the data\n"
    "                    directory; env AQUASENSE_STORE)\n"
    "  --meta URL        Tables: dynamodb://TABLE_PREFIX (table PREFIX-meta; default: SQLite in\n"
    "                    the data directory; env AQUASENSE_META)\n"
    "  --config FILE     Config file (JSON; default DIR/aquasense.json; env AQUASENSE_CONFIG)\n";

void AddCommonHelp(CLI::App& app) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    sub->footer(kCommonOptionsHelp);
    AddCommonHelp(*sub);
  }
}

// The first word that is neither an option nor an option's value must name
// a subcommand; CLI11 alone says "A subcommand is required" for a typo.
std::optional<std::string> UnknownSubcommand(CLI::App& app, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") return std::nullopt;
    if (arg == "--data" || arg == "--config" || arg == "--store" || arg == "--meta") {
      ++i;
      continue;
    }
    if (arg.starts_with("-")) continue;
    auto named = app.get_subcommands([arg](CLI::App* sub) { return sub->get_name() == arg; });
    if (!named.empty()) return std::nullopt;
    return std::string(arg.substr(0, 64)) + (arg.size() > 64 ? "\u2026" : "");
  }
  return std::nullopt;
}

// CLI11 names the flag ("Could not convert: --threads = abc") also when the
// value came from its AQUASENSE_* variable: say which (review L6).
std::string NameTheVariable(CLI::App& app, const std::vector<std::string>& args, std::string msg) {
  for (const CLI::Option* opt : app.get_options()) {
    const std::string flag = opt->get_name();
    const std::string& env = opt->get_envname();
    if (env.empty() || std::getenv(env.c_str()) == nullptr || msg.find(flag) == std::string::npos)
      continue;
    if (std::find(args.begin(), args.end(), flag) != args.end()) continue;
    return msg + " (the value of " + env + ")";
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    std::string named = NameTheVariable(*sub, args, msg);
    if (named != msg) return named;
  }
  return msg;
}

// `ingest`.
void RegisterIngestCommand(CLI::App& app, AppContext& ctx, int& exit_code, int argc, char** argv) {
  auto ingest = std::make_shared<IngestFlags>();
  auto* ing = app.add_subcommand("ingest", "Ingest CSV files (or - for stdin) as one batch");
  ing->add_option("files", ingest->files, "Files to ingest, - for standard input")->required();
  ing->add_option("--sensor", ingest->sensor, "Sensor of files without a sensor column")
      ->envname("AQUASENSE_SENSOR");
  ing->add_option("--on-conflict", ingest->on_conflict, "reject (default) or replace")
      ->check(CLI::IsMember({"reject", "replace"}))
      ->envname("AQUASENSE_ON_CONFLICT");
  ing->add_option("--max-input", ingest->max_input,
                  "Most bytes read from standard input, a FIFO or a device (default 16G)")
      ->envname("AQUASENSE_MAX_INPUT");
  ing->add_flag("--json", ingest->json, "Print the summary as one JSON object");
  ing->add_flag("--quiet", ingest->quiet, "No progress bar");
  ing->callback([&ctx, &exit_code, ingest, argc, argv] {
    // A bad value is named after where it came from: the flag or the variable.
    bool on_command_line = false;
    for (int i = 1; i < argc; ++i)
      on_command_line |= std::string_view(argv[i]).starts_with("--max-input");
    if (!on_command_line && std::getenv("AQUASENSE_MAX_INPUT") != nullptr)
      ingest->max_input_from = "AQUASENSE_MAX_INPUT";
    exit_code = RunIngest(ctx, *ingest);
  });
}

// `rebuild`, `export` and `months`.
void RegisterMetricsCommands(CLI::App& app, AppContext& ctx, int& exit_code) {
  auto rebuild_json = std::make_shared<bool>(false);
  auto* reb = app.add_subcommand("rebuild", "Re-derive every table and output from landing/");
  reb->add_flag("--json", *rebuild_json, "Print the summary as one JSON object");
  reb->callback([&ctx, &exit_code, rebuild_json] { exit_code = RunRebuild(ctx, *rebuild_json); });

  struct ExportFlags {
    std::optional<std::string> sensor;
    std::string format = "csv";
  };
  auto ex = std::make_shared<ExportFlags>();
  auto* exp = app.add_subcommand("export", "Write the monthly metrics to stdout");
  exp->add_option("--sensor", ex->sensor, "Only this sensor");
  exp->add_option("--format", ex->format, "csv (default), json or seed")
      ->check(CLI::IsMember({"csv", "json", "seed"}));
  exp->callback([&ctx, &exit_code, ex] { exit_code = RunExport(ctx, ex->sensor, ex->format); });

  struct MonthsFlags {
    std::optional<std::string> sensor;
    std::string from, to;
  };
  auto mf = std::make_shared<MonthsFlags>();
  auto* mon = app.add_subcommand("months", "Show monthly metrics as a table");
  mon->add_option("--sensor", mf->sensor, "Only this sensor");
  mon->add_option("--from", mf->from, "First month, YYYY-MM");
  mon->add_option("--to", mf->to, "Last month, YYYY-MM");
  mon->callback(
      [&ctx, &exit_code, mf] { exit_code = RunMonths(ctx, mf->sensor, mf->from, mf->to); });
}

int Main(int argc, char** argv) {
  CLI::App app{
      "AquaSense: water-temperature readings to clean data, monthly metrics, alerts and an HTTP "
      "API"};
  app.require_subcommand(1);
  app.fallthrough();
  app.set_version_flag("--version", std::string("aquasense ") + AQUASENSE_VERSION,
                       "Print the version and exit");
  AppContext ctx;
  ctx.args.assign(argv + 1, argv + argc);
  app.add_option("--data", ctx.data_dir, "Data directory (default ./aquasense-data)")
      ->envname("AQUASENSE_DATA");
  app.add_option("--store", ctx.store_url,
                 "Object store: a directory or s3://BUCKET[/PREFIX] (default: the data directory)")
      ->envname("AQUASENSE_STORE");
  app.add_option("--meta", ctx.meta_url,
                 "Tables: dynamodb://TABLE_PREFIX (default: SQLite in the data directory)")
      ->envname("AQUASENSE_META");
  app.add_option("--config", ctx.config_path, "Config file (JSON; default DIR/aquasense.json)")
      ->envname("AQUASENSE_CONFIG");
  int exit_code = kExitOk;

  RegisterIngestCommand(app, ctx, exit_code, argc, argv);
  RegisterMetricsCommands(app, ctx, exit_code);
  RegisterServeCommand(app, ctx, exit_code);
  RegisterAlertsCommand(app, ctx, exit_code);
  RegisterReadingsCommand(app, ctx, exit_code);
  RegisterSetupAwsCommand(app, ctx, exit_code);
  RegisterWorkerCommand(app, ctx, exit_code);
  AddCommonHelp(app);

  if (auto unknown = UnknownSubcommand(app, argc, argv)) {
    std::fprintf(
        stderr,
        "aquasense: unknown subcommand \"%s\": use ingest, serve, rebuild, export, months, "
        "readings, alerts, setup-aws or worker\nRun 'aquasense --help' for usage.\n",
        unknown->c_str());
    return kExitUsage;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    std::fprintf(stderr, "aquasense: %s\n", NameTheVariable(app, ctx.args, e.what()).c_str());
    std::fprintf(stderr, "Run 'aquasense --help' for usage.\n");
    return kExitUsage;
  }
  return exit_code;
}

}  // namespace
}  // namespace aquasense::cli

int main(int argc, char** argv) {
  // Before anything opens a file: a closed stdin must not become the database.
  aquasense::pipeline::ReserveStandardStreams();
  try {
    return aquasense::cli::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "aquasense: unexpected error: %s\n", e.what());
    return aquasense::cli::kExitStore;
  } catch (...) {
    std::fprintf(stderr, "aquasense: unexpected error\n");
    return aquasense::cli::kExitStore;
  }
}
