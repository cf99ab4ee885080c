// SigV4: AWS's published test-suite vectors (aws-sig-v4-test-suite, typed in
// here), the S3 documentation's examples, and botocore signing the same
// requests in a child process (testdata/botocore_sign.py).
#include "common/aws/sigv4.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/crypto.h"

namespace aquasense::aws {
namespace {

constexpr int64_t kSuiteTime = 1'440'938'160'000;  // 20150830T123600Z
const Credentials kSuite{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", 0};
const Scope kSuiteScope{"us-east-1", "service"};

std::string Find(const std::vector<Header>& h, const std::string& name) {
  for (const auto& [k, v] : h)
    if (k == name) return v;
  return "";
}

std::string Suite(const std::string& signed_headers, const std::string& signature) {
  return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
         "SignedHeaders=" +
         signed_headers + ", Signature=" + signature;
}

SignRequest Req(std::string method, std::string path, std::vector<QueryParam> query = {},
                std::vector<Header> headers = {}, std::string_view body = "") {
  SignRequest r;
  r.method = std::move(method);
  r.host = "example.amazonaws.com";
  r.path = std::move(path);
  r.query = std::move(query);
  r.headers = std::move(headers);
  r.payload_sha256 = Sha256Hex(body);
  return r;
}

struct Vector {
  const char* name;
  SignRequest request;
  const char* signed_headers;
  const char* signature;
};

TEST(SigV4, AwsTestSuiteVectors) {
  const std::string form = "application/x-www-form-urlencoded";
  const Vector vectors[] = {
      {"get-vanilla", Req("GET", "/"), "host;x-amz-date",
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"post-vanilla", Req("POST", "/"), "host;x-amz-date",
       "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
      {"get-vanilla-query-order-key-case",
       Req("GET", "/", {{"Param2", "value2"}, {"Param1", "value1"}}), "host;x-amz-date",
       "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
      {"get-vanilla-empty-query-key", Req("GET", "/", {{"Param1", "value1"}}), "host;x-amz-date",
       "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"},
      {"get-vanilla-query-unreserved",
       Req("GET", "/",
           {{"-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
             "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"}}),
       "host;x-amz-date", "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
      {"get-vanilla-utf8-query", Req("GET", "/", {{"\xe1\x88\xb4", "bar"}}), "host;x-amz-date",
       "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
      {"get-utf8", Req("GET", "/\xe1\x88\xb4"), "host;x-amz-date",
       "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
      {"get-space (normalize-path)", Req("GET", "/example space/"), "host;x-amz-date",
       "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"},
      {"get-relative (normalize-path)", Req("GET", "/example/.."), "host;x-amz-date",
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-slashes (normalize-path)", Req("GET", "//example//"), "host;x-amz-date",
       "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"},
      {"post-vanilla-query", Req("POST", "/", {{"Param1", "value1"}}), "host;x-amz-date",
       "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
      {"post-header-value-case", Req("POST", "/", {}, {{"My-Header1", "VALUE1"}}),
       "host;my-header1;x-amz-date",
       "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"},
      {"post-x-www-form-urlencoded",
       Req("POST", "/", {}, {{"Content-Type", form}}, "Param1=value1"),
       "content-type;host;x-amz-date",
       "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
      {"post-x-www-form-urlencoded-parameters",
       Req("POST", "/", {}, {{"Content-Type", form + "; charset=utf8"}}, "Param1=value1"),
       "content-type;host;x-amz-date",
       "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"},
      {"get-header-key-duplicate",
       Req("GET", "/", {},
           {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}}),
       "host;my-header1;x-amz-date",
       "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
  };
  for (const Vector& v : vectors) {
    auto h = Sign(v.request, kSuite, kSuiteScope, kSuiteTime);
    EXPECT_EQ(Find(h, "Authorization"), Suite(v.signed_headers, v.signature)) << v.name;
    EXPECT_EQ(Find(h, "X-Amz-Date"), "20150830T123600Z");
  }
}

// post-sts-header-before: the session token is sent and signed.
TEST(SigV4, SessionTokenIsSigned) {
  Credentials c = kSuite;
  c.session_token =
      "AQoDYXdzEPT//////////"
      "wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwth"
      "Ax7mSEI/qkPpKPi/"
      "kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcH"
      "NVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+"
      "scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";
  auto h = Sign(Req("POST", "/"), c, kSuiteScope, kSuiteTime);
  EXPECT_EQ(Find(h, "X-Amz-Security-Token"), c.session_token);
  EXPECT_EQ(Find(h, "Authorization"),
            Suite("host;x-amz-date;x-amz-security-token",
                  "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"));
}

// The S3 API reference's GET Object example: S3 rules, a Range header and
// x-amz-content-sha256 signed.
TEST(SigV4, S3DocumentationGetObject) {
  SignRequest r;
  r.host = "examplebucket.s3.amazonaws.com";
  r.path = "/test.txt";
  r.headers = {{"Range", "bytes=0-9"}};
  const Credentials c{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", 0};
  auto h = Sign(r, c, {"us-east-1", "s3"}, 1'369'353'600'000);
  EXPECT_EQ(Find(h, "x-amz-content-sha256"), kEmptySha256);
  EXPECT_EQ(Find(h, "Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

// What libcurl 7.88's CURLOPT_AWS_SIGV4 was measured to get wrong (issue 13).
TEST(SigV4, CanonicalFormsCurlGotWrong) {
  EXPECT_EQ(CanonicalQuery({{"prefix", "b"}, {"location", ""}, {"a", "x y/+"}}),
            "a=x%20y%2F%2B&location=&prefix=b");  // sorted, valueless "name=", encoded
  EXPECT_EQ(UriEncodePath("landing/s 1/ä+b.csv"), "/landing/s%201/%C3%A4%2Bb.csv");
  EXPECT_EQ(CanonicalUri("/b/a%20b//c", /*s3=*/true), "/b/a%20b//c");    // S3: once, as is
  EXPECT_EQ(CanonicalUri("/b/a%20b//c", /*s3=*/false), "/b/a%2520b/c");  // others: twice
  SignRequest r;
  r.method = "PUT";
  r.host = "h";
  r.path = "/b/k";
  r.payload_sha256 = std::string(kUnsignedPayload);  // a streamed body is not signed as empty
  std::string names;
  const std::string creq = CanonicalRequest(r, {{"Host", "h"}}, true, &names);
  EXPECT_TRUE(creq.ends_with("\nUNSIGNED-PAYLOAD")) << creq;
  auto h = Sign(r, kSuite, {"us-east-1", "s3"}, kSuiteTime);
  EXPECT_EQ(Find(h, "x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
  EXPECT_NE(Find(h, "Authorization").find("x-amz-content-sha256"), std::string::npos);
}

// ---- botocore ---------------------------------------------------------------

struct BotoCase {
  SignRequest request;
  Scope scope;
  std::string body;
  std::string token;
  bool https = false;
};

// Runs botocore_sign.py over `cases`; empty when python3 or botocore is missing.
std::vector<std::string> BotocoreAuthorizations(const std::vector<BotoCase>& cases) {
  nlohmann::json in = nlohmann::json::array();
  for (const BotoCase& c : cases) {
    nlohmann::json params = nlohmann::json::array();
    for (const auto& [k, v] : c.request.query) params.push_back({k, v});
    nlohmann::json headers = nlohmann::json::array();
    for (const auto& [k, v] : c.request.headers) headers.push_back({k, v});
    std::string url =
        std::string(c.https ? "https://" : "http://") + c.request.host + c.request.path;
    in.push_back({{"method", c.request.method},
                  {"url", url},
                  {"headers", headers},
                  {"params", params},
                  {"body", c.body},
                  {"service", c.scope.service},
                  {"region", c.scope.region},
                  {"key", "AKIDEXAMPLE"},
                  {"secret", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
                  {"token", c.token},
                  {"timestamp", AmzDate(1'796'000'000'123)},
                  {"unsigned_payload", c.request.payload_sha256 == kUnsignedPayload}});
  }
  const std::string input = ::testing::TempDir() + "/botocore_in.json";
  std::ofstream(input) << in.dump();
  const std::string cmd = "python3 " AQ_AWS_TESTDATA "/botocore_sign.py < " + input + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return {};
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  if (::pclose(p) != 0) {
    ADD_FAILURE() << "botocore_sign.py failed: " << out.substr(0, 2000);
    return {};
  }
  std::vector<std::string> auths;
  for (const auto& r : nlohmann::json::parse(out)) auths.push_back(r["authorization"]);
  return auths;
}

TEST(SigV4, SameSignaturesAsBotocore) {
  if (std::system("python3 -c 'import botocore' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "python3 with botocore is not on PATH: botocore comparison skipped";
  auto s3 = [](std::string method, std::string key, std::vector<QueryParam> q,
               std::vector<Header> h, std::string body, bool unsigned_payload = false) {
    BotoCase c;
    c.request.method = std::move(method);
    c.request.host = "127.0.0.1:5000";
    c.request.path = "/bucket" + (key.empty() ? "" : UriEncodePath(key));
    c.request.query = std::move(q);
    c.request.headers = std::move(h);
    c.request.payload_sha256 = unsigned_payload ? std::string(kUnsignedPayload) : Sha256Hex(body);
    c.scope = {"eu-west-1", "s3"};
    c.body = std::move(body);
    return c;
  };
  auto other = [](std::string service, std::string path, std::vector<Header> h, std::string body) {
    BotoCase c;
    c.request.method = "POST";
    c.request.host = service + ".eu-central-1.amazonaws.com";
    c.request.path = std::move(path);
    c.request.headers = std::move(h);
    c.request.payload_sha256 = Sha256Hex(body);
    c.scope = {"eu-central-1", service};
    c.body = std::move(body);
    c.https = true;
    return c;
  };
  std::vector<BotoCase> cases = {
      s3("GET", "",
         {{"list-type", "2"},
          {"prefix", "landing/a b+c/"},
          {"encoding-type", "url"},
          {"continuation-token", "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="}},
         {}, ""),
      s3("GET", "", {{"location", ""}}, {}, ""),
      s3("PUT", "landing/s 1/\xc3\xa4+~b.csv", {}, {{"Content-Type", "text/csv"}}, "a,b\n1,2\n"),
      s3("PUT", "analysis/x.csv", {{"partNumber", "3"}, {"uploadId", "A/b+c=="}},
         {{"Content-Type", "application/octet-stream"}}, std::string(70000, 'x'), true),
      s3("POST", "k", {{"uploads", ""}}, {}, ""),
      s3("GET", "a/b", {}, {{"Range", "bytes=10-19"}, {"If-Match", "\"abc\""}}, ""),
      s3("PUT", "dst", {}, {{"x-amz-copy-source", "/bucket/.tmp/a%20b"}}, ""),
      s3("HEAD", "a//b/../c", {}, {}, ""),  // S3: no normalisation
      other("dynamodb", "/",
            {{"Content-Type", "application/x-amz-json-1.0"},
             {"X-Amz-Target", "DynamoDB_20120810.PutItem"}},
            R"({"TableName":"t","Item":{"pk":{"S":"a b"}}})"),
      other("sqs", "/123456789012/my%20queue/",
            {{"Content-Type", "application/x-www-form-urlencoded"}},
            "Action=ReceiveMessage&MaxNumberOfMessages=10"),
      other("sns", "/./a/../", {{"Content-Type", "application/x-www-form-urlencoded"}},
            "Action=Publish&Message=hello%20world"),
  };
  cases[2].token = "FQoGZXIvYXdzE//token+with/chars==";
  cases[8].token = cases[2].token;
  auto want = BotocoreAuthorizations(cases);
  ASSERT_EQ(want.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const Credentials c{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", cases[i].token,
                        0};
    auto h = Sign(cases[i].request, c, cases[i].scope, 1'796'000'000'123);
    EXPECT_EQ(Find(h, "Authorization"), want[i])
        << "case " << i << " " << cases[i].request.method << " " << cases[i].request.path;
  }
}

}  // namespace
}  // namespace aquasense::aws
