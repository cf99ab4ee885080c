#include "storage/sqlite_queries.h"

#include "core/reading.h"

namespace aquasense::storage::sqlite::queries {

namespace {

// Reads a row's columns left to right into the fields it is given: one
// helper for every row type instead of one `x = s.Int(i)` line per column.
class RowReader {
 public:
  explicit RowReader(const Stmt& s) : s_(s) {}
  RowReader& operator()(int64_t& v) {
    v = s_.Int(col_++);
    return *this;
  }
  RowReader& operator()(int32_t& v) {
    v = static_cast<int32_t>(s_.Int(col_++));
    return *this;
  }
  RowReader& operator()(double& v) {
    v = s_.Real(col_++);
    return *this;
  }
  RowReader& operator()(std::string& v) {
    v = s_.Text(col_++);
    return *this;
  }
  // NULL reads as `if_null`.
  RowReader& operator()(int64_t& v, int64_t if_null) {
    v = s_.IsNull(col_) ? if_null : s_.Int(col_);
    ++col_;
    return *this;
  }
  RowReader& operator()(std::optional<double>& v) {
    if (!s_.IsNull(col_)) v = s_.Real(col_);
    ++col_;
    return *this;
  }
  template <typename Enum>
  RowReader& Enumerated(Enum& v) {
    v = static_cast<Enum>(s_.Int(col_++));
    return *this;
  }

 private:
  const Stmt& s_;
  int col_ = 0;
};

}  // namespace

core::MonthlyMetrics MetricsFromRow(const Stmt& s) {
  core::MonthlyMetrics m;
  int32_t month_index = 0;
  RowReader{s}(m.sensor)(month_index)(m.mean_temp)(m.max_temp)(m.max_sd)(m.max_temp_diff)(
      m.readings);
  m.year = core::YearOf(month_index);
  m.month = core::MonthOf(month_index);
  return m;
}

FileRecord FileFromRow(const Stmt& s) {
  FileRecord f;
  RowReader{s}(f.seq)(f.hash)(f.default_sensor)(f.landing_key)(f.source_name)
      .Enumerated(f.on_conflict)(f.ingested_ms)(f.rows)(f.valid)(f.invalid)(f.duplicates)(f.alerts)(
          f.bytes, -1);
  return f;
}

Alert AlertFromRow(const Stmt& s) {
  Alert a;
  RowReader{s}(a.id)(a.kind)(a.sensor)(a.file_hash)(a.default_sensor)(a.source_name)(a.created_ms)(
      a.payload_json);
  return a;
}

Delivery DeliveryFromRow(const Stmt& s) {
  Delivery d;
  RowReader{s}(d.alert_id)(d.channel).Enumerated(d.state)(d.attempts)(d.next_attempt_ms)(
      d.updated_ms)(d.last_error);
  return d;
}

// Metrics for a query, sorted by sensor and month, one row at a time.
Status ScanMetricsRows(sqlite3* db, const MetricsQuery& q,
                       const std::function<Status(const core::MonthlyMetrics&)>& fn) {
  std::string sql = std::string("SELECT ") + kMetricsColumns + kMetricsFrom +
                    " WHERE m.month_index BETWEEN ?1 AND ?2";
  if (q.sensor) sql += " AND i.sensor = ?3";
  sql += " ORDER BY i.sensor, m.month_index";
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

namespace {
// Steps `s` to its end, calling on_row() at each row.
template <typename F>
Status EachRow(Stmt& s, F&& on_row) {
  while (true) {
    auto row = s.Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
    on_row();
  }
}
}  // namespace

Result<std::optional<std::string>> QueryBlock(sqlite3* db, std::string_view sensor, int32_t month) {
  Stmt s(db,
         "SELECT b.data FROM sensor_ids i CROSS JOIN blocks b ON b.sid = i.id"
         " WHERE i.sensor=?1 AND b.month_index=?2");
  s.Bind(1, sensor).Bind(2, static_cast<int64_t>(month));
  std::optional<std::string> out;
  AQ_RETURN_IF_ERROR(EachRow(s, [&] { out = std::string(s.Blob(0)); }));
  return out;
}

Result<std::optional<core::MonthlyMetrics>> QueryMetricsRow(sqlite3* db, std::string_view sensor,
                                                            int32_t month) {
  Stmt s(db, std::string("SELECT ") + kMetricsColumns + kMetricsFrom +
                 " WHERE i.sensor=?1 AND m.month_index=?2");
  s.Bind(1, sensor).Bind(2, static_cast<int64_t>(month));
  std::optional<core::MonthlyMetrics> out;
  AQ_RETURN_IF_ERROR(EachRow(s, [&] { out = MetricsFromRow(s); }));
  return out;
}

Result<std::vector<std::string>> QuerySensors(sqlite3* db) {
  Stmt s(db,
         "SELECT sensor FROM sensor_ids i WHERE EXISTS(SELECT 1 FROM metrics m WHERE m.sid = i.id)"
         " ORDER BY sensor");
  std::vector<std::string> out;
  AQ_RETURN_IF_ERROR(EachRow(s, [&] { out.push_back(s.Text(0)); }));
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
  Stmt s(db, std::string("SELECT ") + kMetricsColumns + kMetricsFrom +
                 " WHERE i.sensor = ?1 ORDER BY m.month_index");
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
