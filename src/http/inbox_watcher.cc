#include "http/inbox_watcher.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <utility>

#include "http/log.h"
#include "http/query.h"

namespace aquasense::http {

namespace fs = std::filesystem;

// An owned file descriptor (-1: none).
class InboxWatcher::Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

std::string Errno() { return std::strerror(errno); }

// Names the watcher never takes: hidden ones and files still being written.
bool Ignored(std::string_view name) {
  return name.empty() || name.front() == '.' || name.ends_with(".part");
}

// A name as it may appear in a log line: control bytes become '?', and it is
// cut at 100 bytes (a hostile name cannot forge or flood log lines).
std::string Printable(std::string_view name) {
  std::string out(name.substr(0, 100));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  if (name.size() > 100) out += "...";
  return out;
}

std::string Rel(const std::string& folder, const std::string& name) {
  return folder.empty() ? name : folder + "/" + name;
}

// The names in the folder open as `dir` (without "." and ".."), sorted.
Result<std::vector<std::string>> ListNames(int dir) {
  int fd = ::fcntl(dir, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return Unavailable(Errno());
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    std::string error = Errno();
    ::close(fd);
    return Unavailable(error);
  }
  ::rewinddir(d);
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
    errno = 0;
  }
  const int error = errno;
  ::closedir(d);
  if (error != 0) return Unavailable(std::strerror(error));
  std::sort(names.begin(), names.end());
  return names;
}

// Appends the rest of `fd` to `writer`; returns the number of bytes copied.
Result<uint64_t> CopyInto(int fd, pipeline::LandingWriter& writer, const std::string& what) {
  std::string buf(1 << 16, '\0');
  uint64_t total = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Unavailable("cannot read " + what + ": " + Errno());
    if (n == 0) return total;
    AQ_RETURN_IF_ERROR(writer.Append(std::string_view(buf.data(), static_cast<size_t>(n))));
    total += static_cast<uint64_t>(n);
  }
}

}  // namespace

InboxWatcher::InboxWatcher(fs::path inbox, pipeline::Pipeline* pipeline, IngestWorker* worker,
                           WatchOptions options)
    : inbox_(std::move(inbox)),
      pipeline_(pipeline),
      worker_(worker),
      options_(std::move(options)) {}

InboxWatcher::~InboxWatcher() { Stop(); }

Status InboxWatcher::Start() {
  std::error_code ec;
  if (fs::is_symlink(fs::symlink_status(inbox_, ec))) {
    return FailedPrecondition("the inbox " + inbox_.string() +
                              " is a symbolic link: --watch follows no links (make it a folder)");
  }
  fs::create_directories(inbox_, ec);
  if (ec) return Unavailable("cannot create the inbox " + inbox_.string() + ": " + ec.message());
  thread_ = std::jthread([this, stop = stop_.get_token()] { Loop(stop); });
  return Status::Ok();
}

void InboxWatcher::RequestStop() { stop_.request_stop(); }

void InboxWatcher::Stop() {
  RequestStop();
  if (thread_.joinable()) thread_.join();
}

void InboxWatcher::Loop(std::stop_token stop) {
  while (!stop.stop_requested()) {
    ScanGuarded();
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, stop, options_.interval, [] { return false; });
  }
}

// The thread's exception boundary: a failed scan is logged, the next one runs.
void InboxWatcher::ScanGuarded() {
  try {
    ScanOnce();
  } catch (const std::exception& e) {
    LogLine(std::string("inbox: scan failed (tried again at the next scan): ") + e.what());
  } catch (...) {
    LogLine("inbox: scan failed with an unknown exception (tried again at the next scan)");
  }
}

void InboxWatcher::Warn(const std::string& key, const std::string& message) {
  if (!warned_.contains(key) && !warned_next_.contains(key)) LogLine(message);
  warned_next_.insert(key);
}

InboxWatcher::Stamp InboxWatcher::StampOf(const struct stat& st) {
  return Stamp{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
               static_cast<int64_t>(st.st_size),
               static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

Result<InboxWatcher::Fd> InboxWatcher::OpenFolder(const std::string& folder) const {
  Fd inbox(::open(inbox_.c_str(), kDirFlags));
  if (inbox.get() < 0) return Unavailable("cannot open " + inbox_.string() + ": " + Errno());
  if (folder.empty()) return inbox;
  Fd sub(::openat(inbox.get(), folder.c_str(), kDirFlags));
  if (sub.get() < 0) return Unavailable("cannot open inbox/" + Printable(folder) + ": " + Errno());
  return sub;
}

int InboxWatcher::ScanOnce() {
  now_ = std::chrono::steady_clock::now();
  next_.clear();
  warned_next_.clear();
  std::vector<Candidate> ready;
  if (auto inbox = OpenFolder(""); inbox.ok()) {
    ListFolder(*inbox, "", ready);
  } else {
    Warn("#inbox", "inbox: " + inbox.status().message());
  }
  seen_ = std::move(next_);
  next_.clear();

  // One batch per sensor, in path order.
  std::map<std::string, std::vector<Candidate>> by_sensor;
  for (auto& c : ready) by_sensor[c.sensor].push_back(std::move(c));
  int taken = 0;
  for (const auto& [sensor, cands] : by_sensor) {
    if (stop_.stop_requested()) break;  // the rest waits for the next start
    taken += IngestSensor(sensor, cands);
  }
  warned_ = std::move(warned_next_);
  warned_next_.clear();
  return taken;
}

// Lists inbox/ (folder "") or inbox/FOLDER, open as `dir`, without following
// any link; observes the regular files found.
void InboxWatcher::ListFolder(const Fd& dir, const std::string& folder,
                              std::vector<Candidate>& ready) {
  auto names = ListNames(dir.get());
  if (!names.ok()) {
    Warn("#list/" + folder,
         "inbox: cannot list inbox/" + Printable(folder) + ": " + names.status().message());
    return;
  }
  for (const std::string& name : *names) {
    if (Ignored(name)) continue;
    const std::string rel = Rel(folder, name);
    struct stat st {};
    if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone
    if (S_ISLNK(st.st_mode)) {
      Warn(rel, "inbox: skipping the symlink inbox/" + Printable(rel) +
                    ": links are never followed, nor removed");
    } else if (S_ISREG(st.st_mode)) {
      Observe(folder, name, st, ready);
    } else if (!S_ISDIR(st.st_mode)) {
      Warn(rel, "inbox: skipping inbox/" + Printable(rel) + ": not a regular file");
    } else if (folder.empty()) {  // a sensor folder; deeper folders are ignored
      if (!IsValidSensorId(name)) {
        Warn(rel, "inbox: skipping folder inbox/" + Printable(name) +
                      ": its name is not a valid sensor id");
        continue;
      }
      Fd sub(::openat(dir.get(), name.c_str(), kDirFlags));  // fails if it became a link
      if (sub.get() < 0) {
        Warn(rel, "inbox: cannot open inbox/" + Printable(name) + ": " + Errno());
        continue;
      }
      ListFolder(sub, name, ready);
    }
  }
}

void InboxWatcher::Observe(const std::string& folder, const std::string& name,
                           const struct stat& st, std::vector<Candidate>& ready) {
  const std::string rel = Rel(folder, name);
  if (st.st_nlink > 1) {
    Warn(rel + "#links", "inbox: skipping inbox/" + Printable(rel) + ": it has " +
                             std::to_string(st.st_nlink) +
                             " hard links (one may be a file outside the inbox)");
    return;
  }
  Seen s{StampOf(st), now_, false};
  auto it = seen_.find(rel);
  if (it != seen_.end() && it->second.stamp == s.stamp) {
    s.since = it->second.since;
    s.ingested = it->second.ingested;
    // A file ingested already but not removable is not taken again until it changes.
    if (!s.ingested && now_ - s.since >= options_.settle) {
      ready.push_back({folder, name, folder.empty() ? "default" : folder, s.stamp});
    }
  }
  next_[rel] = s;
}

int InboxWatcher::IngestSensor(const std::string& sensor, const std::vector<Candidate>& cands) {
  std::vector<pipeline::StagedFile> staged;
  std::vector<const Candidate*> staged_from;
  for (const Candidate& c : cands) {
    auto s = Stage(c);
    if (!s.ok()) {
      // A file that changed since it was seen is taken once it settles again.
      if (s.status().code() != Code::kFailedPrecondition) {
        Warn(Rel(c.folder, c.name) + "#stage", "inbox: " + s.status().message());
      }
      continue;
    }
    staged.push_back(std::move(*s));
    staged_from.push_back(&c);
  }
  if (staged.empty()) return 0;
  if (options_.after_stage) options_.after_stage();
  pipeline::IngestRequest req;
  req.default_sensor = sensor;
  const size_t count = staged.size();
  auto summary = worker_->IngestStaged(std::move(staged), req, "watch");
  if (!summary.ok()) {
    Warn("#batch/" + sensor,
         "inbox: ingesting " + std::to_string(count) + " file(s) of sensor " + sensor +
             " failed (tried again at the next scan): " + summary.status().message());
    return 0;  // the files stay
  }
  LogLine("inbox: sensor " + sensor + ": " + std::to_string(count) + " file(s), " +
          std::to_string(summary->files) + " new, " + std::to_string(summary->rows) + " rows, " +
          std::to_string(summary->valid) + " valid, " + std::to_string(summary->invalid) +
          " invalid");
  // The batch committed: the files leave the inbox, unless they changed
  // meanwhile or could not be read to their end (per_file keeps the order of
  // the staged files; an unreadable one stays for the next scan).
  int taken = 0;
  for (size_t i = 0; i < staged_from.size(); ++i) {
    if (i < summary->per_file.size() && summary->per_file[i].status == "unreadable") {
      Warn(Rel(staged_from[i]->folder, staged_from[i]->name) + "#unreadable",
           "inbox: " + Printable(Rel(staged_from[i]->folder, staged_from[i]->name)) +
               " could not be read (kept for the next scan): " + summary->per_file[i].error);
      continue;
    }
    taken += RemoveIfUnchanged(*staged_from[i]) ? 1 : 0;
  }
  return taken;
}

// Copies the candidate's bytes into a landing writer, if it is still the
// regular file observed. kFailedPrecondition: it changed (or went away).
Result<pipeline::StagedFile> InboxWatcher::Stage(const Candidate& c) {
  const std::string rel = Rel(c.folder, c.name);
  const std::string what = "inbox/" + Printable(rel);
  auto dir = OpenFolder(c.folder);
  if (!dir.ok()) return dir.status();
  Fd fd(::openat(dir->get(), c.name.c_str(),
                 O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (fd.get() < 0 && (errno == ENOENT || errno == ELOOP)) {
    return FailedPrecondition(what + " went away or became a link");
  }
  if (fd.get() < 0) return Unavailable("cannot open " + what + ": " + Errno());
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Unavailable("cannot stat " + what + ": " + Errno());
  if (!S_ISREG(st.st_mode) || st.st_nlink > 1 || StampOf(st) != c.stamp) {
    return FailedPrecondition(what + " changed since it was seen");
  }
  auto writer = pipeline_->NewLandingWriter(c.sensor, "inbox/" + rel);
  if (!writer.ok()) return writer.status();
  auto copied = CopyInto(fd.get(), **writer, what);
  if (!copied.ok()) return copied.status();
  if (::fstat(fd.get(), &st) != 0 || StampOf(st) != c.stamp ||
      *copied != static_cast<uint64_t>(c.stamp.size)) {
    return FailedPrecondition(what + " changed while it was read");
  }
  return (*writer)->FinishForBatch();  // the file leaves the inbox once its batch commits
}

// Removes the candidate's file if it is still the one that was read (same
// dev+ino, size and mtime); true if it was removed.
bool InboxWatcher::RemoveIfUnchanged(const Candidate& c) {
  const std::string rel = Rel(c.folder, c.name);
  auto dir = OpenFolder(c.folder);
  struct stat st {};
  if (!dir.ok() || ::fstatat(dir->get(), c.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
      !S_ISREG(st.st_mode) || StampOf(st) != c.stamp) {
    return false;  // gone, changed or replaced: a new file is taken once it settles
  }
  if (::unlinkat(dir->get(), c.name.c_str(), 0) != 0) {
    Warn(rel + "#rm", "inbox: cannot remove inbox/" + Printable(rel) + ": " + Errno());
    if (auto it = seen_.find(rel); it != seen_.end()) it->second.ingested = true;
    return false;
  }
  seen_.erase(rel);
  return true;
}

}  // namespace aquasense::http
