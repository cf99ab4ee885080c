// `aquasense alerts`: lists recent alerts and each channel's delivery state;
// `aquasense alerts deliver`: runs delivery from the outbox (once, or until
// nothing is pending).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "cli/context.h"
#include "core/number.h"
#include "notify/notifier.h"

namespace aquasense::cli {
namespace {

// --max-seconds: a readable message for "abc" too (CLI::Range printed
// "Value abc not in range 0.000000 to 86400.000000"; review L13).
CLI::Validator SecondsBudget() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        auto v = core::ParseNumber(value, false);
        if (v && *v >= 0 && *v <= 86400) return {};
        return "must be a number of seconds from 0 to 86400, got '" + value.substr(0, 64) + "'";
      },
      "SECONDS");
}

std::string Plural(int64_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

void PrintText(const nlohmann::json& list) {
  const nlohmann::json& alerts = list["alerts"];
  if (alerts.empty()) {
    std::printf("no alerts\n");
    return;
  }
  for (const nlohmann::json& a : alerts) {
    std::printf("#%lld  %s  %s\n", static_cast<long long>(a["id"].get<int64_t>()),
                a["time"].get<std::string>().c_str(), a["summary"].get<std::string>().c_str());
    if (a.value("rederived", false)) std::printf("    re-derived by rebuild: recorded, not sent\n");
    for (const nlohmann::json& d : a["deliveries"]) {
      std::string line = Plural(d["attempts"].get<int64_t>(), "attempt");
      if (d["state"] == "pending" && d["next_attempt"].is_string()) {
        line += ", next " + d["next_attempt"].get<std::string>();
      }
      const std::string err = d["last_error"].get<std::string>();
      if (!err.empty() && d["state"] != "skipped") line += ", last error: " + err;
      std::printf("    %-16s %-10s %s\n", d["channel"].get<std::string>().c_str(),
                  d["state"].get<std::string>().c_str(), line.c_str());
    }
  }
}

struct ListFlags {
  int limit = 20;
  bool json = false;
};

struct DeliverFlags {
  bool until_empty = false;
  double max_seconds = -1;
  bool json = false;
};

// `alerts deliver`: one delivery run; the exit code.
int RunDeliver(AppContext& ctx, const DeliverFlags& flags) {
  const double seconds =
      flags.max_seconds >= 0 ? flags.max_seconds : (flags.until_empty ? 60.0 : 10.0);
  notify::RunOptions options;
  options.budget = std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  options.until_empty = flags.until_empty;
  options.lock_path = ctx.OutboxLock();
  auto r = notify::RunDelivery(*ctx.meta, ctx.config, ctx.clock, options);
  if (!r.ok()) return ReportError(r.status());
  if (flags.json) {
    nlohmann::json j = {{"delivered", r->delivered},
                        {"failed", r->failed},
                        {"deferred", r->deferred},
                        {"skipped", r->skipped},
                        {"gave_up", r->gave_up},
                        {"pending", r->pending},
                        {"busy", r->busy}};
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("delivered %lld, failed %lld, skipped %lld, gave up %lld, still pending %lld\n",
                static_cast<long long>(r->delivered), static_cast<long long>(r->failed),
                static_cast<long long>(r->skipped), static_cast<long long>(r->gave_up),
                static_cast<long long>(r->pending));
    if (r->busy) std::printf("another aquasense process is delivering; left the work to it\n");
  }
  return kExitOk;
}

// `alerts`: the newest alerts; the exit code.
int RunList(AppContext& ctx, const ListFlags& flags) {
  auto recent = ctx.meta->RecentAlerts(static_cast<size_t>(flags.limit));
  if (!recent.ok()) return ReportError(recent.status());
  nlohmann::json j = notify::AlertListJson(*recent);
  if (flags.json) {
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    PrintText(j);
  }
  return kExitOk;
}

}  // namespace

void RegisterAlertsCommand(CLI::App& app, AppContext& ctx, int& exit_code) {
  auto list = std::make_shared<ListFlags>();
  auto deliver = std::make_shared<DeliverFlags>();

  CLI::App* cmd = app.add_subcommand("alerts", "List recent alerts and their delivery per channel");
  // --data and --config belong to the top-level command (they fall through).
  cmd->add_option("--limit", list->limit, "How many alerts, newest first (default 20)")
      ->check(CLI::Range(1, 100000));
  cmd->add_flag("--json", list->json, "One JSON object");

  CLI::App* del = cmd->add_subcommand("deliver", "Send the alerts that are due to every channel");
  del->fallthrough();
  del->add_flag("--until-empty", deliver->until_empty,
                "Keep going (waiting out back-offs) until nothing is pending");
  del->add_option("--max-seconds", deliver->max_seconds,
                  "Time budget (default 10, or 60 with --until-empty)")
      ->check(SecondsBudget());
  del->add_flag("--json", deliver->json, "One JSON object");

  cmd->callback([del, list, deliver, &ctx, &exit_code] {
    if (Status s = ctx.Open(Access::kRead); !s.ok()) {
      exit_code = ReportError(s);
      return;
    }
    exit_code = del->parsed() ? RunDeliver(ctx, *deliver) : RunList(ctx, *list);
  });
}

}  // namespace aquasense::cli
