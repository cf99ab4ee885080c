#include "core/metrics_format.h"

#include <type_traits>

#include "core/json_text.h"
#include "core/number.h"

namespace aquasense::core {

namespace {

// The columns of a metrics row, in the order of the CSV header, the CSV rows
// and the JSON object: the one list all three follow. `put(name, value)` gets
// each value as a string_view, an int64_t, a double or an optional<double>.
template <typename Put>
void Columns(const MetricsRow& m, Put&& put) {
  put("sensor", m.sensor);
  put("year", int64_t{m.year});
  put("month", int64_t{m.month});
  put("mean_temp", m.mean_temp);
  put("max_temp", m.max_temp);
  put("max_sd", m.max_sd);
  put("max_temp_diff", m.max_temp_diff);
  put("readings", m.readings);
}

// One CSV field: a number in its shortest exact form, an absent one empty.
template <typename V>
void AppendCsvField(std::string& out, const V& v) {
  if constexpr (std::is_same_v<V, std::string_view>) {
    out += v;  // sensor ids never need CSV quoting: [A-Za-z0-9._-]
  } else if constexpr (std::is_same_v<V, int64_t>) {
    out += std::to_string(v);
  } else if constexpr (std::is_same_v<V, double>) {
    AppendNumber(out, v);
  } else if (v) {
    AppendNumber(out, *v);
  }
}

}  // namespace

void AppendMetricsCsvHeader(std::string& out) {
  Columns(MetricsRow{}, [&out](std::string_view name, const auto&) {
    if (name != "sensor") out += ',';
    out += name;
  });
  out += '\n';
}

void AppendMetricsCsvRow(std::string& out, const MonthlyMetrics& m) {
  Columns(RowOf(m), [&out](std::string_view name, const auto& v) {
    if (name != "sensor") out += ',';
    AppendCsvField(out, v);
  });
  out += '\n';
}

MetricsRow RowOf(const MonthlyMetrics& m) {
  return {m.sensor,   m.year,   m.month,         m.mean_temp,
          m.max_temp, m.max_sd, m.max_temp_diff, m.readings};
}

void AppendMetricsJson(std::string& out, const MetricsRow& m) {
  char before = '{';
  Columns(m, [&](std::string_view name, const auto& v) {
    out += before;
    before = ',';
    out += '"';
    out += name;
    out += "\":";
    using V = std::decay_t<decltype(v)>;
    if constexpr (std::is_same_v<V, std::string_view>) {
      AppendJsonString(out, v);
    } else if constexpr (std::is_same_v<V, int64_t>) {
      AppendJsonInt(out, v);
    } else {
      AppendJsonNumber(out, v);
    }
  });
  out += '}';
}

void AppendMetricsJson(std::string& out, const MonthlyMetrics& m) {
  AppendMetricsJson(out, RowOf(m));
}

void AppendSeedHeader(std::string& out) {
  out += "Ano,Mes,TempMediaMensual,TempMaxMensual,DiferenciaTempMax\n";
}

// Ano,Mes,TempMediaMensual,TempMaxMensual,DiferenciaTempMax: other columns.
void AppendSeedRow(std::string& out, const MonthlyMetrics& m) {
  out += std::to_string(m.year);
  out += ',';
  out += std::to_string(m.month);
  out += ',';
  AppendNumber(out, m.mean_temp);
  out += ',';
  AppendNumber(out, m.max_temp);
  out += ',';
  if (m.max_temp_diff) AppendNumber(out, *m.max_temp_diff);
  out += '\n';
}

std::string MetricsCsv(const std::vector<MonthlyMetrics>& rows) {
  std::string out;
  out.reserve(64 + rows.size() * 64);
  AppendMetricsCsvHeader(out);
  for (const auto& m : rows) AppendMetricsCsvRow(out, m);
  return out;
}

std::string MetricsJsonArray(const std::vector<MonthlyMetrics>& rows) {
  if (rows.empty()) return "[]\n";
  std::string out = "[\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i > 0) out += ",\n";
    AppendMetricsJson(out, rows[i]);
  }
  out += "\n]\n";
  return out;
}

std::string MetricsSeedCsv(const std::vector<MonthlyMetrics>& rows) {
  std::string out;
  AppendSeedHeader(out);
  for (const auto& m : rows) AppendSeedRow(out, m);
  return out;
}

}  // namespace aquasense::core
