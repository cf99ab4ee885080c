// Config parsing, rendering and request builders (no network).
#include <gtest/gtest.h>

#include "common/crypto.h"
#include "notify/channels.h"
#include "notify/format.h"
#include "notify/notifier.h"
#include "storage/test_records.h"

namespace aquasense::notify {
namespace {

using nlohmann::json;

storage::Alert DeviationAlert() {
  storage::Alert a = testing::TestAlert("deviation", "s1", std::string(64, 'a'),
                                        1'714'564'800'000);  // 2024-05-01T12:00:00Z
  a.id = 7;
  a.source_name = "data/readings.csv";
  a.payload_json =
      R"({"kind":"deviation","sensor":"s1","file":"data/readings.csv","sha256":"aa","sd_limit":0.5,"counts":{"readings_above_limit":3},"examples":[{"line":4,"date":"2024-01-03","temperature":12.5,"sd":0.7}]})";
  return a;
}

storage::Alert QualityAlert() {
  storage::Alert a = DeviationAlert();
  a.kind = "data_quality";
  a.sensor = "";
  a.payload_json =
      R"({"kind":"data_quality","sensor":"s1","file":"data/readings.csv","sha256":"aa","rows":10,"invalid":3,"counts":{"bad_date":2,"bad_number":1},"examples":[{"line":2,"reason":"bad_date","detail":"","raw":"x,1,2"}]})";
  return a;
}

TEST(Config, DefaultsToTheLogChannel) {
  auto a = ParseAlertsConfig(json::object());
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->sd_limit, 0.5);
  ASSERT_EQ(a->channels.size(), 1u);
  EXPECT_EQ(a->channels[0].name, "log");
  EXPECT_EQ(a->channels[0].type, ChannelType::kLog);
  EXPECT_EQ(ChannelNames(json::object()), std::vector<std::string>{"log"});
}

TEST(Config, AllChannelTypes) {
  json c = json::parse(
      R"({"alerts":{"sd_limit":0.7,"retry":{"initial_ms":10,"max_ms":80,"give_up_after_s":60},
    "channels":[
     {"name":"ops-hook","type":"webhook","url":"http://127.0.0.1:9000/hook","secret":"k","kinds":["deviation"],"sensors":["s1"],"timeout_ms":2000},
     {"name":"mail","type":"email","url":"smtp://127.0.0.1:2525","from":"AquaSense <a@x>","to":["b@x","c@x"],"tls":"starttls","username":"u","password":"p"},
     {"name":"sns","type":"sns","topic_arn":"arn:aws:sns:eu-west-1:123456789012:SD_LIMIT","endpoint":"http://127.0.0.1:4566"}]}})");
  auto a = ParseAlertsConfig(c);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->sd_limit, 0.7);
  EXPECT_EQ(a->retry.initial_ms, 10);
  EXPECT_EQ(a->retry.give_up_after_ms, 60'000);
  ASSERT_EQ(a->channels.size(), 4u);
  EXPECT_EQ(ChannelNames(c), (std::vector<std::string>{"log", "ops-hook", "mail", "sns"}));
  const ChannelConfig& hook = a->channels[1];
  EXPECT_EQ(hook.type, ChannelType::kWebhook);
  EXPECT_EQ(hook.secret, "k");
  EXPECT_EQ(hook.timeout_ms, 2000);
  EXPECT_TRUE(hook.Accepts("deviation", "s1"));
  EXPECT_FALSE(hook.Accepts("deviation", "s2"));
  EXPECT_FALSE(hook.Accepts("data_quality", "s1"));
  EXPECT_EQ(a->channels[2].tls, SmtpTls::kStartTls);
  EXPECT_EQ(a->channels[2].to.size(), 2u);
  EXPECT_EQ(a->channels[3].region, "eu-west-1");
}

TEST(Config, LogCanBeDisabledOrRedirected) {
  auto off = ParseAlertsConfig(json::parse(R"({"alerts":{"log":false}})"));
  ASSERT_TRUE(off.ok());
  EXPECT_TRUE(off->channels.empty());
  auto file = ParseAlertsConfig(
      json::parse(R"({"alerts":{"channels":[{"type":"log","path":"/tmp/a.jsonl"}]}})"));
  ASSERT_TRUE(file.ok());
  ASSERT_EQ(file->channels.size(), 1u);
  EXPECT_EQ(file->channels[0].path, "/tmp/a.jsonl");
}

TEST(Config, ErrorsNameTheField) {
  auto bad = [](const char* text) {
    auto a = ParseAlertsConfig(json::parse(text));
    EXPECT_FALSE(a.ok()) << text;
    EXPECT_EQ(a.status().code(), Code::kInvalidArgument);
    return a.status().message();
  };
  EXPECT_NE(bad(R"({"alerts":{"channels":[{"type":"pager"}]}})").find("alerts.channels[0].type"),
            std::string::npos);
  EXPECT_NE(bad(R"({"alerts":{"channels":[{"name":"h","type":"webhook"}]}})").find("url"),
            std::string::npos);
  // L6: a channel without "name" is named after its type (docs/alerts.md).
  auto unnamed = ParseAlertsConfig(
      json::parse(R"({"alerts":{"channels":[{"type":"webhook","url":"http://x"}]}})"));
  ASSERT_TRUE(unnamed.ok()) << unnamed.status().ToString();
  EXPECT_EQ(unnamed->channels.back().name, "webhook");
  bad(R"({"alerts":{"channels":[{"name":"h","type":"webhook","url":"ftp://x"}]}})");
  bad(R"({"alerts":{"channels":[{"name":"m","type":"email","url":"smtp://x","from":"a@x"}]}})");
  bad(R"({"alerts":{"channels":[{"name":"s","type":"sns","topic_arn":"nope"}]}})");
  bad(R"({"alerts":{"channels":[{"name":"h","type":"webhook","url":"http://x","kinds":["other"]}]}})");
  EXPECT_NE(
      bad(R"({"alerts":{"channels":[{"name":"h","type":"webhook","url":"http://a"},{"name":"h","type":"webhook","url":"http://b"}]}})")
          .find("two channels"),
      std::string::npos);
  EXPECT_NE(bad(R"({"alerts":{"channels":[{"type":"log"},{"name":"log","type":"log"}]}})")
                .find("two channels"),
            std::string::npos);
  bad(R"({"alerts":{"sd_limit":"high"}})");
  bad(R"({"alerts":[]})");
  bad(R"({"alerts":{"channels":[{"type":"webhook","url":"http://x","name":"a b"}]}})");
  EXPECT_EQ(ChannelNames(json::parse(R"({"alerts":{"channels":7}})")),
            std::vector<std::string>{"log"});
}

TEST(Backoff, DoublesUpToTheCap) {
  RetryPolicy p;  // 1 s .. 5 min
  EXPECT_EQ(BackoffMs(p, 1), 1'000);
  EXPECT_EQ(BackoffMs(p, 2), 2'000);
  EXPECT_EQ(BackoffMs(p, 3), 4'000);
  EXPECT_EQ(BackoffMs(p, 9), 256'000);
  EXPECT_EQ(BackoffMs(p, 10), 300'000);
  EXPECT_EQ(BackoffMs(p, 1'000'000), 300'000);
}

TEST(Format, IdempotencyKeyIsStableAndDistinct) {
  storage::Alert a = DeviationAlert();
  std::string k = IdempotencyKey(a);
  EXPECT_EQ(k.rfind("aquasense-", 0), 0u);
  EXPECT_EQ(k.size(), 10u + 32u);
  a.id = 99;
  a.created_ms += 5;
  EXPECT_EQ(IdempotencyKey(a), k);  // not tied to the row id or the time
  a.sensor = "s2";
  EXPECT_NE(IdempotencyKey(a), k);
  storage::Alert q = QualityAlert(), q2 = QualityAlert();
  q2.default_sensor = "other";
  EXPECT_NE(IdempotencyKey(q), IdempotencyKey(q2));
}

TEST(Format, Summaries) {
  EXPECT_EQ(AlertSubject(DeviationAlert()),
            "[AquaSense] deviation: sensor s1, 3 readings with sd > 0.5 in readings.csv");
  EXPECT_EQ(AlertSummary(QualityAlert()),
            "data quality: 3 of 10 rows invalid in readings.csv (bad_date 2, bad_number 1) for "
            "sensor s1");
  EXPECT_EQ(Iso8601(1'714'564'800'000), "2024-05-01T12:00:00Z");
  EXPECT_EQ(Iso8601(1'714'564'800'123), "2024-05-01T12:00:00.123Z");
  EXPECT_EQ(Rfc5322Date(1'714'564'800'000), "Wed, 01 May 2024 12:00:00 +0000");
}

TEST(Format, TextListsCountsAndExamples) {
  std::string t = AlertText(QualityAlert());
  EXPECT_NE(t.find("bad_date: 2"), std::string::npos) << t;
  EXPECT_NE(t.find("- line 2: raw=x,1,2 reason=bad_date"), std::string::npos) << t;
  EXPECT_NE(t.find("File:    data/readings.csv"), std::string::npos) << t;
}

TEST(Format, UnreadablePayloadIsPassedOn) {
  storage::Alert a = DeviationAlert();
  a.payload_json = "not json \xff";
  json doc = WebhookDocument(a);
  EXPECT_TRUE(doc["counts"].empty());
  EXPECT_TRUE(doc.contains("payload"));
  EXPECT_FALSE(DumpJson(doc).empty());  // no throw on invalid UTF-8
}

TEST(Webhook, RequestHasKeyAndSignature) {
  ChannelConfig c;
  c.name = "hook";
  c.type = ChannelType::kWebhook;
  c.url = "http://127.0.0.1:1/hook";
  c.secret = "s3cret";
  c.timeout_ms = 1234;
  HttpRequest r = BuildWebhookRequest(c, DeviationAlert());
  EXPECT_EQ(r.url, c.url);
  EXPECT_EQ(r.timeout_ms, 1234);
  json body = json::parse(r.body);
  EXPECT_EQ(body["kind"], "deviation");
  EXPECT_EQ(body["sensor"], "s1");
  EXPECT_EQ(body["file"], "data/readings.csv");
  EXPECT_EQ(body["counts"]["readings_above_limit"], 3);
  EXPECT_EQ(body["sd_limit"], 0.5);
  EXPECT_EQ(body["examples"][0]["line"], 4);
  EXPECT_EQ(body["time"], "2024-05-01T12:00:00Z");
  std::map<std::string, std::string> h(r.headers.begin(), r.headers.end());
  EXPECT_EQ(h["Idempotency-Key"], IdempotencyKey(DeviationAlert()));
  EXPECT_EQ(h["Content-Type"], "application/json");
  EXPECT_EQ(h["X-AquaSense-Signature"], "sha256=" + HexEncode(HmacSha256("s3cret", r.body)));
  c.secret.clear();
  HttpRequest unsigned_req = BuildWebhookRequest(c, DeviationAlert());
  for (const auto& [k, v] : unsigned_req.headers) EXPECT_NE(k, "X-AquaSense-Signature");
  EXPECT_EQ(unsigned_req.body, r.body);  // the same bytes every time
}

TEST(Email, MessageHeadersAndBody) {
  ChannelConfig c;
  c.type = ChannelType::kEmail;
  c.from = "AquaSense <alerts@example.org>";
  c.to = {"ops@example.org", "lab@example.org"};
  std::string m = BuildEmailMessage(c, DeviationAlert(), 1'714'564'800'000);
  EXPECT_EQ(m.rfind("Date: Wed, 01 May 2024 12:00:00 +0000\r\n", 0), 0u) << m;
  EXPECT_NE(m.find("\r\nFrom: AquaSense <alerts@example.org>\r\n"), std::string::npos);
  EXPECT_NE(m.find("\r\nTo: ops@example.org, lab@example.org\r\n"), std::string::npos);
  EXPECT_NE(m.find("\r\nSubject: [AquaSense] deviation: sensor s1, 3 readings with sd > 0.5 in "
                   "readings.csv\r\n"),
            std::string::npos);
  EXPECT_NE(m.find("Message-ID: <" + IdempotencyKey(DeviationAlert()) + "@aquasense>"),
            std::string::npos);
  EXPECT_NE(m.find("\r\n\r\nAquaSense alert: deviation"), std::string::npos);
  EXPECT_NE(m.find("- line 4: date=2024-01-03 sd=0.7 temperature=12.5\r\n"), std::string::npos)
      << m;
  // Every line ends in CRLF.
  for (size_t i = m.find('\n'); i != std::string::npos; i = m.find('\n', i + 1)) {
    ASSERT_GT(i, 0u);
    EXPECT_EQ(m[i - 1], '\r');
  }
}

TEST(Email, NonAsciiSubjectIsEncoded) {
  ChannelConfig c;
  c.from = "a@x";
  c.to = {"b@x"};
  storage::Alert a = DeviationAlert();
  a.source_name = "año.csv";
  std::string m = BuildEmailMessage(c, a, 0);
  EXPECT_NE(m.find("Subject: =?UTF-8?B?"), std::string::npos);
}

TEST(Sns, PublishRequestShape) {
  ChannelConfig c;
  c.type = ChannelType::kSns;
  c.topic_arn = "arn:aws:sns:eu-west-1:123456789012:SD_LIMIT";
  c.region = "eu-west-1";
  c.endpoint = "http://127.0.0.1:4566";
  aws::Credentials creds{"AKID", "SECRET", "", 0};
  SnsRequest r = BuildSnsRequest(c, DeviationAlert(), creds, 1'714'564'800'000);
  EXPECT_EQ(r.http.url, "http://127.0.0.1:4566");
  EXPECT_EQ(r.body.rfind("Action=Publish&Message=AquaSense%20alert%3A%20deviation", 0), 0u)
      << r.body;
  EXPECT_NE(r.body.find("&TopicArn=arn%3Aaws%3Asns%3Aeu-west-1%3A123456789012%3ASD_LIMIT"),
            std::string::npos);
  EXPECT_NE(r.body.find("&Version=2010-03-31"), std::string::npos);
  EXPECT_NE(r.body.find("&Subject=%5BAquaSense%5D%20deviation"), std::string::npos);
  std::map<std::string, std::string> h(r.http.headers.begin(), r.http.headers.end());
  EXPECT_EQ(h["Host"], "127.0.0.1:4566");
  EXPECT_EQ(h["X-Amz-Date"], "20240501T120000Z");
  EXPECT_EQ(h["Content-Type"], "application/x-www-form-urlencoded; charset=utf-8");
  EXPECT_EQ(h["Authorization"].rfind(
                "AWS4-HMAC-SHA256 Credential=AKID/20240501/eu-west-1/sns/aws4_request, "
                "SignedHeaders=content-type;host;x-amz-date, Signature=",
                0),
            0u)
      << h["Authorization"];
  c.endpoint = "https://sns.eu-west-1.amazonaws.com:443/";
  SnsRequest aws = BuildSnsRequest(c, DeviationAlert(), creds, 1'714'564'800'000);
  std::map<std::string, std::string> h2(aws.http.headers.begin(), aws.http.headers.end());
  EXPECT_EQ(h2["Host"], "sns.eu-west-1.amazonaws.com");
}

TEST(Sns, FifoTopicsGetDeduplicationId) {
  ChannelConfig c;
  c.topic_arn = "arn:aws:sns:eu-west-1:123456789012:alerts.fifo";
  c.region = "eu-west-1";
  c.endpoint = "https://sns.eu-west-1.amazonaws.com/";
  SnsRequest r = BuildSnsRequest(c, DeviationAlert(), {"A", "B", "", 0}, 0);
  EXPECT_NE(r.body.find("MessageDeduplicationId=" + IdempotencyKey(DeviationAlert())),
            std::string::npos);
  EXPECT_NE(r.body.find("MessageGroupId=s1"), std::string::npos);
}

}  // namespace
}  // namespace aquasense::notify
