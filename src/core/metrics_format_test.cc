// Issue 12 "one source of truth": the CSV header, the CSV rows and the JSON
// object of a metrics row follow one column list (metrics_format.cc Columns).
#include "core/metrics_format.h"

#include <gtest/gtest.h>

namespace aquasense::core {
namespace {

MonthlyMetrics Sample(std::optional<double> diff) {
  return {.sensor = "s-1",
          .year = 2024,
          .month = 3,
          .mean_temp = 12.5,
          .max_temp = 14.25,
          .max_sd = 0.1,
          .max_temp_diff = diff,
          .readings = 31};
}

TEST(MetricsFormat, CsvHeaderNamesTheColumnsOfTheContract) {
  std::string out;
  AppendMetricsCsvHeader(out);
  EXPECT_EQ(out, "sensor,year,month,mean_temp,max_temp,max_sd,max_temp_diff,readings\n");
}

TEST(MetricsFormat, CsvRowFollowsTheHeaderAndLeavesAnAbsentDiffEmpty) {
  std::string out;
  AppendMetricsCsvRow(out, Sample(-0.5));
  AppendMetricsCsvRow(out, Sample(std::nullopt));
  EXPECT_EQ(out,
            "s-1,2024,3,12.5,14.25,0.1,-0.5,31\n"
            "s-1,2024,3,12.5,14.25,0.1,,31\n");
}

TEST(MetricsFormat, JsonObjectHasTheCsvColumnsInOrderAndNullForAnAbsentDiff) {
  std::string out;
  AppendMetricsJson(out, Sample(std::nullopt));
  EXPECT_EQ(out,
            "{\"sensor\":\"s-1\",\"year\":2024,\"month\":3,\"mean_temp\":12.5,"
            "\"max_temp\":14.25,\"max_sd\":0.1,\"max_temp_diff\":null,\"readings\":31}");
}

TEST(MetricsFormat, SeedRowKeepsItsOwnFiveColumns) {
  EXPECT_EQ(MetricsSeedCsv({Sample(2.0)}),
            "Ano,Mes,TempMediaMensual,TempMaxMensual,DiferenciaTempMax\n"
            "2024,3,12.5,14.25,2\n");
}

}  // namespace
}  // namespace aquasense::core
