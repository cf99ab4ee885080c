// SqsClient against moto's SQS (python3 -m moto.server, started once for
// this binary on 127.0.0.1 and stopped by its PID): the calls the worker and
// setup-aws make, the redrive to the dead-letter queue, error codes.
// Without moto the tests are skipped, saying so.
#include "common/aws/sqs_client.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/aws/request_stats.h"
#include "common/aws/test_server.h"

namespace aquasense::aws {
namespace {

class SqsTest : public aws::testing::MotoTest {
 protected:
  void SetUpMoto(const std::string& url) override {
    sqs_ = std::make_unique<SqsClient>(aws::testing::MotoOptions<SqsOptions>(url, 2));
    name_ = aws::testing::UniqueName("aq-sqs");
  }
  std::unique_ptr<SqsClient> sqs_;
  std::string name_;
};

TEST_F(SqsTest, CreateSendReceiveDelete) {
  auto url = sqs_->CreateQueue(name_, {{"VisibilityTimeout", "30"}});
  ASSERT_TRUE(url.ok()) << url.status().message();
  EXPECT_EQ(QueueNameOf(*url), name_);
  auto again = sqs_->CreateQueue(name_, {{"VisibilityTimeout", "30"}});  // idempotent
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(*again, *url);
  auto byname = sqs_->ResolveQueue(name_);
  ASSERT_TRUE(byname.ok());
  EXPECT_EQ(*byname, *url);
  EXPECT_EQ(*sqs_->ResolveQueue(*url), *url);

  ResetRequestCounts();
  auto id = sqs_->SendMessage(*url, "{\"hello\":\"w\xC3\xB6rld\"}");
  ASSERT_TRUE(id.ok()) << id.status().message();
  EXPECT_FALSE(id->empty());
  auto msgs = sqs_->ReceiveMessage(*url, {.max_messages = 10, .wait_s = 1});
  ASSERT_TRUE(msgs.ok()) << msgs.status().message();
  ASSERT_EQ(msgs->size(), 1u);
  EXPECT_EQ((*msgs)[0].message_id, *id);
  EXPECT_EQ((*msgs)[0].body, "{\"hello\":\"w\xC3\xB6rld\"}");
  EXPECT_EQ((*msgs)[0].receive_count, 1);
  EXPECT_GT((*msgs)[0].sent_ms, 1'700'000'000'000);
  // Counted by the HTTP client, under "sqs".
  EXPECT_EQ(RequestCounts()["sqs"].requests, 2);
  EXPECT_GT(RequestCounts()["sqs"].bytes_received, 100);

  // Released: visible again at once, with its receive count grown.
  ASSERT_TRUE(sqs_->ChangeMessageVisibility(*url, (*msgs)[0].receipt_handle, 0).ok());
  auto second = sqs_->ReceiveMessage(*url, {.max_messages = 1, .wait_s = 1});
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ((*second)[0].receive_count, 2);
  ASSERT_TRUE(sqs_->DeleteMessage(*url, (*second)[0].receipt_handle).ok());
  auto none = sqs_->ReceiveMessage(*url, {.max_messages = 1, .wait_s = 0});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(SqsTest, RedriveToTheDeadLetterQueueAfterMaxReceives) {
  auto dlq = sqs_->CreateQueue(DeadLetterQueueName(name_), {});
  ASSERT_TRUE(dlq.ok());
  auto attrs = sqs_->GetQueueAttributes(*dlq, {"QueueArn"});
  ASSERT_TRUE(attrs.ok());
  const std::string dlq_arn = (*attrs)["QueueArn"];
  EXPECT_TRUE(dlq_arn.ends_with(":" + name_ + "-dlq")) << dlq_arn;
  auto url = sqs_->CreateQueue(name_, {});
  ASSERT_TRUE(url.ok());
  const std::string redrive = nlohmann::json{
      {"deadLetterTargetArn", dlq_arn},
      {"maxReceiveCount",
       kMaxReceiveCount}}.dump();
  ASSERT_TRUE(sqs_->SetQueueAttributes(*url, {{"RedrivePolicy", redrive}}).ok());
  auto back = sqs_->GetQueueAttributes(*url, {"RedrivePolicy"});
  ASSERT_TRUE(back.ok());
  EXPECT_NE((*back)["RedrivePolicy"].find(dlq_arn), std::string::npos);

  ASSERT_TRUE(sqs_->SendMessage(*url, "poison").ok());
  for (int i = 1; i <= kMaxReceiveCount; ++i) {
    auto m = sqs_->ReceiveMessage(*url, {.max_messages = 1, .wait_s = 1});
    ASSERT_TRUE(m.ok());
    ASSERT_EQ(m->size(), 1u) << "receive " << i;
    EXPECT_EQ((*m)[0].receive_count, i);
    ASSERT_TRUE(sqs_->ChangeMessageVisibility(*url, (*m)[0].receipt_handle, 0).ok());
  }
  auto gone = sqs_->ReceiveMessage(*url, {.max_messages = 1, .wait_s = 0});
  ASSERT_TRUE(gone.ok());
  EXPECT_TRUE(gone->empty());
  auto dead = sqs_->ReceiveMessage(*dlq, {.max_messages = 1, .wait_s = 1});
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].body, "poison");
}

TEST_F(SqsTest, ErrorsHaveTheirCodes) {
  EXPECT_EQ(sqs_->GetQueueUrl("aq-no-such-queue").status().code(), Code::kNotFound);
  auto url = sqs_->CreateQueue(name_, {});
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(sqs_->DeleteMessage(*url, "not-a-receipt-handle").code(), Code::kInvalidArgument);
  EXPECT_EQ(sqs_->ResolveQueue("").status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace aquasense::aws
