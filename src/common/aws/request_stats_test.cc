#include "common/aws/request_stats.h"

#include <gtest/gtest.h>

namespace aquasense::aws {
namespace {

TEST(RequestStats, ServiceOfAuthorization) {
  EXPECT_EQ(ServiceOfAuthorization("AWS4-HMAC-SHA256 Credential=AKID/20261204/eu-west-1/sqs/"
                                   "aws4_request, SignedHeaders=host;x-amz-date, Signature=ab"),
            "sqs");
  EXPECT_EQ(ServiceOfAuthorization("AWS4-HMAC-SHA256 Credential=AKID/20261204/us-east-1/dynamodb/"
                                   "aws4_request,SignedHeaders=host"),
            "dynamodb");
  EXPECT_EQ(ServiceOfAuthorization("Bearer abc"), "");
  EXPECT_EQ(ServiceOfAuthorization("AWS4-HMAC-SHA256 Credential=AKID/20261204"), "");
}

TEST(RequestStats, CountsPerService) {
  ResetRequestCounts();
  CountRequest("sqs", 100, 20);
  CountRequest("sqs", 1, 2);
  CountRequest("s3", 5, 0);
  auto c = RequestCounts();
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c["sqs"].requests, 2);
  EXPECT_EQ(c["sqs"].bytes_sent, 101);
  EXPECT_EQ(c["sqs"].bytes_received, 22);
  EXPECT_EQ(c["s3"].requests, 1);
  EXPECT_EQ(RequestCountsJson(), R"({"s3":{"bytes_received":0,"bytes_sent":5,"requests":1},)"
                                 R"("sqs":{"bytes_received":22,"bytes_sent":101,"requests":2}})");
  ResetRequestCounts();
  EXPECT_TRUE(RequestCounts().empty());
}

}  // namespace
}  // namespace aquasense::aws
