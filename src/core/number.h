// Numbers as SPEC §2 accepts them, and the one way AquaSense prints them.
//
//   std::optional<double> v = ParseNumber("12,5", /*decimal_comma=*/true);  // 12.5
//   std::string s = FormatNumber(12.5);                                     // "12.5"
//
// Pure functions, thread-safe. Accepted: [+-]? (d+ [. d*] | . d+) ([eE][+-]?d+)?;
// no hex, '_', separators, NaN or Infinity; a value that overflows a double,
// or a nonzero one that underflows to 0 or to a subnormal (1e-400, 1e-310),
// is rejected. -0 becomes 0. Printing: the shortest round-trip digits in fixed
// notation for 0 and 1e-5 <= |x| < 1e16, else std::to_chars' shortest form.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace aquasense::core {

std::optional<double> ParseNumber(std::string_view s, bool decimal_comma);
// The same, and how the value prints: `*printed_len` receives n > 0 when
// FormatNumber(value) is s.substr(0, n) (the text was canonical, perhaps with
// trailing fraction zeros: "12.50" -> 4), else 0. Faster for short plain
// decimals than the two calls it replaces.
std::optional<double> ParseNumber(std::string_view s, bool decimal_comma, size_t* printed_len);

// Writes the printed form of `v` to out (needs 32 bytes); returns its length.
size_t FormatNumberTo(double v, char* out);
std::string FormatNumber(double v);
// Appends the printed form of `v` to `out`.
void AppendNumber(std::string& out, double v);

// Prints `v`, known to be a canonical decimal with `scale` decimals (see
// IsCanonicalNumberText), exactly as FormatNumberTo would, with integer
// arithmetic only. Needs 32 bytes.
size_t FormatScaledTo(double v, int scale, char* out);

// True when `text` is a number that prints as itself: then it can be copied
// to the output instead of formatting the parsed double (hot-path shortcut).
bool IsCanonicalNumberText(std::string_view text);

}  // namespace aquasense::core
