#include "cli/context.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "cli/config.h"
#include "notify/notifier.h"
#include "storage/dynamo_meta_store.h"

namespace aquasense::cli {

namespace {

namespace fs = std::filesystem;

bool IsDirectory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Exists, is a directory, and (for `create`) is made when missing.
Status PrepareDataDir(const std::string& dir, bool create) {
  if (dir.empty()) return InvalidArgument("--data must not be empty (default ./aquasense-data)");
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode))
      return InvalidArgument("the data directory " + dir + " is not a directory");
    return Status::Ok();
  }
  if (errno != ENOENT)
    return Unavailable("cannot open the data directory " + dir + ": " + std::strerror(errno));
  if (!create) {
    return InvalidArgument("the data directory " + dir +
                           " does not exist (check --data or AQUASENSE_DATA)");
  }
  // Race-free with other processes creating it too: an existing directory
  // is not an error (create_directories checks after EEXIST).
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec && !IsDirectory(dir))
    return Unavailable("cannot create the data directory " + dir + ": " + ec.message());
  return Status::Ok();
}

Status CheckWritable(const std::string& dir) {
  if (::faccessat(AT_FDCWD, dir.c_str(), W_OK, AT_EACCESS) == 0) return Status::Ok();
  if (errno == EROFS) {
    return Unavailable("the data directory " + dir +
                       " is read-only (a read-only file system): ingest and rebuild write there");
  }
  if (errno == EACCES || errno == EPERM) {
    return Unavailable("the data directory " + dir +
                       " is read-only for this user (permission denied): ingest and rebuild "
                       "write there");
  }
  return Status::Ok();  // anything else: let the store say what is wrong
}

// True when landing/ holds a file: the store has ingested before.
bool LandingHasFiles(const std::string& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir + "/landing", ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code sec;
    if (!it->is_directory(sec)) continue;
    fs::directory_iterator inner(it->path(), sec);
    if (!sec && inner != fs::directory_iterator()) return true;
  }
  return false;
}

// The recovery for a damaged, missing or empty database (review M9).
Status WithRecovery(const Status& s, const std::string& dir) {
  if (s.code() != Code::kFailedPrecondition) return s;
  const std::string db = dir + "/aquasense.db";
  const std::string rebuild = "`aquasense --data " + dir + " rebuild`";
  if (!fs::exists(db))
    return FailedPrecondition(s.message() + ": run " + rebuild + " to re-create it from landing/");
  return FailedPrecondition(s.message() + ". landing/ keeps every file: delete " + db + ", " + db +
                            "-wal and " + db + "-shm, then run " + rebuild);
}

}  // namespace

Status AppContext::Open(Access access) {
  const bool create = access == Access::kCreate || access == Access::kWrite;
  // On the cloud URLs (SPEC §9) the data directory holds no data: a command
  // on a stateless host neither needs it nor creates it (serve keeps its
  // upload spool there).
  const bool local_dir = !Cloud() || access == Access::kCreate;
  if (local_dir) AQ_RETURN_IF_ERROR(PrepareDataDir(data_dir, create));
  if (local_dir && (access == Access::kWrite || access == Access::kRebuild)) {
    AQ_RETURN_IF_ERROR(CheckWritable(data_dir));
  }
  std::string path = config_path;
  if (path.empty() && fs::exists(data_dir + "/aquasense.json")) path = data_dir + "/aquasense.json";
  if (!path.empty()) {
    auto cfg = LoadConfigFile(path);
    if (!cfg.ok()) return cfg.status();
    config = std::move(*cfg);
  }
  auto options = PipelineOptionsFrom(config);
  if (!options.ok()) return options.status();

  // Objects go where --store says, the tables where --meta says (SPEC §9);
  // SQLite in the data directory by default.
  if (store_url.empty()) {
    objects = storage::NewLocalObjectStore(data_dir);
  } else {
    auto o = storage::OpenObjectStore(store_url, clock);
    if (!o.ok()) return o.status();
    objects = std::move(*o);
  }
  if (!meta_url.empty()) {  // --meta dynamodb://PREFIX (SPEC §9); large blocks go to `objects`
    auto m = storage::OpenMetaStoreUrl(meta_url, objects.get(), clock);
    if (!m.ok()) return m.status();
    meta = std::move(*m);
    pipeline = std::make_unique<pipeline::Pipeline>(
        pipeline::Env{objects.get(), meta.get(), &clock}, std::move(*options));
    return Status::Ok();
  }
  storage::SqliteOptions sqlite_options;
  // Files in landing/ but no database: it was lost; only rebuild may make a
  // new one. (Checked for a local store; an S3 landing/ is not listed here.)
  sqlite_options.must_exist =
      access != Access::kRebuild && store_url.empty() && LandingHasFiles(data_dir);
  auto m = storage::OpenSqliteMetaStore(data_dir + "/aquasense.db", sqlite_options);
  if (!m.ok()) return WithRecovery(m.status(), data_dir);
  meta = std::move(*m);
  pipeline = std::make_unique<pipeline::Pipeline>(pipeline::Env{objects.get(), meta.get(), &clock},
                                                  std::move(*options));
  return Status::Ok();
}

std::string AppContext::OutboxLock() const {
  return Cloud() ? std::string() : notify::OutboxLockPath(data_dir);
}

void AddQueueOption(CLI::App& cmd, std::string& queue, const std::string& what) {
  cmd.add_option("--queue", queue, what)->envname("AQUASENSE_QUEUE");
}

Result<storage::S3Location> RequireS3Store(const AppContext& ctx, const std::string& command) {
  if (!ctx.store_url.starts_with("s3://"))
    return InvalidArgument(command + " needs --store s3://BUCKET[/PREFIX]");
  return storage::ParseS3Url(ctx.store_url);
}

std::string SettingName(const AppContext& ctx, const CLI::App& cmd, const std::string& flag,
                        const std::string& config_key) {
  for (const std::string& a : ctx.args)
    if (a == flag || a.rfind(flag + "=", 0) == 0) return flag;
  const CLI::Option* opt = cmd.get_option_no_throw(flag);
  if (opt != nullptr && !opt->get_envname().empty() && std::getenv(opt->get_envname().c_str()))
    return opt->get_envname();
  return "config \"" + config_key + "\"";
}

int ExitCodeFor(const Status& status) {
  if (status.ok()) return kExitOk;
  return status.code() == Code::kInvalidArgument ? kExitUsage : kExitStore;
}

int ReportError(const Status& status, int exit_code) {
  std::string msg = status.message();
  if (storage::IsDamaged(status) && msg.find("rebuild") == std::string::npos) {
    msg +=
        ". The database is damaged; landing/ keeps every file: delete aquasense.db, "
        "aquasense.db-wal and aquasense.db-shm in the data directory, then run `aquasense "
        "rebuild`";
  }
  std::fprintf(stderr, "aquasense: %s\n", msg.c_str());
  return exit_code;
}

int ReportError(const Status& status) { return ReportError(status, ExitCodeFor(status)); }

std::optional<uint64_t> ParseByteSize(std::string_view text) {
  uint64_t v = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec != std::errc() || r.ptr == text.data()) return std::nullopt;
  std::string unit(r.ptr, static_cast<size_t>(text.data() + text.size() - r.ptr));
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  int shift = 0;
  if (unit == "k" || unit == "kib" || unit == "kb") {
    shift = 10;
  } else if (unit == "m" || unit == "mib" || unit == "mb") {
    shift = 20;
  } else if (unit == "g" || unit == "gib" || unit == "gb") {
    shift = 30;
  } else if (!unit.empty() && unit != "b") {
    return std::nullopt;
  }
  if (shift > 0 && v > (UINT64_MAX >> shift)) return std::nullopt;
  return v << shift;
}

}  // namespace aquasense::cli
