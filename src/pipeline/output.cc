#include "pipeline/output.h"

#include <pthread.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <span>

#include "common/catch_all.h"

namespace aquasense::pipeline::internal {

OutputThread::~OutputThread() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.clear();  // the writers may be gone after this (a failed ingest)
  }
  if (thread_.joinable()) {
    thread_.request_stop();  // wakes the thread (condition_variable_any with a stop token)
    thread_.join();
  }
}

std::string OutputThread::TakeBuffer() {
  std::unique_lock<std::mutex> lock(mu_);
  if (free_.empty() && created_ < max_buffers_) {
    ++created_;
    lock.unlock();
    std::string b;
    b.reserve(kOutFlush);
    return b;
  }
  cv_.wait(lock, [&] { return !free_.empty(); });
  std::string b = std::move(free_.back());
  free_.pop_back();
  return b;
}

Status OutputThread::Submit(storage::ObjectWriter* writer, std::string bytes, Status* error) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!error->ok()) {
    bytes.clear();
    free_.push_back(std::move(bytes));
    cv_.notify_all();
    return *error;
  }
  queue_.push_back({writer, std::move(bytes), error});
  if (!thread_.joinable()) {
    thread_ = std::jthread([this](const std::stop_token& stop) { Run(stop); });
  }
  lock.unlock();
  cv_.notify_all();
  return Status::Ok();
}

Status OutputThread::Wait(const Status* error) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return queue_.empty() && !busy_; });
  return *error;
}

size_t OutputThread::buffers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return created_;
}

void OutputThread::Run(const std::stop_token& stop) {
  pthread_setname_np(pthread_self(), "aq-out");
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (!cv_.wait(lock, stop, [&] { return !queue_.empty(); })) return;  // stopped
    Job job = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    const bool skip = !job.error->ok();  // the writer failed before: useless now
    lock.unlock();
    Status s;
    if (!skip) {
      s = CatchAll([&] { return job.writer->Append(job.bytes); },
                   [](const std::string& what) {
                     Status e = Internal("writing an output failed: " + what);
                     std::fprintf(stderr, "aquasense: %s\n", e.message().c_str());
                     return e;
                   });
    }
    job.bytes.clear();
    lock.lock();
    if (!s.ok() && job.error->ok()) *job.error = std::move(s);
    free_.push_back(std::move(job.bytes));
    busy_ = false;
    cv_.notify_all();
  }
}

Status Output::Open(storage::ObjectStore& store, const std::string& key, std::string_view header,
                    OutputThread* thread) {
  auto w = store.NewWriter(key);
  if (!w.ok()) return w.status();
  writer_ = std::move(*w);
  thread_ = thread;
  lends_ = -1;
  error_ = Status::Ok();
  buf_ = header;  // the first buffer is the Output's own (no thread needed yet)
  return Status::Ok();
}

bool Output::Lends() {
  if (lends_ < 0) lends_ = writer_->Space().empty() ? 0 : 1;
  return lends_ == 1;
}

Status Output::WriteLent(std::string_view bytes) {
  while (!bytes.empty()) {
    const std::span<char> room = writer_->Space();
    if (room.empty()) return writer_->Append(bytes);  // lends no more (an error, say)
    const size_t n = std::min(room.size(), bytes.size());
    std::memcpy(room.data(), bytes.data(), n);
    bytes.remove_prefix(n);
    AQ_RETURN_IF_ERROR(writer_->Filled(n));
  }
  return Status::Ok();
}

Status Output::Write(std::string_view bytes) {
  // A writer known to lend its buffer takes every piece there directly, not
  // through buf_ first (one copy of the bytes instead of two; buf_ then holds
  // only what buf()'s users appended, written out first to keep the order).
  if (lends_ == 1) {
    if (!buf_.empty()) AQ_RETURN_IF_ERROR(Flush());
    return WriteLent(bytes);
  }
  if (buf_.size() + bytes.size() < kOutFlush) {
    buf_.append(bytes);
    return Status::Ok();
  }
  if (Lends()) {
    AQ_RETURN_IF_ERROR(Flush());
    return WriteLent(bytes);
  }
  while (buf_.size() + bytes.size() >= kOutFlush) {
    // Without a thread a large piece goes to the writer without being copied
    // into the buffer first (as it always did).
    if (thread_ == nullptr) {
      if (!buf_.empty()) AQ_RETURN_IF_ERROR(Flush());
      return writer_->Append(bytes);
    }
    const size_t n = std::min(bytes.size(), kOutFlush - std::min(buf_.size(), kOutFlush));
    buf_.append(bytes.substr(0, n));
    bytes.remove_prefix(n);
    AQ_RETURN_IF_ERROR(Flush());
  }
  buf_.append(bytes);
  return Status::Ok();
}

Status Output::Flush() {
  if (thread_ == nullptr || Lends()) {
    Status s = lends_ == 1 ? WriteLent(buf_) : writer_->Append(buf_);
    buf_.clear();
    return s;
  }
  if (buf_.empty()) return Status::Ok();
  Status s = thread_->Submit(writer_.get(), std::move(buf_), &error_);
  buf_ = thread_->TakeBuffer();
  return s;
}

Result<std::unique_ptr<storage::ObjectWriter>> Output::Finish() {
  if (thread_ != nullptr) {
    AQ_RETURN_IF_ERROR(thread_->Wait(&error_));
    thread_ = nullptr;  // the last, partial buffer: appended here
  }
  AQ_RETURN_IF_ERROR(Flush());
  return std::move(writer_);
}

}  // namespace aquasense::pipeline::internal
