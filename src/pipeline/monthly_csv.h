// analysis/monthly/<sensor>.csv: the monthly metrics of one sensor (the
// header and rows of `export --format csv --sensor S`), one file per sensor
// so that a batch rewrites only the files of the sensors whose metrics it
// changed: its cost follows the new data, never the history (SPEC §5).
// `aquasense export` prints them all as one CSV.
//
// The files are written before the batch commits, together, after an intent
// record (analysis/monthly.intent: the generation the batch will commit and
// the sensors it rewrites) that is durable before any of them appears. A
// batch that finds the record of a generation that never committed (a crash
// between the files and the commit) renders those sensors again from the
// store, so no file stays ahead of the committed state. Internal; not
// thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "pipeline/batch_state.h"
#include "storage/meta_store.h"
#include "storage/object_store.h"

namespace aquasense::pipeline::internal {

// Commits `pending` together (see ObjectStore::CommitAll) and empties it.
Status CommitPending(storage::ObjectStore& objects,
                     std::vector<std::unique_ptr<storage::ObjectWriter>>& pending);

// The key of `sensor`'s file.
std::string MonthlyKey(std::string_view sensor);

// Rewrites the files of `changed_sensors` (and of any sensor a failed batch
// left behind) from the batch's state (BatchState: the committed rows with
// the batch's own over them): the rows from each one's first
// changed month on, the rest kept from its committed file; `full` (rebuild)
// renders every file whole and removes those of sensors without metrics.
// The batch's other written objects (`pending`) are committed in the same
// step.
Status UpdateMonthlyFiles(storage::ObjectStore& objects, BatchState& state,
                          const std::vector<ChangedSensor>& changed_sensors, bool full,
                          std::vector<std::unique_ptr<storage::ObjectWriter>>& pending);

}  // namespace aquasense::pipeline::internal
