// Issue 12 "one source of truth": every AWS client reads its settings through
// ServiceOptionsFromEnvironment, and splits its endpoint with one SplitEndpoint
// (the DynamoDB copy kept an endpoint's path in the Host).
#include "common/aws/service_options.h"

#include <gtest/gtest.h>

#include <map>

#include "common/aws/dynamodb_client.h"
#include "common/aws/sqs_client.h"

namespace aquasense::aws {
namespace {

Env EnvOf(std::map<std::string, std::string> vars) {
  Env env;
  env.lookup = [vars](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  env.read_file = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  return env;
}

TEST(ServiceOptions, EachServiceGetsItsOwnEndpointRegionAndAttempts) {
  Env env = EnvOf({{"AWS_REGION", "eu-west-1"},
                   {"AWS_MAX_ATTEMPTS", "7"},
                   {"AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:9324"}});
  bool custom = false;
  auto sqs = ServiceOptionsFromEnvironment(env, nullptr, "sqs", &custom);
  ASSERT_TRUE(sqs.ok()) << sqs.status().ToString();
  EXPECT_EQ(sqs->endpoint, "http://127.0.0.1:9324");
  EXPECT_TRUE(custom);
  EXPECT_EQ(sqs->region, "eu-west-1");
  EXPECT_EQ(sqs->retry.max_attempts, 7);
  auto dynamo = DynamoOptionsFromEnvironment(env, nullptr);
  ASSERT_TRUE(dynamo.ok()) << dynamo.status().ToString();
  EXPECT_EQ(dynamo->endpoint, "https://dynamodb.eu-west-1.amazonaws.com");
  EXPECT_EQ(dynamo->retry.max_attempts, 7);
  EXPECT_EQ(dynamo->table_poll_ms, DynamoOptions{}.table_poll_ms);
  EXPECT_NE(dynamo->credentials, nullptr);
}

TEST(ServiceOptions, ABadSettingFailsForEveryService) {
  Env env = EnvOf({{"AWS_MAX_ATTEMPTS", "0"}});
  EXPECT_EQ(ServiceOptionsFromEnvironment(env, nullptr, "s3").status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(DynamoOptionsFromEnvironment(env, nullptr).status().code(), Code::kInvalidArgument);
}

TEST(SplitEndpoint, KeepsSchemeAndAuthorityAndDropsAnyPath) {
  EXPECT_EQ(SplitEndpoint("http://127.0.0.1:4566/some/path"),
            std::make_pair(std::string("http"), std::string("127.0.0.1:4566")));
  EXPECT_EQ(SplitEndpoint("https://dynamodb.eu-west-1.amazonaws.com"),
            std::make_pair(std::string("https"), std::string("dynamodb.eu-west-1.amazonaws.com")));
  EXPECT_EQ(SplitEndpoint("localhost:8000/"),
            std::make_pair(std::string("https"), std::string("localhost:8000")));
}

}  // namespace
}  // namespace aquasense::aws
