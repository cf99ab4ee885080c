#include "http/handlers.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "http/access_log.h"
#include "http/json_text.h"

namespace aquasense::http {
namespace {

core::MonthlyMetrics M(std::string sensor, int y, int m, double mean, std::optional<double> diff) {
  core::MonthlyMetrics r;
  r.sensor = std::move(sensor);
  r.year = y;
  r.month = m;
  r.mean_temp = mean;
  r.max_temp = mean + 1;
  r.max_sd = 0.25;
  r.max_temp_diff = diff;
  r.readings = 4;
  return r;
}

class HandlersTest : public ::testing::Test {
 protected:
  HandlersTest()
      : snap_({M("default", 2024, 1, 12.5, std::nullopt), M("default", 2024, 2, 13.1, 0.6),
               M("s2", 2023, 12, 10, std::nullopt), M("default", 2024, 3, 14, 0.9)},
              7, 1000) {}
  Response Get(const std::string& target) {
    ReadContext ctx{snap_, true, "", 2000, 1500};
    return Handle("GET", target, ctx);
  }
  static nlohmann::json Body(const Response& r) { return nlohmann::json::parse(r.body); }
  // Each target and the body GET answers it with.
  void ExpectBodies(const std::vector<std::pair<std::string, std::string>>& cases) {
    for (const auto& [target, body] : cases) EXPECT_EQ(Get(target).body, body) << target;
  }
  Snapshot snap_;
};

TEST_F(HandlersTest, Temp) {
  Response r = Get("/temp?year=2024&month=1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"sensor":"default","year":2024,"month":1,"mean_temp":12.5})");
  EXPECT_EQ(Get("/temp?year=2023&month=12&sensor=s2").body,
            R"({"sensor":"s2","year":2023,"month":12,"mean_temp":10})");
}

TEST_F(HandlersTest, SdAndMaxDiff) {
  ExpectBodies(
      {{"/sd?year=2024&month=02", R"({"sensor":"default","year":2024,"month":2,"max_sd":0.25})"},
       {"/maxdiff?year=2024&month=2",
        R"({"sensor":"default","year":2024,"month":2,"max_temp_diff":0.6})"},
       {"/maxdiff?year=2024&month=1",
        R"({"sensor":"default","year":2024,"month":1,"max_temp_diff":null})"}});
}

TEST_F(HandlersTest, BadRequests) {
  for (const char* t : {"/temp", "/temp?year=2024", "/temp?month=1", "/temp?year=2024&month=1abc",
                        "/temp?year=2024&month=13", "/temp?year=2024&month=0",
                        "/temp?year=99999999999999999999&month=1", "/sd?year=&month=1",
                        "/maxdiff?year=2024&month=1&month=2",
                        "/temp?year=2024&month=1&sensor=a%20b", "/temp?year=20%2&month=1"}) {
    Response r = Get(t);
    EXPECT_EQ(r.status, 400) << t;
    EXPECT_EQ(Body(r)["error"], "bad_request") << t;
    EXPECT_TRUE(Body(r)["message"].is_string()) << t;
  }
}

TEST_F(HandlersTest, NotFound) {
  Response r = Get("/temp?year=2020&month=1");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Body(r)["error"], "not_found");
  EXPECT_EQ(Get("/temp?year=2024&month=1&sensor=nope").status, 404);
  EXPECT_EQ(Get("/nope").status, 404);
  EXPECT_EQ(Body(Get("/nope"))["error"], "not_found");
  EXPECT_EQ(Get("/temp/").status, 404);
  EXPECT_EQ(Get("/v1/sensors/a/b/months").status, 404);
}

TEST_F(HandlersTest, MethodNotAllowed) {
  ReadContext ctx{snap_, true, "", 0, 0};
  Response r = Handle("POST", "/temp?year=2024&month=1", ctx);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.allow, "GET, HEAD");
  EXPECT_EQ(Body(r)["error"], "method_not_allowed");
  r = Handle("GET", "/v1/ingest", ctx);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.allow, "POST");
  EXPECT_EQ(Handle("DELETE", "/health", ctx).status, 405);
}

TEST_F(HandlersTest, Health) {
  Response r = Get("/health");
  EXPECT_EQ(r.status, 200);
  auto j = Body(r);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["generation"], 7);
  EXPECT_EQ(j["records"], 4);
  EXPECT_EQ(j["sensors"], 2);
  EXPECT_DOUBLE_EQ(j["snapshot_age_seconds"].get<double>(), 0.5);
  ReadContext down{snap_, false, "disk I/O error", 0, 0};
  r = Handle("GET", "/health", down);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(Body(r)["error"], "unavailable");
}

TEST_F(HandlersTest, Sensors) {
  auto j = Body(Get("/v1/sensors"));
  ASSERT_EQ(j["sensors"].size(), 2u);
  EXPECT_EQ(j["sensors"][0]["sensor"], "default");
  EXPECT_EQ(j["sensors"][0]["months"], 3);
  EXPECT_EQ(j["sensors"][0]["from"], "2024-01");
  EXPECT_EQ(j["sensors"][0]["to"], "2024-03");
  EXPECT_EQ(j["sensors"][0]["readings"], 12);
  EXPECT_EQ(j["sensors"][1]["sensor"], "s2");
}

TEST_F(HandlersTest, SensorMonths) {
  Response r = Get("/v1/sensors/default/months?from=2024-02&to=2024-03");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(
      r.body,
      R"({"sensor":"default","months":[)"
      R"({"sensor":"default","year":2024,"month":2,"mean_temp":13.1,"max_temp":14.1,"max_sd":0.25,"max_temp_diff":0.6,"readings":4},)"
      R"({"sensor":"default","year":2024,"month":3,"mean_temp":14,"max_temp":15,"max_sd":0.25,"max_temp_diff":0.9,"readings":4}]})");
  EXPECT_EQ(Body(Get("/v1/sensors/default/months"))["months"].size(), 3u);
  EXPECT_EQ(Body(Get("/v1/sensors/default/months?from=2030-01"))["months"].size(), 0u);
  EXPECT_EQ(Get("/v1/sensors/nope/months").status, 404);
  EXPECT_EQ(Get("/v1/sensors/bad%20id/months").status, 400);
  EXPECT_EQ(Get("/v1/sensors/default/months?from=2024-1").status, 400);
  EXPECT_EQ(Get("/v1/sensors/default/months?from=2024-03&to=2024-01").status, 400);
}

TEST_F(HandlersTest, OpenApiIsValidJson) {
  Response r = Get("/openapi.json");
  EXPECT_EQ(r.status, 200);
  auto j = Body(r);
  EXPECT_EQ(j["openapi"], "3.0.3");
  EXPECT_TRUE(j["paths"].contains("/v1/sensors/{id}/months"));
}

TEST(HttpStatusFor, Mapping) {
  EXPECT_EQ(HttpStatusFor(Code::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(Code::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(Code::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(Code::kInternal), 500);
}

TEST(JsonText, EscapesEverything) {
  std::string out;
  AppendJsonString(out, std::string("a\"b\\c\n\x01\xff\xc3\xa9", 10));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\u000a\\u0001\\u00ff\xc3\xa9\"");
  EXPECT_TRUE(nlohmann::json::accept(out));
  EXPECT_EQ(ErrorBody("bad_request", "x"), R"({"error":"bad_request","message":"x"})");
}

TEST(AccessLog, FormatsOneJsonLine) {
  AccessRecord r{.time_ms = 1'700'000'000'123,
                 .remote = "127.0.0.1:5000",
                 .method = "GET",
                 .target = "/temp?year=2024&month=1",
                 .route = "temp",
                 .status = 200,
                 .bytes = 63,
                 .seconds = 0.000125};
  std::string line = FormatAccessRecord(r);
  ASSERT_EQ(line.back(), '\n');
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["ts"], "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(j["status"], 200);
  EXPECT_EQ(j["route"], "temp");
  EXPECT_DOUBLE_EQ(j["ms"].get<double>(), 0.125);
}

}  // namespace
}  // namespace aquasense::http

namespace aquasense::http {
namespace {

// Issue 15: the original's Flask clients send `ano` and `mes`.
TEST_F(HandlersTest, AnoAndMesAreAliasesOfYearAndMonth) {
  ExpectBodies(
      {{"/temp?ano=2024&mes=1", R"({"sensor":"default","year":2024,"month":1,"mean_temp":12.5})"},
       {"/sd?ano=2024&month=2", R"({"sensor":"default","year":2024,"month":2,"max_sd":0.25})"},
       {"/maxdiff?year=2024&mes=2&sensor=default",
        R"({"sensor":"default","year":2024,"month":2,"max_temp_diff":0.6})"}});
  for (const auto& [target, status] :
       std::vector<std::pair<std::string, int>>{{"/temp?ano=2024&mes=13", 400},
                                                {"/temp?year=2024&ano=2024&month=1", 400},
                                                {"/temp?ano=2024", 400},
                                                {"/temp?ano=2030&mes=1", 404}})
    EXPECT_EQ(Get(target).status, status) << target;
}

TEST(CorsTest, PreflightAndOriginHeaders) {
  std::string head;
  AppendCorsHeaders(head, "*", false);
  EXPECT_EQ(head, "Access-Control-Allow-Origin: *\r\n");
  head.clear();
  AppendCorsHeaders(head, "https://grafana.example.org", true);
  EXPECT_NE(head.find("Access-Control-Allow-Origin: https://grafana.example.org\r\n"),
            std::string::npos);
  EXPECT_NE(head.find("Vary: Origin\r\n"), std::string::npos);
  EXPECT_NE(head.find("Access-Control-Allow-Methods: GET, HEAD, OPTIONS\r\n"), std::string::npos);
  EXPECT_EQ(CorsPreflight().status, 204);
}

}  // namespace
}  // namespace aquasense::http
