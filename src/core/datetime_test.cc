#include "core/datetime.h"

#include <gtest/gtest.h>

#include <string_view>
#include <utility>
#include <vector>

namespace aquasense::core {
namespace {

std::string Norm(std::string_view s) {
  auto t = ParseDateTime(s);
  return t ? FormatDateTime(*t) : "invalid";
}

// Each input and its Norm().
void ExpectNorm(const std::vector<std::pair<std::string_view, std::string_view>>& cases) {
  for (const auto& [in, want] : cases) EXPECT_EQ(Norm(in), want) << in;
}

TEST(DateTime, AcceptsBothSeparatorsAndShortFields) {
  ExpectNorm(
      {{"2024/01/05", "2024-01-05"}, {"2024-1-5", "2024-01-05"}, {"2024/1/05", "2024-01-05"}});
}

TEST(DateTime, LeapDays) {
  ExpectNorm({{"2024/02/29", "2024-02-29"},
              {"2023/02/29", "invalid"},
              {"2000-02-29", "2000-02-29"},
              {"1900-02-29", "invalid"}});
}

TEST(DateTime, RejectsAmbiguousAndMalformed) {
  for (const char* s :
       {"08/11/2024", "2024-13-01", "2024-00-10", "2024-01-32", "24-01-01", "2024-01",
        "2024-01-01x", "2024-01/01", "", "20240101", "2024-001-01", "2024/01/01T10:00",
        "2024-01-01T24:00", "2024-01-01T10:60", "2024-01-01T10:00:60", "2024-01-01T10",
        "2024-01-01T10:00+1:00", "2024-01-01T10:00Zx", "2024-01-01T10:00:00."})
    EXPECT_EQ(Norm(s), "invalid") << s;
}

TEST(DateTime, TimesAndOffsets) {
  ExpectNorm({{"2024-01-05T10:30", "2024-01-05T10:30:00"},
              {"2024-01-05 10:30:15", "2024-01-05T10:30:15"},
              {"2024-01-05T10:30:15.5", "2024-01-05T10:30:15.500"},
              {"2024-01-05T10:30:15.123456", "2024-01-05T10:30:15.123"},
              {"2024-01-05T10:30Z", "2024-01-05T10:30:00Z"},
              {"2024-01-05T10:30+00:00", "2024-01-05T10:30:00Z"},
              {"2024-01-05T10:30-03:30", "2024-01-05T10:30:00-03:30"}});
}

TEST(DateTime, SameValueWhateverTheSpelling) {
  EXPECT_EQ(*ParseDateTime("2024/01/03"), *ParseDateTime("2024-1-3"));
  EXPECT_NE(*ParseDateTime("2024-01-03"), *ParseDateTime("2024-01-03T00:00"));
  EXPECT_EQ(*ParseDateTime("2024-01-03T00:00"), *ParseDateTime("2024-01-03 00:00:00.000"));
}

TEST(DateTime, MonthIndexIsTheWrittenMonth) {
  EXPECT_EQ(MonthIndexOf(*ParseDateTime("2024-01-31T23:30-05:00")), MonthIndex(2024, 1));
  EXPECT_EQ(YearOf(MonthIndex(2024, 12)), 2024);
  EXPECT_EQ(MonthOf(MonthIndex(2024, 12)), 12);
}

TEST(DateTime, CanonicalTextIsItsOwnNormalisedForm) {
  for (const char* s : {"2024-01-03", "0001-12-31", "2024-02-29T23:59:59", "2024-01-03T00:00:00"}) {
    EXPECT_TRUE(IsCanonicalDateText(s)) << s;
    EXPECT_EQ(Norm(s), s);
  }
  for (const char* s :
       {"2024/01/03", "2024-1-03", "2024-01-3", "2024-1-3", "2024-01-03 10:00:00",
        "2024-01-03T10:00", "2024-01-03T10:00:00Z", "2024-01-03T10:00:00.000",
        "2024-01-03T10:00:00.5", "2024-01-03T10:00:00+01:00", "2024-1-3T10:00:00Z"}) {
    ASSERT_TRUE(ParseDateTime(s).has_value()) << s;
    EXPECT_FALSE(IsCanonicalDateText(s) && Norm(s) != s) << s;
    EXPECT_FALSE(IsCanonicalDateText(s)) << s;
  }
}

TEST(DateTime, CivilRoundTrip) {
  for (int32_t d = -800000; d < 2'900'000; d += 37) {
    const CivilDate c = CivilFromDays(d);
    ASSERT_EQ(DaysFromCivil(c.year, c.month, c.day), d);
  }
}

// One year-month parser (was three: cli/main.cc, http/query.cc and the
// handlers' formatter).
TEST(YearMonth, ParsesOnlyFourDigitsDashTwoDigits) {
  EXPECT_EQ(ParseYearMonth("2024-01"), MonthIndex(2024, 1));
  EXPECT_EQ(ParseYearMonth("0000-12"), MonthIndex(0, 12));
  for (std::string_view bad :
       {"2024-00", "2024-13", "2024-1", "24-01", "2024/01", "2024-01 ", "+024-01", "2024-0a", ""}) {
    EXPECT_FALSE(ParseYearMonth(bad).has_value()) << bad;
  }
}

TEST(YearMonth, FormatIsTheInverseOfParse) {
  for (std::string_view s : {"2024-01", "1999-12", "0042-06"}) {
    std::string out;
    AppendYearMonth(out, *ParseYearMonth(s));
    EXPECT_EQ(out, s);
  }
}

}  // namespace
}  // namespace aquasense::core
