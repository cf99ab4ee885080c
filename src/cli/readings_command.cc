// `aquasense readings --sensor ID [--from D] [--to D] [--format csv|json]`
// (SPEC §10): the stored valid readings of one sensor on stdout, in date
// order, streamed from the reading blocks (http/readings.h) so memory stays
// flat whatever the range. Exit codes: 0 (also for a range without
// readings), 1 for a bad flag or a sensor without data, 3 when the store
// fails.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/context.h"
#include "http/query.h"
#include "http/readings.h"

namespace aquasense::cli {
namespace {

struct ReadingsFlags {
  std::string sensor;
  std::string from, to;
  std::string format = "csv";
  size_t tail = 0;
  size_t points = 0;
};

Result<http::ReadingsQuery> BuildQuery(const ReadingsFlags& f) {
  if (!http::IsValidSensorId(f.sensor)) {
    return InvalidArgument("--sensor must be 1 to 64 characters from A-Z a-z 0-9 . _ -");
  }
  http::ReadingsQuery q;
  if (!f.from.empty() && !(q.from_days = http::ParseDay(f.from))) {
    return InvalidArgument("--from must be a date YYYY-MM-DD, got \"" + f.from + "\"");
  }
  if (!f.to.empty() && !(q.to_days = http::ParseDay(f.to))) {
    return InvalidArgument("--to must be a date YYYY-MM-DD, got \"" + f.to + "\"");
  }
  if (q.from_days && q.to_days && *q.from_days > *q.to_days) {
    return InvalidArgument("--from must not be after --to");
  }
  if (f.tail > 0 && f.points > 0) return InvalidArgument("--tail and --points cannot be combined");
  q.format = f.format == "json" ? http::ReadingsFormat::kJson : http::ReadingsFormat::kCsv;
  q.tail = f.tail;
  q.points = f.points;
  return q;
}

int RunReadings(AppContext& ctx, const ReadingsFlags& flags) {
  auto q = BuildQuery(flags);
  if (!q.ok()) return ReportError(q.status(), kExitUsage);
  if (Status s = ctx.Open(Access::kRead); !s.ok()) return ReportError(s);
  storage::MetricsQuery mq;
  mq.sensor = flags.sensor;
  auto months = ctx.meta->ListMetrics(mq);  // one row per stored block
  if (!months.ok()) return ReportError(months.status(), kExitStore);
  if (months->empty())
    return ReportError(NotFound("no data for sensor " + flags.sensor), kExitUsage);
  std::vector<int32_t> all;
  all.reserve(months->size());
  for (const auto& m : *months) all.push_back(core::MonthIndex(m.year, m.month));
  storage::MetaStore* meta = ctx.meta.get();
  http::ReadingsStream stream(
      flags.sensor, *q, http::MonthsInRange(all, *q),
      [meta, &flags](int32_t month) { return meta->ReadBlock(flags.sensor, month); });
  // The pieces are ~64 KiB already: one write each, not 4 KiB stdio blocks.
  std::setvbuf(stdout, nullptr, _IONBF, 0);
  std::string piece;
  for (bool more = true; more;) {
    piece.clear();
    auto next = stream.Next(piece);
    if (!next.ok()) return ReportError(next.status(), kExitStore);
    more = *next;
    if (std::fwrite(piece.data(), 1, piece.size(), stdout) != piece.size()) {
      return ReportError(Unavailable("cannot write to standard output"), kExitStore);
    }
  }
  return std::fflush(stdout) == 0 ? kExitOk : kExitStore;
}

}  // namespace

void RegisterReadingsCommand(CLI::App& app, AppContext& ctx, int& exit_code) {
  auto flags = std::make_shared<ReadingsFlags>();
  CLI::App* cmd =
      app.add_subcommand("readings", "Write one sensor's stored readings to stdout, in date order");
  cmd->add_option("--sensor", flags->sensor, "The sensor")->required();
  cmd->add_option("--from", flags->from, "First day, YYYY-MM-DD (inclusive)");
  cmd->add_option("--to", flags->to, "Last day, YYYY-MM-DD (inclusive)");
  cmd->add_option("--format", flags->format, "csv (default) or json")
      ->check(CLI::IsMember({"csv", "json"}));
  cmd->add_option("--tail", flags->tail, "Only the last N readings of the range (1 to 10000)")
      ->check(CLI::Range(size_t{1}, http::kMaxTail));
  cmd->add_option("--points", flags->points,
                  "Decimate for a chart: lowest and highest reading of N time buckets")
      ->check(CLI::Range(size_t{1}, http::kMaxPoints));
  cmd->callback([&ctx, &exit_code, flags] { exit_code = RunReadings(ctx, *flags); });
}

}  // namespace aquasense::cli
