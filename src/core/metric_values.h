// CopyMetricValues: a sensor-month's metric values (not its key) copied into a
// flat record, the shape the HTTP snapshot (http/snapshot.h MonthRecord) and
// the pipeline's write-behind buffer (pipeline/batch_state.h) keep them in.
//
//   MonthRecord r;
//   r.month = key;
//   core::CopyMetricValues(metrics, r);
//
// The one place where an absent max_temp_diff becomes has_diff = false and
// max_temp_diff = 0. Pure, thread-safe.
#pragma once

#include "core/reading.h"

namespace aquasense::core {

// `FlatRecord` has the members mean_temp, max_temp, max_sd, has_diff,
// max_temp_diff and readings.
template <typename FlatRecord>
void CopyMetricValues(const MonthlyMetrics& m, FlatRecord& out) {
  out.mean_temp = m.mean_temp;
  out.max_temp = m.max_temp;
  out.max_sd = m.max_sd;
  out.has_diff = m.max_temp_diff.has_value();
  out.max_temp_diff = m.max_temp_diff.value_or(0);
  out.readings = m.readings;
}

}  // namespace aquasense::core
