#include "core/number.h"

#include <fast_float/fast_float.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace aquasense::core {

namespace {

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

constexpr double kExact10[] = {1,   1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                               1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

std::optional<double> ParseGeneral(std::string_view s, bool decimal_comma);

// Accumulates the run of digits of `s` from `i` into `mantissa` (which
// wraps past 19 digits: callers check the count) and returns its end. Eight
// digits at a time with fast_float's SWAR helpers (one 64-bit load, a
// validity mask and three multiplies instead of eight compare/multiply
// steps): a full-precision number has 15-17 of them, and the byte loop was
// the largest single cost of parsing them (callgrind: ~190 of ~440
// instructions a number).
inline size_t ScanDigits(std::string_view s, size_t i, uint64_t& mantissa) {
  while (s.size() - i >= 8 && fast_float::is_made_of_eight_digits_fast(s.data() + i)) {
    mantissa = mantissa * 100'000'000 + fast_float::parse_eight_digits_unrolled(s.data() + i);
    i += 8;
  }
  // The last 1-7 bytes, when they end the text: the 8 bytes ending there
  // are loaded (no read past `s`) and those already scanned are replaced by
  // '0' digits, which add nothing; if the rest are all digits, one more SWAR
  // step takes them (the fraction of a full-precision number ends so).
  const size_t rest = s.size() - i;
  if (rest > 0 && rest < 8 && s.size() >= 8) {
    uint64_t word;
    std::memcpy(&word, s.data() + s.size() - 8, 8);
    const uint64_t scanned = ~uint64_t{0} >> (8 * rest);  // low bytes: before position i
    word = (word & ~scanned) | (0x3030303030303030ULL & scanned);
    if (fast_float::is_made_of_eight_digits_fast(word)) {
      static constexpr uint64_t kPow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000};
      mantissa = mantissa * kPow10[rest] + fast_float::parse_eight_digits_unrolled(word);
      return s.size();
    }
  }
  while (i < s.size() && IsDigit(s[i]))
    mantissa = mantissa * 10 + static_cast<uint64_t>(s[i++] - '0');
  return i;
}

// The double nearest to N / 10^f (N = `mantissa` of at most 19 digits, so
// exact in 64 bits; f = `frac_len` <= 19), negated when `negative`; the same
// double fast_float::from_chars returns for the text, which for <= 19
// digits runs exactly this compute_float step after its own scan (or
// Clinger's path, which gives the same correctly rounded value). Calling the
// step directly skips that second scan. In the rare case the step cannot
// decide (power2 < 0) the text goes to from_chars. False when the text does
// not convert to a finite double.
bool LongDecimalToDouble(std::string_view s, uint64_t mantissa, size_t frac_len, bool negative,
                         double& v) {
  using Binary = fast_float::binary_format<double>;
  const fast_float::adjusted_mantissa am =
      fast_float::compute_float<Binary>(-static_cast<int64_t>(frac_len), mantissa);
  if (am.power2 >= 0 && am.power2 < Binary::infinite_power()) {
    fast_float::to_float(negative, am, v);
    return true;
  }
  auto r = fast_float::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && std::isfinite(v);
}

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

// Whether FormatNumberTo(v) is exactly `s`, where `s` = -?d+.d+ is the
// decimal N / 10^f (N = `digits`, f fraction digits, up to 19 digits in all)
// that parses to v. The shortest round-trip form (std::to_chars, Ryu) is the
// decimal with the fewest fraction digits inside v's rounding interval, the
// nearest to v among those. So `s` prints as itself when it has canonical
// syntax, is the nearest f-digit decimal to v, and neither neighbour on the
// (f-1)-digit grid lies in the interval. All three are decided exactly in
// 128-bit integers, scaled by 10^f * 2^(1-q) for v = m * 2^q: then v is
// 2*m*10^f, half an ulp is 10^f and half a step of the f-digit grid 2^-q.
// Ties, the edge of the interval, a power-of-two m and magnitudes out of
// range go to FormatNumberTo itself, so the answer is always exact.
bool LongDecimalPrintsAsItself(std::string_view s, size_t int_start, size_t frac_start,
                               uint64_t digits, double v) {
  const size_t int_len = frac_start - 1 - int_start;
  if (s.back() == '0' || (int_len > 1 && s[int_start] == '0')) return false;
  if (int_len == 1 && s[int_start] == '0') {
    size_t zeros = 0;
    while (s[frac_start + zeros] == '0') ++zeros;
    if (zeros > 4) return false;  // below 1e-5, or zero: other printed forms
  }
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  const int biased = static_cast<int>((bits >> 52) & 0x7FF);
  const uint64_t m = (bits & ((uint64_t{1} << 52) - 1)) | (uint64_t{1} << 52);
  const int q = biased - 1075;
  const size_t f = s.size() - frac_start;
  auto slow = [&] {
    char buf[32];
    return FormatNumberTo(v, buf) == s.size() && std::memcmp(buf, s.data(), s.size()) == 0;
  };
  if (biased == 0 || m == (uint64_t{1} << 52) || q > -1 || q < -62 || f > 22) return slow();
  __extension__ typedef unsigned __int128 U128;  // GCC and Clang on 64-bit targets
  static constexpr auto kPow10 = [] {
    std::array<U128, 23> t{};
    t[0] = 1;
    for (size_t k = 1; k < t.size(); ++k) t[k] = t[k - 1] * 10;
    return t;
  }();
  const U128 pow10f = kPow10[f];
  const int shift = 1 - q;  // 2..63
  const U128 scaled_v = U128{m} * pow10f * 2;
  const U128 half_ulp = pow10f;
  const U128 half_step = U128{1} << (shift - 1);
  // No data-dependent branch below (issue 11: the sign tests of a
  // distance were half of this function's time, mispredicted): the text's
  // distance test is one unsigned range check, and the two neighbours'
  // signs are known. `digits` does not end in 0 (checked above), so
  // lower <= digits - 1 and lower + 10 >= digits + 1; with the text less
  // than half a step (2^(shift-1)) from v, lower lies below v and lower + 10
  // above it, each by more than half a step.
  const U128 a = U128{digits} << shift;
  // |a - scaled_v| < half_step, i.e. a - scaled_v + half_step in (0, 2 * half_step).
  if (a - scaled_v + half_step - 1 >= 2 * half_step - 1) return slow();  // not nearest, or a tie
  const U128 lower = digits - digits % 10;
  const U128 dl = scaled_v - (lower << shift), du = ((lower + 10) << shift) - scaled_v;
  if (dl == half_ulp || du == half_ulp) return slow();  // on the interval's edge
  return dl > half_ulp && du > half_ulp;
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
  i = ScanDigits(s, i, mantissa);
  const size_t int_len = i - int_start;
  size_t frac_start = 0, frac_len = 0;
  if (i < n && s[i] == '.' && int_len > 0) {
    frac_start = ++i;
    i = ScanDigits(s, i, mantissa);
    frac_len = i - frac_start;
  }
  if (i == n && int_len > 0 && (frac_start == 0 || frac_len > 0) && int_len + frac_len <= 15) {
    double v = static_cast<double>(mantissa) / kExact10[frac_len];
    if (int_start == 1) v = -v;
    if (v == 0) v = 0;  // -0 -> 0
    if (printed_len != nullptr) *printed_len = PrintedPrefix(s, int_start, int_len, frac_start);
    return v;
  }
  if (i == n && int_len > 0 && frac_len > 0 && int_len + frac_len <= 19) {
    // Full-precision decimals (16-19 digits, the shape pandas and Excel
    // export): the scan above already checked the grammar and holds the
    // exact value N / 10^f, so the Eisel-Lemire step (LongDecimalToDouble)
    // converts it without a second pass over the text, and the cheap exact
    // test below usually decides whether it prints as itself without
    // formatting the value.
    double v = 0;
    if (LongDecimalToDouble(s, mantissa, frac_len, int_start == 1, v)) {
      if (v == 0) v = 0;  // -0 -> 0
      if (printed_len != nullptr) {
        *printed_len = LongDecimalPrintsAsItself(s, int_start, frac_start, mantissa, v) ? n : 0;
      }
      return v;
    }
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
  static constexpr double kPow10[] = {1,   1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
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
  if (int_zero && frac_len == 0) return false;      // "0" and "-0": the formatter's job
  if (int_zero && leading_zeros > 4) return false;  // below 1e-5
  const size_t sig = int_zero ? frac_len - leading_zeros : int_len + frac_len;
  return sig <= 15;
}

}  // namespace aquasense::core
