// Dates and date-times as SPEC §2 accepts them, and their normalised form.
//
//   auto t = ParseDateTime("2024/2/29");       // optional<DateTime>
//   std::string iso = FormatDateTime(*t);      // "2024-02-29"
//   bool d = LooksLikeDate("2024-01-05T10:00"); // layout detection
//
// Pure functions, thread-safe. Accepted: YYYY/M/D, YYYY-M-D, and in the '-'
// form a time `hh:mm[:ss[.f...]]` after 'T' or ' ', then optional 'Z' or
// ±hh:mm. Only real calendar dates and times (no 24:00, no leap seconds).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/reading.h"

namespace aquasense::core {

// `civil`, when given, receives the date's year, month and day.
std::optional<DateTime> ParseDateTime(std::string_view s, CivilDate* civil = nullptr);

// True when `s`, a text ParseDateTime accepts, is already its normalised form
// (`YYYY-MM-DD`, or `YYYY-MM-DDThh:mm:ss` without fraction or offset), so it
// can be copied to the output instead of formatted.
bool IsCanonicalDateText(std::string_view s);

// Appends the normalised form (docs/contract.md) to `out`; returns chars written.
size_t FormatDateTimeTo(const DateTime& t, char* out);  // out needs 40 bytes
// Same, with the date already known (`c` must be the civil date of t.days).
size_t FormatDateTimeTo(const DateTime& t, const CivilDate& c, char* out);
std::string FormatDateTime(const DateTime& t);

// A month written `YYYY-MM` (exactly 4 and 2 digits, month 01..12) as a
// MonthIndex; nullopt for anything else. The one year-month parser (CLI
// --from/--to, the API's from=/to=).
std::optional<int32_t> ParseYearMonth(std::string_view s);
// Appends a MonthIndex as `YYYY-MM` (the year zero-padded to 4 digits).
void AppendYearMonth(std::string& out, int32_t month_index);

}  // namespace aquasense::core
