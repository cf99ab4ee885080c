// analysis/monthly.csv, kept current inside each batch's transaction at a
// cost in proportion to the sensors the batch changed: the rows of unchanged
// sensors are copied from the previous file byte for byte, only the changed
// sensors' rows are rendered again. A marker object
// (analysis/monthly.csv.generation, written after the file) names the store
// generation the file reflects; when it does not match the generation the
// batch started from (first run, a crash between file and commit, a failed
// batch), the whole file is rendered instead. Internal; not thread-safe.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "storage/meta_store.h"
#include "storage/object_store.h"

namespace aquasense::pipeline::internal {

// `changed_sensors` sorted; `full` forces a complete rewrite (rebuild).
Status UpdateMonthlyCsv(storage::ObjectStore& objects, storage::Batch& batch,
                        const std::vector<std::string>& changed_sensors, bool full);

}  // namespace aquasense::pipeline::internal
