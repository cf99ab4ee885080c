// Row converters and read queries of SqliteMetaStore (internal to
// src/storage): metrics scans, the generation, and the change log's delta.
// Each function runs on the connection it is given, inside the caller's
// transaction if any; not thread-safe per connection.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/meta_store.h"
#include "storage/sqlite_util.h"

namespace aquasense::storage::sqlite::queries {

// How many generations the change log keeps: a reader further behind reloads
// everything.
inline constexpr int64_t kChangeLogGenerations = 10'000;
inline constexpr std::string_view kAllSensors = "*";  // a change log entry: every sensor

// Metrics rows joined to their sensor's name (schema 5: see sqlite_setup.cc):
// "SELECT " + kMetricsColumns + kMetricsFrom + a WHERE on i.* and m.*.
inline constexpr const char* kMetricsColumns =
    "i.sensor, m.month_index, m.mean_temp, m.max_temp, m.max_sd, m.max_temp_diff, m.readings";
inline constexpr const char* kMetricsFrom =
    " FROM sensor_ids i CROSS JOIN metrics m ON m.sid = i.id";
inline constexpr const char* kFileColumns =
    "seq, hash, default_sensor, landing_key, source_name, on_conflict, ingested_ms, rows, valid, "
    "invalid, duplicates, alerts, bytes";
inline constexpr const char* kAlertColumns =
    "id, kind, sensor, file_hash, default_sensor, source_name, created_ms, payload";
inline constexpr const char* kDeliveryColumns =
    "alert_id, channel, state, attempts, next_attempt_ms, updated_ms, last_error";

// A row selected with the columns above.
core::MonthlyMetrics MetricsFromRow(const Stmt& s);
FileRecord FileFromRow(const Stmt& s);
Alert AlertFromRow(const Stmt& s);
Delivery DeliveryFromRow(const Stmt& s);

// Metrics for a query, sorted by sensor and month, one row at a time.
Status ScanMetricsRows(sqlite3* db, const MetricsQuery& q,
                       const std::function<Status(const core::MonthlyMetrics&)>& fn);
Result<std::vector<core::MonthlyMetrics>> QueryMetrics(sqlite3* db, const MetricsQuery& q);
Result<int64_t> QueryGeneration(sqlite3* db);
// The block / metrics row of a sensor-month (nothing when there is none), and
// the sensors with metrics, sorted: MetaStore's reads, and on the writer
// connection a batch's reads of its own writes.
Result<std::optional<std::string>> QueryBlock(sqlite3* db, std::string_view sensor, int32_t month);
Result<std::optional<core::MonthlyMetrics>> QueryMetricsRow(sqlite3* db, std::string_view sensor,
                                                            int32_t month);
Result<std::vector<std::string>> QuerySensors(sqlite3* db);

// The generation and the change log's bounds (see sqlite_meta_store.cc).
struct LogState {
  int64_t generation = 0;
  int64_t changes_from = INT64_MAX;  // no change log yet: nothing known
  int64_t changes_gen = -1;
};
Result<LogState> QueryLogState(sqlite3* db);

// MetricsSince's work, inside the caller's read transaction.
Result<MetricsDelta> ReadMetricsDelta(sqlite3* db, int64_t since);

}  // namespace aquasense::storage::sqlite::queries
