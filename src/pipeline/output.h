// The filtered/ outputs of a file's ingest, written off the merging thread.
//
// An Output buffers what the merging thread writes and hands each full buffer
// (kOutFlush bytes) to an OutputThread, which appends it to the object
// writer in order, while the merging thread fills the next. One OutputThread
// serves every Output of an ingest; the buffers are recycled: an Output's
// first buffer is its own, and the thread makes at most `max_buffers` more
// (the merging thread waits for a free one), so the memory stays bounded. An error of the writer
// surfaces at the Output's next Write/Flush/MaybeFlush or at Finish; an exception on the thread
// becomes such an error, never leaving the thread.
//
//   OutputThread thread;                      // declared after the Outputs
//   Output out;
//   out.Open(store, key, "header\n", &thread);
//   out.Write(bytes);  ...  auto writer = out.Finish();  // then commit it
//
// A file that never fills a buffer starts no thread: Finish appends the last
// (partial) buffer itself. A writer that lends its own buffer
// (ObjectWriter::Space: a local store, whose full buffers go to the disk on
// a thread of the writer's) is filled straight from the calling thread:
// one copy of the bytes, no OutputThread. The others (S3, memory, wrapped
// writers) go through the thread. Internal to the pipeline; an Output and the
// calls into its OutputThread belong to one thread (the merging thread).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"
#include "storage/object_store.h"

namespace aquasense::pipeline::internal {

constexpr size_t kOutFlush = 1 << 20;  // an output buffer, handed to the writer thread when full

class OutputThread {
 public:
  // `max_buffers`: buffers the thread makes (recycled), at least 1.
  explicit OutputThread(size_t max_buffers = 6) : max_buffers_(max_buffers) {}
  // Drops what is still queued (an ingest that failed) and joins the thread.
  ~OutputThread();
  OutputThread(const OutputThread&) = delete;
  OutputThread& operator=(const OutputThread&) = delete;

  // An empty buffer (capacity kOutFlush); waits while all max_buffers are in
  // use (queued, or being written).
  std::string TakeBuffer();
  // Queues `bytes` to be appended to `writer` after what was queued for it
  // before, and returns `*error`: the first error of that writer so far
  // (then nothing more is queued for it). `*error` is written by the thread
  // under the lock; read it only through Submit/Wait.
  Status Submit(storage::ObjectWriter* writer, std::string bytes, Status* error);
  // Waits until everything queued is written; returns `*error`.
  Status Wait(const Status* error);
  // Buffers created so far (for tests: stays <= max_buffers).
  size_t buffers() const;

 private:
  struct Job {
    storage::ObjectWriter* writer;
    std::string bytes;
    Status* error;
  };
  void Run(const std::stop_token& stop);

  const size_t max_buffers_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::deque<Job> queue_;
  std::vector<std::string> free_;
  size_t created_ = 0;
  bool busy_ = false;    // the thread is appending a job taken off queue_
  std::jthread thread_;  // started at the first Submit; last, so joined first
};

// One buffered output object (a filtered/ file).
class Output {
 public:
  // `thread` nullptr: every buffer is appended on the calling thread.
  Status Open(storage::ObjectStore& store, const std::string& key, std::string_view header,
              OutputThread* thread = nullptr);
  // The buffer, to append to directly (then call MaybeFlush).
  std::string& buf() { return buf_; }
  Status MaybeFlush() { return buf_.size() >= kOutFlush ? Flush() : Status::Ok(); }
  // Appends `bytes`, in buffer-sized pieces.
  Status Write(std::string_view bytes);
  // Hands the buffer to the writer (or appends it here without a thread).
  Status Flush();
  // Writes out what is buffered, waits for the writer thread and hands over
  // the writer, to be committed; or the first error of its appends.
  Result<std::unique_ptr<storage::ObjectWriter>> Finish();

 private:
  // The writer lends its buffer (asked once, when a buffer is full).
  bool Lends();
  // Copies `bytes` into the writer's lent buffer.
  Status WriteLent(std::string_view bytes);

  std::unique_ptr<storage::ObjectWriter> writer_;
  OutputThread* thread_ = nullptr;
  int lends_ = -1;  // -1 not asked yet, else Lends()
  std::string buf_;
  Status error_;  // owned by thread_'s lock once buffers were submitted
};

}  // namespace aquasense::pipeline::internal
