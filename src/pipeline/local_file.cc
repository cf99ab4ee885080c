#include "pipeline/local_file.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <span>

#include "common/crypto.h"
#include "storage/file_reader.h"
#include "storage/keys.h"

namespace aquasense::pipeline {

namespace {

constexpr size_t kBuffer = 1 << 20;

// The SHA-256 (hex) of everything `reader` yields, appended to `copy` as
// well when there is one; stops early when `*cancel` turns true. A read
// error sets `*input_error`. The bytes are read straight into the copy's
// own buffer when it lends one (ObjectWriter::Space: a local store), so
// they are copied once, from the page cache; else through a buffer of ours
// and Append (S3, memory stores, wrapped writers).
Result<std::string> HashAndCopy(storage::ObjectReader& reader, storage::ObjectWriter* copy,
                                const std::string& name, const std::atomic<bool>* cancel,
                                bool* input_error = nullptr) {
  Sha256Hasher sha;
  std::string own;
  while (cancel == nullptr || !*cancel) {
    std::span<char> room = copy != nullptr ? copy->Space() : std::span<char>();
    const bool lent = !room.empty();
    if (!lent) {
      if (own.empty()) own.resize(std::min<uint64_t>(kBuffer, reader.size() + 1));
      room = own;
    }
    // At most kBuffer at a time: hashed while it is still in the CPU's cache.
    auto n = reader.Read(room.data(), std::min(room.size(), kBuffer));
    if (!n.ok()) {
      if (input_error != nullptr) *input_error = true;
      return Unavailable("cannot read " + name + ": " + n.status().message());
    }
    if (*n == 0) break;
    sha.Update(room.data(), *n);
    if (lent) {
      AQ_RETURN_IF_ERROR(copy->Filled(*n));
    } else if (copy != nullptr) {
      AQ_RETURN_IF_ERROR(copy->Append(std::string_view(room.data(), *n)));
    }
  }
  return sha.Hex();
}

bool stdin_was_closed = false;  // see ReserveStandardStreams

}  // namespace

void ReserveStandardStreams() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    if (fd == 0) stdin_was_closed = true;
    // open() returns the lowest free descriptor: this one.
    const int got = ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
    if (got != fd && got >= 0) ::close(got);
  }
}

bool StandardInputClosed() {
  return stdin_was_closed || (::fcntl(0, F_GETFD) == -1 && errno == EBADF);
}

Result<std::unique_ptr<storage::ObjectReader>> OpenLocalFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Unavailable("cannot read " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Unavailable("cannot read " + path + ": not a regular file");
  }
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return std::unique_ptr<storage::ObjectReader>(
      new storage::FileReader(fd, static_cast<uint64_t>(st.st_size)));
}

Result<std::string> Sha256Of(storage::ObjectReader& reader, const std::string& name) {
  return HashAndCopy(reader, nullptr, name, nullptr);
}

Result<std::unique_ptr<storage::ObjectWriter>> CopyToLanding(const StagedFile& f,
                                                             storage::ObjectStore& objects,
                                                             bool* input_error) {
  bool ignored = false;
  if (input_error == nullptr) input_error = &ignored;
  auto exists = objects.Exists(f.landing_key);
  if (!exists.ok()) return exists.status();
  if (*exists) return std::unique_ptr<storage::ObjectWriter>();  // content-addressed: already there
  auto reader = OpenLocalFile(f.local_path);
  if (!reader.ok()) {
    *input_error = true;
    return reader.status();
  }
  auto writer = objects.NewWriter(f.landing_key);
  if (!writer.ok()) return writer.status();
  auto hash = HashAndCopy(**reader, writer->get(), f.local_path, nullptr, input_error);
  if (!hash.ok()) return hash.status();
  if (*hash != f.hash) {
    *input_error = true;
    return Unavailable(f.local_path + " changed while it was being ingested; nothing was stored");
  }
  return std::move(*writer);
}

std::shared_ptr<LandingCopy> LandingCopy::Start(std::string path, std::string sensor,
                                                storage::ObjectStore& objects) {
  std::shared_ptr<LandingCopy> c(new LandingCopy(std::move(path), objects));
  c->thread_ = std::thread([c = c.get(), sensor = std::move(sensor)] { c->Run(sensor); });
  return c;
}

LandingCopy::~LandingCopy() {
  {
    // Under mu_: the copy thread checks cancel_ under it before it waits, so
    // the store and the notification cannot fall between its check and its
    // wait (a lost wake-up would hang the join below).
    std::lock_guard<std::mutex> lock(mu_);
    cancel_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LandingCopy::Expect(std::string hash, std::string landing_key) {
  std::lock_guard<std::mutex> lock(mu_);
  hash_ = std::move(hash);
  key_ = std::move(landing_key);
  expected_set_ = true;
  cv_.notify_all();
}

void LandingCopy::Take() {
  std::lock_guard<std::mutex> lock(mu_);
  taken_ = true;
  cv_.notify_all();
}

Result<std::unique_ptr<storage::ObjectWriter>> LandingCopy::Finish() {
  if (thread_.joinable()) thread_.join();
  finished_ = true;
  if (!status_.ok()) return status_;
  return std::move(writer_);
}

void LandingCopy::Run(const std::string& sensor) {
  pthread_setname_np(pthread_self(), "aq-land");
  try {
    status_ = CopyAndCheck(sensor);
  } catch (const std::exception& e) {
    status_ = Internal("copying " + path_ + " into landing/ failed: " + e.what());
    std::fprintf(stderr, "aquasense: %s\n", status_.message().c_str());
  } catch (...) {
    status_ = Internal("copying " + path_ + " into landing/ failed: unknown exception");
    std::fprintf(stderr, "aquasense: %s\n", status_.message().c_str());
  }
  done_ = true;
}

Status LandingCopy::CopyAndCheck(const std::string& sensor) {
  auto reader = OpenLocalFile(path_);
  if (!reader.ok()) {
    input_error_ = true;
    return reader.status();
  }
  auto writer = objects_.NewWriter(storage::keys::LandingIncoming(sensor));
  if (!writer.ok()) return writer.status();
  auto hex = HashAndCopy(**reader, writer->get(), path_, &cancel_, &input_error_);
  if (!hex.ok()) return hex.status();
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return taken_ || cancel_; });
  }
  if (cancel_) return Status::Ok();  // not wanted: the temporary copy is dropped
  if (!expected_set_) {              // the copy names the file
    hash_ = *hex;
    key_ = storage::keys::Landing(sensor, *hex);
  } else if (*hex != hash_) {
    input_error_ = true;
    return Unavailable(path_ + " changed while it was being ingested; nothing was stored");
  }
  auto exists = objects_.Exists(key_);
  if (!exists.ok()) return exists.status();
  if (*exists) return Status::Ok();  // content-addressed: the same bytes are there
  AQ_RETURN_IF_ERROR((*writer)->SetKey(key_));
  writer_ = std::move(*writer);
  return Status::Ok();
}

}  // namespace aquasense::pipeline
