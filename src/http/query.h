// Request-target parsing and strict parameter validation for the HTTP API.
//
//   auto t = SplitTarget("/temp?year=2024&month=1");   // path "/temp", query "year=..."
//   auto q = ParseQuery(t.query);                       // decoded name/value pairs
//   auto year = ParseYear(*q->Get("year"));             // 2024, or an error message
//
// Pure functions, thread-safe. Validation is deliberately strict: digits only
// (no sign, spaces, suffixes or exponent), bounded length so nothing can
// overflow. Errors come back as a one-sentence message for the 400 body.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/validate.h"

namespace aquasense::http {

struct Target {
  std::string_view path;   // raw (not percent-decoded)
  std::string_view query;  // after '?', raw; empty when absent
};

// Splits a request target into path and query. A fragment ('#...') is
// dropped. An absolute-form target ("http://host:8080/temp?year=2024", RFC
// 9112 §3.2.2; http or https, any case) is served as its path and query: the
// authority is ignored, as the Host header is, and an empty path is "/".
Target SplitTarget(std::string_view target);

// Decodes %XX escapes (and '+' as space when `plus_is_space`). Returns nothing
// for a malformed escape or a decoded NUL byte.
std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space);

class QueryParams {
 public:
  static constexpr size_t kMaxParams = 32;

  // Value of the parameter, or nullptr when absent.
  const std::string* Get(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

  // Parses a query string. Errors (as the 400 message): a malformed escape,
  // more than kMaxParams parameters, or a parameter given twice.
  static bool Parse(std::string_view query, QueryParams& out, std::string& error);

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

// `year`: 1 to 4 digits, 0..9999. Returns nothing (and sets `error`) otherwise.
std::optional<int32_t> ParseYear(std::string_view s, std::string& error);
// `month`: 1 or 2 digits, 1..12.
std::optional<int32_t> ParseMonth(std::string_view s, std::string& error);
// `YYYY-MM` (exactly 4 and 2 digits, month 01..12) as a month index.
std::optional<int32_t> ParseYearMonth(std::string_view s, std::string_view name,
                                      std::string& error);
// The one sensor-id rule (SPEC §2), core's: [A-Za-z0-9._-]{1,64}, not
// starting with '.'.
using core::IsValidSensorId;

}  // namespace aquasense::http
