// `aquasense serve`: wires the HTTP module (src/http) to the stores opened by
// the AppContext: snapshot poller, ingest worker, optional inbox watcher, the
// server; then serves until SIGTERM/SIGINT and shuts down in order (drain the
// requests, finish the running ingest batch, stop the poller).
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <chrono>
#include <thread>
#include <mutex>
#include <condition_variable>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "cli/context.h"
#include "notify/notifier.h"
#include "http/access_log.h"
#include "http/inbox_watcher.h"
#include "http/ingest_worker.h"
#include "http/log.h"
#include "http/metrics.h"
#include "http/server.h"
#include "http/snapshot.h"

namespace aquasense::cli {
namespace {

struct ServeFlags {
  std::string listen = "127.0.0.1:8080";
  bool watch = false;
  std::string token_file;
  std::string max_upload = "268435456";
  int threads = 2;
  std::string access_log;
  size_t max_connections = 10000;
  uint32_t max_header_bytes = 16 * 1024;
  double header_timeout = 10;
  double idle_timeout = 30;
  double body_timeout = 30;
  double write_timeout = 30;
  double drain_timeout = 20;
  double refresh_interval = 0.1;
  double watch_interval = 0.25;
  double watch_settle = 2;
  bool auth_reads = false;
  std::string cors_origin;
};

// "268435456", "256MiB", "256M", "64k": bytes (binary multiples).
std::optional<uint64_t> ParseBytes(std::string s) {
  uint64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr == s.data()) return std::nullopt;
  std::string unit(r.ptr, static_cast<size_t>(s.data() + s.size() - r.ptr));
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  int shift = 0;
  if (unit.empty() || unit == "b") {
    shift = 0;
  } else if (unit == "k" || unit == "kib" || unit == "kb") {
    shift = 10;
  } else if (unit == "m" || unit == "mib" || unit == "mb") {
    shift = 20;
  } else if (unit == "g" || unit == "gib" || unit == "gb") {
    shift = 30;
  } else {
    return std::nullopt;
  }
  if (shift > 0 && v > (UINT64_MAX >> shift)) return std::nullopt;
  return v << shift;
}

std::chrono::milliseconds Ms(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000 + 0.5));
}

// Values from the config file's "serve" object for flags not given otherwise.
Status ApplyConfig(const nlohmann::json& config, CLI::App& cmd, ServeFlags& f) {
  if (!config.contains("serve")) return Status::Ok();
  const auto& s = config["serve"];
  if (!s.is_object()) return InvalidArgument("config: \"serve\" must be an object");
  auto unset = [&](const char* flag) { return cmd.count(flag) == 0; };
  try {
    auto str = [&](const char* key, const char* flag, std::string& out) {
      if (s.contains(key) && unset(flag)) out = s[key].get<std::string>();
    };
    auto num = [&](const char* key, const char* flag, auto& out) {
      if (s.contains(key) && unset(flag))
        out = s[key].get<std::remove_reference_t<decltype(out)>>();
    };
    str("listen", "--listen", f.listen);
    str("token_file", "--token-file", f.token_file);
    str("access_log", "--access-log", f.access_log);
    str("cors_origin", "--cors-origin", f.cors_origin);
    if (s.contains("max_upload") && unset("--max-upload")) {
      f.max_upload = s["max_upload"].is_string() ? s["max_upload"].get<std::string>()
                                                 : std::to_string(s["max_upload"].get<uint64_t>());
    }
    num("watch", "--watch", f.watch);
    num("auth_reads", "--auth-reads", f.auth_reads);
    num("threads", "--threads", f.threads);
    num("max_connections", "--max-connections", f.max_connections);
    num("max_header_bytes", "--max-header-bytes", f.max_header_bytes);
    num("header_timeout", "--header-timeout", f.header_timeout);
    num("idle_timeout", "--idle-timeout", f.idle_timeout);
    num("body_timeout", "--body-timeout", f.body_timeout);
    num("write_timeout", "--write-timeout", f.write_timeout);
    num("drain_timeout", "--drain-timeout", f.drain_timeout);
    num("refresh_interval", "--refresh-interval", f.refresh_interval);
    num("watch_interval", "--watch-interval", f.watch_interval);
    num("watch_settle", "--watch-settle", f.watch_settle);
  } catch (const nlohmann::json::exception&) {
    return InvalidArgument("config: a value in \"serve\" has the wrong type");
  }
  return Status::Ok();
}

Result<std::optional<std::string>> LoadToken(const ServeFlags& f) {
  std::string token;
  if (!f.token_file.empty()) {
    if (std::filesystem::is_directory(f.token_file))
      return InvalidArgument("the token file " + f.token_file + " is a directory");
    std::ifstream in(f.token_file);
    if (!in) return InvalidArgument("cannot read the token file " + f.token_file);
    std::stringstream ss;
    ss << in.rdbuf();
    token = ss.str();
  } else if (const char* env = std::getenv("AQUASENSE_TOKEN"); env != nullptr) {
    token = env;
  } else {
    return std::optional<std::string>();
  }
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.front())))
    token.erase(0, 1);
  if (token.empty()) return InvalidArgument("the upload token is empty");
  for (char c : token) {
    if (c <= ' ' || c == 0x7F)
      return InvalidArgument("the upload token must not contain spaces or control characters");
  }
  return std::optional<std::string>(token);
}

void RaiseFileLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
  }
}

int RunServe(AppContext& ctx, CLI::App& cmd, ServeFlags flags) {
  if (Status s = ctx.Open(); !s.ok()) return ReportError(s);
  if (Status s = ApplyConfig(ctx.config, cmd, flags); !s.ok()) return ReportError(s, kExitUsage);

  http::ServerOptions opt;
  if (Status s = http::ParseListen(flags.listen, opt.host, opt.port); !s.ok()) {
    return ReportError(s, kExitUsage);
  }
  auto max_upload = ParseBytes(flags.max_upload);
  if (!max_upload) {
    return ReportError(
        InvalidArgument(SettingName(ctx, cmd, "--max-upload", "serve.max_upload") +
                        " must be a number of bytes (e.g. 268435456 or 256MiB), got '" +
                        flags.max_upload + "'"),
        kExitUsage);
  }
  for (double t : {flags.header_timeout, flags.idle_timeout, flags.body_timeout,
                   flags.write_timeout, flags.refresh_interval, flags.watch_interval}) {
    if (!(t > 0 && t < 86400)) {
      return ReportError(
          InvalidArgument("timeouts and intervals must be between 0 and 86400 seconds"),
          kExitUsage);
    }
  }
  if (!(flags.watch_settle >= 0 && flags.watch_settle < 86400)) {
    return ReportError(InvalidArgument("--watch-settle must be from 0 to 86400 seconds"),
                       kExitUsage);
  }
  if (flags.threads < 1 || flags.threads > 64) {
    return ReportError(InvalidArgument("--threads must be from 1 to 64"), kExitUsage);
  }
  if (flags.max_header_bytes < 1024) {
    return ReportError(InvalidArgument("--max-header-bytes must be at least 1024"), kExitUsage);
  }
  auto token = LoadToken(flags);
  if (!token.ok()) return ReportError(token.status(), kExitUsage);
  if (flags.auth_reads && !*token) {
    return ReportError(
        InvalidArgument("--auth-reads needs a token (AQUASENSE_TOKEN or --token-file)"),
        kExitUsage);
  }
  opt.threads = flags.threads;
  opt.max_connections = flags.max_connections;
  opt.header_limit = flags.max_header_bytes;
  opt.header_timeout = Ms(flags.header_timeout);
  opt.idle_timeout = Ms(flags.idle_timeout);
  opt.body_timeout = Ms(flags.body_timeout);
  opt.write_timeout = Ms(flags.write_timeout);
  opt.drain_timeout = Ms(std::max(0.0, flags.drain_timeout));
  opt.max_upload = *max_upload;
  opt.token = *token;
  opt.auth_reads = flags.auth_reads;
  opt.cors_origin = flags.cors_origin;

  std::unique_ptr<http::AccessLog> access_log;
  if (!flags.access_log.empty()) {
    auto log = http::AccessLog::Open(flags.access_log);
    if (!log.ok()) return ReportError(log.status(), kExitUsage);
    access_log = std::move(*log);
  }

  RaiseFileLimit();
  http::SnapshotHolder snapshots(ctx.meta.get(), &ctx.clock);
  if (Status s = snapshots.Refresh(true); !s.ok()) return ReportError(s, kExitStore);
  snapshots.Start(Ms(flags.refresh_interval));
  http::ServerMetrics metrics(opt.threads);
  http::IngestWorker worker(ctx.pipeline.get(), &snapshots, &metrics);

  std::unique_ptr<http::InboxWatcher> watcher;
  const std::filesystem::path inbox = std::filesystem::path(ctx.data_dir) / "inbox";
  if (flags.watch) {
    http::WatchOptions watch;
    watch.interval = Ms(flags.watch_interval);
    watch.settle = Ms(flags.watch_settle);
    watcher = std::make_unique<http::InboxWatcher>(inbox, ctx.pipeline.get(), &worker, watch);
  }
  http::InboxWatcher* w = watcher.get();
  opt.on_shutdown = [w] {
    if (w != nullptr) w->RequestStop();
  };

  http::ServerDeps deps;
  deps.snapshots = &snapshots;
  deps.metrics = &metrics;
  deps.worker = &worker;
  deps.pipeline = ctx.pipeline.get();
  deps.access_log = access_log.get();
  deps.clock = &ctx.clock;
  deps.meta = ctx.meta.get();
  deps.objects = ctx.objects.get();
  deps.alerts = [&ctx](size_t limit) -> Result<std::string> {
    auto recent = ctx.meta->RecentAlerts(limit);
    if (!recent.ok()) return recent.status();
    return notify::AlertListJson(*recent).dump(-1, ' ', false,
                                               nlohmann::json::error_handler_t::replace);
  };
  http::Server server(opt, deps);
  if (Status s = server.Listen(); !s.ok()) return ReportError(s, kExitUsage);
  if (watcher) {
    if (Status s = watcher->Start(); !s.ok()) return ReportError(s, kExitStore);
  }
  std::string host = opt.host.find(':') != std::string::npos ? "[" + opt.host + "]" : opt.host;
  http::LogLine("listening on http://" + host + ":" + std::to_string(server.port()) + " (data " +
                ctx.data_dir + ", " + std::to_string(snapshots.Get()->record_count()) +
                " monthly records; uploads " + (opt.token ? "on" : "off") + "; watch " +
                (watcher ? inbox.string() : std::string("off")) + ")");
  // Alerts of uploads, watched files and other processes' ingests are
  // delivered from here too, every 2 s (the outbox lock keeps senders apart).
  std::mutex delivery_mu;
  std::condition_variable delivery_cv;
  bool stopping = false;
  std::jthread delivery([&] {
    notify::RepeatLimiter postponed;  // the same error logged once per 10 min (L7)
    std::unique_lock<std::mutex> lock(delivery_mu);
    while (!stopping) {
      lock.unlock();
      try {  // an exception is a logged error; the loop goes on
        Status s =
            notify::DeliverPending(*ctx.meta, ctx.config, ctx.clock, std::chrono::seconds(10),
                                   notify::OutboxLockPath(ctx.data_dir));
        if (auto line = postponed.Next(s, ctx.clock.NowMs())) http::LogLine(*line);
      } catch (const std::exception& e) {
        http::LogLine(std::string("alert delivery failed unexpectedly: ") + e.what());
      } catch (...) {
        http::LogLine("alert delivery failed unexpectedly");
      }
      lock.lock();
      delivery_cv.wait_for(lock, std::chrono::seconds(2), [&] { return stopping; });
    }
  });
  server.Run();
  {
    std::lock_guard<std::mutex> lock(delivery_mu);
    stopping = true;
  }
  delivery_cv.notify_all();
  delivery.join();
  if (watcher) watcher->Stop();  // a batch in progress finishes first
  worker.Stop();                 // queued uploads finish
  snapshots.Stop();
  http::LogLine("stopped");
  return kExitOk;
}

}  // namespace

void RegisterServeCommand(CLI::App& app, AppContext& ctx, int& exit_code) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve the HTTP API (docs/http.md)");
  cmd->add_option("--listen", flags->listen,
                  "HOST:PORT to listen on (default 127.0.0.1:8080; port 0: any free port)")
      ->envname("AQUASENSE_LISTEN");
  cmd->add_flag("--watch", flags->watch,
                "Ingest every file dropped into DIR/inbox/ (sub-folder = sensor)")
      ->envname("AQUASENSE_WATCH");
  cmd->add_option(
         "--token-file", flags->token_file,
         "File holding the upload token (else AQUASENSE_TOKEN); uploads are off without one")
      ->envname("AQUASENSE_TOKEN_FILE");
  cmd->add_option("--max-upload", flags->max_upload, "Largest upload body, bytes (default 256MiB)")
      ->envname("AQUASENSE_MAX_UPLOAD");
  cmd->add_flag("--auth-reads", flags->auth_reads, "Reads need the token too (except /health)")
      ->envname("AQUASENSE_AUTH_READS");
  cmd->add_option(
         "--cors-origin", flags->cors_origin,
         "Send Access-Control-Allow-Origin: ORIGIN (e.g. * or https://grafana.example.org) "
         "and answer CORS preflights; off by default")
      ->envname("AQUASENSE_CORS_ORIGIN");
  cmd->add_option("--threads", flags->threads, "I/O threads (default 2)")
      ->envname("AQUASENSE_THREADS");
  cmd->add_option("--access-log", flags->access_log,
                  "Write one JSON line per request to FILE (- = stderr)")
      ->envname("AQUASENSE_ACCESS_LOG");
  cmd->add_option("--max-connections", flags->max_connections,
                  "Open connections beyond which new ones get 503 (default 10000)")
      ->envname("AQUASENSE_MAX_CONNECTIONS");
  cmd->add_option("--max-header-bytes", flags->max_header_bytes,
                  "Request line + headers limit (default 16384; 431 beyond)")
      ->envname("AQUASENSE_MAX_HEADER_BYTES");
  cmd->add_option("--header-timeout", flags->header_timeout,
                  "Seconds to receive a request header once it started (default 10)")
      ->envname("AQUASENSE_HEADER_TIMEOUT");
  cmd->add_option("--idle-timeout", flags->idle_timeout,
                  "Seconds a keep-alive connection may wait for its next request (default 30)")
      ->envname("AQUASENSE_IDLE_TIMEOUT");
  cmd->add_option("--body-timeout", flags->body_timeout,
                  "Longest pause, seconds, while receiving an upload (default 30)")
      ->envname("AQUASENSE_BODY_TIMEOUT");
  cmd->add_option("--write-timeout", flags->write_timeout,
                  "Seconds to send one response (default 30)")
      ->envname("AQUASENSE_WRITE_TIMEOUT");
  cmd->add_option("--drain-timeout", flags->drain_timeout,
                  "On SIGTERM, seconds to let in-flight requests finish (default 20)")
      ->envname("AQUASENSE_DRAIN_TIMEOUT");
  cmd->add_option("--refresh-interval", flags->refresh_interval,
                  "Seconds between store change checks (default 0.1)")
      ->envname("AQUASENSE_REFRESH_INTERVAL");
  cmd->add_option("--watch-interval", flags->watch_interval,
                  "Seconds between inbox scans (default 0.25)")
      ->envname("AQUASENSE_WATCH_INTERVAL");
  cmd->add_option("--watch-settle", flags->watch_settle,
                  "Seconds an inbox file's size and mtime must stay unchanged before it is "
                  "taken (default 2)")
      ->envname("AQUASENSE_WATCH_SETTLE");
  cmd->callback([&ctx, &exit_code, cmd, flags] { exit_code = RunServe(ctx, *cmd, *flags); });
}

}  // namespace aquasense::cli
