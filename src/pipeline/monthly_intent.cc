#include "pipeline/monthly_intent.h"

#include <charconv>

#include "common/crypto.h"
#include "core/metrics_format.h"
#include "core/reading.h"

namespace aquasense::pipeline::internal {

std::string IntentText(int64_t generation, const std::vector<std::string>& sensors) {
  std::string text = std::to_string(generation) + "\n";
  for (const std::string& s : sensors) text += s + "\n";
  return text + "#" + Sha256Hex(text) + "\n";
}

bool ParseIntent(std::string_view text, int64_t& generation, std::vector<std::string>& sensors,
                 bool& checked) {
  checked = false;
  if (const size_t mark = text.rfind("\n#"); mark != std::string_view::npos) {
    const std::string_view sum = text.substr(mark + 2);
    if (sum != Sha256Hex(text.substr(0, mark + 1)) + "\n") return false;
    text = text.substr(0, mark + 1);
    checked = true;
  }
  size_t nl = text.find('\n');
  if (nl == std::string_view::npos) return false;
  const std::string_view first = text.substr(0, nl);
  auto [end, ec] = std::from_chars(first.data(), first.data() + first.size(), generation);
  if (ec != std::errc() || end != first.data() + first.size()) return false;
  for (size_t start = nl + 1; start < text.size(); start = nl + 1) {
    nl = text.find('\n', start);
    if (nl == std::string_view::npos) return false;  // every line ends with \n
    sensors.emplace_back(text.substr(start, nl - start));
  }
  return true;
}

std::optional<size_t> RowsFrom(std::string_view text, std::string_view sensor,
                               int32_t first_month) {
  std::string header;
  core::AppendMetricsCsvHeader(header);
  if (!text.starts_with(header) || text.back() != '\n') return std::nullopt;
  size_t end = text.size();  // of the rows kept so far: [end, size) are replaced
  while (end > header.size()) {
    const size_t start = text.rfind('\n', end - 2) + 1;
    // sensor,year,month,...
    const std::string_view row = text.substr(start, end - start);
    if (!row.starts_with(sensor) || row.size() <= sensor.size() || row[sensor.size()] != ',')
      return std::nullopt;
    const size_t c1 = sensor.size();
    const size_t c2 = row.find(',', c1 + 1);
    const size_t c3 = c2 == std::string_view::npos ? c2 : row.find(',', c2 + 1);
    if (c3 == std::string_view::npos) return std::nullopt;
    int32_t year = 0, month = 0;
    auto y = std::from_chars(row.data() + c1 + 1, row.data() + c2, year);
    auto m = std::from_chars(row.data() + c2 + 1, row.data() + c3, month);
    if (y.ec != std::errc() || y.ptr != row.data() + c2 || m.ec != std::errc() ||
        m.ptr != row.data() + c3 || year < 0 || year > 9999 || month < 1 || month > 12)
      return std::nullopt;
    if (core::MonthIndex(year, month) < first_month) break;
    end = start;
  }
  return end;
}

}  // namespace aquasense::pipeline::internal
