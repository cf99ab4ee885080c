// LocalObjectStore: objects are files under a root directory. Writes go to
// ROOT/.tmp/, are fsynced (many at once: one syncfs), renamed into place, and
// the directory is fsynced, so an object is either absent or complete, even
// after kill -9 or power loss.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage/file_reader.h"
#include "storage/object_store.h"

namespace aquasense::storage {

namespace {

namespace fs = std::filesystem;

std::string ErrnoText() { return std::strerror(errno); }

Status FsyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Unavailable("cannot open directory " + dir + ": " + ErrnoText());
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Unavailable("cannot sync directory " + dir + ": " + ErrnoText());
  return Status::Ok();
}

// Runs task(0) .. task(n-1), on up to kSyncThreads threads at once (this one
// included), and returns the first error. For fsyncs: a device flush of this
// disk takes ~0.2 ms and concurrent fsyncs share flushes, so five objects
// synced together cost about two flushes instead of five (measured with
// bench/ingest_bench.sh, the one-week ingest).
constexpr size_t kSyncThreads = 8;
// From this many objects on, a commit syncs them with one syncfs() instead
// of an fsync each (see LocalWriter::SyncFileSystem).
constexpr size_t kSyncFsObjects = 16;

// Two threads create and write back the temp files of a commit of many
// objects: each costs ~0.1-0.2 ms of kernel time (inode and block
// allocation), which for a thousand monthly files made the batch's last
// step wait on one core while the other was idle.
constexpr size_t kStartThreads = 2;

Status RunTogether(size_t n, const std::function<Status(size_t)>& task,
                   size_t max_threads = kSyncThreads) {
  if (n <= 1) return n == 1 ? task(0) : Status::Ok();
  std::atomic<size_t> next{0};
  std::vector<Status> errors(n, Status::Ok());
  // An exception in a task is that task's error; the threads are joined
  // whatever happens (jthread), never left to std::terminate.
  auto work = [&] {
    for (size_t i = next++; i < n; i = next++) {
      try {
        errors[i] = task(i);
      } catch (const std::exception& e) {
        errors[i] = Internal(std::string("unexpected error: ") + e.what());
      } catch (...) {
        errors[i] = Internal("unexpected error");
      }
    }
  };
  {
    std::vector<std::jthread> threads;
    for (size_t t = 1; t < std::min(n, max_threads); ++t) threads.emplace_back(work);
    work();
  }
  for (Status& e : errors)
    if (!e.ok()) return e;
  return Status::Ok();
}

Status MakeDirs(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Unavailable("cannot create directory " + dir + ": " + ec.message());
  return Status::Ok();
}

// Runs one task at a time on a thread of its own, started with the first
// task and kept for the next ones (a 600 MB object's 150 O_DIRECT writes
// started a thread each with std::async). Start() while busy() is a bug.
// A task's exception becomes its result's `status`.
template <typename T>
class OneInFlight {
 public:
  bool busy() const { return busy_; }
  void Start(std::function<T()> task) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      task_ = std::move(task);
      done_ = false;
    }
    busy_ = true;
    if (!thread_.joinable())
      thread_ = std::jthread([this](const std::stop_token& stop) { Run(stop); });
    cv_.notify_all();
  }
  // Waits for the task started last and returns its result.
  T Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return done_; });
    busy_ = false;
    return std::move(result_);
  }

 private:
  void Run(const std::stop_token& stop) {
    std::unique_lock<std::mutex> lock(mu_);
    while (cv_.wait(lock, stop, [&] { return task_ != nullptr; })) {
      auto task = std::move(task_);
      task_ = nullptr;
      lock.unlock();
      T r;
      try {
        r = task();
      } catch (const std::exception& e) {
        r.status = Internal(std::string("unexpected error: ") + e.what());
      } catch (...) {
        r.status = Internal("unexpected error");
      }
      lock.lock();
      result_ = std::move(r);
      done_ = true;
      cv_.notify_all();
    }
  }

  bool busy_ = false;  // started and not waited for (the owner's thread only)
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::function<T()> task_;
  T result_;
  bool done_ = false;
  std::jthread thread_;  // last: joined first
};

// Writes go through a buffer of up to 4 MiB. A large object's full buffers are
// written with O_DIRECT, straight from the buffer to the disk: on these VMs
// a buffered write spends most of its CPU time allocating and filling page
// cache (a quarter of the CPU of the 10M-row ingest, for the landing copy and
// the valid rows), which O_DIRECT does not use; and the fsync at the commit
// then has only the last partial buffer left to write. Where O_DIRECT is
// not supported (tmpfs), every write is buffered.
class LocalWriter final : public ObjectWriter {
 public:
  // The temp file is created when the first bytes are written out (an
  // object committed in place never needs one).
  LocalWriter(std::string root, std::string key, std::string tmp_path)
      : root_(std::move(root)), key_(std::move(key)), tmp_(std::move(tmp_path)) {}
  ~LocalWriter() override {
    (void)WaitForDirectWrite();
    if (fd_ >= 0) ::close(fd_);
    if (direct_fd_ >= 0) ::close(direct_fd_);
    if (created_ && !committed_) ::unlink(tmp_.c_str());
  }

  Status Append(std::string_view bytes) override {
    if (closed_) return FailedPrecondition("object writer already closed");
    while (!bytes.empty()) {
      if (fill_ == cap_) AQ_RETURN_IF_ERROR(Grow(bytes.size()));
      const size_t n = std::min(bytes.size(), cap_ - fill_);
      std::memcpy(buf_.get() + fill_, bytes.data(), n);
      fill_ += n;
      bytes.remove_prefix(n);
      if (fill_ == kBuf) AQ_RETURN_IF_ERROR(WriteBuffer(/*whole=*/true));
    }
    return Status::Ok();
  }

  // A whole write buffer's rest, to fill in place (see ObjectWriter::Space):
  // a full one goes out with O_DIRECT without being copied.
  std::span<char> Space() override {
    if (closed_ || (cap_ < kBuf && !Grow(kBuf).ok())) return {};
    return {buf_.get() + fill_, kBuf - fill_};
  }
  Status Filled(size_t n) override {
    if (closed_) return FailedPrecondition("object writer already closed");
    if (n > cap_ - fill_) return InvalidArgument("more bytes filled than lent");
    fill_ += n;
    return fill_ == kBuf ? WriteBuffer(/*whole=*/true) : Status::Ok();
  }

  Status Commit() override {
    auto in_place = CommitInPlace();
    if (!in_place.ok()) return in_place.status();
    if (*in_place) return Status::Ok();
    AQ_RETURN_IF_ERROR(StartSync());
    AQ_RETURN_IF_ERROR(FinishSync());
    std::string dir;
    AQ_RETURN_IF_ERROR(Publish(dir));
    return FsyncDir(dir);
  }

  Status SetKey(std::string_view key) override {
    if (!ValidObjectKey(key)) return InvalidArgument("invalid object key: " + std::string(key));
    key_ = std::string(key);
    return Status::Ok();
  }

  void AllowInPlace() override { in_place_ = true; }

  // With AllowInPlace and the whole object still in the buffer: writes it
  // over the existing object and syncs that (no rename, no directory sync).
  // False when it cannot (not allowed, no object there yet, a large object):
  // commit it the usual way then.
  Result<bool> CommitInPlace() {
    if (!in_place_ || written_ > 0 || closed_) return false;
    const std::string path = root_ + "/" + key_;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return false;
      return Unavailable("cannot open " + path + ": " + ErrnoText());
    }
    Status st;
    for (size_t done = 0; done < fill_ && st.ok();) {
      const ssize_t n = ::pwrite(fd, buf_.get() + done, fill_ - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0)
        st = Unavailable("cannot write " + path + ": " + ErrnoText());
      else
        done += static_cast<size_t>(n);
    }
    if (st.ok() && ::ftruncate(fd, static_cast<off_t>(fill_)) != 0)
      st = Unavailable("cannot truncate " + path + ": " + ErrnoText());
    if (st.ok() && ::fdatasync(fd) != 0)
      st = Unavailable("cannot sync " + path + ": " + ErrnoText());
    ::close(fd);
    if (!st.ok()) return st;
    if (fd_ >= 0) ::close(fd_);  // no temp file needed
    fd_ = -1;
    if (created_) ::unlink(tmp_.c_str());
    closed_ = committed_ = true;
    return true;
  }

  Status CommitAs(std::string_view key) override {
    AQ_RETURN_IF_ERROR(SetKey(key));
    return Commit();
  }

  // The phases of a commit, for CommitAll: start writing back the temp file,
  // wait until it is on disk, rename it into place (then the caller fsyncs
  // `dir`, the directory it landed in).
  Status StartSync() {
    if (closed_) return FailedPrecondition("object writer already closed");
    AQ_RETURN_IF_ERROR(Create());
    AQ_RETURN_IF_ERROR(WaitForDirectWrite());
    if (fill_ > 0) AQ_RETURN_IF_ERROR(WriteBuffer(/*whole=*/false));
    ::sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WRITE);
    return Status::Ok();
  }
  Status FinishSync() {
    if (closed_ || fd_ < 0) return FailedPrecondition("object writer already closed");
    if (::fsync(fd_) != 0) return Unavailable("cannot sync " + tmp_ + ": " + ErrnoText());
    return Synced();
  }
  // FinishSync for many at once: one syncfs() of the file system the temp
  // files are on (all in ROOT/.tmp) makes every one of them durable, as an
  // fsync of each would (Linux >= 5.8 reports a writeback error of any of
  // them, and of any other file there: a spurious failure, never a silent
  // one). Then Synced() on each.
  Status SyncFileSystem() {
    if (closed_ || fd_ < 0) return FailedPrecondition("object writer already closed");
    if (::syncfs(fd_) != 0) return Unavailable("cannot sync " + tmp_ + ": " + ErrnoText());
    return Status::Ok();
  }
  // The temp file is durable (FinishSync or SyncFileSystem): closes it.
  Status Synced() {
    if (closed_ || fd_ < 0) return FailedPrecondition("object writer already closed");
    ::close(fd_);
    fd_ = -1;
    closed_ = true;
    return Status::Ok();
  }
  Status Publish(std::string& dir) {
    const std::string path = root_ + "/" + key_;
    dir = fs::path(path).parent_path().string();
    AQ_RETURN_IF_ERROR(MakeDirs(dir));
    if (::rename(tmp_.c_str(), path.c_str()) != 0)
      return Unavailable("cannot rename into " + path + ": " + ErrnoText());
    committed_ = true;
    return Status::Ok();
  }

 private:
  static constexpr size_t kBuf = 4 << 20;  // a multiple of kAlign
  static constexpr size_t kAlign = 4096;   // O_DIRECT: buffer, offset and size
  static constexpr uint64_t kWritebackStep = 8 << 20;

  static constexpr size_t kSmallBuf = 64 << 10;  // the least a first buffer holds

  struct Free {
    void operator()(char* p) const { std::free(p); }
  };

  // The temp file, on first need.
  Status Create() {
    if (created_) return Status::Ok();
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) return Unavailable("cannot create " + tmp_ + ": " + ErrnoText());
    created_ = true;
    return Status::Ok();
  }

  // Room for `more` bytes: an object's first buffer is sized to what comes
  // (a monthly file is ~20 KB), bigger ones get kBuf.
  Status Grow(size_t more) {
    size_t cap = kBuf;
    if (written_ == 0 && cap_ == 0)
      cap = std::min(kBuf, (std::max(more, kSmallBuf) + kAlign - 1) / kAlign * kAlign);
    std::unique_ptr<char, Free> b(static_cast<char*>(std::aligned_alloc(kAlign, cap)));
    if (b == nullptr) return Unavailable("cannot allocate a write buffer");
    if (fill_ > 0) std::memcpy(b.get(), buf_.get(), fill_);
    buf_ = std::move(b);
    cap_ = cap;
    return Status::Ok();
  }

  // Writes the buffer at the end of the file: a whole one with O_DIRECT when
  // the file system allows it, else (and the last, partial one) buffered.
  // An O_DIRECT write waits for the disk, so it runs on a thread of its own
  // while the next buffer fills: one write in flight. 4 MiB a write: this
  // disk takes 1 MiB writes at ~1.0 GB/s and 4 MiB ones at ~1.5 GB/s (dd
  // oflag=direct), and with 1 MiB the merging thread of a 10M-row ingest
  // waited ~0.24 s for its valid rows' writes (with 4 MiB: none).
  Status WriteBuffer(bool whole) {
    AQ_RETURN_IF_ERROR(Create());
    if (whole && direct_fd_ == -1) {
      direct_fd_ = ::open(tmp_.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC);
      if (direct_fd_ < 0) direct_fd_ = -2;  // not supported here: buffered from now on
    }
    if (whole) AQ_RETURN_IF_ERROR(WaitForDirectWrite());  // may turn O_DIRECT off
    if (whole && direct_fd_ >= 0) {
      std::swap(buf_, spare_);
      cap_ = buf_ ? kBuf : 0;
      const char* data = spare_.get();
      const uint64_t offset = written_;
      written_ += kBuf;
      fill_ = 0;
      direct_.Start([this, data, offset] { return WriteAt(data, kBuf, offset, /*direct=*/true); });
      return Status::Ok();
    }
    AQ_RETURN_IF_ERROR(WriteAt(buf_.get(), fill_, written_, /*direct=*/false).status);
    written_ += fill_;
    fill_ = 0;
    // Buffered: start writeback of what is written so far without waiting
    // for it, so the fsync at the commit finds little left to do.
    if (written_ - flushed_ >= kWritebackStep) {
      ::sync_file_range(fd_, static_cast<off_t>(flushed_), static_cast<off_t>(written_ - flushed_),
                        SYNC_FILE_RANGE_WRITE);
      flushed_ = written_;
    }
    return Status::Ok();
  }

  struct Written {
    Status status;
    bool direct_refused = false;
  };

  // Writes `size` bytes at `offset`; with `direct`, through the O_DIRECT
  // descriptor, and what it refuses (this device's alignment, or the rest of
  // a short write) through the buffered one.
  Written WriteAt(const char* data, size_t size, uint64_t offset, bool direct) const {
    Written out;
    int fd = direct ? direct_fd_ : fd_;
    while (size > 0) {
      const ssize_t n = ::pwrite(fd, data, size, static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && fd != fd_ && errno == EINVAL) {
        out.direct_refused = true;
        fd = fd_;
        continue;
      }
      if (n <= 0) {
        out.status = Unavailable("cannot write " + tmp_ + ": " + ErrnoText());
        return out;
      }
      data += n;
      size -= static_cast<size_t>(n);
      offset += static_cast<uint64_t>(n);
    }
    return out;
  }

  Status WaitForDirectWrite() {
    if (!direct_.busy()) return Status::Ok();
    Written w = direct_.Wait();
    if (w.direct_refused && direct_fd_ >= 0) {  // buffered from now on
      ::close(direct_fd_);
      direct_fd_ = -2;
    }
    return w.status;
  }

  std::string root_, key_, tmp_;
  int fd_ = -1;           // the temp file's
  bool created_ = false;  // the temp file exists
  bool closed_ = false;   // committed or failed to: no more writes
  int direct_fd_ = -1;    // -1 not opened yet, -2 not supported
  bool committed_ = false;
  bool in_place_ = false;  // see AllowInPlace
  std::unique_ptr<char, Free> buf_;
  std::unique_ptr<char, Free> spare_;  // the buffer being written by direct_
  size_t fill_ = 0, cap_ = 0;          // bytes in buf_, its size
  uint64_t written_ = 0, flushed_ = 0;
  OneInFlight<Written> direct_;  // last: its thread is joined before the rest goes
};

class LocalObjectStore final : public ObjectStore {
 public:
  explicit LocalObjectStore(std::string root) : root_(std::move(root)) {}

  Result<std::unique_ptr<ObjectWriter>> NewWriter(std::string_view key) override {
    if (!ValidObjectKey(key)) return InvalidArgument("invalid object key: " + std::string(key));
    const std::string tmp_dir = root_ + "/.tmp";
    AQ_RETURN_IF_ERROR(MakeDirs(tmp_dir));
    static std::atomic<uint64_t> counter{0};
    const std::string tmp = tmp_dir + "/" + std::to_string(::getpid()) + "-" +
                            std::to_string(counter.fetch_add(1)) + ".part";
    return std::unique_ptr<ObjectWriter>(new LocalWriter(root_, std::string(key), tmp));
  }

  Result<std::unique_ptr<ObjectReader>> Open(std::string_view key) override {
    if (!ValidObjectKey(key)) return InvalidArgument("invalid object key: " + std::string(key));
    const std::string path = root_ + "/" + std::string(key);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return NotFound("no object " + std::string(key));
      return Unavailable("cannot open " + path + ": " + ErrnoText());
    }
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return Unavailable("not a regular file: " + path);
    }
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return std::unique_ptr<ObjectReader>(new FileReader(fd, static_cast<uint64_t>(st.st_size)));
  }

  Result<bool> Exists(std::string_view key) override {
    if (!ValidObjectKey(key)) return InvalidArgument("invalid object key: " + std::string(key));
    struct stat st;
    return ::stat((root_ + "/" + std::string(key)).c_str(), &st) == 0 && S_ISREG(st.st_mode);
  }

  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override {
    std::vector<ObjectInfo> out;
    std::error_code ec;
    const std::string p(prefix);
    const size_t slash = p.rfind('/');
    const fs::path start =
        slash == std::string::npos ? fs::path(root_) : fs::path(root_) / p.substr(0, slash);
    if (!fs::exists(start, ec)) return out;
    for (auto it = fs::recursive_directory_iterator(start, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      const std::string rel = fs::relative(it->path(), root_, ec).generic_string();
      if (rel.starts_with(".tmp")) {
        it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file(ec) || !rel.starts_with(p)) continue;
      struct stat st;
      if (::stat(it->path().c_str(), &st) != 0) continue;
      out.push_back(
          {rel, static_cast<uint64_t>(st.st_size),
           static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000});
    }
    if (ec) return Unavailable("cannot list " + start.string() + ": " + ec.message());
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.key < b.key; });
    return out;
  }

  // Every temp file is written back and fsynced, all at once, and then
  // renamed; each directory the objects landed in is fsynced once, all at
  // once. An intent record (the first) is synced, renamed and its directory
  // synced before any other object appears, beside the other files' fsyncs.
  Status CommitAll(std::span<ObjectWriter* const> writers, bool first_is_intent) override {
    std::vector<LocalWriter*> local;
    for (ObjectWriter* w : writers) {
      auto* l = dynamic_cast<LocalWriter*>(w);
      if (l == nullptr) return ObjectStore::CommitAll(writers, first_is_intent);
      local.push_back(l);
    }
    const size_t begin = first_is_intent ? 1 : 0;
    const size_t n = local.size() - begin;
    AQ_RETURN_IF_ERROR(RunTogether(
        n, [&](size_t i) { return local[begin + i]->StartSync(); },
        n >= kSyncFsObjects ? kStartThreads : 1));
    // The intent record: in place when allowed and possible (one sync), else
    // published (then its directory synced) before the others.
    auto commit_intent = [&]() -> Status {
      auto in_place = local[0]->CommitInPlace();
      if (!in_place.ok()) return in_place.status();
      if (*in_place) return Status::Ok();
      AQ_RETURN_IF_ERROR(local[0]->StartSync());
      AQ_RETURN_IF_ERROR(local[0]->FinishSync());
      std::string dir;
      AQ_RETURN_IF_ERROR(local[0]->Publish(dir));
      return FsyncDir(dir);
    };
    if (local.size() - begin >= kSyncFsObjects) {
      // Many objects (the monthly files of a large batch): the intent record
      // first, then one syncfs for all the rest instead of an fsync each.
      // The crash-safety argument is unchanged: syncfs returns once every
      // temp file's data and size are on disk (as an fsync of each would,
      // errors included), and only then is any renamed; the intent record is
      // durable before that. A thousand fsyncs (each a flush on a disk
      // without journal) become one; syncfs also writes out other dirty data
      // of that file system, which the batch's SQLite commit syncs next anyway
      // (its WAL, started by Batch::WritesDone).
      if (first_is_intent) AQ_RETURN_IF_ERROR(commit_intent());
      AQ_RETURN_IF_ERROR(local[begin]->SyncFileSystem());
      for (size_t i = begin; i < local.size(); ++i) AQ_RETURN_IF_ERROR(local[i]->Synced());
    } else {
      const Status synced = RunTogether(local.size(), [&](size_t i) -> Status {
        return i > 0 || !first_is_intent ? local[i]->FinishSync() : commit_intent();
      });
      if (!synced.ok()) return synced;
    }
    std::vector<std::string> dirs;  // of the objects after an intent record
    for (size_t i = first_is_intent ? 1 : 0; i < local.size(); ++i) {
      std::string dir;
      AQ_RETURN_IF_ERROR(local[i]->Publish(dir));
      if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(std::move(dir));
    }
    return RunTogether(dirs.size(), [&](size_t i) { return FsyncDir(dirs[i]); });
  }

  Status Delete(std::string_view key) override {
    if (!ValidObjectKey(key)) return InvalidArgument("invalid object key: " + std::string(key));
    const std::string path = root_ + "/" + std::string(key);
    if (::unlink(path.c_str()) != 0) {
      if (errno == ENOENT) return Status::Ok();
      return Unavailable("cannot delete " + std::string(key) + ": " + ErrnoText());
    }
    return FsyncDir(fs::path(path).parent_path().string());  // durable, like a commit
  }

 private:
  std::string root_;
};

// Removes the temp files ("<pid>-<n>.part") of processes that are gone, as
// after a kill -9 in the middle of a batch: without this, every crash left
// its partial objects (a partial landing copy can be as big as the input)
// behind for good. A live process's files (a running serve, another
// ingest) are left alone. (A process in another PID namespace sharing the
// directory would look gone: such setups should not share a data dir.)
void SweepOrphanTemps(const std::string& root) {
  DIR* dir = ::opendir((root + "/.tmp").c_str());
  if (dir == nullptr) return;
  const pid_t self = ::getpid();
  while (const dirent* e = ::readdir(dir)) {
    const std::string_view name = e->d_name;
    if (!name.ends_with(".part")) continue;
    long pid = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (ec != std::errc() || end == name.data() || *end != '-' || pid <= 0 || pid == self) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // alive (or not ours)
    ::unlinkat(::dirfd(dir), e->d_name, 0);
  }
  ::closedir(dir);
}

}  // namespace

std::unique_ptr<ObjectStore> NewLocalObjectStore(std::string root) {
  SweepOrphanTemps(root);
  return std::make_unique<LocalObjectStore>(std::move(root));
}

}  // namespace aquasense::storage
