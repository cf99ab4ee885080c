// `aquasense serve`: wires the HTTP module (src/http) to the stores opened by
// the AppContext: snapshot poller, ingest worker, optional inbox watcher, the
// server; then serves until SIGTERM/SIGINT and shuts down in order (drain the
// requests, finish the running ingest batch, stop the poller).
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "cli/config.h"
#include "cli/context.h"
#include "http/access_log.h"
#include "http/inbox_watcher.h"
#include "http/ingest_worker.h"
#include "http/log.h"
#include "http/metrics.h"
#include "http/server.h"
#include "http/snapshot.h"
#include "http/tls.h"
#include "notify/notifier.h"

namespace aquasense::cli {
namespace {

// Numbers are kept as the text the user gave (flag, variable or config) and
// parsed by ResolveNumbers, so that every bad value is refused with a message
// naming what was set.
// The defaults come from the option structs (ServerOptions{}, WatchOptions{},
// kDefaultRefreshInterval), written there once; the --help texts quote them.
const http::ServerOptions kServerDefaults{};
const http::WatchOptions kWatchDefaults{};

// Seconds as a flag's text: "10", "0.25".
std::string SecondsText(std::chrono::milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", static_cast<double>(d.count()) / 1000);
  return buf;
}

// `help` + " (default VALUE)".
std::string WithDefault(std::string help, const std::string& value) {
  return help + " (default " + value + ")";
}

struct ServeFlags {
  std::string listen = kServerDefaults.host + ":" + std::to_string(kServerDefaults.port);
  bool watch = false;
  std::string token_file;
  std::string max_upload = std::to_string(kServerDefaults.max_upload);
  std::string threads = std::to_string(kServerDefaults.threads);
  std::string access_log;
  std::string max_connections = std::to_string(kServerDefaults.max_connections);
  std::string max_header_bytes = std::to_string(kServerDefaults.header_limit);
  std::string header_timeout = SecondsText(kServerDefaults.header_timeout);
  std::string idle_timeout = SecondsText(kServerDefaults.idle_timeout);
  std::string body_timeout = SecondsText(kServerDefaults.body_timeout);
  std::string write_timeout = SecondsText(kServerDefaults.write_timeout);
  std::string drain_timeout = SecondsText(kServerDefaults.drain_timeout);
  std::string refresh_interval = SecondsText(http::kDefaultRefreshInterval);
  std::string watch_interval = SecondsText(kWatchDefaults.interval);
  std::string watch_settle = SecondsText(kWatchDefaults.settle);
  bool auth_reads = false;
  std::string cors_origin;
  std::string tls_cert;  // with tls_key: serve HTTPS (http/tls.h)
  std::string tls_key;
  std::set<std::string> from_config;  // config keys that set a value
};

std::chrono::milliseconds Ms(double seconds) {
  return std::chrono::milliseconds(std::llround(seconds * 1000));
}

// The parsed numeric settings (whole numbers are exact in a double).
struct ServeNumbers {
  double threads = 0, max_connections = 0, max_header_bytes = 0;
  double header_timeout = 0, idle_timeout = 0, body_timeout = 0, write_timeout = 0;
  double drain_timeout = 0, refresh_interval = 0, watch_interval = 0, watch_settle = 0;
  uint64_t max_upload = 0;
};

// One numeric setting of `serve`: where it can come from and what it accepts.
struct NumberSpec {
  const char* flag;  // "--threads"
  const char* env;   // "AQUASENSE_THREADS"
  const char* key;   // "threads" in the config's "serve" object
  std::string ServeFlags::*text;
  double ServeNumbers::*value;
  bool whole;          // a whole number (else seconds)
  double min, max;     // inclusive, but see above_min
  bool above_min;      // the value must be greater than min
  const char* reason;  // why the bounds, or ""
};

const NumberSpec kNumbers[] = {
    {"--threads", "AQUASENSE_THREADS", "threads", &ServeFlags::threads, &ServeNumbers::threads,
     true, 1, 64, false, ""},
    {"--max-connections", "AQUASENSE_MAX_CONNECTIONS", "max_connections",
     &ServeFlags::max_connections, &ServeNumbers::max_connections, true, 1, 1'000'000, false, ""},
    {"--max-header-bytes", "AQUASENSE_MAX_HEADER_BYTES", "max_header_bytes",
     &ServeFlags::max_header_bytes, &ServeNumbers::max_header_bytes, true, http::kMinHeaderLimit,
     http::kMaxHeaderLimit, false, " (the HTTP parser holds no larger header field)"},
    {"--header-timeout", "AQUASENSE_HEADER_TIMEOUT", "header_timeout", &ServeFlags::header_timeout,
     &ServeNumbers::header_timeout, false, 0, 86400, true, ""},
    {"--idle-timeout", "AQUASENSE_IDLE_TIMEOUT", "idle_timeout", &ServeFlags::idle_timeout,
     &ServeNumbers::idle_timeout, false, 0, 86400, true, ""},
    {"--body-timeout", "AQUASENSE_BODY_TIMEOUT", "body_timeout", &ServeFlags::body_timeout,
     &ServeNumbers::body_timeout, false, 0, 86400, true, ""},
    {"--write-timeout", "AQUASENSE_WRITE_TIMEOUT", "write_timeout", &ServeFlags::write_timeout,
     &ServeNumbers::write_timeout, false, 0, 86400, true, ""},
    {"--drain-timeout", "AQUASENSE_DRAIN_TIMEOUT", "drain_timeout", &ServeFlags::drain_timeout,
     &ServeNumbers::drain_timeout, false, 0, 86400, false, ""},
    {"--refresh-interval", "AQUASENSE_REFRESH_INTERVAL", "refresh_interval",
     &ServeFlags::refresh_interval, &ServeNumbers::refresh_interval, false, 0, 86400, true, ""},
    {"--watch-interval", "AQUASENSE_WATCH_INTERVAL", "watch_interval", &ServeFlags::watch_interval,
     &ServeNumbers::watch_interval, false, 0, 86400, true, ""},
    {"--watch-settle", "AQUASENSE_WATCH_SETTLE", "watch_settle", &ServeFlags::watch_settle,
     &ServeNumbers::watch_settle, false, 0, 86400, false, ""},
};

// What the user set a value with, for messages: the flag, the variable (when
// the value is the variable's: CLI11 reads it only when the flag is absent),
// or the config key.
std::string SourceOf(const CLI::App& cmd, const ServeFlags& f, const char* flag, const char* env,
                     const char* key) {
  if (cmd.count(flag) > 0) {
    const char* value = std::getenv(env);
    const CLI::Option* opt = cmd.get_option_no_throw(flag);
    if (value != nullptr && opt != nullptr && opt->results().size() == 1 &&
        opt->results()[0] == value) {
      return env;
    }
    return flag;
  }
  if (f.from_config.count(key) > 0) return std::string("config: \"") + key + "\" in \"serve\"";
  return flag;
}

std::string Shown(std::string_view text) {
  return "'" + std::string(text.substr(0, 40)) + (text.size() > 40 ? "...'" : "'");
}

std::string Bound(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

// The value of one numeric setting, or a usage error naming its source.
Result<double> ParseNumber(const NumberSpec& n, const std::string& text,
                           const std::string& source) {
  double v = 0;
  bool ok = false;
  const char* end = text.data() + text.size();
  if (n.whole) {
    int64_t i = 0;
    auto r = std::from_chars(text.data(), end, i);
    ok = r.ec == std::errc() && r.ptr == end && i >= n.min && i <= n.max;
    v = static_cast<double>(i);
  } else {
    auto r = std::from_chars(text.data(), end, v);
    ok = r.ec == std::errc() && r.ptr == end && std::isfinite(v) && v <= n.max &&
         (n.above_min ? v > n.min : v >= n.min);
  }
  if (ok) return v;
  if (n.whole) {
    return InvalidArgument(source + " must be a whole number from " + Bound(n.min) + " to " +
                           Bound(n.max) + n.reason + ", got " + Shown(text));
  }
  return InvalidArgument(source + " must be a number of seconds " +
                         (n.above_min ? "above " : "from ") + Bound(n.min) + " to " + Bound(n.max) +
                         ", got " + Shown(text));
}

Result<ServeNumbers> ResolveNumbers(const CLI::App& cmd, const ServeFlags& f) {
  ServeNumbers out;
  for (const NumberSpec& n : kNumbers) {
    auto r = ParseNumber(n, f.*n.text, SourceOf(cmd, f, n.flag, n.env, n.key));
    if (!r.ok()) return r.status();
    out.*n.value = *r;
  }
  auto bytes = ParseByteSize(f.max_upload);
  if (!bytes) {
    return InvalidArgument(SourceOf(cmd, f, "--max-upload", "AQUASENSE_MAX_UPLOAD", "max_upload") +
                           " must be a number of bytes (e.g. 268435456 or 256MiB), got " +
                           Shown(f.max_upload));
  }
  out.max_upload = *bytes;
  return out;
}

// Values from the config file's "serve" object for flags not given otherwise.
// Numbers are taken as their JSON text and checked with the flags' values.
Status ApplyConfig(const nlohmann::json& config, CLI::App& cmd, ServeFlags& f) {
  if (!config.contains("serve")) return Status::Ok();
  const auto& s = config["serve"];
  if (!s.is_object()) return InvalidArgument("config: \"serve\" must be an object");
  std::vector<std::string_view> known = {"listen",      "token_file", "access_log",
                                         "cors_origin", "watch",      "auth_reads",
                                         "max_upload",  "tls_cert",   "tls_key"};
  for (const NumberSpec& n : kNumbers) known.push_back(n.key);
  AQ_RETURN_IF_ERROR(CheckKnownKeys(s, "serve", known));
  auto given = [&](const char* key, const char* flag) {
    return s.contains(key) && cmd.count(flag) == 0;
  };
  auto wrong = [](const char* key, const char* what) {
    return InvalidArgument(std::string("config: \"") + key + "\" in \"serve\" must be " + what);
  };
  for (auto [key, flag, out] : {std::tuple{"listen", "--listen", &f.listen},
                                {"token_file", "--token-file", &f.token_file},
                                {"access_log", "--access-log", &f.access_log},
                                {"cors_origin", "--cors-origin", &f.cors_origin},
                                {"tls_cert", "--tls-cert", &f.tls_cert},
                                {"tls_key", "--tls-key", &f.tls_key}}) {
    if (!given(key, flag)) continue;
    if (!s[key].is_string()) return wrong(key, "a string");
    *out = s[key].get<std::string>();
  }
  for (auto [key, flag, out] :
       {std::tuple{"watch", "--watch", &f.watch}, {"auth_reads", "--auth-reads", &f.auth_reads}}) {
    if (!given(key, flag)) continue;
    if (!s[key].is_boolean()) return wrong(key, "true or false");
    *out = s[key].get<bool>();
  }
  if (given("max_upload", "--max-upload")) {
    const auto& v = s["max_upload"];
    if (!v.is_string() && !v.is_number()) return wrong("max_upload", "a number of bytes");
    f.max_upload = v.is_string() ? v.get<std::string>() : v.dump();
    f.from_config.insert("max_upload");
  }
  for (const NumberSpec& n : kNumbers) {
    if (!given(n.key, n.flag)) continue;
    if (!s[n.key].is_number()) return wrong(n.key, n.whole ? "a whole number" : "a number");
    f.*n.text = s[n.key].dump();
    f.from_config.insert(n.key);
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

// The TLS contexts when --tls-cert and --tls-key are set (both or neither: a
// usage error); a file that cannot be used is an input error (exit 2).
Result<std::unique_ptr<http::TlsContexts>> LoadTls(const ServeFlags& f, int& exit_code) {
  exit_code = kExitUsage;
  if (f.tls_cert.empty() != f.tls_key.empty()) {
    return InvalidArgument("--tls-cert and --tls-key go together: set both or neither");
  }
  if (f.tls_cert.empty()) return std::unique_ptr<http::TlsContexts>();
  exit_code = kExitInput;
  return http::TlsContexts::Load({f.tls_cert, f.tls_key});
}

void RaiseFileLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
  }
}

constexpr const char* kCloudRefreshInterval = "0.75";
constexpr std::chrono::seconds kDeliveryTick{2};

// One delivery round within 10 s; logs through `postponed`. Returns whether
// work is left (deliveries pending, another sender busy, or an error).
bool DeliveryRound(AppContext& ctx, notify::RepeatLimiter& postponed) {
  notify::RunOptions options;
  options.budget = std::chrono::seconds(10);
  options.lock_path = ctx.OutboxLock();
  try {  // an exception is a logged error; the loop goes on
    auto r = notify::RunDelivery(*ctx.meta, ctx.config, ctx.clock, options);
    Status s = r.ok() ? Status::Ok() : r.status();
    if (auto line = postponed.Next(s, ctx.clock.NowMs())) http::LogLine(*line);
    return !r.ok() || r->pending > 0 || r->busy;
  } catch (const std::exception& e) {
    http::LogLine(std::string("alert delivery failed unexpectedly: ") + e.what());
  } catch (...) {
    http::LogLine("alert delivery failed unexpectedly");
  }
  return true;
}

// Long on purpose: the start-up sequence (settings, stores, server, signals, drain)
// NOLINTNEXTLINE(readability-function-size)
int RunServe(AppContext& ctx, CLI::App& cmd, ServeFlags flags) {
  if (Status s = ctx.Open(); !s.ok()) return ReportError(s);
  if (Status s = ApplyConfig(ctx.config, cmd, flags); !s.ok()) return ReportError(s, kExitUsage);
  // On --meta dynamodb:// each change check is one consistent GetItem billed
  // to the table: 0.75 s keeps an idle replica near one small read a second
  // and still shows other replicas' commits within a second (SPEC §9).
  if (!ctx.meta_url.empty() && cmd.count("--refresh-interval") == 0 &&
      flags.from_config.count("refresh_interval") == 0) {
    flags.refresh_interval = kCloudRefreshInterval;
  }

  http::ServerOptions opt;
  if (Status s = http::ParseListen(flags.listen, opt.host, opt.port); !s.ok()) {
    return ReportError(s, kExitUsage);
  }
  auto numbers = ResolveNumbers(cmd, flags);
  if (!numbers.ok()) return ReportError(numbers.status(), kExitUsage);
  const ServeNumbers& n = *numbers;
  auto token = LoadToken(flags);
  if (!token.ok()) return ReportError(token.status(), kExitUsage);
  if (flags.auth_reads && !*token) {
    return ReportError(
        InvalidArgument("--auth-reads needs a token (AQUASENSE_TOKEN or --token-file)"),
        kExitUsage);
  }
  opt.threads = static_cast<int>(n.threads);
  opt.max_connections = static_cast<size_t>(n.max_connections);
  opt.header_limit = static_cast<uint32_t>(n.max_header_bytes);
  opt.header_timeout = Ms(n.header_timeout);
  opt.idle_timeout = Ms(n.idle_timeout);
  opt.body_timeout = Ms(n.body_timeout);
  opt.write_timeout = Ms(n.write_timeout);
  opt.drain_timeout = Ms(n.drain_timeout);
  opt.max_upload = n.max_upload;
  opt.token = *token;
  opt.auth_reads = flags.auth_reads;
  opt.cors_origin = flags.cors_origin;

  int tls_exit = kExitOk;
  auto tls = LoadTls(flags, tls_exit);
  if (!tls.ok()) return ReportError(tls.status(), tls_exit);

  std::unique_ptr<http::AccessLog> access_log;
  if (!flags.access_log.empty()) {
    auto log = http::AccessLog::Open(flags.access_log);
    if (!log.ok()) return ReportError(log.status(), kExitUsage);
    access_log = std::move(*log);
  }

  RaiseFileLimit();
  http::SnapshotHolder snapshots(ctx.meta.get(), &ctx.clock);
  if (Status s = snapshots.Refresh(true); !s.ok()) return ReportError(s, kExitStore);
  snapshots.Start(Ms(n.refresh_interval));
  http::ServerMetrics metrics(opt.threads);
  http::IngestWorker worker(ctx.pipeline.get(), &snapshots, &metrics);

  std::unique_ptr<http::InboxWatcher> watcher;
  const std::filesystem::path inbox = std::filesystem::path(ctx.data_dir) / "inbox";
  if (flags.watch) {
    http::WatchOptions watch;
    watch.interval = Ms(n.watch_interval);
    watch.settle = Ms(n.watch_settle);
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
  deps.tls = tls->get();
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
  if (deps.tls != nullptr) {
    http::LogLine("TLS: " + http::DescribeCertificate(*deps.tls->Current()) + "; SIGHUP reloads " +
                  flags.tls_cert + " and " + flags.tls_key);
  }
  http::LogLine(std::string("listening on ") + (deps.tls ? "https" : "http") + "://" + host + ":" +
                std::to_string(server.port()) + " (data " + ctx.data_dir + ", " +
                std::to_string(snapshots.Get()->record_count()) + " monthly records; uploads " +
                (opt.token ? "on" : "off") + "; watch " +
                (watcher ? inbox.string() : std::string("off")) + ")");
  // Alerts of uploads, watched files and other processes' ingests are
  // delivered from here too (the outbox lock keeps senders apart).
  std::mutex delivery_mu;
  std::condition_variable delivery_cv;
  bool stopping = false;
  std::jthread delivery([&] {
    notify::RepeatLimiter postponed;  // the same error logged once per 10 min (L7)
    // On --meta dynamodb://, idle: 1/0.75 s polls + 2 reads/60 s = ~1.37 reads/s.
    notify::DeliveryGate gate{.shared = !ctx.meta_url.empty()};
    std::unique_lock<std::mutex> lock(delivery_mu);
    while (!stopping) {
      lock.unlock();
      const uint64_t version = snapshots.version();
      if (gate.Due(version, ctx.clock.NowMs())) {
        bool work_left = DeliveryRound(ctx, postponed);
        gate.Ran(version, ctx.clock.NowMs(), work_left);
      }
      lock.lock();
      delivery_cv.wait_for(lock, kDeliveryTick, [&] { return stopping; });
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

namespace {

// One serve flag: the ServeFlags member it sets (a value or an on/off switch),
// its help, and whether the help shows the default (then `after_default`
// follows it). Its environment variable is the flag in capitals:
// --max-upload -> AQUASENSE_MAX_UPLOAD.
struct FlagSpec {
  const char* flag;
  std::string ServeFlags::*value = nullptr;
  bool ServeFlags::*on = nullptr;
  const char* help = "";
  bool show_default = false;
  const char* after_default = "";
};

// In the order of `serve --help`.
const FlagSpec kServeFlags[] = {
    {"--listen", &ServeFlags::listen, nullptr, "HOST:PORT to listen on (port 0: any free port)",
     true},
    {"--watch", nullptr, &ServeFlags::watch,
     "Ingest every file dropped into DIR/inbox/ (sub-folder = sensor)"},
    {"--token-file", &ServeFlags::token_file, nullptr,
     "File holding the upload token (else AQUASENSE_TOKEN); uploads are off without one"},
    {"--max-upload", &ServeFlags::max_upload, nullptr, "Largest upload body, bytes", true},
    {"--auth-reads", nullptr, &ServeFlags::auth_reads, "Reads need the token too (except /health)"},
    {"--cors-origin", &ServeFlags::cors_origin, nullptr,
     "Send Access-Control-Allow-Origin: ORIGIN (e.g. * or https://grafana.example.org) "
     "and answer CORS preflights; off by default"},
    {"--tls-cert", &ServeFlags::tls_cert, nullptr,
     "Serve HTTPS: PEM certificate chain (server certificate first); with "
     "--tls-key; SIGHUP reloads both"},
    {"--tls-key", &ServeFlags::tls_key, nullptr, "PEM private key (unencrypted) of --tls-cert"},
    {"--threads", &ServeFlags::threads, nullptr, "I/O threads", true},
    {"--access-log", &ServeFlags::access_log, nullptr,
     "Write one JSON line per request to FILE (- = stderr)"},
    {"--max-connections", &ServeFlags::max_connections, nullptr,
     "Open connections beyond which new ones get 503", true},
    {"--max-header-bytes", &ServeFlags::max_header_bytes, nullptr,
     "Request line + all headers, bytes: 1024 to 65536 (431 beyond)", true},
    {"--header-timeout", &ServeFlags::header_timeout, nullptr,
     "Seconds to receive a request header once it started", true},
    {"--idle-timeout", &ServeFlags::idle_timeout, nullptr,
     "Seconds a keep-alive connection may wait for its next request", true},
    {"--body-timeout", &ServeFlags::body_timeout, nullptr,
     "Longest pause, seconds, while receiving an upload", true},
    {"--write-timeout", &ServeFlags::write_timeout, nullptr, "Seconds to send one response", true},
    {"--drain-timeout", &ServeFlags::drain_timeout, nullptr,
     "On SIGTERM, seconds to let in-flight requests finish", true},
    {"--refresh-interval", &ServeFlags::refresh_interval, nullptr,
     "Seconds between store change checks", true, "; 0.75 on --meta dynamodb://"},
    {"--watch-interval", &ServeFlags::watch_interval, nullptr, "Seconds between inbox scans", true},
    {"--watch-settle", &ServeFlags::watch_settle, nullptr,
     "Seconds an inbox file's size and mtime must stay unchanged before it is taken", true},
};

// --max-upload -> AQUASENSE_MAX_UPLOAD.
std::string EnvNameOf(std::string_view flag) {
  std::string env = "AQUASENSE_";
  for (char c : flag.substr(2)) {
    env += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return env;
}

void AddFlag(CLI::App& cmd, const FlagSpec& spec, ServeFlags& flags) {
  CLI::Option* option = nullptr;
  if (spec.on != nullptr) {
    option = cmd.add_flag(spec.flag, flags.*spec.on, spec.help);
  } else {
    std::string& value = flags.*spec.value;
    std::string help = spec.help;
    if (spec.show_default) help = WithDefault(help, value) + spec.after_default;
    option = cmd.add_option(spec.flag, value, help);
  }
  option->envname(EnvNameOf(spec.flag));
}

}  // namespace

void RegisterServeCommand(CLI::App& app, AppContext& ctx, int& exit_code) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve the HTTP API (docs/http.md)");
  for (const FlagSpec& spec : kServeFlags) AddFlag(*cmd, spec, *flags);
  cmd->callback([&ctx, &exit_code, cmd, flags] { exit_code = RunServe(ctx, *cmd, *flags); });
}

}  // namespace aquasense::cli
