#include "http/query.h"

#include <gtest/gtest.h>

namespace aquasense::http {
namespace {

TEST(SplitTarget, PathAndQuery) {
  Target t = SplitTarget("/temp?year=2024&month=1#frag");
  EXPECT_EQ(t.path, "/temp");
  EXPECT_EQ(t.query, "year=2024&month=1");
  EXPECT_EQ(SplitTarget("/health").query, "");
}

TEST(SplitTarget, L2_AbsoluteFormIsServedAsItsPath) {
  Target t = SplitTarget("http://evil.example/temp?year=2024&month=1");
  EXPECT_EQ(t.path, "/temp");
  EXPECT_EQ(t.query, "year=2024&month=1");
  EXPECT_EQ(SplitTarget("HTTPS://h:8080/health").path, "/health");
  EXPECT_EQ(SplitTarget("http://h").path, "/");
  t = SplitTarget("http://h?year=1");
  EXPECT_EQ(t.path, "/");
  EXPECT_EQ(t.query, "year=1");
  EXPECT_EQ(SplitTarget("http:/x").path, "http:/x");  // not absolute form: 404 later
  EXPECT_EQ(SplitTarget("ftp://h/temp").path, "ftp://h/temp");
}

TEST(PercentDecode, Escapes) {
  EXPECT_EQ(*PercentDecode("a%20b+c", true), "a b c");
  EXPECT_EQ(*PercentDecode("a+b", false), "a+b");
  EXPECT_FALSE(PercentDecode("%2", true));
  EXPECT_FALSE(PercentDecode("%zz", true));
  EXPECT_FALSE(PercentDecode("%00", true));
  EXPECT_FALSE(PercentDecode("abc%", true));
}

TEST(QueryParams, ParsesAndRejectsDuplicates) {
  QueryParams q;
  std::string err;
  ASSERT_TRUE(QueryParams::Parse("year=2024&month=01&&flag", q, err));
  EXPECT_EQ(*q.Get("year"), "2024");
  EXPECT_EQ(*q.Get("month"), "01");
  EXPECT_EQ(*q.Get("flag"), "");
  EXPECT_EQ(q.Get("sensor"), nullptr);
  EXPECT_FALSE(QueryParams::Parse("year=1&year=2", q, err));
  EXPECT_NE(err.find("more than once"), std::string::npos);
  EXPECT_FALSE(QueryParams::Parse("year=%G1", q, err));
  std::string many;
  for (int i = 0; i < 40; ++i) many += "p" + std::to_string(i) + "=1&";
  EXPECT_FALSE(QueryParams::Parse(many, q, err));
}

TEST(ParseYear, Strict) {
  std::string err;
  EXPECT_EQ(ParseYear("2024", err), 2024);
  EXPECT_EQ(ParseYear("0", err), 0);
  EXPECT_EQ(ParseYear("9999", err), 9999);
  for (const char* bad :
       {"", "-1", "+2024", "2024a", " 2024", "20240", "1e3", "99999999999999999999", "２０２４"}) {
    EXPECT_FALSE(ParseYear(bad, err)) << bad;
  }
}

TEST(ParseMonth, Strict) {
  std::string err;
  EXPECT_EQ(ParseMonth("1", err), 1);
  EXPECT_EQ(ParseMonth("01", err), 1);
  EXPECT_EQ(ParseMonth("12", err), 12);
  for (const char* bad : {"", "0", "13", "1abc", "001", "-1", "1.0", "4294967297"}) {
    EXPECT_FALSE(ParseMonth(bad, err)) << bad;
  }
}

TEST(ParseYearMonth, Strict) {
  std::string err;
  EXPECT_EQ(ParseYearMonth("2024-01", "from", err), 2024 * 12);
  EXPECT_EQ(ParseYearMonth("2024-12", "from", err), 2024 * 12 + 11);
  for (const char* bad : {"2024-1", "2024-13", "2024-00", "24-01", "2024/01", "2024-01-01", ""}) {
    EXPECT_FALSE(ParseYearMonth(bad, "from", err)) << bad;
  }
  EXPECT_NE(err.find("from"), std::string::npos);
}

TEST(SensorId, Charset) {
  const std::vector<std::pair<std::string, bool>> cases = {
      {"default", true},
      {"A-b_c.9", true},
      {std::string(64, 'x'), true},
      {std::string(65, 'x'), false},
      {"", false},
      {"a b", false},
      {"a/b", false},
      // L3: the same rule as core's: ids that collide with the layout.
      {"..", false},
      {".", false},
      {".tmp", false},
  };
  for (const auto& [id, want] : cases) EXPECT_EQ(IsValidSensorId(id), want) << id;
}

}  // namespace
}  // namespace aquasense::http
