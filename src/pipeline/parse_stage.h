// The parsing stage of a file's ingest (file_ingest.cc): parser threads
// hand parsed chunks to the merging thread over bounded queues. A file is
// parsed whole by one parser (ParseAll), or, over Options::parse_part_bytes,
// in parts by two (ParsePart; the plan and why it gives the rows of one
// parser: docs/design.md "Parsing and merging on two threads").
// Internal to the pipeline.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "core/grouping.h"
#include "core/validate.h"
#include "storage/object_store.h"

namespace aquasense::pipeline::internal {

inline constexpr size_t kReadSize =
    1 << 20;  // bytes parsed at a time (~30k rows: a chunk overshoots little)
inline constexpr size_t kChunkRows = 1 << 16;  // rows merged at a time: bounds memory

// A parsed chunk handed from a parser thread to the merging one. Its rows'
// sensor ids and lines are its parser's: the merging thread maps them to
// the file's (a part's parser counts both from its own start) where it uses
// them, per sensor-month group and per written row, not per row up front.
struct Chunk {
  core::ParseOutput out;
  // out.rows by (parser sensor, month), when `grouped` (ParsePart: the
  // part's parser thread has the slack, the merging thread is the critical
  // path); else the merging thread groups them.
  core::Grouping grouping;
  bool grouped = false;
  std::vector<std::string> sensors;  // the parser's sensor names, when they grew
  bool last = false;                 // the file's last chunk
  Status status;                     // a read error ends the stream
  bool input_error = false;          // status is the input file's
  uint64_t end_offset = 0;           // file offset the parsed bytes reach
  // Set on the last chunk of a part (see ParsePart):
  bool part_end = false;
  bool clean = false;  // the part ended at a record boundary (the next one parsed right)
  int64_t lines = 0;   // physical lines of the part
  std::unique_ptr<core::FileParser> parser;  // when not clean: the part's, to go on with
};

// Bounded hand-off between the two stages (at most `depth` chunks waiting).
class ChunkQueue {
 public:
  explicit ChunkQueue(size_t depth) : depth_(depth) {}
  void Push(Chunk c) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return q_.size() < depth_ || closed_; });
    if (closed_) return;
    q_.push_back(std::move(c));
    cv_.notify_all();
  }
  Chunk Pop() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !q_.empty(); });
    Chunk c = std::move(q_.front());
    q_.pop_front();
    cv_.notify_all();
    return c;
  }
  // The consumer is done (or failed): the producer stops at its next step.
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  bool closed() {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
  }
  // Consumed chunks go back to the producer with their capacity, so the two
  // threads do not churn memory between their allocator arenas.
  void Recycle(Chunk c) {
    c.out.rows.clear();
    c.out.invalid.clear();
    c.out.normalized.clear();
    c.out.data_rows = 0;
    c.grouped = false;  // (the grouping keeps its capacity)
    c.sensors.clear();
    c.last = false;
    c.status = Status::Ok();
    c.input_error = false;
    c.end_offset = 0;
    c.part_end = c.clean = false;
    c.lines = 0;
    c.parser.reset();
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(std::move(c));
  }
  Chunk TakeFree() {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.empty()) return Chunk{};
    Chunk c = std::move(free_.back());
    free_.pop_back();
    return c;
  }

 private:
  const size_t depth_;  // chunks that may wait
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Chunk> q_;
  std::vector<Chunk> free_;
  bool closed_ = false;
};

// Closes the queues when it goes out of scope, before the threads that use
// them are joined (declared after them), also when an exception unwinds.
class CloseOnExit {
 public:
  explicit CloseOnExit(std::deque<ChunkQueue>& qs) : qs_(qs) {}
  ~CloseOnExit() {
    for (ChunkQueue& q : qs_) q.Close();
  }
  CloseOnExit(const CloseOnExit&) = delete;
  CloseOnExit& operator=(const CloseOnExit&) = delete;

 private:
  std::deque<ChunkQueue>& qs_;
};

// The configured parser (delimiter, columns) that the parts after the first
// fork from, published by the first part's thread once its first record is
// parsed; nullptr when the first part ended (or failed) without one.
class ForkTemplate {
 public:
  void Publish(std::unique_ptr<core::FileParser> p) {
    std::lock_guard<std::mutex> lock(mu_);
    if (done_) return;
    parser_ = std::move(p);
    done_ = true;
    cv_.notify_all();
  }
  // Waits for Publish; the parser is not changed after it (ForkAt is const).
  const core::FileParser* Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return done_; });
    return parser_.get();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::unique_ptr<core::FileParser> parser_;
};

// Part k's first byte: the first line start at or after k * part_bytes
// (0 for k = 0, the file's size for k >= parts).
Result<uint64_t> PartStart(storage::ObjectReader& reader, uint64_t part_bytes, uint64_t parts,
                           uint64_t k);

// Parses the part [begin, end) of the file with `parser` into chunks pushed
// on `queue`, grouped (Chunk::grouping) (kChunkRows rows each, plus what the last read adds; the
// last one also takes a tail of up to kReadSize bytes if its rows fit in 1.5 * kChunkRows); the
// part's last chunk has part_end, and `last` when `end` is the file's end (the parser's Finish was
// called then). `publish` (the first part's thread only) receives a fork template once the parser
// is configured. Returns false after a read error, pushed as the stream's last chunk (input_error =
// `local`).
bool ParsePart(storage::ObjectReader& reader, uint64_t begin, uint64_t end,
               std::unique_ptr<core::FileParser> parser, ForkTemplate* publish, bool local,
               ChunkQueue& queue, std::string& buf);

// Parses the whole file from `reader`'s position with `parser` into chunks
// on `queue`, the last one with `last`; calls `progress` (when set) with
// (bytes done, file size) after each read. A read error ends the stream
// with an error chunk (input_error = `local`).
void ParseAll(storage::ObjectReader& reader, core::FileParser& parser, ChunkQueue& queue,
              bool local, const std::function<void(uint64_t, uint64_t)>& progress);

}  // namespace aquasense::pipeline::internal
