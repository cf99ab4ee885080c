// Redaction of delivery errors (M4) and the one-alert-per-file rendering and
// filtering (M7).
#include "notify/redact.h"

#include <gtest/gtest.h>

#include "notify/format.h"
#include "notify/notifier.h"
#include "storage/test_records.h"

namespace aquasense::notify {
namespace {

TEST(Redact, M4_UrlKeepsOnlySchemeHostAndPort) {
  EXPECT_EQ(RedactUrl("http://user:hunter2@127.0.0.1:18199/hooks/T0SECRET/B0SECRET?k=v#f"),
            "http://127.0.0.1:18199/\u2026");
  EXPECT_EQ(RedactUrl("https://hooks.example.org/"), "https://hooks.example.org");
  EXPECT_EQ(RedactUrl("https://hooks.example.org"), "https://hooks.example.org");
  EXPECT_EQ(RedactUrl("http://h?token=QSECRET"), "http://h/\u2026");
  EXPECT_EQ(RedactUrl("smtps://me:pw@mail:465"), "smtps://mail:465");
  EXPECT_EQ(RedactUrl("not a url"), "\u2026");
  EXPECT_EQ(RedactUrl(""), "");
}

TEST(Redact, M4_UrlsInsideText) {
  EXPECT_EQ(RedactUrls("x http://u:p@h:1/a/b?c y \"https://k@z/q\" end"),
            "x http://h:1/\u2026 y \"https://z/\u2026\" end");
  EXPECT_EQ(RedactUrls("no url here"), "no url here");
  // Punctuation after a URL stays; redacting twice changes nothing.
  const std::string once = RedactUrls("HTTP 500 from http://u:p@h:1/x?q: oops, (http://h2/y).");
  EXPECT_EQ(once, "HTTP 500 from http://h:1/\u2026: oops, (http://h2/\u2026).");
  EXPECT_EQ(RedactUrls(once), once);
  EXPECT_EQ(SafeError(once), once);
  EXPECT_EQ(RedactUrls("://weird"), "://weird");
}

TEST(Redact, M4_ResponseExcerptIsShortAndPrintable) {
  std::string body = "internal\r\n\toops \x01\x7f\xc3\xa9 " + std::string(100, 'x') + " SECRETTAIL";
  std::string e = ResponseExcerpt(body);
  EXPECT_EQ(e.rfind("internal oops ", 0), 0u) << e;
  EXPECT_EQ(e.size(), kResponseExcerptChars + 3);  // 64 + "..."
  EXPECT_EQ(e.find("SECRETTAIL"), std::string::npos);
  for (char c : e) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << static_cast<int>(c);
  // A URL in the answer is redacted before it is cut.
  EXPECT_EQ(ResponseExcerpt("see http://admin:pw@10.0.0.1/x"), "see http://10.0.0.1/\u2026");
  EXPECT_EQ(ResponseExcerpt(""), "");
}

TEST(Redact, M4_SafeErrorDropsControlsAndCaps) {
  EXPECT_EQ(SafeError("a\nb\x1b[31m http://u:p@h/x"), "a b[31m http://h/\u2026");
  EXPECT_LE(SafeError(std::string(1000, 'e')).size(), 303u);
}

storage::Alert ManySensorAlert() {
  storage::Alert a = testing::TestAlert("deviation", "", std::string(64, 'b'));
  a.id = 1;
  a.default_sensor = "default";
  a.source_name = "multi.csv";
  nlohmann::json first = nlohmann::json::array();
  for (int i = 0; i < 10; ++i) first.push_back("s" + std::to_string(100 + i));
  a.payload_json = nlohmann::json{{"kind", "deviation"},
                                  {"sd_limit", 0.5},
                                  {"counts", {{"readings_above_limit", 500}}},
                                  {"sensors", {{"count", 500}, {"first", first}}},
                                  {"examples", nlohmann::json::array()}}
                       .dump();
  return a;
}

TEST(Format, M7_OneAlertNamesItsSensors) {
  storage::Alert a = ManySensorAlert();
  EXPECT_EQ(AlertSummary(a),
            "deviation: 500 sensors (s100, s101, s102, ...), 500 readings with sd > 0.5 in "
            "multi.csv");
  nlohmann::json doc = WebhookDocument(a);
  EXPECT_EQ(doc["sensors"]["count"], 500);
  EXPECT_EQ(doc["sensors"]["first"].size(), 10u);
  EXPECT_EQ(doc["counts"]["sensors"], 500);
  EXPECT_NE(AlertText(a).find("Sensors: 500 sensors (s100"), std::string::npos);
  auto list = AlertListJson({{a, {}}});
  EXPECT_EQ(list["alerts"][0]["sensors"]["count"], 500);
}

TEST(Config, M7_SensorFilterOnAlertsAboutSeveralSensors) {
  ChannelConfig c;
  c.sensors = {"s105"};
  storage::Alert a = ManySensorAlert();
  EXPECT_TRUE(c.AcceptsAlert(a));  // listed among the first
  c.sensors = {"zz"};
  EXPECT_TRUE(c.AcceptsAlert(a));  // 490 sensors not listed: cannot tell, sent
  nlohmann::json p = nlohmann::json::parse(a.payload_json);
  p["sensors"]["count"] = 10;
  a.payload_json = p.dump();
  EXPECT_FALSE(c.AcceptsAlert(a));  // the whole list is known: none matches
  c.kinds = {"data_quality"};
  c.sensors = {};
  EXPECT_FALSE(c.AcceptsAlert(a));
  storage::Alert one = ManySensorAlert();
  one.sensor = "s1";
  c.kinds = {};
  c.sensors = {"s1"};
  EXPECT_TRUE(c.AcceptsAlert(one));
  c.sensors = {"s100"};
  EXPECT_FALSE(c.AcceptsAlert(one));
}

}  // namespace
}  // namespace aquasense::notify
