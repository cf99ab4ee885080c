#include "core/number.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <random>

namespace aquasense::core {
namespace {

TEST(Number, AcceptsPlainDecimals) {
  EXPECT_EQ(*ParseNumber("12.5", false), 12.5);
  EXPECT_EQ(*ParseNumber("-0.3", false), -0.3);
  EXPECT_EQ(*ParseNumber("+12", false), 12);
  EXPECT_EQ(*ParseNumber("1e1", false), 10);
  EXPECT_EQ(*ParseNumber(".5", false), 0.5);
  EXPECT_EQ(*ParseNumber("5.", false), 5);
  EXPECT_EQ(*ParseNumber("1E-2", false), 0.01);
  EXPECT_EQ(*ParseNumber("12,5", true), 12.5);
  EXPECT_FALSE(std::signbit(*ParseNumber("-0", false)));
}

TEST(Number, RejectsEverythingElse) {
  for (const char* s : {"",      "NaN",     "nan",  "inf",    "Infinity", "-inf", "0x10", "1_000",
                        "1,000", "1.000,5", "12,5", "1e",     "e5",       ".",    "-",    "+",
                        "1e400", "-1e400",  "12 5", "12.5.1", "--1",      "1e+"})
    EXPECT_FALSE(ParseNumber(s, false).has_value()) << s;
  EXPECT_FALSE(ParseNumber("1,000,5", true).has_value());
}

TEST(Number, L11UnderflowIsRejectedLikeOverflow) {
  for (const char* s : {"1e-400", "-1e-400", "0.1e-320", "1e-310", "4.9e-324", "0.0000001e-400"})
    EXPECT_FALSE(ParseNumber(s, false).has_value()) << s;
  for (const char* s : {"0", "-0", "0.0e5", "0e-400", "-0.0e0", "0.000"}) {
    ASSERT_TRUE(ParseNumber(s, false).has_value()) << s;
    EXPECT_EQ(*ParseNumber(s, false), 0) << s;
  }
  EXPECT_EQ(*ParseNumber("2.2250738585072014e-308", false), 2.2250738585072014e-308);  // DBL_MIN
  EXPECT_EQ(*ParseNumber("1e-300", false), 1e-300);
}

TEST(Number, FormatsShortestFixed) {
  EXPECT_EQ(FormatNumber(12.5), "12.5");
  EXPECT_EQ(FormatNumber(12.0), "12");
  EXPECT_EQ(FormatNumber(0.0), "0");
  EXPECT_EQ(FormatNumber(-0.0), "0");
  EXPECT_EQ(FormatNumber(0.0001), "0.0001");
  EXPECT_EQ(FormatNumber(1e-5), "0.00001");
  EXPECT_EQ(FormatNumber(1e-7), "1e-07");
  EXPECT_EQ(FormatNumber(12.149999999999999), "12.149999999999999");
  EXPECT_EQ(FormatNumber(0.1 + 0.2), "0.30000000000000004");
}

TEST(Number, ScaledFormattingMatchesTheGeneralOne) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200000; ++i) {
    char text[64];
    const int scale = static_cast<int>(rng() % 9);
    const long long mant = static_cast<long long>(rng() % 2000000) - 1000000;
    // Build a decimal text with `scale` decimals and check canonical ones.
    std::string s = std::to_string(mant < 0 ? -mant : mant);
    while (static_cast<int>(s.size()) <= scale) s = "0" + s;
    if (scale > 0) s.insert(s.size() - static_cast<size_t>(scale), ".");
    if (mant < 0) s = "-" + s;
    if (!IsCanonicalNumberText(s)) continue;
    const double v = *ParseNumber(s, false);
    const size_t n = FormatScaledTo(v, scale, text);
    ASSERT_EQ(std::string(text, n), FormatNumber(v)) << s;
    ASSERT_EQ(std::string(text, n), s);
  }
}

TEST(Number, PlainDecimalsParseLikeTheGeneralGrammar) {
  // The in-place path (-?d+(.d+)?) against the same value written in a form
  // that takes the copying path ('+' sign or exponent).
  std::mt19937_64 rng(11);
  for (int i = 0; i < 100000; ++i) {
    std::string s = std::to_string(rng() % 100000000);
    if (rng() % 2) s.insert(s.size() - rng() % s.size(), ".");
    if (s.front() == '.') s = "0" + s;
    if (s.back() == '.') s += "0";
    const auto plain = ParseNumber(s, false);
    ASSERT_TRUE(plain.has_value()) << s;
    ASSERT_EQ(*plain, *ParseNumber("+" + s + "e0", false)) << s;
    ASSERT_EQ(-*plain, *ParseNumber("-" + s, false)) << s;
  }
  EXPECT_EQ(*ParseNumber("007.50", false), 7.5);
  EXPECT_FALSE(std::signbit(*ParseNumber("-0.000", false)));
  EXPECT_FALSE(ParseNumber(std::string(310, '9'), false).has_value());  // overflows a double
  EXPECT_FALSE(ParseNumber("-", false).has_value());
  EXPECT_FALSE(ParseNumber("1.2.", false).has_value());
}

TEST(Number, I11_SwarScanOfLongDecimalsMatchesStrtod) {
  // The 8-digit SWAR steps, the overlapping step for the last 1-7 digits and
  // the direct Eisel-Lemire conversion (issue 11) against strtod, for every
  // length of 1-19 digits and every position of the point; a non-digit in
  // any position (the SWAR validity test) must still reject the text.
  std::mt19937_64 rng(1111);
  for (int i = 0; i < 200000; ++i) {
    const int digits = 1 + static_cast<int>(rng() % 19);
    std::string s;
    for (int d = 0; d < digits; ++d) s += static_cast<char>('0' + rng() % 10);
    if (digits > 1 && rng() % 4 != 0) s.insert(1 + rng() % (digits - 1), ".");
    if (rng() % 3 == 0) s = "-" + s;
    const auto v = ParseNumber(s, false);
    ASSERT_TRUE(v.has_value()) << s;
    double want = std::strtod(s.c_str(), nullptr);
    if (want == 0) want = 0;  // -0 -> 0
    ASSERT_EQ(*v, want) << s;
    ASSERT_FALSE(std::signbit(*v) && *v == 0) << s;
    std::string bad = s;
    bad[rng() % bad.size()] = "x:/ e"[rng() % 5];
    if (bad.find_first_of("x:/ ") != std::string::npos) {
      ASSERT_FALSE(ParseNumber(bad, false).has_value()) << bad;
    }
  }
  EXPECT_EQ(*ParseNumber("12.549188181281455", false), 12.549188181281455);
  EXPECT_EQ(*ParseNumber("0.3736595668933671", false), 0.3736595668933671);
  EXPECT_EQ(*ParseNumber("1234567.123456789", false), 1234567.123456789);
  EXPECT_FALSE(ParseNumber("12.54918818128145/", false).has_value());
  EXPECT_FALSE(ParseNumber("12.5491881812814:5", false).has_value());
  EXPECT_EQ(*ParseNumber("12.5491881812814e1", false), 125.491881812814);
}

TEST(Number, PrintedPrefixIsWhatFormatNumberPrints) {
  for (const char* s : {"12.5", "12.50", "12.00", "100", "100.0", "-0.25", "-0.250", "0.10",
                        "0.00001", "0.000010", "123456789012345", "1234567890123.40"}) {
    size_t n = 99;
    const auto v = ParseNumber(s, false, &n);
    ASSERT_TRUE(v.has_value()) << s;
    EXPECT_GT(n, 0u) << s;
    EXPECT_EQ(std::string_view(s).substr(0, n), FormatNumber(*v)) << s;
  }
  // Printed otherwise: zero, leading zero, tiny, sign, exponent, comma, too many digits.
  for (const char* s : {"0", "-0", "0.00", "-0.0", "012.5", "00.5", "0.000001", "0.0000010", "+12",
                        "1e1", ".5", "5.", "1234567890123456", "1234567890123.4560"}) {
    size_t n = 99;
    ASSERT_TRUE(ParseNumber(s, false, &n).has_value()) << s;
    EXPECT_EQ(n, 0u) << s;
  }
  size_t n = 99;
  EXPECT_EQ(*ParseNumber("12,5", true, &n), 12.5);
  EXPECT_EQ(n, 0u);
  EXPECT_FALSE(ParseNumber("12,5", false, &n).has_value());
  EXPECT_FALSE(ParseNumber("", false, &n).has_value());
  EXPECT_FALSE(ParseNumber("-", false, &n).has_value());
  EXPECT_FALSE(std::signbit(*ParseNumber("-0.00", false, &n)));
}

TEST(Number, PrintedPrefixOfRandomDecimals) {
  std::mt19937_64 rng(5);
  for (int i = 0; i < 200000; ++i) {
    std::string s = std::to_string(rng() % 10000000);
    s.insert(0, rng() % 3, '0');
    if (rng() % 4) s.insert(s.size() - rng() % s.size(), ".");
    if (s.front() == '.') s = "0" + s;
    if (s.back() == '.') s += "0";
    s.append(rng() % 3, '0');
    if (rng() % 2) s = "-" + s;
    size_t n = 0;
    const auto v = ParseNumber(s, false, &n);
    ASSERT_TRUE(v.has_value()) << s;
    ASSERT_EQ(*v, *ParseNumber("+" + s.substr(s[0] == '-' ? 1 : 0) + "e0", false) *
                      (s[0] == '-' ? -1 : 1))
        << s;
    if (n > 0) {
      ASSERT_EQ(s.substr(0, n), FormatNumber(*v)) << s;
    }
    if (IsCanonicalNumberText(s)) {
      ASSERT_EQ(n, s.size()) << s;
    }
  }
}

// Issue 11: full-precision text (16-19 digits, as pandas writes it) is told
// to print as itself by an exact 128-bit test instead of formatting the value.
// The answer must be exactly FormatNumber(value) == text, both ways.
TEST(Number, I11_LongDecimalsPrintAsThemselvesExactlyWhenFormatNumberAgrees) {
  std::mt19937_64 rng(1111);
  int printed_as_itself = 0;
  auto check = [&](const std::string& s) {
    size_t n = 99;
    const auto v = ParseNumber(s, false, &n);
    ASSERT_TRUE(v.has_value()) << s;
    const std::string f = FormatNumber(*v);
    // Exact both ways for plain decimals of up to 19 digits (the fast path);
    // longer text may be answered 0 (then formatted), never wrongly n.
    const size_t digits =
        std::count_if(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits <= 19 && s.find('e') == std::string::npos) {
      ASSERT_EQ(n, f == s ? s.size() : 0u) << s << " prints as " << f;
    } else if (n > 0) {
      ASSERT_EQ(s.substr(0, n), f) << s;
    }
    double ref = 0;
    std::from_chars(s.data(), s.data() + s.size(), ref);
    ASSERT_EQ(*v, ref == 0 ? 0 : ref) << s;
    printed_as_itself += n > 0;
  };
  for (int i = 0; i < 300000; ++i) {
    // The shortest form of random doubles over many magnitudes (canonical),
    // and random 16-19-digit decimals (mostly not).
    const double scale = std::ldexp(1.0, static_cast<int>(rng() % 80) - 40);
    double v = static_cast<double>(rng() >> 11) * 0x1p-53 * scale;
    if (rng() % 2) v = -v;
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
    check(std::string(buf, r.ptr));
    std::string d = std::to_string(rng() % 90 + 10);  // two integer digits
    d += '.';
    const int frac = 14 + static_cast<int>(rng() % 4);
    for (int k = 0; k < frac; ++k) d += static_cast<char>('0' + rng() % 10);
    check(d);
    d.back() = static_cast<char>('1' + rng() % 9);  // no trailing zero
    check(d);
  }
  EXPECT_GT(printed_as_itself, 300000);  // the test saw both answers
  for (const char* s : {"12.549188181281455", "0.3736595668933671", "-0.3736595668933671",
                        "0.1000000000000000055511151231257827", "9007199254740993.5",
                        "0.30000000000000004", "0.00001234567890123456", "123456789012345.67",
                        "0.00000123456789012345", "0.0000000000000000001"}) {
    check(s);
  }
  // A subnormal is bad_number (L11), on the fast path's length too.
  EXPECT_FALSE(ParseNumber("5e-324", false).has_value());
}

TEST(Number, CanonicalText) {
  const std::vector<std::pair<std::string_view, bool>> cases = {
      {"12.5", true}, {"-0.25", true}, {"7", true},       {"12.50", false},
      {"012", false}, {"0.05", true},  {"0.00001", true}, {"0.000001", false},
      {"+1", false},  {"1e3", false},  {"0", false},
  };
  for (const auto& [text, want] : cases) EXPECT_EQ(IsCanonicalNumberText(text), want) << text;
}

}  // namespace
}  // namespace aquasense::core
