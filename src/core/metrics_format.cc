#include "core/metrics_format.h"

#include "core/json_text.h"
#include "core/number.h"

namespace aquasense::core {

void AppendMetricsCsvHeader(std::string& out) {
  out += "sensor,year,month,mean_temp,max_temp,max_sd,max_temp_diff,readings\n";
}

namespace {
// "year,month,mean_temp,max_temp," : the columns both CSV layouts share.
void AppendYearMonthMeanMax(std::string& out, const MonthlyMetrics& m) {
  out += std::to_string(m.year);
  out += ',';
  out += std::to_string(m.month);
  out += ',';
  AppendNumber(out, m.mean_temp);
  out += ',';
  AppendNumber(out, m.max_temp);
  out += ',';
}
}  // namespace

void AppendMetricsCsvRow(std::string& out, const MonthlyMetrics& m) {
  out += m.sensor;  // sensor ids never need CSV quoting: [A-Za-z0-9._-]
  out += ',';
  AppendYearMonthMeanMax(out, m);
  AppendNumber(out, m.max_sd);
  out += ',';
  if (m.max_temp_diff) AppendNumber(out, *m.max_temp_diff);
  out += ',';
  out += std::to_string(m.readings);
  out += '\n';
}

MetricsRow RowOf(const MonthlyMetrics& m) {
  return {m.sensor,   m.year,   m.month,         m.mean_temp,
          m.max_temp, m.max_sd, m.max_temp_diff, m.readings};
}

void AppendMetricsJson(std::string& out, const MetricsRow& m) {
  out += "{\"sensor\":";
  AppendJsonString(out, m.sensor);
  out += ",\"year\":";
  AppendJsonInt(out, m.year);
  out += ",\"month\":";
  AppendJsonInt(out, m.month);
  out += ",\"mean_temp\":";
  AppendJsonNumber(out, m.mean_temp);
  out += ",\"max_temp\":";
  AppendJsonNumber(out, m.max_temp);
  out += ",\"max_sd\":";
  AppendJsonNumber(out, m.max_sd);
  out += ",\"max_temp_diff\":";
  AppendJsonNumber(out, m.max_temp_diff);
  out += ",\"readings\":";
  AppendJsonInt(out, m.readings);
  out += '}';
}

void AppendMetricsJson(std::string& out, const MonthlyMetrics& m) {
  AppendMetricsJson(out, RowOf(m));
}

void AppendSeedHeader(std::string& out) {
  out += "Ano,Mes,TempMediaMensual,TempMaxMensual,DiferenciaTempMax\n";
}

void AppendSeedRow(std::string& out, const MonthlyMetrics& m) {
  AppendYearMonthMeanMax(out, m);
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
