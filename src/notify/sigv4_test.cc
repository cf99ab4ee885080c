#include "notify/sigv4.h"

#include <gtest/gtest.h>

#include <map>

#include "common/crypto.h"

namespace aquasense::notify {
namespace {

// AWS SigV4 test suite (signature-v4-test-suite): AKIDEXAMPLE, us-east-1,
// service "service", 2015-08-30T12:36:00Z.
constexpr int64_t kSuiteTime = 1'440'938'160'000;
const AwsCredentials kSuiteCreds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};

SigV4Request Req(const std::string& method, const std::string& host, const std::string& path,
                 std::vector<Header> headers = {}, const std::string& body = "") {
  SigV4Request r;
  r.method = method;
  r.host = host;
  r.path = path;
  r.headers = std::move(headers);
  r.body = body;
  return r;
}

std::string HeaderValue(const std::vector<Header>& h, const std::string& name) {
  for (const auto& [k, v] : h) {
    if (k == name) return v;
  }
  return "";
}

TEST(SigV4, GetVanilla) {
  SigV4Request r = Req("GET", "example.amazonaws.com", "/");
  auto h = SignV4(r, kSuiteCreds, "us-east-1", "service", kSuiteTime);
  EXPECT_EQ(HeaderValue(h, "X-Amz-Date"), "20150830T123600Z");
  EXPECT_EQ(HeaderValue(h, "Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4, PostVanilla) {
  SigV4Request r = Req("POST", "example.amazonaws.com", "/");
  auto h = SignV4(r, kSuiteCreds, "us-east-1", "service", kSuiteTime);
  EXPECT_NE(HeaderValue(h, "Authorization")
                .find("Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
            std::string::npos);
}

// The S3 documentation's GET Object example (other key, date and headers).
TEST(SigV4, S3DocumentationExample) {
  SigV4Request r = Req("GET", "examplebucket.s3.amazonaws.com", "/test.txt",
                       {{"Range", "bytes=0-9"}, {"x-amz-content-sha256", Sha256Hex("")}});
  AwsCredentials creds{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
  auto h = SignV4(r, creds, "us-east-1", "s3", 1'369'353'600'000);
  EXPECT_EQ(HeaderValue(h, "Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, SessionTokenIsSentAndSigned) {
  SigV4Request r = Req("POST", "example.amazonaws.com", "/");
  AwsCredentials creds = kSuiteCreds;
  creds.session_token = "TOKEN";
  auto h = SignV4(r, creds, "us-east-1", "service", kSuiteTime);
  EXPECT_EQ(HeaderValue(h, "X-Amz-Security-Token"), "TOKEN");
  EXPECT_NE(HeaderValue(h, "Authorization").find("SignedHeaders=host;x-amz-date;x-amz-security-token"),
            std::string::npos);
}

TEST(SigV4, CanonicalHeadersTrimAndSort) {
  SigV4Request r = Req("POST", "h", "/", {}, "a=b");
  std::string names;
  std::string c = CanonicalRequest(r, {{"X-B", "  two   words "}, {"Host", "h"}, {"x-a", "1"}}, &names);
  EXPECT_EQ(names, "host;x-a;x-b");
  EXPECT_EQ(c, "POST\n/\n\nhost:h\nx-a:1\nx-b:two words\n\nhost;x-a;x-b\n" + Sha256Hex("a=b"));
}

TEST(SigV4, UriEncode) {
  EXPECT_EQ(AwsUriEncode("a b+c/~._-é"), "a%20b%2Bc%2F~._-%C3%A9");
}

TEST(Crypto, HmacRfc4231Case2) {
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(AwsCredentials, EnvironmentFirst) {
  std::map<std::string, std::string> env = {{"AWS_ACCESS_KEY_ID", "AK"},
                                            {"AWS_SECRET_ACCESS_KEY", "SK"},
                                            {"AWS_SESSION_TOKEN", "ST"}};
  auto lookup = [&](const std::string& k) -> std::optional<std::string> {
    auto it = env.find(k);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  auto c = LoadAwsCredentials(lookup, "");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "AK");
  EXPECT_EQ(c->secret_access_key, "SK");
  EXPECT_EQ(c->session_token, "ST");
}

TEST(AwsCredentials, SharedFileProfiles) {
  const char* text =
      "# comment\n[default]\naws_access_key_id = D1\naws_secret_access_key=D2\n\n"
      "[profile ops]\n aws_access_key_id = O1 \naws_secret_access_key = O2\n"
      "aws_session_token = O3\n[broken]\naws_access_key_id = X\n";
  auto d = ParseCredentialsFile(text, "default");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->access_key_id, "D1");
  EXPECT_EQ(d->secret_access_key, "D2");
  auto o = ParseCredentialsFile(text, "ops");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->session_token, "O3");
  EXPECT_EQ(ParseCredentialsFile(text, "broken").status().code(), Code::kNotFound);
  EXPECT_EQ(ParseCredentialsFile(text, "none").status().code(), Code::kNotFound);
}

TEST(AwsCredentials, NothingIsUnavailable) {
  auto none = [](const std::string& k) -> std::optional<std::string> {
    if (k == "AWS_SHARED_CREDENTIALS_FILE") return std::string("/nonexistent/credentials");
    return std::nullopt;
  };
  EXPECT_EQ(LoadAwsCredentials(none, "").status().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace aquasense::notify
