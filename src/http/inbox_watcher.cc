#include "http/inbox_watcher.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "http/log.h"
#include "http/query.h"

namespace aquasense::http {

namespace fs = std::filesystem;

InboxWatcher::InboxWatcher(fs::path inbox, pipeline::Pipeline* pipeline, IngestWorker* worker,
                           WatchOptions options)
    : inbox_(std::move(inbox)), pipeline_(pipeline), worker_(worker), options_(options) {}

InboxWatcher::~InboxWatcher() { Stop(); }

Status InboxWatcher::Start() {
  std::error_code ec;
  fs::create_directories(inbox_, ec);
  if (ec) return Unavailable("cannot create the inbox " + inbox_.string() + ": " + ec.message());
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void InboxWatcher::RequestStop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
}

void InboxWatcher::Stop() {
  RequestStop();
  if (thread_.joinable()) thread_.join();
}

void InboxWatcher::Loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    ScanOnce();
    lock.lock();
    cv_.wait_for(lock, options_.interval, [this] { return stopping_; });
  }
}

void InboxWatcher::WarnOnce(const std::string& key, const std::string& message) {
  if (warned_.insert(key).second) LogLine(message);
}

void InboxWatcher::Observe(const fs::path& p, const std::string& sensor,
                           std::chrono::steady_clock::time_point now,
                           std::map<std::string, Seen>& next, std::vector<Candidate>& ready) {
  std::error_code ec;
  uintmax_t size = fs::file_size(p, ec);
  if (ec) return;
  auto mtime = fs::last_write_time(p, ec);
  if (ec) return;
  const std::string key = p.string();
  auto it = seen_.find(key);
  Seen s{size, mtime, now};
  if (it != seen_.end() && it->second.size == size && it->second.mtime == mtime) {
    s.since = it->second.since;
    s.ingested = it->second.ingested;
    // A file ingested already but not removable is not taken again until it changes.
    if (now - s.since >= options_.interval && !s.ingested) ready.push_back({p, sensor, s});
  }
  next[key] = s;
}

Result<pipeline::StagedFile> InboxWatcher::Stage(const Candidate& c) {
  std::string source = "inbox/";
  if (c.path.parent_path() != inbox_) source += c.sensor + "/";
  source += c.path.filename().string();
  auto writer = pipeline_->NewLandingWriter(c.sensor, source);
  if (!writer.ok()) return writer.status();
  int fd = ::open(c.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Unavailable("cannot open " + c.path.string() + ": " + std::strerror(errno));
  std::string buf(1 << 16, '\0');
  Status st;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      st = Unavailable("cannot read " + c.path.string() + ": " + std::strerror(errno));
      break;
    }
    if (n == 0) break;
    st = (*writer)->Append(std::string_view(buf.data(), static_cast<size_t>(n)));
    if (!st.ok()) break;
  }
  ::close(fd);
  if (!st.ok()) return st;
  return (*writer)->FinishForBatch();  // the file leaves the inbox once its batch commits
}

int InboxWatcher::ScanOnce() {
  const auto now = std::chrono::steady_clock::now();
  std::map<std::string, Seen> next;
  std::vector<Candidate> ready;
  std::error_code ec;
  for (fs::directory_iterator it(inbox_, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    const std::string name = p.filename().string();
    if (name.empty() || name[0] == '.') continue;
    std::error_code tec;
    if (it->is_regular_file(tec)) {
      Observe(p, "default", now, next, ready);
    } else if (it->is_directory(tec)) {
      if (!IsValidSensorId(name)) {
        WarnOnce(p.string(),
                 "inbox: skipping folder " + p.string() + ": its name is not a valid sensor id");
        continue;
      }
      std::error_code sec;
      for (fs::directory_iterator sit(p, sec), send; !sec && sit != send; sit.increment(sec)) {
        const std::string sname = sit->path().filename().string();
        if (sname.empty() || sname[0] == '.') continue;
        std::error_code rec;
        if (sit->is_regular_file(rec)) Observe(sit->path(), name, now, next, ready);
      }
    }
  }
  if (ec)
    WarnOnce("scan:" + ec.message(), "inbox: cannot list " + inbox_.string() + ": " + ec.message());
  seen_ = std::move(next);

  // One batch per sensor, in path order.
  std::map<std::string, std::vector<Candidate>> by_sensor;
  for (auto& c : ready) by_sensor[c.sensor].push_back(std::move(c));
  int taken = 0;
  for (auto& [sensor, cands] : by_sensor) {
    std::vector<pipeline::StagedFile> staged;
    std::vector<const Candidate*> staged_from;
    for (const Candidate& c : cands) {
      auto s = Stage(c);
      if (!s.ok()) {
        WarnOnce(c.path.string() + "#" + std::to_string(c.seen.size),
                 "inbox: " + s.status().message());
        continue;
      }
      staged.push_back(std::move(*s));
      staged_from.push_back(&c);
    }
    if (staged.empty()) continue;
    pipeline::IngestRequest req;
    req.default_sensor = sensor;
    auto summary = worker_->IngestStaged(staged, req, "watch");
    if (!summary.ok()) {
      LogLine("inbox: ingesting " + std::to_string(staged.size()) + " file(s) of sensor " + sensor +
              " failed: " + summary.status().message());
      continue;  // the files stay; the next scan tries again
    }
    LogLine("inbox: sensor " + sensor + ": " + std::to_string(staged.size()) + " file(s), " +
            std::to_string(summary->files) + " new, " + std::to_string(summary->rows) + " rows, " +
            std::to_string(summary->valid) + " valid, " + std::to_string(summary->invalid) +
            " invalid");
    // The batch committed: the files can leave the inbox, unless they changed meanwhile.
    for (const Candidate* c : staged_from) {
      std::error_code fec;
      if (fs::file_size(c->path, fec) != c->seen.size || fec ||
          fs::last_write_time(c->path, fec) != c->seen.mtime || fec) {
        continue;  // changed while being ingested: taken again next time
      }
      fs::remove(c->path, fec);
      if (fec) {
        WarnOnce(c->path.string() + "#rm",
                 "inbox: cannot remove " + c->path.string() + ": " + fec.message());
        if (auto it = seen_.find(c->path.string()); it != seen_.end()) it->second.ingested = true;
      } else {
        seen_.erase(c->path.string());
        ++taken;
      }
    }
  }
  return taken;
}

}  // namespace aquasense::http
