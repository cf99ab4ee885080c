#include "core/number.h"

#include <fast_float/fast_float.h>

#include <charconv>
#include <cmath>
#include <cstring>

namespace aquasense::core {

namespace {
inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
}  // namespace

namespace {
// -?d+(.d+)?: the form nearly every input number has. fast_float reads it
// exactly as written, so it needs no copy into the grammar's normal form.
bool IsPlainDecimal(std::string_view s) {
  size_t i = !s.empty() && s[0] == '-' ? 1 : 0;
  const size_t int_start = i;
  while (i < s.size() && IsDigit(s[i])) ++i;
  if (i == int_start) return false;
  if (i == s.size()) return true;
  if (s[i] != '.') return false;
  const size_t frac_start = ++i;
  while (i < s.size() && IsDigit(s[i])) ++i;
  return i == s.size() && i > frac_start;
}
}  // namespace

std::optional<double> ParseNumber(std::string_view s, bool decimal_comma) {
  // Validate the grammar by hand (fast_float alone would accept "inf", "nan"
  // and stop early at "1_000"), then let fast_float do the exact conversion.
  if (s.empty() || s.size() > 400) return std::nullopt;
  if (IsPlainDecimal(s)) {
    double v = 0;
    auto r = fast_float::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
    if (v == 0) v = 0;  // -0 -> 0
    return v;
  }
  char buf[401];
  size_t n = 0, i = 0;
  if (s[0] == '+') {
    i = 1;  // fast_float (like from_chars) does not take a leading '+'
  } else if (s[0] == '-') {
    buf[n++] = '-';
    i = 1;
  }
  size_t int_digits = 0, frac_digits = 0;
  while (i < s.size() && IsDigit(s[i])) buf[n++] = s[i++], ++int_digits;
  if (i < s.size() && (s[i] == '.' || (decimal_comma && s[i] == ','))) {
    buf[n++] = '.';
    ++i;
    while (i < s.size() && IsDigit(s[i])) buf[n++] = s[i++], ++frac_digits;
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
  if (v == 0) v = 0;  // -0 -> 0
  return v;
}

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
