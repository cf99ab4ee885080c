// DynamoClient: AWS's limits (checked before anything is sent), the error
// mapping and retries against testdata/fake_dynamo.py, and the operations
// against moto's DynamoDB (skipped, saying so, when moto is missing).
#include "common/aws/dynamodb_client.h"

#include <gtest/gtest.h>

#include "common/aws/test_server.h"

namespace aquasense::aws {
namespace {

DynamoOptions Options(const std::string& endpoint, std::vector<int64_t>* sleeps = nullptr) {
  auto o = testing::MotoOptions<DynamoOptions>(endpoint, 4);
  o.retry.sleep = [sleeps](int64_t ms) {
    if (sleeps != nullptr) sleeps->push_back(ms);
  };
  o.table_poll_ms = 50;
  return o;
}

Json Key(const std::string& pk, const std::string& sk) { return {{"pk", S(pk)}, {"sk", S(sk)}}; }

// An item of exactly `bytes` bytes as AWS counts them.
Json ItemOfSize(size_t bytes) {
  Json item = Key("p", "s");  // 2 + 1 + 2 + 1 = 6 bytes
  item["d"] = S(std::string(bytes - 6 - 1, 'x'));
  return item;
}

TEST(DynamoLimits, ItemSizeCountsAsAws) {
  EXPECT_EQ(ItemSize(Key("p", "s")), 6u);
  EXPECT_EQ(ItemSize({{"n", N(12345)}}), 1u + 4u);              // 5 digits: (5+1)/2 + 1
  EXPECT_EQ(ItemSize({{"b", B(std::string(10, '\0'))}}), 11u);  // raw bytes, not base64
  EXPECT_EQ(ItemSize({{"m", {{"M", {{"ab", S("xyz")}}}}}}), 1u + 3u + 1u + 2u + 3u);
  EXPECT_EQ(ItemSize({{"t", {{"BOOL", true}}}}), 2u);
  EXPECT_EQ(ItemSize(ItemOfSize(1000)), 1000u);
}

TEST(DynamoLimits, ItemOver400KBIsRefused) {
  EXPECT_TRUE(CheckItem(ItemOfSize(kMaxItemBytes)).ok());
  EXPECT_EQ(CheckItem(ItemOfSize(kMaxItemBytes + 1)).code(), Code::kInvalidArgument);
  // moto accepts items up to 405,000 bytes; AWS (and this client) does not.
  EXPECT_EQ(CheckItem(ItemOfSize(405'000)).code(), Code::kInvalidArgument);
}

TEST(DynamoLimits, TransactionOf101ActionsOrOver4MBIsRefused) {
  std::vector<Json> actions;
  for (int i = 0; i < 100; ++i)
    actions.push_back({{"Put", {{"TableName", "t"}, {"Item", Key("p", std::to_string(i))}}}});
  EXPECT_TRUE(CheckTransaction(actions).ok());
  actions.push_back({{"Delete", {{"TableName", "t"}, {"Key", Key("p", "x")}}}});
  EXPECT_EQ(CheckTransaction(actions).code(), Code::kInvalidArgument);
  std::vector<Json> big;
  for (int i = 0; i < 11; ++i)  // 11 x 390,000 bytes = 4.29 MB
    big.push_back({{"Put", {{"TableName", "t"}, {"Item", ItemOfSize(390'000)}}}});
  EXPECT_EQ(CheckTransaction(big).code(), Code::kInvalidArgument);
  big.pop_back();  // 10 x 390,000 = 3.9 MB
  EXPECT_TRUE(CheckTransaction(big).ok());
  EXPECT_EQ(CheckTransaction({}).code(), Code::kInvalidArgument);
}

TEST(DynamoLimits, BatchWriteOf26ItemsIsRefused) {
  Json reqs = Json::array();
  for (int i = 0; i < 25; ++i) reqs.push_back({{"PutRequest", {{"Item", Key("p", "x")}}}});
  EXPECT_TRUE(CheckBatchWrite({{"t", reqs}}).ok());
  reqs.push_back({{"DeleteRequest", {{"Key", Key("p", "y")}}}});
  EXPECT_EQ(CheckBatchWrite({{"t", reqs}}).code(), Code::kInvalidArgument);
}

class DynamoFakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!server_.Start()) GTEST_SKIP() << "cannot start fake_dynamo.py: " << server_.error();
  }
  Json Log() {
    HttpRequest r{.method = "GET", .url = server_.url() + "/log"};
    return Json::parse(http_.Send(r)->body);
  }
  testing::ServerProcess server_{{"python3", AQ_AWS_TESTDATA "/fake_dynamo.py"}};
  HttpClient http_;
  std::vector<int64_t> sleeps_;
};

TEST_F(DynamoFakeTest, RequestsAreSignedJson10WithTarget) {
  DynamoClient db(Options(server_.url()));
  ASSERT_TRUE(db.PutItem("t", Key("a", "b")).ok());
  Json log = Log();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0]["target"], "DynamoDB_20120810.PutItem");
  EXPECT_EQ(log[0]["content_type"], "application/x-amz-json-1.0");
  EXPECT_TRUE(log[0]["signed"].get<bool>());
  EXPECT_EQ(log[0]["body"]["Item"]["pk"]["S"], "a");
}

TEST_F(DynamoFakeTest, OversizedWritesAreRefusedBeforeSending) {
  DynamoClient db(Options(server_.url()));
  EXPECT_EQ(db.PutItem("t", ItemOfSize(405'000)).code(), Code::kInvalidArgument);
  EXPECT_EQ(db.BatchWrite("t", {Key("a", "1"), ItemOfSize(kMaxItemBytes + 1)}).code(),
            Code::kInvalidArgument);
  std::vector<Json> actions(101, {{"Put", {{"TableName", "t"}, {"Item", Key("a", "b")}}}});
  EXPECT_EQ(db.TransactWriteItems(actions).code(), Code::kInvalidArgument);
  EXPECT_EQ(Log().size(), 0u);
}

TEST_F(DynamoFakeTest, BatchWriteSplitsInto25sAndRetriesUnprocessed) {
  DynamoClient db(Options(server_.url(), &sleeps_));
  std::vector<Json> puts;
  for (int i = 0; i < 60; ++i) puts.push_back(Key("p", std::to_string(i)));
  ASSERT_TRUE(db.BatchWrite("unprocessed", puts).ok());
  Json log = Log();
  // 25 + 25 + 10, each with its last item left unprocessed once and resent.
  ASSERT_EQ(log.size(), 6u);
  std::vector<size_t> sizes;
  for (const Json& e : log) sizes.push_back(e["body"]["RequestItems"]["unprocessed"].size());
  EXPECT_EQ(sizes, (std::vector<size_t>{25, 1, 25, 1, 10, 1}));
  EXPECT_EQ(sleeps_.size(), 3u);  // one back-off before each resend
}

TEST_F(DynamoFakeTest, ThrottlingAnd5xxAreRetriedThenUnavailable) {
  DynamoClient db(Options(server_.url(), &sleeps_));
  EXPECT_TRUE(db.PutItem("throttle-2", Key("a", "b")).ok());
  EXPECT_EQ(sleeps_.size(), 2u);
  EXPECT_TRUE(db.DeleteItem("server-3", Key("a", "b")).ok());
  EXPECT_EQ(sleeps_.size(), 5u);
  Status s = db.PutItem("throttle-9", Key("a", "b"));
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("ProvisionedThroughputExceeded"), std::string::npos);
  EXPECT_EQ(Log().size(), 3u + 4u + 4u);  // max_attempts 4
}

TEST_F(DynamoFakeTest, ConditionFailuresAreAbortedOthersMapped) {
  DynamoClient db(Options(server_.url(), &sleeps_));
  EXPECT_EQ(db.PutItem("cond", Key("a", "b"), {.expression = "attribute_not_exists(pk)"}).code(),
            Code::kAborted);
  Json put = {{"Put", {{"TableName", "cancel-cond"}, {"Item", Key("a", "b")}}}};
  EXPECT_EQ(db.TransactWriteItems({put}).code(), Code::kAborted);
  put["Put"]["TableName"] = "cancel-conf";  // a conflict, not a condition: retryable
  EXPECT_EQ(db.TransactWriteItems({put}).code(), Code::kUnavailable);
  Status missing = db.GetItem("missing", Key("a", "b")).status();
  EXPECT_EQ(missing.code(), Code::kFailedPrecondition);  // the table is not set up
  EXPECT_NE(missing.message().find("table missing"), std::string::npos) << missing.ToString();
  EXPECT_EQ(db.DescribeTable("missing").status().code(), Code::kNotFound);
}

// --- moto -----------------------------------------------------------------

class DynamoMotoTest : public testing::MotoTest {
 protected:
  void SetUpMoto(const std::string& url) override {
    db_ = std::make_unique<DynamoClient>(Options(url));
    table_ = testing::UniqueName("aq-client") + "-meta";
    ASSERT_TRUE(db_->EnsureTable(table_).ok());
  }
  std::unique_ptr<DynamoClient> db_;
  std::string table_;
};

TEST_F(DynamoMotoTest, EnsureTableIsIdempotentAndCreateSaysExists) {
  ASSERT_TRUE(db_->EnsureTable(table_).ok());
  EXPECT_EQ(db_->CreateTable(table_).code(), Code::kAlreadyExists);
  auto t = db_->DescribeTable(table_);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)["TableStatus"], "ACTIVE");
  EXPECT_EQ((*t)["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST");
  EXPECT_EQ((*t)["KeySchema"][0]["AttributeName"], "pk");
  EXPECT_EQ((*t)["KeySchema"][1]["AttributeName"], "sk");
  EXPECT_EQ(db_->DescribeTable(table_ + "-nope").status().code(), Code::kNotFound);
}

TEST_F(DynamoMotoTest, ConditionalWritesAndUpdates) {
  const Condition absent{.expression = "attribute_not_exists(pk)"};
  Json item = Key("a", "1");
  item["v"] = N(1);
  ASSERT_TRUE(db_->PutItem(table_, item, absent).ok());
  EXPECT_EQ(db_->PutItem(table_, item, absent).code(), Code::kAborted);
  auto up =
      db_->UpdateItem(table_, Key("a", "1"), "SET #v = #v + :one", {{"#v", "v"}}, {{":one", N(1)}},
                      {.expression = "#v = :old", .values = {{":old", N(1)}}});
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(GetN(*up, "v"), 2);
  auto again =
      db_->UpdateItem(table_, Key("a", "1"), "SET #v = #v + :one", {{"#v", "v"}}, {{":one", N(1)}},
                      {.expression = "#v = :old", .values = {{":old", N(1)}}});
  EXPECT_EQ(again.status().code(), Code::kAborted);
  auto got = db_->GetItem(table_, Key("a", "1"));
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(GetN(**got, "v"), 2);
  ASSERT_TRUE(db_->DeleteItem(table_, Key("a", "1")).ok());
  EXPECT_FALSE(db_->GetItem(table_, Key("a", "1"))->has_value());
}

TEST_F(DynamoMotoTest, QueryPagesAndBatchWriteOver25) {
  std::vector<Json> puts;
  for (int i = 0; i < 60; ++i) {
    char sk[16];
    std::snprintf(sk, sizeof sk, "r#%03d", i);
    Json item = Key("q", sk);
    item["b"] = B(std::string("\0bin", 4));
    puts.push_back(item);
  }
  ASSERT_TRUE(db_->BatchWrite(table_, puts).ok());
  QueryRequest q{.table = table_,
                 .key_condition = "pk = :p AND begins_with(sk, :s)",
                 .values = {{":p", S("q")}, {":s", S("r#")}},
                 .page_size = 7};
  auto all = db_->Query(q);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 60u);
  EXPECT_EQ(GetS((*all)[59], "sk"), "r#059");
  EXPECT_EQ(GetB((*all)[0], "b"), std::string("\0bin", 4));
  q.limit = 10;
  q.forward = false;
  auto last = db_->Query(q);
  ASSERT_TRUE(last.ok());
  ASSERT_EQ(last->size(), 10u);
  EXPECT_EQ(GetS((*last)[0], "sk"), "r#059");
}

TEST_F(DynamoMotoTest, TransactionsAreAllOrNothing) {
  Json ok1 = {{"Put", {{"TableName", table_}, {"Item", Key("t", "1")}}}};
  Json ok2 = {{"Put", {{"TableName", table_}, {"Item", Key("t", "2")}}}};
  ASSERT_TRUE(db_->TransactWriteItems({ok1, ok2}, "token-1").ok());
  Json fresh = {{"Put",
                 {{"TableName", table_},
                  {"Item", Key("t", "3")},
                  {"ConditionExpression", "attribute_not_exists(pk)"}}}};
  Json dup = {{"Put",
               {{"TableName", table_},
                {"Item", Key("t", "1")},
                {"ConditionExpression", "attribute_not_exists(pk)"}}}};
  EXPECT_EQ(db_->TransactWriteItems({fresh, dup}).code(), Code::kAborted);
  EXPECT_FALSE(db_->GetItem(table_, Key("t", "3"))->has_value());  // nothing applied
}

}  // namespace
}  // namespace aquasense::aws
