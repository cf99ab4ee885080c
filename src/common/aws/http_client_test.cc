// HttpClient and the retry policy against testdata/fake_aws.py.
#include "common/aws/http_client.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/aws/test_server.h"

namespace aquasense::aws {
namespace {

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!server_.Start()) GTEST_SKIP() << "cannot start fake_aws.py: " << server_.error();
  }
  HttpRequest Req(std::string method, const std::string& path) {
    HttpRequest r;
    r.method = std::move(method);
    r.url = server_.url() + path;
    return r;
  }
  testing::ServerProcess server_{{"python3", AQ_AWS_TESTDATA "/fake_aws.py"}};
  HttpClient http_;
};

TEST_F(HttpClientTest, MethodsBodiesAndHeaders) {
  for (const char* method : {"PUT", "POST"}) {
    auto r = Req(method, "/echo");
    r.body = "hello body";
    r.headers = {{"X-Test", "1"}};
    auto resp = http_.Send(r);
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    auto j = nlohmann::json::parse(resp->body);
    EXPECT_EQ(j["method"], method);
    EXPECT_EQ(j["body"], "hello body");
    EXPECT_EQ(j["headers"]["X-Test"], "1");
    EXPECT_EQ(j["headers"]["Content-Type"], "application/octet-stream");  // always explicit
    EXPECT_EQ(j["headers"].count("Expect"), 0u);
  }
  // A streamed body, read through the callback.
  auto r = Req("PUT", "/echo");
  const std::string big(300'000, 'z');
  r.body_size = big.size();
  r.body_source = [&](uint64_t at, char* buf, size_t n) {
    n = std::min<size_t>(n, 1000);  // small pieces
    std::memcpy(buf, big.data() + at, n);
    return n;
  };
  auto resp = http_.Send(r);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(nlohmann::json::parse(resp->body)["body"].get<std::string>().size(), big.size());
  EXPECT_EQ(http_.Send(Req("DELETE", "/echo"))->status, 200);
  auto head = http_.Send(Req("HEAD", "/echo"));
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
  EXPECT_EQ(head->HeaderValue("content-type"), "application/json");
}

TEST_F(HttpClientTest, RangedReadsAndStreamedResponses) {
  auto r = Req("GET", "/range");
  r.headers = {{"Range", "bytes=3-6"}};
  auto resp = http_.Send(r);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->status, 206);
  EXPECT_EQ(resp->body, "3456");
  EXPECT_EQ(resp->HeaderValue("Content-Range"), "bytes 3-6/10");
  std::string sink;
  r.headers.clear();
  r.on_body = [&](std::string_view piece) {
    sink.append(piece);
    return true;
  };
  resp = http_.Send(r);
  EXPECT_EQ(sink, "0123456789");
  EXPECT_TRUE(resp->body.empty());
  r.on_body = nullptr;
  r.max_body = 5;  // a cap on what is kept
  EXPECT_EQ(http_.Send(r).status().code(), Code::kUnavailable);
}

TEST_F(HttpClientTest, ConnectionsAreKeptAlive) {
  auto a = http_.Send(Req("GET", "/port"));
  auto b = http_.Send(Req("GET", "/port"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->body, b->body) << "the second request came on a new connection";
}

TEST_F(HttpClientTest, TimeoutsAndRefusedAreUnavailable) {
  auto r = Req("GET", "/slow");
  r.timeout_ms = 300;
  auto resp = http_.Send(r);
  EXPECT_EQ(resp.status().code(), Code::kUnavailable);
  HttpRequest refused{.url = "http://127.0.0.1:1/"};
  EXPECT_EQ(http_.Send(refused).status().code(), Code::kUnavailable);
}

TEST_F(HttpClientTest, StatusesMapToCodes) {
  auto code = [&](const std::string& path) {
    auto r = http_.Send(Req("GET", path));
    EXPECT_TRUE(r.ok());
    return StatusFromResponse(*r, "GET x").code();
  };
  EXPECT_EQ(code("/status/404?code=NoSuchKey"), Code::kNotFound);
  EXPECT_EQ(code("/status/403?code=AccessDenied"), Code::kFailedPrecondition);
  EXPECT_EQ(code("/status/412?code=PreconditionFailed"), Code::kFailedPrecondition);
  EXPECT_EQ(code("/status/400?code=InvalidArgument"), Code::kInvalidArgument);
  EXPECT_EQ(code("/status/400?code=ThrottlingException"), Code::kUnavailable);  // retryable
  EXPECT_EQ(code("/status/503?code=SlowDown"), Code::kUnavailable);
  EXPECT_EQ(code("/status/501?code=NotImplemented"), Code::kInternal);
  EXPECT_EQ(code("/echo"), Code::kOk);
}

TEST_F(HttpClientTest, RetriesThrottlingAnd5xxWithFullJitter) {
  std::vector<int64_t> slept;
  RetryPolicy p;
  p.max_attempts = 4;
  p.sleep = [&](int64_t ms) { slept.push_back(ms); };
  p.random = [](int64_t bound) { return bound; };  // the upper bound, to check it
  int built = 0;
  auto make = [&]() -> Result<HttpRequest> {
    ++built;
    return Req("GET", "/flaky/2/a");
  };
  auto r = SendWithRetry(http_, make, p);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok after 3");
  EXPECT_EQ(built, 3);  // each attempt built (signed) afresh
  EXPECT_EQ(slept, (std::vector<int64_t>{100, 200}));
  // Out of attempts: the last 503 comes back.
  slept.clear();
  p.max_attempts = 2;
  auto last = SendWithRetry(
      http_, [&]() -> Result<HttpRequest> { return Req("GET", "/flaky/5/b"); }, p);
  EXPECT_EQ(last->status, 503);
  EXPECT_EQ(slept.size(), 1u);
  // Not retried: 404.
  slept.clear();
  EXPECT_EQ(SendWithRetry(
                http_, [&]() -> Result<HttpRequest> { return Req("GET", "/nothing"); }, p)
                ->status,
            404);
  EXPECT_TRUE(slept.empty());
}

TEST(RetryPolicy, BackoffIsCappedFullJitter) {
  RetryPolicy p;
  p.random = [](int64_t bound) { return bound; };
  EXPECT_EQ(BackoffMs(p, 1), 100);
  EXPECT_EQ(BackoffMs(p, 4), 800);
  EXPECT_EQ(BackoffMs(p, 30), 20'000);
  p.random = nullptr;
  for (int i = 0; i < 100; ++i) {
    const int64_t ms = BackoffMs(p, 3);
    EXPECT_GE(ms, 0);
    EXPECT_LE(ms, 400);
  }
}

}  // namespace
}  // namespace aquasense::aws
