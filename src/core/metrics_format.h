// The printed forms of monthly metrics: analysis/monthly/<sensor>.csv and
// `export` (csv, json, seed), shared by the CLI and the HTTP API
// (docs/contract.md): the one place a metrics row is rendered.
//
//   std::string out;
//   AppendMetricsCsvHeader(out);
//   for (auto& m : metrics) AppendMetricsCsvRow(out, m);
//
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/reading.h"

namespace aquasense::core {

// One sensor-month's metrics as a view, for callers that keep them in
// another shape (the HTTP snapshot) and must not copy the sensor id.
struct MetricsRow {
  std::string_view sensor;
  int32_t year = 0;
  int32_t month = 0;  // 1..12
  double mean_temp = 0;
  double max_temp = 0;
  double max_sd = 0;
  std::optional<double> max_temp_diff;  // empty: null / an empty CSV field
  int64_t readings = 0;
};
MetricsRow RowOf(const MonthlyMetrics& m);

void AppendMetricsCsvHeader(std::string& out);
void AppendMetricsCsvRow(std::string& out, const MonthlyMetrics& m);
// One JSON object, no trailing newline:
// {"sensor":..,"year":..,"month":..,"mean_temp":..,"max_temp":..,"max_sd":..,"max_temp_diff":..|null,"readings":..}
// Non-finite numbers print as null (never happens for stored metrics).
void AppendMetricsJson(std::string& out, const MetricsRow& m);
void AppendMetricsJson(std::string& out, const MonthlyMetrics& m);
void AppendSeedHeader(std::string& out);
void AppendSeedRow(std::string& out, const MonthlyMetrics& m);

// Whole documents.
std::string MetricsCsv(const std::vector<MonthlyMetrics>& rows);
std::string MetricsJsonArray(const std::vector<MonthlyMetrics>& rows);
std::string MetricsSeedCsv(const std::vector<MonthlyMetrics>& rows);

}  // namespace aquasense::core
