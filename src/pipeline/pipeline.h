// Pipeline: the stages of SPEC §1 wired over the storage interfaces:
// stage (landing/) -> filter (parse, validate, de-duplicate) -> aggregate
// (monthly metrics, incremental) -> load (MetaStore) -> alert (outbox).
//
//   Pipeline p(env, options);
//   auto summary = p.IngestPaths({"a.csv", "-"}, {.default_sensor = "s1"});
//   auto staged = p.NewLandingWriter("s1", "upload");   // streaming uploads
//
// Every Ingest call is one batch: one MetaStore write set, committed per
// sensor (all or nothing per sensor; SQLite and memory: all or nothing),
// each sensor fenced by the version it was read at. A batch that loses a
// sensor to another writer (kAborted) runs again from fresh reads, with
// back-off. After kill -9 at any point, running it again yields the state of
// one clean run. Thread-safety: a Pipeline may be shared; batches are
// serialised internally (across processes, only batches sharing a sensor
// wait for each other, by retrying).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "core/validate.h"
#include "storage/meta_store.h"
#include "storage/object_store.h"

namespace aquasense::pipeline {

class LandingCopy;  // local_file.h

struct Env {
  storage::ObjectStore* objects = nullptr;  // landing/, filtered/, analysis/
  storage::MetaStore* meta = nullptr;
  const Clock* clock = nullptr;
};

struct Options {
  core::Limits limits;                      // ranges and the sd alert limit
  std::vector<std::string> alert_channels;  // names of configured channels ("log" by default)
  // A file larger than this is parsed in parts of about this size on two
  // threads, merged in file order (see file_ingest.cc); 0: one parser thread.
  uint64_t parse_part_bytes = uint64_t{4} << 20;
};

// A file accepted into landing/, ready to ingest.
// A small staged file's bytes, kept in memory, and its landing copy written
// but not committed: the batch that ingests the file commits the copy with
// its other outputs, in the same rounds of syncs.
struct StagedBytes {
  std::string bytes;
  bool in_landing = false;  // landing/ had these bytes already: nothing to commit
  // Else the copy, taken by the batch that ingests the file (once).
  std::unique_ptr<storage::ObjectWriter> landing;
};

struct StagedFile {
  std::string hash;  // SHA-256 hex of the bytes
  std::string default_sensor;
  std::string landing_key;
  std::string source_name;
  uint64_t size = 0;
  // When set, the bytes are not in landing/ yet but in this local file: the
  // batch copies them there (checking the hash) while it parses them, and
  // commits the copy before the batch.
  std::string local_path;
  // When set, that copy was started in the background before the hash was
  // known (while it was being computed); the batch only waits for it.
  std::shared_ptr<LandingCopy> landing_copy;
  // When set, the bytes are here (see StagedBytes), landing/ has them only
  // once the batch commits.
  std::shared_ptr<StagedBytes> staged;
};

struct FileSummary {
  std::string source_name;
  std::string hash;
  // "ingested", "already_ingested" (same bytes and sensor seen before) or "unreadable".
  std::string status;
  std::string error;  // for "unreadable"
  int64_t rows = 0, valid = 0, invalid = 0, duplicates = 0, alerts = 0;
};

struct IngestSummary {
  int64_t files = 0;  // files ingested in this batch (new ones)
  int64_t rows = 0, valid = 0, invalid = 0, duplicates = 0, alerts = 0;
  int64_t months_updated = 0;  // sensor-months whose metrics changed
  double seconds = 0;
  std::vector<FileSummary> per_file;
  bool any_unreadable() const;
};

// The summary as one JSON object on one line: `ingest --json` and the
// answer of POST /v1/ingest (shape in docs/contract.md).
std::string SummaryJson(const IngestSummary& s);

struct IngestRequest {
  std::string default_sensor = "default";
  storage::OnConflict on_conflict = storage::OnConflict::kReject;
  // Called now and then with (bytes done, bytes total) while parsing; may be empty.
  std::function<void(uint64_t, uint64_t)> progress;
  // The most bytes read from an input of unknown size (standard input, a
  // FIFO, a device such as /dev/zero): beyond it, that input is unreadable
  // and nothing of it is kept. Regular files are not bounded.
  uint64_t max_input = kDefaultMaxInput;
  static constexpr uint64_t kDefaultMaxInput = uint64_t{16} << 30;  // 16 GiB
};

// Streams one received file into landing/ while hashing it.
class LandingWriter {
 public:
  virtual ~LandingWriter() = default;  // without Finish(): nothing is kept
  virtual Status Append(std::string_view bytes) = 0;
  virtual uint64_t size() const = 0;
  // Commits the landing copy (unless landing/ has these bytes already).
  virtual Result<StagedFile> Finish() = 0;
  // For a file that is ingested next: a small one's landing copy is left for
  // the batch to commit with its outputs (see StagedBytes), which saves two
  // rounds of syncs; it is not kept if that batch fails (the caller answers
  // with an error). A large one is committed as by Finish().
  virtual Result<StagedFile> FinishForBatch() = 0;
};

class Pipeline {
 public:
  Pipeline(Env env, Options options);
  ~Pipeline();

  // Stages and ingests files ("-" = standard input) as one batch. An input
  // that cannot be read, is over req.max_input or changes while it is read
  // is reported in per_file (status "unreadable"), nothing of it is stored,
  // and the others are still ingested. Errors: only store failures.
  Result<IngestSummary> IngestPaths(const std::vector<std::string>& paths,
                                    const IngestRequest& req);
  // Ingests files already staged (uploads, the watched inbox) as one batch.
  // A local file (StagedFile::local_path) that turns out unreadable or
  // changed is reported as in IngestPaths (the batch runs again without it).
  Result<IngestSummary> IngestStaged(const std::vector<StagedFile>& files,
                                     const IngestRequest& req);
  Result<std::unique_ptr<LandingWriter>> NewLandingWriter(std::string default_sensor,
                                                          std::string source_name);

  // Re-derives every table and output from landing/, as one batch.
  Result<IngestSummary> Rebuild();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace aquasense::pipeline
