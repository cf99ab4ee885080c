// The printed forms of monthly metrics: analysis/monthly.csv and `export`
// (csv, json, seed), shared by the CLI and the HTTP API (docs/contract.md).
//
//   std::string out;
//   AppendMetricsCsvHeader(out);
//   for (auto& m : metrics) AppendMetricsCsvRow(out, m);
//
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/reading.h"

namespace aquasense::core {

void AppendMetricsCsvHeader(std::string& out);
void AppendMetricsCsvRow(std::string& out, const MonthlyMetrics& m);
// One JSON object, no trailing newline:
// {"sensor":..,"year":..,"month":..,"mean_temp":..,"max_temp":..,"max_sd":..,"max_temp_diff":..|null,"readings":..}
void AppendMetricsJson(std::string& out, const MonthlyMetrics& m);
// Appends `s` as a JSON string literal (quoted, escaped).
void AppendJsonString(std::string& out, std::string_view s);
void AppendSeedHeader(std::string& out);
void AppendSeedRow(std::string& out, const MonthlyMetrics& m);

// Whole documents.
std::string MetricsCsv(const std::vector<MonthlyMetrics>& rows);
std::string MetricsJsonArray(const std::vector<MonthlyMetrics>& rows);
std::string MetricsSeedCsv(const std::vector<MonthlyMetrics>& rows);

}  // namespace aquasense::core
