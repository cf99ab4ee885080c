#include "pipeline/file_ingest.h"

#include <pthread.h>
#include <sys/stat.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <span>
#include <thread>
#include <unordered_map>

#include "common/catch_all.h"
#include "core/datetime.h"
#include "core/grouping.h"
#include "core/metrics_format.h"
#include "core/number.h"
#include "core/validate.h"
#include "pipeline/local_file.h"
#include "pipeline/output.h"
#include "pipeline/parse_stage.h"
#include "storage/keys.h"

namespace aquasense::pipeline::internal {

namespace {

constexpr size_t kExamples = 5;        // examples carried by an alert
constexpr size_t kAlertSensors = 10;   // sensors named by an alert (besides their count)
constexpr size_t kParseWorkers = 2;    // parser threads of a file parsed in parts
constexpr size_t kPartQueueDepth = 1;  // chunks a parser thread may have waiting (memory)

void AppendCsvQuoted(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

std::string ReadingText(const std::string& sensor, const core::Reading& r) {
  std::string s = sensor + "," + core::FormatDateTime(r.when) + ",";
  core::AppendNumber(s, r.temperature);
  s += ',';
  core::AppendNumber(s, r.sd);
  return s;
}

// Reads bytes held in memory (a small staged file).
class BytesReader final : public storage::ObjectReader {
 public:
  explicit BytesReader(std::string_view bytes) : bytes_(bytes) {}
  Result<size_t> Read(char* buf, size_t n) override {
    auto got = ReadAt(pos_, buf, n);
    if (got.ok()) pos_ += *got;
    return got;
  }
  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) override {
    if (offset >= bytes_.size()) return size_t{0};
    n = std::min<uint64_t>(n, bytes_.size() - offset);
    std::memcpy(buf, bytes_.data() + offset, n);
    return n;
  }
  uint64_t size() const override { return bytes_.size(); }

 private:
  std::string_view bytes_;
  uint64_t pos_ = 0;
};

struct DeviationStats {
  int64_t count = 0;  // one sensor's readings above the sd limit
};

// {"count": N, "first": [the first kAlertSensors names]} of an alert's payload.
template <typename Names>
nlohmann::json SensorList(const Names& names, size_t count) {
  nlohmann::json first = nlohmann::json::array();
  for (const auto& n : names) {
    if (first.size() == kAlertSensors) break;
    first.push_back(n);
  }
  return {{"count", count}, {"first", std::move(first)}};
}

// What shows a local file changed: its size and modification time.
struct FileStamp {
  int64_t size = -1, mtime_ns = -1;
  bool operator==(const FileStamp&) const = default;
};

FileStamp Stamp(const std::string& path) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return {};
  return {static_cast<int64_t>(st.st_size),
          static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

// Runs `f` (returning a Status or Result), turning an exception into an
// error named after `what`, also logged on stderr: a thread of the file's
// ingest never ends the process.
template <typename F>
auto Guarded(const std::string& what, F&& f) -> decltype(f()) {
  return CatchAll(std::forward<F>(f), [&what](const std::string& error) {
    Status s = Internal(what + " failed: " + error);
    std::fprintf(stderr, "aquasense: %s\n", s.message().c_str());
    return s;
  });
}

class FileIngest {
 public:
  FileIngest(const FileJob& job, const Env& env, const Options& options, BatchState& state)
      : job_(job),
        env_(env),
        options_(options),
        state_(state),
        parser_(options.limits, job.file->default_sensor) {}

  Result<FileSummary> Run();

 private:
  // Merges out_ (its rows grouped by `grouped`, or here when nullptr).
  Status ProcessChunk(const core::Grouping* grouped);
  // ParseAll on the parser thread, an exception ending the stream with an error chunk.
  void ParseAllGuarded(storage::ObjectReader& reader, ChunkQueue& queue);
  // Parsing in parts (a file over options.parse_part_bytes): part k is the
  // bytes from the first line start at or after k * part_bytes_ to the next
  // part's start; parser thread w (of `workers`) parses parts w, w +
  // workers, ... into queue w, each part with its own parser forked from the
  // first part's (ForkTemplate). The merging thread takes the parts in file
  // order and maps each part's sensor ids and lines to the file's. A part
  // start is a line start but maybe not a record start (a newline inside
  // quotes, a too-long line): the part before it then ends unclean, and the
  // merging thread goes on alone with that part's parser (ContinueAlone),
  // dropping the later parts' results. So the rows are exactly those of one
  // parser reading the whole file.
  void ParseParts(size_t w, size_t workers, ChunkQueue& queue, ForkTemplate& fork);
  // The merging thread parses [from, end of file) with `parser` (see ParseParts).
  Status ContinueAlone(std::unique_ptr<core::FileParser> parser, uint64_t from);
  // Merges a parsed chunk (ProcessChunk; `grouped`: its rows' grouping, or
  // nullptr). Its sensor ids and lines are its parser's: `names` (the
  // parser's names, when they grew) extends part_map_, and the rows are
  // mapped to the file's where used (FileSensorOf, FileLineOf), per group
  // and per written row; the invalid rows' lines are mapped here.
  Status TakeChunk(core::ParseOutput& out, const std::vector<std::string>& names,
                   const core::Grouping* grouped);
  // A row's file sensor id and line (its chunk's are its parser's).
  uint32_t FileSensorOf(const core::ParsedRow& r) const { return part_map_[r.sensor]; }
  int64_t FileLineOf(const core::ParsedRow& r) const { return r.line + line_base_; }
  uint32_t FileSensor(const std::string& name);  // the file's id of a sensor name
  // Starts the landing copy of a local file not landed yet (on `copier`
  // unless small) or takes the one started before the batch.
  void StartLandingCopy(bool small, std::jthread& copier);
  // The landing copy's result once the parse is over.
  void FinishLandingCopy();
  // This thread: every chunk, part by part from queues[part % size].
  Status Merge(std::deque<ChunkQueue>& queues);
  Result<uint32_t> BatchSensor(uint32_t parser_sensor);
  Status MergeGroup(uint32_t sid, int32_t month, std::span<const core::Incoming> incoming);
  Status EmitChunk();
  Status WriteInvalid(int64_t line, core::Reason reason, std::string_view detail,
                      std::string_view raw);
  Result<std::string> RawOf(const core::ParsedRow& row);
  // The file's bytes: its local copy when not landed yet, else landing/.
  Result<std::unique_ptr<storage::ObjectReader>> OpenSource() {
    if (job_.file->staged)
      return std::unique_ptr<storage::ObjectReader>(new BytesReader(job_.file->staged->bytes));
    if (local()) return OpenLocalFile(job_.file->local_path);
    return env_.objects->Open(job_.file->landing_key);
  }
  // The bytes come from a local input file (errors reading it are the input's).
  bool local() const { return !job_.file->staged && !job_.file->local_path.empty(); }
  // `s`, an error of the input file.
  Status InputError(Status s) {
    if (job_.input_error != nullptr) *job_.input_error = true;
    return s;
  }
  Status RecordAlerts();
  // Records in each sensor the file touched that it applied the file, with
  // the sensor's counts (see storage::Batch::ApplyFile).
  Status ApplyToSensors();
  // The counts a crashed batch recorded for the sensors that applied the
  // file already (see FileJob::find_applied) replace the ones of this run,
  // where that sensor's readings are all duplicates of themselves.
  void TakeAppliedCounts();
  // The readings above the sd limit of those sensors: this run sees them as
  // duplicates of themselves, the crashed batch's valid output (committed
  // before any sensor) lists them; so the file's deviation alert stays whole.
  Status CountAppliedDeviations();
  // Per parser sensor id, with job_.find_applied: the sensor's record of
  // this file, when it applied it already.
  std::vector<std::optional<storage::AppliedFile>> applied_;
  bool any_applied_ = false;
  // Per parser sensor id: the file's valid and duplicate readings of it.
  struct SensorCounts {
    int64_t valid = 0, duplicates = 0;
  };
  SensorCounts& CountsOf(uint32_t parser_sensor) {
    if (counts_.size() <= parser_sensor) counts_.resize(parser_sensor + 1);
    return counts_[parser_sensor];
  }
  std::vector<SensorCounts> counts_;
  DeviationStats& Deviations(uint32_t parser_sensor);  // deviations_ of a row's sensor

  const FileJob& job_;
  const Env& env_;
  const Options& options_;
  BatchState& state_;
  core::FileParser parser_;
  core::ParseOutput out_;
  std::unique_ptr<storage::ObjectReader> raw_reader_;  // for raw text of conflicting rows
  Output valid_, invalid_;
  // Writes the outputs' full buffers off this thread. Declared after them:
  // destroyed first, so no write of theirs is left running.
  OutputThread output_thread_;
  FileSummary summary_;
  std::string hash_;  // the file's SHA-256 (known at the start or, for an unnamed file, at the end)
  // The landing copy: its writer (nullptr: nothing to commit) or its error.
  Result<std::unique_ptr<storage::ObjectWriter>> landed_{std::unique_ptr<storage::ObjectWriter>()};
  bool landed_input_error_ = false;  // landed_'s error is the input file's

  // The file's sensors in order of first appearance (what one parser of
  // the whole file would give them; a row's is FileSensorOf).
  std::vector<std::string> sensor_names_;
  std::unordered_map<std::string, uint32_t> sensor_ids_;  // name -> index in sensor_names_
  std::vector<uint32_t> part_map_;  // the current part's parser's sensor id -> the file's
  int64_t line_base_ = 0;           // lines of the file before the current part
  uint64_t part_bytes_ = 0;         // parts' nominal size (0: not parsed in parts)
  uint64_t parts_ = 1;
  uint64_t size_ = 0;                 // the file's size
  std::vector<uint32_t> sensor_map_;  // the file's sensor id -> batch sensor id
  // Per chunk: the merge decision for each row (a byte: the rows' decisions
  // are scattered by group and read back in row order, so they stay in
  // cache), and the stored reading of the rows that have one (conflicts and
  // replacements, few), by row index.
  std::vector<core::Decision> decisions_;
  std::vector<std::pair<uint32_t, core::Reading>> others_;
  // Scratch reused across chunks and groups (no allocation per group).
  // The current chunk's rows by sensor-month, grouped on this thread when a
  // single parser reads the file: that parser thread is the busier stage
  // (callgrind, issue 11: with the grouping here it still runs 2.1x (two
  // decimals) to 2.6x (full precision) the instructions of ProcessChunk).
  // The parser threads of a file parsed in parts group their chunks.
  core::Grouping grouping_;
  std::vector<core::MergeDecision> local_;

  std::map<std::string, DeviationStats> deviations_;             // by sensor name
  nlohmann::json deviation_examples_ = nlohmann::json::array();  // the file's first ones
  std::vector<DeviationStats*> deviations_by_id_;  // by parser sensor id (into deviations_)
  std::map<std::string, int64_t> reason_counts_;   // also of the replaced readings
  int64_t replaced_ = 0;                           // stored readings replaced by rows of this file
  nlohmann::json invalid_examples_ = nlohmann::json::array();
};

// Long on purpose: the parser/copier thread pair and its hand-over, one lifetime
// NOLINTNEXTLINE(readability-function-size)
Result<FileSummary> FileIngest::Run() {
  const StagedFile& f = *job_.file;
  summary_.source_name = f.source_name;
  summary_.status = "ingested";
  // A file not hashed yet (see Pipeline::RunBatch) is named by its landing
  // copy's hash at the end; its outputs get their keys then.
  const bool unnamed = f.hash.empty();
  if (unnamed && !f.landing_copy) return Internal("a file without hash needs its landing copy");
  // A staged file's copy goes with the batch that ingests it (once: a
  // batch that failed took it along).
  if (f.staged && !f.staged->in_landing && !f.staged->landing)
    return Internal("the landing copy of " + f.source_name + " went with an earlier batch");
  hash_ = f.hash;

  const std::string_view name = unnamed ? storage::keys::kPendingName : f.hash;
  AQ_RETURN_IF_ERROR(valid_.Open(*env_.objects,
                                 storage::keys::FilteredValid(f.default_sensor, name),
                                 "sensor,date,temperature,sd\n", &output_thread_));
  AQ_RETURN_IF_ERROR(invalid_.Open(*env_.objects,
                                   storage::keys::FilteredInvalid(f.default_sensor, name),
                                   "source,line,reason,detail,raw\n", &output_thread_));
  // A change of a local file while it is read shows in its size or
  // modification time (and, once hashed, in its landing copy's hash).
  const FileStamp stamp_before = Stamp(local() ? f.local_path : std::string());
  auto reader = OpenSource();
  if (!reader.ok()) return local() ? InputError(reader.status()) : reader.status();
  // A small file is done on this thread alone: threads would cost more to
  // start than they save (a week of readings is a few hundred bytes).
  const bool small = (*reader)->size() < kBackgroundCopyBytes;
  Status status;
  {
    // A local file not landed yet is copied into landing/ by a third thread
    // while the two stages below parse and merge it. Two stages on two
    // cores: a parser thread reads and validates the next chunk while this
    // thread merges the previous one into the store. Declared in this
    // order, the queue is closed before the threads are joined, also when
    // an exception unwinds.
    // A file over options.parse_part_bytes is parsed in parts by two
    // parser threads (see ParseParts).
    std::jthread copier;
    StartLandingCopy(small, copier);
    size_ = (*reader)->size();
    part_bytes_ = options_.parse_part_bytes;
    parts_ = part_bytes_ > 0 && size_ > part_bytes_ ? (size_ + part_bytes_ - 1) / part_bytes_ : 1;
    std::deque<ChunkQueue> queues;
    ForkTemplate fork;
    std::vector<std::jthread> parsers;
    CloseOnExit close_queues(queues);
    if (parts_ > 1) {
      for (size_t w = 0; w < kParseWorkers; ++w) queues.emplace_back(kPartQueueDepth);
      for (size_t w = 0; w < kParseWorkers; ++w) {
        parsers.emplace_back([this, w, &queues, &fork] {
          pthread_setname_np(pthread_self(), "aq-parse");
          ParseParts(w, kParseWorkers, queues[w], fork);
        });
      }
    } else if (small) {
      queues.emplace_back(SIZE_MAX);
      ParseAllGuarded(**reader, queues[0]);  // its chunks wait in the queue
    } else {
      queues.emplace_back(1);
      parsers.emplace_back([&] {
        pthread_setname_np(pthread_self(), "aq-parse");
        ParseAllGuarded(**reader, queues[0]);
      });
    }
    status = Merge(queues);
  }
  FinishLandingCopy();
  AQ_RETURN_IF_ERROR(status);
  if (!landed_.ok()) return landed_input_error_ ? InputError(landed_.status()) : landed_.status();
  if (local() && !(Stamp(f.local_path) == stamp_before))
    return InputError(
        Unavailable(f.local_path + " changed while it was being ingested; nothing was stored"));
  if (unnamed) hash_ = f.landing_copy->hash();
  summary_.hash = hash_;
  if (any_applied_) AQ_RETURN_IF_ERROR(CountAppliedDeviations());

  for (auto [o, key] :
       {std::pair{&valid_, storage::keys::FilteredValid(f.default_sensor, hash_)},
        std::pair{&invalid_, storage::keys::FilteredInvalid(f.default_sensor, hash_)}}) {
    auto w = o->Finish();
    if (!w.ok()) return w.status();
    if (unnamed) AQ_RETURN_IF_ERROR((*w)->SetKey(key));
    if (any_applied_) {
      // The crashed batch committed its outputs before any sensor: they
      // hold the readings this run counted as duplicates of themselves.
      auto kept = env_.objects->Exists(key);
      if (!kept.ok()) return kept.status();
      if (*kept) continue;  // the writer, dropped, leaves nothing
    }
    job_.pending->push_back(std::move(*w));
  }
  if (*landed_) job_.pending->push_back(std::move(*landed_));
  TakeAppliedCounts();
  AQ_RETURN_IF_ERROR(ApplyToSensors());
  AQ_RETURN_IF_ERROR(RecordAlerts());
  return summary_;
}

void FileIngest::StartLandingCopy(bool small, std::jthread& copier) {
  const StagedFile& f = *job_.file;
  // (A copy started before the batch, beside the hashing: just wait for it.)
  if (f.landing_copy) {
    f.landing_copy->Take();
  } else if (local()) {
    auto copy = [this, &f] {
      return Guarded("copying " + f.source_name + " into landing/",
                     [&] { return CopyToLanding(f, *env_.objects, &landed_input_error_); });
    };
    if (small) {
      landed_ = copy();
    } else {
      copier = std::jthread([this, copy] {
        pthread_setname_np(pthread_self(), "aq-land");
        landed_ = copy();
      });
    }
  }
}

void FileIngest::FinishLandingCopy() {
  const StagedFile& f = *job_.file;
  if (f.landing_copy) {
    landed_ = f.landing_copy->Finish();
    landed_input_error_ = !landed_.ok() && f.landing_copy->input_error();
  }
  if (f.staged && !f.staged->in_landing) landed_ = std::move(f.staged->landing);
}

Status FileIngest::Merge(std::deque<ChunkQueue>& queues) {
  for (uint64_t part = 0;;) {
    ChunkQueue& queue = queues[part % queues.size()];
    Chunk chunk = queue.Pop();
    if (!chunk.status.ok()) {
      return chunk.input_error ? InputError(chunk.status) : chunk.status;
    }
    Status status = TakeChunk(chunk.out, chunk.sensors, chunk.grouped ? &chunk.grouping : nullptr);
    if (status.ok() && parts_ > 1 && job_.progress) job_.progress(chunk.end_offset, size_);
    const bool last = chunk.last;
    if (status.ok() && chunk.part_end && !last) {
      if (!chunk.clean) {
        // The next part's start was no record start: the later parts'
        // results are dropped, this part's parser reads on alone.
        for (ChunkQueue& q : queues) q.Close();
        return ContinueAlone(std::move(chunk.parser), chunk.end_offset);
      }
      line_base_ += chunk.lines;
      part_map_.clear();
      ++part;
    }
    queue.Recycle(std::move(chunk));
    if (!status.ok() || last) return status;
  }
}

Status FileIngest::TakeChunk(core::ParseOutput& out, const std::vector<std::string>& names,
                             const core::Grouping* grouped) {
  for (size_t i = part_map_.size(); i < names.size(); ++i)
    part_map_.push_back(FileSensor(names[i]));
  for (core::InvalidRow& r : out.invalid) r.line += line_base_;
  std::swap(out_, out);
  Status status = ProcessChunk(grouped);
  std::swap(out_, out);
  return status;
}

uint32_t FileIngest::FileSensor(const std::string& name) {
  auto [it, added] = sensor_ids_.try_emplace(name, static_cast<uint32_t>(sensor_names_.size()));
  if (added) sensor_names_.push_back(name);
  return it->second;
}

Status FileIngest::ContinueAlone(std::unique_ptr<core::FileParser> parser, uint64_t from) {
  auto reader = OpenSource();
  if (!reader.ok()) return local() ? InputError(reader.status()) : reader.status();
  std::string buf(kReadSize, '\0');
  core::ParseOutput out;
  for (uint64_t at = from;;) {
    auto n = (*reader)->ReadAt(at, buf.data(), buf.size());
    if (!n.ok()) return local() ? InputError(n.status()) : n.status();
    if (*n == 0) break;
    parser->Feed(std::string_view(buf.data(), *n), out);
    at += *n;
    if (job_.progress) job_.progress(at, size_);
    if (out.rows.size() < kChunkRows) continue;
    AQ_RETURN_IF_ERROR(TakeChunk(out, parser->sensors(), nullptr));
    out.rows.clear();
    out.invalid.clear();
    out.normalized.clear();
  }
  parser->Finish(out);
  return TakeChunk(out, parser->sensors(), nullptr);
}

void FileIngest::ParseParts(size_t w, size_t workers, ChunkQueue& queue, ForkTemplate& fork) {
  std::string buf(kReadSize, '\0');
  Status s = Guarded("parsing " + job_.file->source_name, [&] {
    auto reader = OpenSource();
    if (!reader.ok()) return reader.status();
    for (uint64_t k = w; k < parts_ && !queue.closed(); k += workers) {
      auto begin = PartStart(**reader, part_bytes_, parts_, k);
      if (!begin.ok()) return begin.status();
      auto end = PartStart(**reader, part_bytes_, parts_, k + 1);
      if (!end.ok()) return end.status();
      std::unique_ptr<core::FileParser> parser;
      if (k == 0) {
        parser = std::make_unique<core::FileParser>(options_.limits, job_.file->default_sensor);
      } else {
        const core::FileParser* t = fork.Wait();
        if (t == nullptr) return Status::Ok();  // the merging thread goes on alone
        parser = std::make_unique<core::FileParser>(t->ForkAt(*begin));
      }
      if (!ParsePart(**reader, *begin, *end, std::move(parser), k == 0 ? &fork : nullptr, local(),
                     queue, buf))
        break;
      if (k == 0) fork.Publish(nullptr);  // none (no-op once published): the others stop waiting
    }
    return Status::Ok();
  });
  if (w == 0) fork.Publish(nullptr);  // (no-op once published)
  if (s.ok()) return;
  Chunk failed;
  failed.status = std::move(s);
  failed.input_error = local();
  failed.last = true;
  queue.Push(std::move(failed));
}

void FileIngest::ParseAllGuarded(storage::ObjectReader& reader, ChunkQueue& queue) {
  Status s = Guarded("parsing " + job_.file->source_name, [&] {
    ParseAll(reader, parser_, queue, local(), job_.progress);
    return Status::Ok();
  });
  if (s.ok()) return;
  Chunk failed;
  failed.status = std::move(s);
  failed.last = true;
  queue.Push(std::move(failed));
}

Result<uint32_t> FileIngest::BatchSensor(uint32_t parser_sensor) {
  while (sensor_map_.size() <= parser_sensor) {
    const std::string& name = sensor_names_[sensor_map_.size()];
    auto id = state_.SensorId(name);
    if (!id.ok()) return id.status();
    sensor_map_.push_back(*id);
    if (!job_.find_applied || hash_.empty()) continue;
    auto applied = env_.meta->FindApplied(name, hash_, job_.file->default_sensor);
    if (!applied.ok()) return applied.status();
    applied_.resize(sensor_map_.size());
    any_applied_ |= applied->has_value();
    applied_.back() = std::move(*applied);
  }
  return sensor_map_[parser_sensor];
}

Status FileIngest::ProcessChunk(const core::Grouping* grouped) {
  summary_.rows += out_.data_rows;
  out_.data_rows = 0;
  if (grouped == nullptr) {
    core::GroupBySensorMonth(out_.rows, part_map_.size(), grouping_);
    grouped = &grouping_;
  }
  const core::Grouping& g = *grouped;
  decisions_.resize(out_.rows.size());  // (every row gets its decision from MergeGroup)
  others_.clear();
  // Groups in order of first appearance: the same order for the parser's
  // ids as for the file's (part_map_ is one-to-one).
  for (size_t k = 0; k < g.keys.size(); ++k) {
    const uint64_t key = g.keys[k];
    auto sid = BatchSensor(part_map_[core::Grouping::SensorOf(key)]);
    if (!sid.ok()) return sid.status();
    AQ_RETURN_IF_ERROR(MergeGroup(*sid, core::Grouping::MonthOf(key), g.Group(k)));
  }
  std::sort(others_.begin(), others_.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  AQ_RETURN_IF_ERROR(state_.EndChunk());
  return EmitChunk();
}

Status FileIngest::MergeGroup(uint32_t sid, int32_t month,
                              std::span<const core::Incoming> incoming) {
  auto block = state_.Block(sid, month);
  if (!block.ok()) return block.status();
  local_.resize(incoming.size());
  if (core::MergeInto((*block)->readings, incoming, job_.on_conflict, local_)) {
    (*block)->dirty = true;
  }
  for (size_t k = 0; k < incoming.size(); ++k) {
    const core::MergeDecision& d = local_[k];
    decisions_[incoming[k].order] = d.decision;
    if (d.decision == core::Decision::kConflict || d.decision == core::Decision::kReplaced)
      others_.emplace_back(incoming[k].order, d.other);
  }
  return Status::Ok();
}

Result<std::string> FileIngest::RawOf(const core::ParsedRow& row) {
  if (!raw_reader_) {
    auto r = OpenSource();
    if (!r.ok()) return r.status();
    raw_reader_ = std::move(*r);
  }
  std::string raw(row.length, '\0');
  auto n = raw_reader_->ReadAt(row.offset, raw.data(), raw.size());
  if (!n.ok()) return n.status();
  raw.resize(*n);
  return raw;
}

Status FileIngest::WriteInvalid(int64_t line, core::Reason reason, std::string_view detail,
                                std::string_view raw) {
  summary_.invalid++;
  const std::string_view name = core::ReasonName(reason);
  reason_counts_[std::string(name)]++;
  if (invalid_examples_.size() < kExamples) {
    invalid_examples_.push_back({{"line", line},
                                 {"reason", name},
                                 {"detail", detail},
                                 {"raw", std::string(raw.substr(0, 200))}});
  }
  std::string& o = invalid_.buf();
  AppendCsvQuoted(o, job_.file->source_name);
  o += ',';
  o += std::to_string(line);
  o += ',';
  o += name;
  o += ',';
  AppendCsvQuoted(o, detail);
  o += ',';
  AppendCsvQuoted(o, raw);
  o += '\n';
  return invalid_.MaybeFlush();
}

// Long on purpose: the per-chunk hot path of the parser thread (issue 11)
// NOLINTNEXTLINE(readability-function-size)
Status FileIngest::EmitChunk() {
  const auto& rows = out_.rows;
  const auto& bad = out_.invalid;
  // The valid rows' normalised lines lie back to back in out_.normalized:
  // each run of them between dropped rows is written in one piece.
  size_t run_begin = 0, run_end = 0;
  auto write_run = [&] {
    const std::string_view run(out_.normalized.data() + run_begin, run_end - run_begin);
    run_begin = run_end;
    return run.empty() ? Status::Ok() : valid_.Write(run);
  };
  size_t b = 0;  // parse-invalid rows interleave with the chunk's rows by line
  size_t o = 0;  // the next row in others_
  for (size_t i = 0; i < rows.size(); ++i) {
    const core::ParsedRow& r = rows[i];
    const int64_t line = FileLineOf(r);
    const uint32_t sensor = FileSensorOf(r);
    for (; b < bad.size() && bad[b].line < line; ++b)
      AQ_RETURN_IF_ERROR(WriteInvalid(bad[b].line, bad[b].reason, bad[b].detail, bad[b].raw));
    switch (decisions_[i]) {
      case core::Decision::kDuplicate:
        summary_.duplicates++;
        CountsOf(sensor).duplicates++;
        continue;
      case core::Decision::kConflict: {
        const core::Reading& other = others_[o++].second;
        auto raw = RawOf(r);
        if (!raw.ok()) return raw.status();
        std::string detail = "stored temperature=" + core::FormatNumber(other.temperature) +
                             " sd=" + core::FormatNumber(other.sd);
        AQ_RETURN_IF_ERROR(WriteInvalid(line, core::Reason::kConflictingDuplicate, detail, *raw));
        continue;
      }
      case core::Decision::kReplaced: {
        const core::Reading& other = others_[o++].second;
        // The replaced reading is recorded, but it is no row of this file:
        // not counted in `invalid`, so rows = valid + invalid + duplicates.
        std::string detail = "replaced by line " + std::to_string(line) + " of this file";
        AQ_RETURN_IF_ERROR(
            WriteInvalid(line, core::Reason::kConflictingDuplicate, detail,
                         ReadingText(state_.sensor(sensor_map_[sensor]).name(), other)));
        summary_.invalid--;
        replaced_++;
        break;
      }
      case core::Decision::kStored:
        break;
    }
    summary_.valid++;
    CountsOf(sensor).valid++;
    if (r.norm_offset != run_end) {
      AQ_RETURN_IF_ERROR(write_run());
      run_begin = run_end = r.norm_offset;
    }
    run_end += r.norm_length;
    if (r.sd > options_.limits.sd_alert) {
      summary_.alerts++;
      Deviations(sensor).count++;
      if (deviation_examples_.size() < kExamples) {
        deviation_examples_.push_back({{"line", line},
                                       {"sensor", state_.sensor(sensor_map_[sensor]).name()},
                                       {"date", core::FormatDateTime(r.when)},
                                       {"temperature", r.temperature},
                                       {"sd", r.sd}});
      }
    }
  }
  for (; b < bad.size(); ++b)
    AQ_RETURN_IF_ERROR(WriteInvalid(bad[b].line, bad[b].reason, bad[b].detail, bad[b].raw));
  return write_run();
}

DeviationStats& FileIngest::Deviations(uint32_t parser_sensor) {
  if (deviations_by_id_.size() <= parser_sensor)
    deviations_by_id_.resize(parser_sensor + 1, nullptr);
  DeviationStats*& d = deviations_by_id_[parser_sensor];
  if (d == nullptr) d = &deviations_[state_.sensor(sensor_map_[parser_sensor]).name()];
  return *d;
}

void FileIngest::TakeAppliedCounts() {
  for (uint32_t p = 0; p < applied_.size(); ++p) {
    if (!applied_[p]) continue;
    SensorCounts& c = CountsOf(p);
    summary_.valid += applied_[p]->valid - c.valid;
    summary_.duplicates += applied_[p]->duplicates - c.duplicates;
    c = {applied_[p]->valid, applied_[p]->duplicates};
  }
}

Status FileIngest::CountAppliedDeviations() {
  std::set<std::string, std::less<>> names;
  for (uint32_t p = 0; p < applied_.size(); ++p)
    if (applied_[p]) names.insert(state_.sensor(sensor_map_[p]).name());
  auto text = env_.objects->ReadAll(storage::keys::FilteredValid(job_.file->default_sensor, hash_));
  if (!text.ok()) return text.status().code() == Code::kNotFound ? Status::Ok() : text.status();
  std::string_view rest(*text);
  rest.remove_prefix(std::min(rest.find('\n'), rest.size()));  // the header
  while (!rest.empty()) {
    rest.remove_prefix(1);  // '\n'
    const std::string_view line = rest.substr(0, rest.find('\n'));
    rest.remove_prefix(line.size());
    // sensor,date,temperature,sd (normalised: no quotes, no comma in a field)
    const size_t c1 = line.find(','), c2 = line.find(',', c1 + 1), c3 = line.rfind(',');
    if (c1 == std::string_view::npos || c2 == std::string_view::npos || c3 <= c2) continue;
    const std::string_view sensor = line.substr(0, c1);
    if (names.find(sensor) == names.end()) continue;
    const double sd = std::strtod(std::string(line.substr(c3 + 1)).c_str(), nullptr);
    if (!(sd > options_.limits.sd_alert)) continue;
    summary_.alerts++;
    deviations_[std::string(sensor)].count++;
    if (deviation_examples_.size() < kExamples) {
      deviation_examples_.push_back(
          {{"sensor", sensor},
           {"date", line.substr(c1 + 1, c2 - c1 - 1)},
           {"temperature",
            std::strtod(std::string(line.substr(c2 + 1, c3 - c2 - 1)).c_str(), nullptr)},
           {"sd", sd}});
    }
  }
  return Status::Ok();
}

Status FileIngest::ApplyToSensors() {
  for (uint32_t p = 0; p < sensor_map_.size(); ++p) {
    if (p < applied_.size() && applied_[p]) continue;  // the sensor has it (TakeAppliedCounts)
    const SensorCounts c = p < counts_.size() ? counts_[p] : SensorCounts{};
    storage::AppliedFile a{hash_, job_.file->default_sensor, c.valid, c.duplicates};
    AQ_RETURN_IF_ERROR(state_.batch().ApplyFile(state_.sensor(sensor_map_[p]).name(), a));
  }
  return Status::Ok();
}

// One alert per file and kind (SPEC §6): a deviation alert for the valid
// readings above the sd limit of all its sensors, a data-quality alert for
// its invalid rows. Each names its sensors (count and the first few): the
// deviation one the sensors with such readings, the data-quality one the
// sensors the file's rows name (an unparsable row names none). An alert's
// `sensor` is its only sensor, "" when there are several or none. Alerts
// re-derived by rebuild (job_.rederived) are recorded but sent to no
// channel: they were raised when the file first came in (L9).
Status FileIngest::RecordAlerts() {
  const StagedFile& f = *job_.file;
  static const std::vector<std::string> kNoChannels;
  const std::vector<std::string>& channels = job_.rederived ? kNoChannels : options_.alert_channels;
  auto add = [&](const std::string& kind, const std::string& sensor, nlohmann::json p) {
    storage::Alert a;
    a.kind = kind;
    a.sensor = sensor;
    a.file_hash = hash_;
    a.default_sensor = f.default_sensor;
    a.source_name = f.source_name;
    a.created_ms = job_.now_ms;
    if (job_.rederived) p["rederived"] = true;
    a.payload_json = p.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return state_.batch().AddAlert(a, channels);
  };
  if (!deviations_.empty()) {
    int64_t above = 0;
    std::vector<std::string_view> names;
    for (const auto& [sensor, dev] : deviations_) {
      above += dev.count;
      names.push_back(sensor);
    }
    const std::string only = deviations_.size() == 1 ? deviations_.begin()->first : "";
    nlohmann::json p = {{"kind", "deviation"},
                        {"sensor", only},
                        {"file", f.source_name},
                        {"sha256", hash_},
                        {"sd_limit", options_.limits.sd_alert},
                        {"counts", {{"readings_above_limit", above}}},
                        {"sensors", SensorList(names, names.size())},
                        {"examples", deviation_examples_}};
    AQ_RETURN_IF_ERROR(add("deviation", only, std::move(p)));
  }
  if (summary_.invalid > 0 || replaced_ > 0) {
    nlohmann::json counts = nlohmann::json::object();
    for (auto& [reason, n] : reason_counts_) counts[reason] = n;
    std::vector<std::string> names = sensor_names_;
    std::sort(names.begin(), names.end());
    nlohmann::json p = {{"kind", "data_quality"},
                        {"sensor", f.default_sensor},
                        {"file", f.source_name},
                        {"sha256", hash_},
                        {"rows", summary_.rows},
                        {"invalid", summary_.invalid},
                        {"counts", counts},
                        {"sensors", SensorList(names, names.size())},
                        {"examples", invalid_examples_}};
    AQ_RETURN_IF_ERROR(add("data_quality", "", std::move(p)));
  }
  return Status::Ok();
}

}  // namespace

Result<FileSummary> IngestFile(const FileJob& job, const Env& env, const Options& options,
                               BatchState& state) {
  FileIngest ingest(job, env, options, state);
  return Guarded("ingesting " + job.file->source_name, [&] { return ingest.Run(); });
}

}  // namespace aquasense::pipeline::internal
