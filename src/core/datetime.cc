#include "core/datetime.h"

#include <cstdio>

namespace aquasense::core {

// Hinnant's days_from_civil / civil_from_days (public domain algorithms).
int32_t DaysFromCivil(int32_t y, int32_t m, int32_t d) {
  y -= m <= 2;
  const int32_t era = (y >= 0 ? y : y - 399) / 400;
  const int32_t yoe = y - era * 400;
  const int32_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int32_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilDate CivilFromDays(int32_t z) {
  z += 719468;
  const int32_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int32_t doe = z - era * 146097;
  const int32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int32_t y = yoe + era * 400;
  const int32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int32_t mp = (5 * doy + 2) / 153;
  const int32_t d = doy - (153 * mp + 2) / 5 + 1;
  const int32_t m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

bool IsLeapYear(int32_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int32_t DaysInMonth(int32_t y, int32_t m) {
  static constexpr int32_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

namespace {

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads 1..max_digits digits at s[i]; advances i. Returns -1 when none.
inline int ReadNumber(std::string_view s, size_t& i, int min_digits, int max_digits) {
  int v = 0, n = 0;
  while (i < s.size() && n < max_digits && IsDigit(s[i])) {
    v = v * 10 + (s[i] - '0');
    ++i;
    ++n;
  }
  if (n < min_digits) return -1;
  if (i < s.size() && IsDigit(s[i])) return -1;  // too many digits
  return v;
}

}  // namespace

std::optional<DateTime> ParseDateTime(std::string_view s, CivilDate* civil) {
  size_t i = 0;
  const int year = ReadNumber(s, i, 4, 4);
  if (year < 0 || i >= s.size()) return std::nullopt;
  const char sep = s[i];
  if (sep != '-' && sep != '/') return std::nullopt;
  ++i;
  const int month = ReadNumber(s, i, 1, 2);
  if (month < 1 || month > 12 || i >= s.size() || s[i] != sep) return std::nullopt;
  ++i;
  const int day = ReadNumber(s, i, 1, 2);
  if (day < 1 || day > DaysInMonth(year, month)) return std::nullopt;

  DateTime t;
  t.days = DaysFromCivil(year, month, day);
  if (civil != nullptr) *civil = {year, month, day};
  if (i == s.size()) return t;
  if (sep != '-' || (s[i] != 'T' && s[i] != ' ')) return std::nullopt;
  ++i;
  const int hh = ReadNumber(s, i, 2, 2);
  if (hh < 0 || hh > 23 || i >= s.size() || s[i] != ':') return std::nullopt;
  ++i;
  const int mm = ReadNumber(s, i, 2, 2);
  if (mm < 0 || mm > 59) return std::nullopt;
  int ss = 0, ms = 0;
  if (i < s.size() && s[i] == ':') {
    ++i;
    ss = ReadNumber(s, i, 2, 2);
    if (ss < 0 || ss > 59) return std::nullopt;
    if (i < s.size() && s[i] == '.') {
      ++i;
      int digits = 0;
      while (i < s.size() && IsDigit(s[i]) && digits < 9) {
        if (digits < 3) ms = ms * 10 + (s[i] - '0');
        ++digits;
        ++i;
      }
      if (digits == 0 || (i < s.size() && IsDigit(s[i]))) return std::nullopt;
      for (int d = digits; d < 3; ++d) ms *= 10;
    }
  }
  t.ms_of_day = ((hh * 60 + mm) * 60 + ss) * 1000 + ms;
  if (i == s.size()) return t;
  if (s[i] == 'Z') {
    t.offset_min = 0;
    return i + 1 == s.size() ? std::optional<DateTime>(t) : std::nullopt;
  }
  if (s[i] != '+' && s[i] != '-') return std::nullopt;
  const int sign = s[i] == '-' ? -1 : 1;
  ++i;
  const int oh = ReadNumber(s, i, 2, 2);
  if (oh < 0 || oh > 23 || i >= s.size() || s[i] != ':') return std::nullopt;
  ++i;
  const int om = ReadNumber(s, i, 2, 2);
  if (om < 0 || om > 59 || i != s.size()) return std::nullopt;
  t.offset_min = static_cast<int16_t>(sign * (oh * 60 + om));
  return t;
}

bool IsCanonicalDateText(std::string_view s) {
  // ParseDateTime took 4 year digits and 1–2 digits for the other fields: the
  // separators' places show that every field had its full width.
  if (s.size() != 10 && s.size() != 19) return false;
  if (s[4] != '-' || s[7] != '-') return false;
  return s.size() == 10 || (s[10] == 'T' && s[13] == ':' && s[16] == ':');
}

namespace {
inline char* Put2(char* p, int v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
  return p + 2;
}
}  // namespace

size_t FormatDateTimeTo(const DateTime& t, char* out) {
  return FormatDateTimeTo(t, CivilFromDays(t.days), out);
}

size_t FormatDateTimeTo(const DateTime& t, const CivilDate& c, char* out) {
  char* p = out;
  int y = c.year;
  if (y < 0 || y > 9999) y = 0;  // unreachable for parsed input (4-digit years)
  p = Put2(p, y / 100);
  p = Put2(p, y % 100);
  *p++ = '-';
  p = Put2(p, c.month);
  *p++ = '-';
  p = Put2(p, c.day);
  if (t.has_time()) {
    int ms = t.ms_of_day;
    *p++ = 'T';
    p = Put2(p, ms / 3'600'000);
    *p++ = ':';
    p = Put2(p, ms / 60'000 % 60);
    *p++ = ':';
    p = Put2(p, ms / 1000 % 60);
    if (ms % 1000 != 0) {
      *p++ = '.';
      *p++ = static_cast<char>('0' + ms % 1000 / 100);
      p = Put2(p, ms % 100);
    }
    if (t.has_offset()) {
      if (t.offset_min == 0) {
        *p++ = 'Z';
      } else {
        int o = t.offset_min;
        *p++ = o < 0 ? '-' : '+';
        if (o < 0) o = -o;
        p = Put2(p, o / 60);
        *p++ = ':';
        p = Put2(p, o % 60);
      }
    }
  }
  return static_cast<size_t>(p - out);
}

std::string FormatDateTime(const DateTime& t) {
  char buf[40];
  return std::string(buf, FormatDateTimeTo(t, buf));
}

std::optional<int32_t> ParseYearMonth(std::string_view s) {
  if (s.size() != 7 || s[4] != '-') return std::nullopt;
  int32_t digits[6];
  int k = 0;
  for (size_t i : {0, 1, 2, 3, 5, 6}) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    digits[k++] = s[i] - '0';
  }
  const int32_t year = digits[0] * 1000 + digits[1] * 100 + digits[2] * 10 + digits[3];
  const int32_t month = digits[4] * 10 + digits[5];
  if (month < 1 || month > 12) return std::nullopt;
  return MonthIndex(year, month);
}

void AppendYearMonth(std::string& out, int32_t month_index) {
  char buf[16];
  const int n = std::snprintf(buf, sizeof buf, "%04d-%02d", static_cast<int>(YearOf(month_index)),
                              static_cast<int>(MonthOf(month_index)));
  out.append(buf, static_cast<size_t>(n));
}

}  // namespace aquasense::core
