#include "core/number.h"

#include <fast_float/fast_float.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace aquasense::core {

namespace {

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

constexpr double kExact10[] = {1,   1e1, 1e2, 1e3,  1e4,  1e5,  1e6, 1e7,
                               1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

std::optional<double> ParseGeneral(std::string_view s, bool decimal_comma);

// The length of the prefix of `s` (a short plain decimal, see below) that
// FormatNumberTo prints for its value: `s` without trailing fraction zeros
// when that is canonical (IsCanonicalNumberText), else 0.
size_t PrintedPrefix(std::string_view s, size_t int_start, size_t int_len, size_t frac_start) {
  if (int_len > 1 && s[int_start] == '0') return 0;  // leading zero
  size_t end = s.size();
  if (frac_start != 0) {
    while (end > frac_start && s[end - 1] == '0') --end;
    if (end == frac_start) --end;  // no fraction digit left: drop the point
  }
  if (int_len == 1 && s[int_start] == '0') {
    if (frac_start == 0 || end < frac_start) return 0;  // zero: "0", "-0", "0.00" print as "0"
    size_t zeros = 0;
    while (s[frac_start + zeros] == '0') ++zeros;
    if (zeros > 4) return 0;  // below 1e-5
  }
  return end;
}

}  // namespace

std::optional<double> ParseNumber(std::string_view s, bool decimal_comma, size_t* printed_len) {
  // Hand-rolled fast path for the form nearly every input number has,
  // -?d+(.d+)? with at most 15 digits: the digits are an integer below 2^53
  // and 10^decimals is exact, so one IEEE division gives the correctly
  // rounded value, the same double fast_float returns (Clinger's fast path),
  // without copying the text or fast_float's general machinery. The same scan
  // tells whether the text is already the printed form.
  const size_t n = s.size();
  size_t i = n > 0 && s[0] == '-' ? 1 : 0;
  const size_t int_start = i;
  uint64_t mantissa = 0;
  while (i < n && IsDigit(s[i])) mantissa = mantissa * 10 + static_cast<uint64_t>(s[i++] - '0');
  const size_t int_len = i - int_start;
  size_t frac_start = 0, frac_len = 0;
  if (i < n && s[i] == '.' && int_len > 0) {
    frac_start = ++i;
    while (i < n && IsDigit(s[i])) mantissa = mantissa * 10 + static_cast<uint64_t>(s[i++] - '0');
    frac_len = i - frac_start;
  }
  if (i == n && int_len > 0 && (frac_start == 0 || frac_len > 0) && int_len + frac_len <= 15) {
    double v = static_cast<double>(mantissa) / kExact10[frac_len];
    if (int_start == 1) v = -v;
    if (v == 0) v = 0;  // -0 -> 0
    if (printed_len != nullptr) *printed_len = PrintedPrefix(s, int_start, int_len, frac_start);
    return v;
  }
  if (printed_len != nullptr) *printed_len = IsCanonicalNumberText(s) ? n : 0;
  return ParseGeneral(s, decimal_comma);
}

std::optional<double> ParseNumber(std::string_view s, bool decimal_comma) {
  return ParseNumber(s, decimal_comma, nullptr);
}

namespace {

std::optional<double> ParseGeneral(std::string_view s, bool decimal_comma) {
  // Validate the grammar by hand (fast_float alone would accept "inf", "nan"
  // and stop early at "1_000"), then let fast_float do the exact conversion.
  if (s.empty() || s.size() > 400) return std::nullopt;
  char buf[401];
  size_t n = 0, i = 0;
  if (s[0] == '+') {
    i = 1;  // fast_float (like from_chars) does not take a leading '+'
  } else if (s[0] == '-') {
    buf[n++] = '-';
    i = 1;
  }
  size_t int_digits = 0, frac_digits = 0;
  bool nonzero = false;  // a digit other than 0: the value is not zero
  while (i < s.size() && IsDigit(s[i])) nonzero |= s[i] != '0', buf[n++] = s[i++], ++int_digits;
  if (i < s.size() && (s[i] == '.' || (decimal_comma && s[i] == ','))) {
    buf[n++] = '.';
    ++i;
    while (i < s.size() && IsDigit(s[i])) nonzero |= s[i] != '0', buf[n++] = s[i++], ++frac_digits;
  }
  if (int_digits + frac_digits == 0) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    buf[n++] = 'e';
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) buf[n++] = s[i++];
    size_t exp_digits = 0;
    while (i < s.size() && IsDigit(s[i])) buf[n++] = s[i++], ++exp_digits;
    if (exp_digits == 0) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  double v = 0;
  auto r = fast_float::from_chars(buf, buf + n, v);
  if (r.ec != std::errc() || r.ptr != buf + n || !std::isfinite(v)) return std::nullopt;
  // Underflow is invalid like overflow: a nonzero text that reads as 0 or
  // as a subnormal (below DBL_MIN, precision lost).
  if (nonzero && std::fabs(v) < std::numeric_limits<double>::min()) return std::nullopt;
  if (v == 0) v = 0;  // -0 -> 0
  return v;
}

}  // namespace

size_t FormatNumberTo(double v, char* out) {
  if (v == 0) {
    out[0] = '0';
    return 1;
  }
  const double a = std::fabs(v);
  const auto fmt = (a >= 1e-5 && a < 1e16) ? std::chars_format::fixed : std::chars_format::general;
  auto r = std::to_chars(out, out + 32, v, fmt);
  return static_cast<size_t>(r.ptr - out);
}

std::string FormatNumber(double v) {
  char buf[32];
  return std::string(buf, FormatNumberTo(v, buf));
}

void AppendNumber(std::string& out, double v) {
  char buf[32];
  out.append(buf, FormatNumberTo(v, buf));
}

size_t FormatScaledTo(double v, int scale, char* out) {
  static constexpr double kPow10[] = {1,   1e1, 1e2, 1e3,  1e4,  1e5,  1e6, 1e7,
                                      1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  if (scale < 0 || scale > 15) return FormatNumberTo(v, out);
  // |v| * 10^scale < 10^15 < 2^53: the rounding recovers the written mantissa.
  int64_t m = std::llround(v * kPow10[scale]);
  char* p = out;
  if (m < 0) {
    *p++ = '-';
    m = -m;
  }
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + m % 10);
    m /= 10;
  } while (m > 0);
  while (n <= scale) digits[n++] = '0';  // at least one digit before the point
  for (int i = n - 1; i >= 0; --i) {
    *p++ = digits[i];
    if (i == scale && scale > 0) *p++ = '.';
  }
  return static_cast<size_t>(p - out);
}

bool IsCanonicalNumberText(std::string_view t) {
  // -?(0|[1-9]d*)(.d*[1-9])? with at most 15 significant digits and |x| >= 1e-5:
  // such a decimal is the shortest round-trip form of its double, and fixed
  // notation is what FormatNumberTo picks for it.
  size_t i = 0;
  if (i < t.size() && t[i] == '-') ++i;
  if (i >= t.size() || !IsDigit(t[i])) return false;
  const size_t int_start = i;
  while (i < t.size() && IsDigit(t[i])) ++i;
  const size_t int_len = i - int_start;
  const bool int_zero = int_len == 1 && t[int_start] == '0';
  if (int_len > 1 && t[int_start] == '0') return false;
  size_t frac_len = 0, leading_zeros = 0;
  if (i < t.size()) {
    if (t[i] != '.') return false;
    ++i;
    const size_t frac_start = i;
    while (i < t.size() && IsDigit(t[i])) ++i;
    frac_len = i - frac_start;
    if (i != t.size() || frac_len == 0 || t[i - 1] == '0') return false;
    while (leading_zeros < frac_len && t[frac_start + leading_zeros] == '0') ++leading_zeros;
  }
  if (int_zero && frac_len == 0) return false;  // "0" and "-0": the formatter's job
  if (int_zero && leading_zeros > 4) return false;  // below 1e-5
  const size_t sig = int_zero ? frac_len - leading_zeros : int_len + frac_len;
  return sig <= 15;
}

}  // namespace aquasense::core
