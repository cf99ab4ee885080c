// Local input files for the pipeline: a reader over a file outside the data
// directory (what `aquasense ingest FILE` reads), SHA-256 of a reader, and the
// copy of a local file into landing/ that checks its hash on the way.
// Internal to the pipeline; each object is used by one thread.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "pipeline/pipeline.h"
#include "storage/object_store.h"

namespace aquasense::pipeline {

// kUnavailable ("cannot read PATH: ...") when it cannot be opened or is not a
// regular file.
Result<std::unique_ptr<storage::ObjectReader>> OpenLocalFile(const std::string& path);

// Hex SHA-256 of everything `reader` yields.
Result<std::string> Sha256Of(storage::ObjectReader& reader, const std::string& name);

// Copies f.local_path towards f.landing_key unless that object exists and
// returns the writer, for the batch to commit with its other objects
// (nullptr when there is nothing to commit); fails, storing nothing, when the
// bytes no longer hash to f.hash.
Result<std::unique_ptr<storage::ObjectWriter>> CopyToLanding(const StagedFile& f,
                                                             storage::ObjectStore& objects);

}  // namespace aquasense::pipeline
