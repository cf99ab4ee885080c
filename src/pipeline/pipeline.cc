#include "pipeline/pipeline.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "common/crypto.h"
#include "core/metrics_format.h"
#include "core/validate.h"
#include "pipeline/batch_state.h"
#include "pipeline/file_ingest.h"
#include "pipeline/local_file.h"
#include "pipeline/monthly_csv.h"
#include "storage/keys.h"

namespace aquasense::pipeline {

bool IngestSummary::any_unreadable() const {
  for (const auto& f : per_file)
    if (f.status == "unreadable") return true;
  return false;
}

namespace {

constexpr size_t kStageBuffer = 1 << 20;
constexpr size_t kPendingObjects = 48;  // written objects a batch holds before committing them
constexpr int64_t kLargeBatchRows = 100'000;  // see Batch::WritesDone

class LandingWriterImpl final : public LandingWriter {
 public:
  LandingWriterImpl(storage::ObjectStore& store, std::unique_ptr<storage::ObjectWriter> writer,
                    std::string sensor, std::string source)
      : store_(store),
        writer_(std::move(writer)),
        sensor_(std::move(sensor)),
        source_(std::move(source)) {}

  Status Append(std::string_view bytes) override {
    sha_.Update(bytes.data(), bytes.size());
    size_ += bytes.size();
    if (size_ <= kBackgroundCopyBytes) {
      bytes_.append(bytes);
    } else if (!bytes_.empty()) {
      std::string().swap(bytes_);  // too big to keep: FinishForBatch commits
    }
    return writer_->Append(bytes);
  }
  uint64_t size() const override { return size_; }

  Result<StagedFile> Finish() override {
    StagedFile f = Staged();
    // Content-addressed: the same bytes for the same sensor are kept once.
    auto exists = store_.Exists(f.landing_key);
    if (!exists.ok()) return exists.status();
    if (!*exists) AQ_RETURN_IF_ERROR(writer_->CommitAs(f.landing_key));
    writer_.reset();
    return f;
  }

  Result<StagedFile> FinishForBatch() override {
    if (size_ > kBackgroundCopyBytes) return Finish();
    StagedFile f = Staged();
    auto exists = store_.Exists(f.landing_key);
    if (!exists.ok()) return exists.status();
    f.staged = std::make_shared<StagedBytes>();
    f.staged->bytes = std::move(bytes_);
    f.staged->in_landing = *exists;
    if (!*exists) {
      AQ_RETURN_IF_ERROR(writer_->SetKey(f.landing_key));
      f.staged->landing = std::move(writer_);
    }
    writer_.reset();
    return f;
  }

 private:
  StagedFile Staged() {
    StagedFile f;
    f.hash = sha_.Hex();
    f.default_sensor = sensor_;
    f.landing_key = storage::keys::Landing(sensor_, f.hash);
    f.source_name = source_;
    f.size = size_;
    return f;
  }

  storage::ObjectStore& store_;
  std::unique_ptr<storage::ObjectWriter> writer_;
  std::string sensor_, source_;
  Sha256Hasher sha_;
  uint64_t size_ = 0;
  std::string bytes_;  // while the file is small: for FinishForBatch
};

// Copies a local file or stdin into landing/. Errors are the input's
// (kUnavailable: unreadable) or the store's (other codes).
Result<StagedFile> StagePath(Pipeline& p, const std::string& path, const IngestRequest& req,
                             bool& input_error) {
  input_error = true;
  int fd = 0;
  if (path == "-" && StandardInputClosed())
    return Unavailable(std::string("cannot read standard input: ") + std::strerror(EBADF));
  if (path != "-") {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Unavailable("cannot read " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    if (fd != 0) ::close(fd);
    return Unavailable("cannot read " + path + ": " +
                       (S_ISDIR(st.st_mode) ? "it is a directory" : std::strerror(errno)));
  }
  const uint64_t total = S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0;
  auto writer = p.NewLandingWriter(req.default_sensor, path);
  if (!writer.ok()) {
    if (fd != 0) ::close(fd);
    input_error = false;
    return writer.status();
  }
  std::string buf(kStageBuffer, '\0');
  Status status;
  while (true) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = Unavailable("cannot read " + path + ": " + std::strerror(errno));
      break;
    }
    if (n == 0) break;
    if ((*writer)->size() + static_cast<uint64_t>(n) > req.max_input) {
      // Dropping the writer removes what was written of it.
      status = Unavailable("cannot read " + path + ": it is larger than --max-input (" +
                           std::to_string(req.max_input) + " bytes)");
      break;
    }
    status = (*writer)->Append(std::string_view(buf.data(), static_cast<size_t>(n)));
    if (!status.ok()) {
      input_error = false;
      break;
    }
    if (req.progress && total > 0) req.progress((*writer)->size(), total);
  }
  if (fd != 0) ::close(fd);
  if (!status.ok()) return status;
  input_error = false;
  return (*writer)->Finish();
}

// With AQUASENSE_TRACE set, prints how long each phase of a batch took to
// stderr (for profiling; off by default).
class PhaseTrace {
 public:
  PhaseTrace() : on_(std::getenv("AQUASENSE_TRACE") != nullptr), last_(Now()) {}
  void Phase(const char* name) {
    if (!on_) return;
    const double now = Now();
    std::fprintf(stderr, "aquasense trace: %-14s %10.6f s\n", name, now - last_);
    last_ = now;
  }

 private:
  static double Now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  bool on_;
  double last_;
};

// A regular file is only hashed here (a read-only pass): a file already
// ingested costs no copy, and a new one is copied into landing/ by the batch
// while it is being parsed.
Result<StagedFile> PrehashPath(const std::string& path, const std::string& sensor) {
  auto reader = OpenLocalFile(path);
  if (!reader.ok()) return reader.status();
  auto hash = Sha256Of(**reader, path);
  if (!hash.ok()) return hash.status();
  StagedFile f;
  f.hash = *hash;
  f.default_sensor = sensor;
  f.landing_key = storage::keys::Landing(sensor, f.hash);
  f.source_name = path;
  f.size = (*reader)->size();
  f.local_path = path;
  return f;
}

// A local file to be hashed by its landing copy: only checked to be readable.
Result<StagedFile> UnhashedFile(const std::string& path, const std::string& sensor, uint64_t size) {
  auto reader = OpenLocalFile(path);
  if (!reader.ok()) return reader.status();
  StagedFile f;
  f.default_sensor = sensor;
  f.source_name = path;
  f.size = size;
  f.local_path = path;
  return f;
}

// The size of a regular file; nothing for stdin ("-"), a directory, a pipe
// or a path that cannot be read.
std::optional<uint64_t> RegularFileSize(const std::string& path) {
  struct stat st {};
  if (path == "-" || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return static_cast<uint64_t>(st.st_size);
}

}  // namespace

struct Pipeline::Impl {
  Env env;
  Options options;
  std::mutex batch_mu;  // one batch at a time in this process

  // One batch over `files`, run again without any local file found
  // unreadable or changed on the way (reported "unreadable" in per_file).
  Result<IngestSummary> RunBatch(const std::vector<StagedFile>& files,
                                 const std::vector<storage::OnConflict>& modes,
                                 const IngestRequest& req, bool rebuild);
  // One try; on an error of the input files[*failed] (see FileJob), sets
  // *failed (else leaves it).
  Result<IngestSummary> RunBatchOnce(const std::vector<StagedFile>& files,
                                     const std::vector<storage::OnConflict>& modes,
                                     const IngestRequest& req, bool rebuild, size_t* failed);
};

namespace {

constexpr int kConflictRetries = 8;

// Sleeps 10 ms doubling per attempt (at most ~1.3 s), with full jitter, so
// that writers that lost a sensor to each other do not meet again.
void ConflictBackoff(int attempt) {
  thread_local std::minstd_rand rng(std::random_device{}());
  const int64_t cap_ms = int64_t{10} << std::min(attempt, 7);
  std::this_thread::sleep_for(
      std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(cap_ms / 2, cap_ms)(rng)));
}

// Readies files for a batch run again after one failed: a landing copy the
// failed run took is gone (the file is copied by the batch again, named by
// the hash that copy found); false when a file cannot be ingested again
// (an upload's copy went with the failed batch).
bool ReadyForRetry(std::vector<StagedFile>& files) {
  for (StagedFile& f : files) {
    if (f.staged && !f.staged->in_landing && !f.staged->landing) return false;
    if (!f.landing_copy || !f.landing_copy->finished()) continue;
    if (f.hash.empty()) {
      f.hash = f.landing_copy->hash();
      f.landing_key = storage::keys::Landing(f.default_sensor, f.hash);
    }
    f.landing_copy.reset();
  }
  return true;
}

}  // namespace

Pipeline::Pipeline(Env env, Options options) : impl_(std::make_unique<Impl>()) {
  impl_->env = env;
  impl_->options = std::move(options);
}

Pipeline::~Pipeline() = default;

Result<std::unique_ptr<LandingWriter>> Pipeline::NewLandingWriter(std::string default_sensor,
                                                                  std::string source_name) {
  if (!core::IsValidSensorId(default_sensor))
    return InvalidArgument("sensor id \"" + default_sensor +
                           "\" is not allowed: use 1-64 of A-Z a-z 0-9 . _ -");
  auto w = impl_->env.objects->NewWriter(storage::keys::LandingIncoming(default_sensor));
  if (!w.ok()) return w.status();
  return std::unique_ptr<LandingWriter>(new LandingWriterImpl(
      *impl_->env.objects, std::move(*w), std::move(default_sensor), std::move(source_name)));
}

Result<IngestSummary> Pipeline::IngestPaths(const std::vector<std::string>& paths,
                                            const IngestRequest& req) {
  if (!core::IsValidSensorId(req.default_sensor))
    return InvalidArgument("sensor id \"" + req.default_sensor +
                           "\" is not allowed: use 1-64 of A-Z a-z 0-9 . _ -");
  std::vector<StagedFile> staged;
  std::vector<FileSummary> unreadable;
  std::vector<size_t> unreadable_at;     // position among the inputs
  std::shared_ptr<LandingCopy> copying;  // at most one background copy at a time
  for (size_t i = 0; i < paths.size(); ++i) {
    bool input_error = true;
    const std::optional<uint64_t> size = RegularFileSize(paths[i]);
    const bool regular = size.has_value();
    // A large file is copied into landing/ by a thread of its own from now
    // on, which also hashes it: the batch parses it at once unless it may be
    // a file ingested before (RunBatch), and the copy is dropped if it is.
    // One such copy at a time: later files are hashed here and copied by the
    // batch, as they are parsed.
    std::shared_ptr<LandingCopy> copy;
    if (regular && (!copying || copying->done()) && *size >= kBackgroundCopyBytes)
      copy = copying = LandingCopy::Start(paths[i], req.default_sensor, *impl_->env.objects);
    auto f = copy      ? UnhashedFile(paths[i], req.default_sensor, *size)
             : regular ? PrehashPath(paths[i], req.default_sensor)
                       : StagePath(*this, paths[i], req, input_error);
    if (f.ok()) {
      f->landing_copy = std::move(copy);
      staged.push_back(std::move(*f));
      continue;
    }
    if (!input_error) return f.status();
    FileSummary s;
    s.source_name = paths[i];
    s.status = "unreadable";
    s.error = f.status().message();
    unreadable.push_back(std::move(s));
    unreadable_at.push_back(i);
  }
  auto summary = IngestStaged(staged, req);
  if (!summary.ok()) return summary;
  // Put the unreadable inputs back in their places among the others.
  for (size_t k = 0; k < unreadable.size(); ++k) {
    const size_t at = std::min(unreadable_at[k], summary->per_file.size());
    summary->per_file.insert(summary->per_file.begin() + static_cast<long>(at), unreadable[k]);
  }
  return summary;
}

Result<IngestSummary> Pipeline::IngestStaged(const std::vector<StagedFile>& files,
                                             const IngestRequest& req) {
  std::vector<storage::OnConflict> modes(files.size(), req.on_conflict);
  return impl_->RunBatch(files, modes, req, false);
}

Result<IngestSummary> Pipeline::Impl::RunBatch(const std::vector<StagedFile>& files,
                                               const std::vector<storage::OnConflict>& modes,
                                               const IngestRequest& req, bool rebuild) {
  std::lock_guard<std::mutex> lock(batch_mu);
  std::vector<StagedFile> todo = files;
  std::vector<storage::OnConflict> todo_modes = modes;
  std::vector<size_t> at(files.size());  // todo[k] is files[at[k]]
  for (size_t k = 0; k < at.size(); ++k) at[k] = k;
  std::vector<std::pair<size_t, FileSummary>> dropped;  // (position in files, summary)
  int conflicts = 0;
  while (true) {
    size_t failed = SIZE_MAX;
    auto summary = RunBatchOnce(todo, todo_modes, req, rebuild, &failed);
    if (!summary.ok() && summary.status().code() == Code::kAborted &&
        conflicts < kConflictRetries && ReadyForRetry(todo)) {
      // Another writer committed one of our sensors first (MetaStore
      // fencing): nothing of the conflicting sensor was written; run the
      // batch again from fresh reads, after a jittered back-off.
      ConflictBackoff(conflicts++);
      continue;
    }
    if (!summary.ok() && failed < todo.size()) {
      // The batch took part of a file that could not be read to its end or
      // changed: it was rolled back; run it again without that file.
      FileSummary s;
      s.source_name = todo[failed].source_name;
      s.status = "unreadable";
      s.error = summary.status().message();
      dropped.emplace_back(at[failed], std::move(s));
      todo.erase(todo.begin() + static_cast<long>(failed));
      todo_modes.erase(todo_modes.begin() + static_cast<long>(failed));
      at.erase(at.begin() + static_cast<long>(failed));
      if (ReadyForRetry(todo)) continue;
    }
    if (!summary.ok()) return summary;
    // Put the dropped files back in their places among the others.
    std::sort(dropped.begin(), dropped.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [pos, s] : dropped) {
      const size_t i = std::min(pos, summary->per_file.size());
      summary->per_file.insert(summary->per_file.begin() + static_cast<long>(i), std::move(s));
    }
    return summary;
  }
}

// Long on purpose: the batch flow of the README, one block per step
// NOLINTNEXTLINE(readability-function-size)
Result<IngestSummary> Pipeline::Impl::RunBatchOnce(const std::vector<StagedFile>& files,
                                                   const std::vector<storage::OnConflict>& modes,
                                                   const IngestRequest& req, bool rebuild,
                                                   size_t* failed) {
  const auto t0 = std::chrono::steady_clock::now();
  PhaseTrace trace;
  IngestSummary summary;
  auto batch = env.meta->BeginBatch();
  if (!batch.ok()) return batch.status();
  if (rebuild) AQ_RETURN_IF_ERROR((*batch)->ResetDerived());
  internal::BatchState state(*env.meta, **batch, rebuild);
  std::set<std::pair<std::string, std::string>> seen;  // (hash, sensor) in this batch
  const int64_t now_ms = env.clock->NowMs();
  // The files' objects, committed together with the monthly files (one
  // journal flush for all on a local disk), or earlier when there are many.
  std::vector<std::unique_ptr<storage::ObjectWriter>> pending;

  std::set<std::pair<std::string, uint64_t>> sizes;  // (sensor, bytes) of this batch's files
  // A store with per-sensor commits may hold sensors of a file whose batch
  // failed before its ledger record: such a file is named before it is
  // parsed, and its sensors are asked (FileJob::find_applied).
  const bool partial = !rebuild && env.meta->MayApplyPartially();
  for (size_t i = 0; i < files.size(); ++i) {
    StagedFile f = files[i];
    if (f.hash.empty()) {
      // Not hashed yet (its landing copy hashes it while it is parsed), and
      // need not be unless a file of its size is in the ledger already or in
      // this batch: only then could it be one seen before.
      auto may = partial ? Result<bool>(true) : env.meta->MayHaveFile(f.default_sensor, f.size);
      if (!may.ok()) return may.status();
      if (*may || sizes.count({f.default_sensor, f.size}) > 0) {
        auto hashed = PrehashPath(f.local_path, f.default_sensor);
        if (!hashed.ok()) {
          *failed = i;  // the input's error (see OpenLocalFile, Sha256Of)
          return hashed.status();
        }
        f.hash = hashed->hash;
        f.landing_key = hashed->landing_key;
        f.landing_copy->Expect(f.hash, f.landing_key);
      }
    }
    sizes.emplace(f.default_sensor, f.size);
    bool known = !f.hash.empty() && !seen.emplace(f.hash, f.default_sensor).second;
    if (!known && !rebuild && !f.hash.empty()) {
      auto rec = env.meta->FindFile(f.hash, f.default_sensor);
      if (!rec.ok()) return rec.status();
      known = rec->has_value();
    }
    if (known) {
      FileSummary s;
      s.source_name = f.source_name;
      s.hash = f.hash;
      s.status = "already_ingested";
      summary.per_file.push_back(std::move(s));
      continue;
    }
    bool input_error = false;
    internal::FileJob job{&f,       modes[i], now_ms,       req.progress,
                          &pending, rebuild,  &input_error, partial};
    auto s = internal::IngestFile(job, env, options, state);
    if (!s.ok()) {
      if (input_error) *failed = i;
      return s.status();
    }
    if (pending.size() >= kPendingObjects)
      AQ_RETURN_IF_ERROR(internal::CommitPending(*env.objects, pending));
    seen.emplace(s->hash, f.default_sensor);
    storage::FileRecord rec;
    rec.hash = s->hash;
    rec.default_sensor = f.default_sensor;
    rec.landing_key = storage::keys::Landing(f.default_sensor, s->hash);
    rec.bytes = static_cast<int64_t>(f.size);
    rec.source_name = f.source_name;
    rec.on_conflict = modes[i];
    rec.ingested_ms = now_ms;
    rec.rows = s->rows;
    rec.valid = s->valid;
    rec.invalid = s->invalid;
    rec.duplicates = s->duplicates;
    rec.alerts = s->alerts;
    auto seq = (*batch)->RecordFile(rec);
    if (!seq.ok()) return seq.status();
    summary.files++;
    summary.rows += s->rows;
    summary.valid += s->valid;
    summary.invalid += s->invalid;
    summary.duplicates += s->duplicates;
    summary.alerts += s->alerts;
    summary.per_file.push_back(std::move(*s));
  }
  std::vector<internal::ChangedSensor> changed_sensors;
  trace.Phase("filter+merge");
  auto changed = state.FinalizeMetrics(changed_sensors);
  trace.Phase("metrics");
  if (!changed.ok()) return changed.status();
  summary.months_updated = *changed;
  // A large batch's store writes start their way to the disk while the
  // monthly files render; a small one's would only cost another sync.
  if (summary.rows >= kLargeBatchRows) (*batch)->WritesDone();
  // Inside the transaction, so batches of several processes update the files
  // one after the other, each from the state it commits.
  AQ_RETURN_IF_ERROR(
      internal::UpdateMonthlyFiles(*env.objects, state, changed_sensors, rebuild, pending));
  trace.Phase("monthly files");
  AQ_RETURN_IF_ERROR((*batch)->Commit());
  trace.Phase("commit");
  batch->reset();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return summary;
}

Result<IngestSummary> Pipeline::Rebuild() {
  // Replay the ledger in ingestion order, then any landed file it lacks
  // (dropped by hand, or a lost database), by key.
  auto ledger = impl_->env.meta->ListFiles();
  if (!ledger.ok()) return ledger.status();
  auto landed = impl_->env.objects->List(storage::keys::kLandingPrefix);
  if (!landed.ok()) return landed.status();
  std::map<std::string, uint64_t> landed_size;
  for (const auto& o : *landed) landed_size[o.key] = o.size;
  std::vector<StagedFile> files;
  std::vector<storage::OnConflict> modes;
  std::set<std::string> keys;
  for (const auto& r : *ledger) {
    files.push_back({r.hash, r.default_sensor, r.landing_key, r.source_name,
                     landed_size[r.landing_key], "", nullptr, nullptr});
    modes.push_back(r.on_conflict);
    keys.insert(r.landing_key);
  }
  for (const auto& o : *landed) {
    if (keys.count(o.key) > 0) continue;
    auto name = storage::keys::ParseLanding(o.key);
    if (!name) continue;
    files.push_back({name->sha256, name->sensor, o.key, o.key, o.size, "", nullptr, nullptr});
    modes.push_back(storage::OnConflict::kReject);
  }
  return impl_->RunBatch(files, modes, IngestRequest{}, true);
}

}  // namespace aquasense::pipeline
