#include "pipeline/parse_stage.h"

#include <algorithm>
#include <cstring>

namespace aquasense::pipeline::internal {

namespace {
constexpr size_t kScanSize = 64 << 10;  // bytes read at a time looking for a part's start

// Groups the chunk's rows by sensor-month on this parser thread (the merging
// thread is the critical path) and hands it on. `sensors`: its parser's
// sensor count (at an unclean part end the parser is in c.parser and its
// names in c.sensors).
void PushGrouped(ChunkQueue& queue, Chunk& c, size_t sensors) {
  core::GroupBySensorMonth(c.out.rows, sensors, c.grouping);
  c.grouped = true;
  queue.Push(std::move(c));
}
// Room for a chunk's rows (as ParseAll's): a chunk is pushed before it
// would outgrow it (peak RSS, issue 11).
constexpr size_t kRowsHint = kChunkRows + kChunkRows / 2;

// A recycled chunk (or a new one) with room for kRowsHint rows.
Chunk TakePartChunk(ChunkQueue& queue) {
  Chunk c = queue.TakeFree();
  c.out.rows.reserve(kRowsHint);
  return c;
}

}  // namespace

bool ParsePart(storage::ObjectReader& reader, uint64_t begin, uint64_t end,
               std::unique_ptr<core::FileParser> parser, ForkTemplate* publish, bool local,
               ChunkQueue& queue, std::string& buf) {
  const bool last_part = end == reader.size();
  uint64_t chunk_begin = begin;  // where the current chunk's bytes start
  Chunk cur = TakePartChunk(queue);
  size_t known_sensors = 0;
  // `more`: the part goes on (after its last chunk none is taken: it would be
  // dropped here, and the next part take another, peak RSS +35 MB at 10M rows).
  auto push = [&](bool more) {
    if (parser && parser->sensors().size() != known_sensors) {
      cur.sensors = parser->sensors();
      known_sensors = cur.sensors.size();
    }
    PushGrouped(queue, cur, parser ? parser->sensors().size() : cur.sensors.size());
    if (more) cur = TakePartChunk(queue);
  };
  for (uint64_t at = begin; at < end && !queue.closed();) {
    auto n = reader.ReadAt(at, buf.data(), std::min<uint64_t>(buf.size(), end - at));
    if (!n.ok()) {
      cur.status = n.status();
      cur.input_error = local;
      cur.last = true;
      push(false);
      return false;
    }
    if (*n == 0) break;  // the file shrank: the ingest's change check reports it
    parser->Feed(std::string_view(buf.data(), *n), cur.out);
    at += *n;
    cur.end_offset = at;
    if (publish != nullptr && parser->configured()) {
      publish->Publish(std::make_unique<core::FileParser>(parser->ForkAt(0)));
      publish = nullptr;
    }
    // A part's tail goes with its last chunk unless the rows would outgrow
    // kRowsHint (projected from the chunk's bytes per row) or it is over a
    // read: no small chunk at every part's end (each chunk costs the merging
    // thread a round over its sensor-months).
    const size_t rows = cur.out.rows.size();
    const uint64_t projected = rows + rows * (end - at) / (at - chunk_begin);
    if (rows >= kChunkRows && (end - at > kReadSize || projected > kRowsHint)) {
      push(true);
      chunk_begin = at;
    }
  }
  if (last_part) parser->Finish(cur.out);
  cur.end_offset = end;
  cur.part_end = true;
  cur.last = last_part;
  cur.lines = parser->next_line() - 1;
  cur.clean = parser->configured() && parser->AtRecordBoundary();
  if (!cur.clean && !last_part) {
    cur.sensors = parser->sensors();  // (all of them: the merging thread maps the new ones)
    cur.parser = std::move(parser);
  }
  push(false);
  return true;
}

Result<uint64_t> PartStart(storage::ObjectReader& reader, uint64_t part_bytes, uint64_t parts,
                           uint64_t k) {
  if (k == 0) return uint64_t{0};
  if (k >= parts) return reader.size();
  char buf[kScanSize];
  for (uint64_t at = k * part_bytes - 1;;) {  // a '\n' just before k * part_bytes counts
    auto n = reader.ReadAt(at, buf, sizeof buf);
    if (!n.ok()) return n.status();
    if (*n == 0) return reader.size();
    if (const void* nl = std::memchr(buf, '\n', *n))
      return at + static_cast<uint64_t>(static_cast<const char*>(nl) - buf) + 1;
    at += *n;
  }
}

void ParseAll(storage::ObjectReader& reader, core::FileParser& parser, ChunkQueue& queue,
              bool local, const std::function<void(uint64_t, uint64_t)>& progress) {
  const uint64_t total = reader.size();
  std::string buf(std::min<uint64_t>(kReadSize, total + 1), '\0');
  uint64_t done = 0;
  size_t known_sensors = 0;
  Chunk cur;
  // Room for a chunk's rows (a row is at least 8 bytes of input).
  const size_t rows_hint = std::min<uint64_t>(kChunkRows + kChunkRows / 2, total / 8 + 16);
  cur.out.rows.reserve(rows_hint);
  auto push = [&](bool last) {
    if (parser.sensors().size() != known_sensors) {
      cur.sensors = parser.sensors();
      known_sensors = cur.sensors.size();
    }
    cur.last = last;
    queue.Push(std::move(cur));
    cur = queue.TakeFree();
    if (!last) cur.out.rows.reserve(rows_hint);
  };
  while (!queue.closed()) {
    auto n = reader.Read(buf.data(), buf.size());
    if (!n.ok()) {
      cur.status = n.status();
      cur.input_error = local;
      push(true);
      return;
    }
    if (*n == 0) break;
    parser.Feed(std::string_view(buf.data(), *n), cur.out);
    done += *n;
    if (progress) progress(done, total);
    if (cur.out.rows.size() >= kChunkRows) push(false);
  }
  parser.Finish(cur.out);
  push(true);
}

}  // namespace aquasense::pipeline::internal
