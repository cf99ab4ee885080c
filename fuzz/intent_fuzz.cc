// SOURCES: src/pipeline/monthly_intent.cc src/common/crypto.cc src/core/metrics_format.cc src/core/number.cc src/core/datetime.cc src/core/json_text.cc
// FLAGS: -lnettle
// libFuzzer target over the parsers of what analysis/ holds (read back from
// the object store, possibly torn or damaged): the intent record
// (ParseIntent) and the search for a monthly file's changed rows
// (RowsFrom). Arbitrary bytes must give "malformed" or a consistent answer,
// never a crash, an over-read or undefined behaviour.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/metrics_format.h"
#include "pipeline/monthly_intent.h"

using namespace aquasense::pipeline::internal;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  // Byte 0: the month searched for; byte 1: the sensor's length; then the sensor, then the text.
  const int32_t first_month = 2024 * 12 + static_cast<int8_t>(data[0]) * 7;
  const size_t sensor_len = std::min<size_t>(data[1] % 16, size - 2);
  const std::string_view sensor = all.substr(2, sensor_len);
  const std::string_view text = all.substr(2 + sensor_len);

  // Intent: as given, and sealed with its own checksum (then it must parse
  // back to the same lines).
  int64_t generation = 0;
  std::vector<std::string> sensors;
  bool checked = false;
  (void)ParseIntent(text, generation, sensors, checked);
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string_view::npos; start = nl + 1)
    lines.emplace_back(text.substr(start, nl - start));
  const std::string sealed = IntentText(static_cast<int64_t>(size), lines);
  std::vector<std::string> back;
  if (!ParseIntent(sealed, generation, back, checked) || !checked ||
      generation != static_cast<int64_t>(size) || back != lines)
    std::abort();

  // RowsFrom: raw, and behind a real header.
  auto check_rows = [&](std::string_view t) {
    auto at = RowsFrom(t, sensor, first_month);
    if (at && (*at > t.size() || (*at < t.size() && t[*at - 1] != '\n'))) std::abort();
  };
  check_rows(text);
  std::string with_header;
  aquasense::core::AppendMetricsCsvHeader(with_header);
  with_header.append(text);
  check_rows(with_header);
  return 0;
}
