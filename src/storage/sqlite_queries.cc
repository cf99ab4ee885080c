#include "storage/sqlite_queries.h"

namespace aquasense::storage::sqlite::queries {

core::MonthlyMetrics MetricsFromRow(const Stmt& s) {
  core::MonthlyMetrics m;
  m.sensor = s.Text(0);
  m.year = static_cast<int32_t>(s.Int(1));
  m.month = static_cast<int32_t>(s.Int(2));
  m.mean_temp = s.Real(3);
  m.max_temp = s.Real(4);
  m.max_sd = s.Real(5);
  if (!s.IsNull(6)) m.max_temp_diff = s.Real(6);
  m.readings = s.Int(7);
  return m;
}

FileRecord FileFromRow(const Stmt& s) {
  FileRecord f;
  f.seq = s.Int(0);
  f.hash = s.Text(1);
  f.default_sensor = s.Text(2);
  f.landing_key = s.Text(3);
  f.source_name = s.Text(4);
  f.on_conflict = s.Int(5) == 1 ? OnConflict::kReplace : OnConflict::kReject;
  f.ingested_ms = s.Int(6);
  f.rows = s.Int(7);
  f.valid = s.Int(8);
  f.invalid = s.Int(9);
  f.duplicates = s.Int(10);
  f.alerts = s.Int(11);
  f.bytes = s.IsNull(12) ? -1 : s.Int(12);
  return f;
}

Alert AlertFromRow(const Stmt& s) {
  Alert a;
  a.id = s.Int(0);
  a.kind = s.Text(1);
  a.sensor = s.Text(2);
  a.file_hash = s.Text(3);
  a.default_sensor = s.Text(4);
  a.source_name = s.Text(5);
  a.created_ms = s.Int(6);
  a.payload_json = s.Text(7);
  return a;
}

Delivery DeliveryFromRow(const Stmt& s) {
  Delivery d;
  d.alert_id = s.Int(0);
  d.channel = s.Text(1);
  d.state = static_cast<DeliveryState>(s.Int(2));
  d.attempts = static_cast<int32_t>(s.Int(3));
  d.next_attempt_ms = s.Int(4);
  d.updated_ms = s.Int(5);
  d.last_error = s.Text(6);
  return d;
}

// Metrics for a query, sorted by sensor and month, one row at a time.
Status ScanMetricsRows(sqlite3* db, const MetricsQuery& q,
                       const std::function<Status(const core::MonthlyMetrics&)>& fn) {
  std::string sql = std::string("SELECT ") + kMetricsColumns +
                    " FROM metrics WHERE month_index BETWEEN ?1 AND ?2";
  if (q.sensor) sql += " AND sensor = ?3";
  sql += " ORDER BY sensor, month_index";
  Stmt s(db, sql);
  s.Bind(1, static_cast<int64_t>(q.from_month)).Bind(2, static_cast<int64_t>(q.to_month));
  if (q.sensor) s.Bind(3, *q.sensor);
  while (true) {
    auto row = s.Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
    AQ_RETURN_IF_ERROR(fn(MetricsFromRow(s)));
  }
}

Result<std::vector<core::MonthlyMetrics>> QueryMetrics(sqlite3* db, const MetricsQuery& q) {
  std::vector<core::MonthlyMetrics> out;
  AQ_RETURN_IF_ERROR(ScanMetricsRows(db, q, [&](const core::MonthlyMetrics& m) {
    out.push_back(m);
    return Status::Ok();
  }));
  return out;
}

Result<int64_t> QueryGeneration(sqlite3* db) {
  Stmt s(db, "SELECT value FROM meta WHERE key = 'generation'");
  auto row = s.Step();
  if (!row.ok()) return row.status();
  if (!*row) return Unavailable("database has no generation");
  return s.Int(0);
}

Result<LogState> QueryLogState(sqlite3* db) {
  Stmt s(db,
         "SELECT (SELECT value FROM meta WHERE key = 'generation'),"
         " (SELECT value FROM meta WHERE key = 'changes_from'),"
         " (SELECT value FROM meta WHERE key = 'changes_gen')");
  auto row = s.Step();
  if (!row.ok()) return row.status();
  if (!*row || s.IsNull(0)) return Unavailable("database has no generation");
  LogState st;
  st.generation = s.Int(0);
  if (!s.IsNull(1)) st.changes_from = s.Int(1);
  if (!s.IsNull(2)) st.changes_gen = s.Int(2);
  return st;
}

// MetricsSince's work, inside the caller's read transaction.
Result<MetricsDelta> ReadMetricsDelta(sqlite3* db, int64_t since) {
  auto st = QueryLogState(db);
  if (!st.ok()) return st.status();
  MetricsDelta delta;
  delta.generation = st->generation;
  if (since >= 0 && since == st->generation) return delta;
  delta.full = since < 0 || since > st->generation || since < st->changes_from ||
               st->changes_gen != st->generation;
  if (!delta.full) {
    Stmt c(db, "SELECT DISTINCT sensor FROM changes WHERE generation > ?1 ORDER BY sensor");
    c.Bind(1, since);
    while (!delta.full) {
      auto row = c.Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      delta.sensors.push_back(c.Text(0));
      delta.full = delta.sensors.back() == kAllSensors;
    }
  }
  auto add = [&](const core::MonthlyMetrics& m) {
    delta.rows.push_back(m);
    return Status::Ok();
  };
  if (delta.full) {
    delta.sensors.clear();
    AQ_RETURN_IF_ERROR(ScanMetricsRows(db, MetricsQuery{}, add));
    return delta;
  }
  // One statement for all the changed sensors (a batch may touch thousands).
  Stmt s(db, std::string("SELECT ") + kMetricsColumns +
                 " FROM metrics WHERE sensor = ?1 ORDER BY month_index");
  for (const std::string& sensor : delta.sensors) {
    s.Bind(1, sensor);
    while (true) {
      auto row = s.Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      delta.rows.push_back(MetricsFromRow(s));
    }
    s.Reset();
  }
  return delta;
}

}  // namespace aquasense::storage::sqlite::queries
