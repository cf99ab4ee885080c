#include "core/json_text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/metrics_format.h"

namespace aquasense::core {
namespace {

std::string Encoded(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

TEST(JsonString, EscapesQuoteBackslashAndControlCharacters) {
  EXPECT_EQ(Encoded("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(Encoded(std::string_view("\n\t\x01\x1f\x7f\0", 6)),
            R"("\u000a\u0009\u0001\u001f\u007f\u0000")");
}

TEST(JsonString, KeepsValidUtf8AsIs) {
  EXPECT_EQ(Encoded("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8c\x8a"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8c\x8a\"");
}

// D-JSON (review item 6: two AppendJsonString disagreed): the copy in
// core/metrics_format.cc passed invalid UTF-8 bytes through, so a sensor
// name or message with one made the output invalid JSON. This one escapes
// them and a strict parser accepts every output.
TEST(JsonString, InvalidUtf8BecomesEscapedCodePointsAndStaysValidJson) {
  EXPECT_EQ(Encoded("\xff"), R"("\u00ff")");
  EXPECT_EQ(Encoded("a\xc3"), R"("a\u00c3")");                    // truncated sequence
  EXPECT_EQ(Encoded("\xc0\xaf"), R"("\u00c0\u00af")");            // overlong '/'
  EXPECT_EQ(Encoded("\xed\xa0\x80"), R"("\u00ed\u00a0\u0080")");  // a surrogate
  for (std::string_view s : {"\xff\xfe", "\x80", "ok\xe2\x82", "\xf5\x80\x80\x80"}) {
    auto parsed = nlohmann::json::parse(Encoded(s), nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(parsed.is_discarded()) << Encoded(s);
  }
}

TEST(JsonNumber, NonFiniteAndEmptyAreNull) {
  std::string out;
  AppendJsonNumber(out, std::optional<double>());
  out += ',';
  AppendJsonNumber(out, 1.0 / 0.0);
  out += ',';
  AppendJsonNumber(out, 12.5);
  out += ',';
  AppendJsonInt(out, -42);
  EXPECT_EQ(out, "null,null,12.5,-42");
}

// One metrics renderer: the HTTP snapshot's view and MonthlyMetrics print
// the same bytes.
TEST(MetricsJson, ViewAndMonthlyMetricsRenderTheSame) {
  MonthlyMetrics m{.sensor = "s1",
                   .year = 2024,
                   .month = 2,
                   .mean_temp = 10.25,
                   .max_temp = 12,
                   .max_sd = 0.5,
                   .max_temp_diff = std::nullopt,
                   .readings = 7};
  std::string a;
  AppendMetricsJson(a, m);
  EXPECT_EQ(a, R"({"sensor":"s1","year":2024,"month":2,"mean_temp":10.25,"max_temp":12,)"
               R"("max_sd":0.5,"max_temp_diff":null,"readings":7})");
  std::string b;
  MetricsRow row = RowOf(m);
  AppendMetricsJson(b, row);
  EXPECT_EQ(a, b);
  m.max_temp_diff = -1.5;
  std::string c;
  AppendMetricsJson(c, m);
  EXPECT_NE(c.find(R"("max_temp_diff":-1.5,)"), std::string::npos) << c;
}

}  // namespace
}  // namespace aquasense::core
