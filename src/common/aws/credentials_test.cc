// The credential chain, settings and endpoints, with the environment and
// files injected, and ECS / IMDSv2 answered by testdata/fake_aws.py.
#include "common/aws/credentials.h"

#include <gtest/gtest.h>

#include <map>

#include "common/aws/test_server.h"

namespace aquasense::aws {
namespace {

using Vars = std::map<std::string, std::string>;

EnvLookup Lookup(const Vars& vars) {
  return [vars](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// The files the chain may read, by path.
std::function<std::optional<std::string>(const std::string&)> Files(Vars files) {
  return [files](const std::string& path) -> std::optional<std::string> {
    auto it = files.find(path);
    if (it == files.end()) return std::nullopt;
    return it->second;
  };
}

constexpr int64_t k2030 = 1'893'456'000'000;  // 2030-01-01T00:00:00Z

TEST(AwsIni, ParsesProfilesCommentsAndSubsettings) {
  auto ini = ParseIniFile(
      "# comment\n[default]\naws_access_key_id = AKID \nAWS_Secret_Access_Key=s3cr#t ; note\n"
      "\n[profile dev]\nregion = eu-west-1\ns3 =\n  addressing_style = path\n"
      "[ spaced ]\nk=v=w\n");
  ASSERT_TRUE(ini.ok()) << ini.status().ToString();
  EXPECT_EQ((*ini)["default"]["aws_access_key_id"], "AKID");
  EXPECT_EQ((*ini)["default"]["aws_secret_access_key"], "s3cr#t");  // '#' needs a space before
  EXPECT_EQ((*ini)["profile dev"]["region"], "eu-west-1");
  EXPECT_EQ((*ini)["profile dev"].count("addressing_style"), 0u);
  EXPECT_EQ((*ini)["spaced"]["k"], "v=w");
  EXPECT_EQ(ParseIniFile("[open\n").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseIniFile(std::string(70000, 'x')).status().code(), Code::kInvalidArgument);
}

TEST(AwsCredentialsChain, EnvironmentComesFirst) {
  Vars vars{{"AWS_ACCESS_KEY_ID", "ENV"},
            {"AWS_SECRET_ACCESS_KEY", "s"},
            {"AWS_SESSION_TOKEN", "t"},
            {"HOME", "/home/u"}};
  FakeClock clock(k2030);
  Env env{Lookup(vars), nullptr, &clock,
          Files({{"/home/u/.aws/credentials",
                  "[default]\naws_access_key_id=FILE\naws_secret_access_key=x\n"}})};
  auto c = NewDefaultCredentialsChain(env)->Get();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "ENV");
  EXPECT_EQ(c->session_token, "t");
}

TEST(AwsCredentialsChain, ProfileFromSharedFilesAndRegionFromConfig) {
  Vars vars{
      {"AWS_PROFILE", "dev"}, {"AWS_SHARED_CREDENTIALS_FILE", "/c"}, {"AWS_CONFIG_FILE", "/k"}};
  FakeClock clock(k2030);
  Env env{Lookup(vars), nullptr, &clock,
          Files({{"/c",
                  "[default]\naws_access_key_id=D\naws_secret_access_key=d\n"
                  "[dev]\naws_access_key_id=DEV\naws_secret_access_key=x\n"},
                 {"/k",
                  "[profile dev]\nregion = ap-south-1\nmax_attempts = 7\n"
                  "[profile cfgonly]\naws_access_key_id=CFG\naws_secret_access_key=y\n"}})};
  auto c = NewDefaultCredentialsChain(env)->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "DEV");
  auto s = LoadSettings(env);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->region, "ap-south-1");
  EXPECT_EQ(s->max_attempts, 7);
  vars["AWS_REGION"] = "eu-north-1";  // the variable beats the profile
  env.lookup = Lookup(vars);
  EXPECT_EQ(LoadSettings(env)->region, "eu-north-1");
  vars["AWS_PROFILE"] = "cfgonly";  // keys in the config file work too
  env.lookup = Lookup(vars);
  EXPECT_EQ(NewDefaultCredentialsChain(env)->Get()->access_key_id, "CFG");
  vars["AWS_PROFILE"] = "nope";
  env.lookup = Lookup(vars);
  EXPECT_EQ(NewDefaultCredentialsChain(env)->Get().status().code(), Code::kInvalidArgument);
  EXPECT_EQ(LoadSettings(env)->region, "eu-north-1");
}

TEST(AwsCredentialsChain, UnsupportedProfileKindsSaySo) {
  Vars vars{{"AWS_CONFIG_FILE", "/k"}, {"AWS_PROFILE", "r"}};
  FakeClock clock(k2030);
  Env env{Lookup(vars), nullptr, &clock,
          Files({{"/k", "[profile r]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = d\n"}})};
  auto c = NewDefaultCredentialsChain(env)->Get();
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  EXPECT_NE(c.status().message().find("role_arn"), std::string::npos);
}

TEST(AwsSettings, EndpointsTheSdkWay) {
  Vars vars;
  bool custom = true;
  EXPECT_EQ(ResolveEndpoint(Lookup(vars), "s3", "eu-west-1", &custom),
            "https://s3.eu-west-1.amazonaws.com");
  EXPECT_FALSE(custom);
  vars["AWS_ENDPOINT_URL"] = "http://127.0.0.1:4566/";
  vars["AWS_ENDPOINT_URL_DYNAMODB"] = "http://127.0.0.1:8000";
  EXPECT_EQ(ResolveEndpoint(Lookup(vars), "s3", "eu-west-1", &custom), "http://127.0.0.1:4566");
  EXPECT_TRUE(custom);
  EXPECT_EQ(ResolveEndpoint(Lookup(vars), "dynamodb", "eu-west-1"), "http://127.0.0.1:8000");
  vars["AWS_ENDPOINT_URL_S3"] = "http://minio:9000";
  EXPECT_EQ(ResolveEndpoint(Lookup(vars), "s3", "x"), "http://minio:9000");
  vars["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true";
  EXPECT_EQ(ResolveEndpoint(Lookup(vars), "sqs", "x"), "https://sqs.x.amazonaws.com");
  EXPECT_EQ(LoadSettings(Env{Lookup({{"AWS_MAX_ATTEMPTS", "0"}})}).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(LoadSettings(Env{Lookup({{"AWS_DEFAULT_REGION", "sa-east-1"}})})->region, "sa-east-1");
}

TEST(AwsSettings, Iso8601) {
  EXPECT_EQ(ParseIso8601Ms("2030-01-01T00:00:00Z"), k2030);
  EXPECT_EQ(ParseIso8601Ms("2030-01-01T00:00:01.250Z"), k2030 + 1250);
  EXPECT_EQ(ParseIso8601Ms("2030-01-01T00:00:00+00:00"), k2030);
  EXPECT_FALSE(ParseIso8601Ms("2030-01-01T00:00:00+02:00"));
  EXPECT_FALSE(ParseIso8601Ms("2030-13-01T00:00:00Z"));
  EXPECT_FALSE(ParseIso8601Ms("yesterday"));
}

class MetadataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!server_.Start()) GTEST_SKIP() << "cannot start fake_aws.py: " << server_.error();
  }
  testing::ServerProcess server_{{"python3", AQ_AWS_TESTDATA "/fake_aws.py"}};
  HttpClient http_;
  FakeClock clock_{k2030};
};

// ECS: relative URI on the container host, token from a file; refreshed 5
// minutes before the expiry, not before.
TEST_F(MetadataTest, EcsContainerCredentialsRefreshBeforeExpiry) {
  Vars vars{{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/ecs/creds"},
            {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/run/token"}};
  Env env{Lookup(vars), &http_, &clock_, Files({{"/run/token", "ecs-token\n"}})};
  env.ecs_base = server_.url();
  auto chain = NewDefaultCredentialsChain(env);
  auto c = chain->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "ECS1");
  EXPECT_EQ(c->session_token, "token-ECS");
  EXPECT_EQ(c->expires_ms, k2030 + 600'000);
  clock_.Advance(4 * 60'000);  // 6 min left: cached
  EXPECT_EQ(chain->Get()->access_key_id, "ECS1");
  clock_.Advance(2 * 60'000);  // 4 min left: fetched again
  EXPECT_EQ(chain->Get()->access_key_id, "ECS2");
}

TEST_F(MetadataTest, EcsFullUriNeedsTrustedHostAndToken) {
  Vars vars{{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server_.url() + "/ecs/creds"},
            {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "ecs-token"}};
  Env env{Lookup(vars), &http_, &clock_, Files({})};
  EXPECT_EQ(NewDefaultCredentialsChain(env)->Get()->access_key_id, "ECS1");
  vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "wrong";
  env.lookup = Lookup(vars);
  EXPECT_EQ(NewDefaultCredentialsChain(env)->Get().status().code(), Code::kUnavailable);
  vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://example.com/creds";
  env.lookup = Lookup(vars);
  EXPECT_EQ(NewDefaultCredentialsChain(env)->Get().status().code(), Code::kInvalidArgument);
}

// IMDSv2: a token PUT first, the role, then its credentials with the token.
TEST_F(MetadataTest, Ec2InstanceMetadataV2) {
  Env env{Lookup({}), &http_, &clock_, Files({})};
  env.imds_base = server_.url();
  auto chain = NewDefaultCredentialsChain(env);
  auto c = chain->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "IMDS1");
  clock_.Advance(9 * 60'000);
  EXPECT_EQ(chain->Get()->access_key_id, "IMDS2");
  env.lookup = Lookup({{"AWS_EC2_METADATA_DISABLED", "true"}});
  auto none = NewDefaultCredentialsChain(env)->Get();
  EXPECT_EQ(none.status().code(), Code::kUnavailable);
  EXPECT_NE(none.status().message().find("disabled"), std::string::npos);
}

TEST(AwsCredentialsChain, NothingAnywhereIsUnavailable) {
  HttpClient http;
  FakeClock clock(k2030);
  Env env{Lookup({}), &http, &clock, Files({})};
  env.imds_base = "http://127.0.0.1:1";  // refused at once
  auto c = NewDefaultCredentialsChain(env)->Get();
  EXPECT_EQ(c.status().code(), Code::kUnavailable);
  EXPECT_NE(c.status().message().find("EC2 instance metadata"), std::string::npos);
}

}  // namespace
}  // namespace aquasense::aws
