// IngestFile: the filter stage for one landed file inside a batch: parse and
// validate it in bounded chunks, merge each chunk into the stored sensor-month
// blocks (de-duplication decisions), write filtered/ outputs and record the
// file's alerts. Internal to the pipeline; not thread-safe.
#pragma once

#include <functional>

#include "pipeline/batch_state.h"
#include "pipeline/pipeline.h"

namespace aquasense::pipeline::internal {

struct FileJob {
  const StagedFile* file = nullptr;
  storage::OnConflict on_conflict = storage::OnConflict::kReject;
  int64_t now_ms = 0;
  std::function<void(uint64_t, uint64_t)> progress;
  // Where the file's objects (landing copy, filtered/ outputs) go, written
  // but not committed: the batch commits them together before its own commit.
  std::vector<std::unique_ptr<storage::ObjectWriter>>* pending = nullptr;
  // Set by rebuild: the file's alerts are recorded for no channel (never
  // sent again; see RecordAlerts).
  bool rederived = false;
  // Set (when given) when the error returned is the input file's: it could
  // not be read, or it changed while it was read. The batch has taken some
  // of its rows then: it must not commit (see Pipeline's RunBatch).
  bool* input_error = nullptr;
  // Set when the store may have applied this file to some of its sensors
  // in a batch that failed before its ledger record (a retry on a store
  // with per-sensor commits, MetaStore::MayApplyPartially): each sensor is
  // asked (FindApplied); one that applied the file gets nothing of it again,
  // and the file's counts take that sensor's recorded ones. Needs the hash.
  bool find_applied = false;
};

// Returns the file's summary (status "ingested"); errors are store failures
// or, with *job.input_error set, the input file's. An exception on any of
// its threads (parser, copier) or this one becomes an error, logged on
// stderr.
Result<FileSummary> IngestFile(const FileJob& job, const Env& env, const Options& options,
                               BatchState& state);

}  // namespace aquasense::pipeline::internal
