// QueueWorker on moto (S3 + SQS) over an in-memory SQLite table store:
// arrival order across messages taken out of order, redelivery counted once,
// a poison file's retries, its one alert and its release to the DLQ.
#include "cloud/worker.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "common/aws/test_server.h"
#include "storage/fault_injection.h"
#include "storage/memory_meta_store.h"
#include "storage/memory_object_store.h"
#include "storage/s3_client.h"
#include "storage/s3_object_store.h"
#include "storage/test_slow_stores.h"

namespace aquasense::cloud {
namespace {

SystemClock g_clock;

// An S3 event as S3 sends it: the key URL-encoded.
std::string EventFor(const std::string& bucket, const std::string& key) {
  nlohmann::json rec = {
      {"eventSource", "aws:s3"},
      {"eventName", "ObjectCreated:Put"},
      {"eventTime", "2026-12-04T10:00:00.000Z"},
      {"s3", {{"bucket", {{"name", bucket}}}, {"object", {{"key", aws::UriEncode(key)}}}}}};
  return nlohmann::json{{"Records", {rec}}}.dump();
}

class WorkerTest : public aws::testing::MotoTest {
 protected:
  void SetUpMoto(const std::string& endpoint) override {
    const int attempts = aws::RetryPolicy{}.max_attempts;
    s3o_ = aws::testing::MotoOptions<storage::S3Options>(endpoint, attempts);
    s3o_.path_style = true;
    sqs_ = std::make_unique<aws::SqsClient>(
        aws::testing::MotoOptions<aws::SqsOptions>(endpoint, attempts));
    bucket_ = aws::testing::UniqueName("aq-worker");
    ASSERT_TRUE(storage::CreateBucket(storage::S3Client(bucket_, s3o_), "us-east-1").ok());
    auto url = sqs_->CreateQueue(bucket_, {});
    ASSERT_TRUE(url.ok());
    url_ = *url;
    objects_ = storage::NewS3ObjectStore({bucket_, "p"}, s3o_);
    // The in-memory MetaStore: SQLite's ":memory:" refuses a read beside an
    // open batch ("table is locked"), which the pipeline now does.
    meta_ = storage::NewMemoryMetaStore(&g_clock);
    pipeline_ = std::make_unique<pipeline::Pipeline>(
        pipeline::Env{objects_.get(), meta_.get(), &g_clock}, pipeline::Options{});
    WorkerDeps deps{sqs_.get(), objects_.get(), meta_.get(), pipeline_.get(), &g_clock};
    deps.log = [](const std::string& line) { std::fprintf(stderr, "worker: %s\n", line.c_str()); };
    // Reads the store after each commit, as alert delivery does: a batch still
    // alive then would hold the store's lock (the dead-letter deadlock).
    deps.after_commit = [this] { ASSERT_TRUE(meta_->RecentAlerts(10).ok()); };
    worker_ = std::make_unique<QueueWorker>(deps, WorkerOptions{.queue_url = url_,
                                                                .bucket = bucket_,
                                                                .prefix = "p",
                                                                .wait_s = 1,
                                                                .visibility_s = 30,
                                                                .retry_delay_s = 0});
  }

  void Put(const std::string& key, const std::string& body) {
    auto w = objects_->NewWriter(key);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(body).ok());
    ASSERT_TRUE((*w)->Commit().ok());
  }

  aws::SqsMessage Next() {
    auto m = sqs_->ReceiveMessage(url_, {.max_messages = 1, .wait_s = 1});
    EXPECT_TRUE(m.ok() && m->size() == 1);
    return m.ok() && !m->empty() ? (*m)[0] : aws::SqsMessage{};
  }

  storage::S3Options s3o_;
  std::unique_ptr<aws::SqsClient> sqs_;
  std::string bucket_, url_;
  std::unique_ptr<storage::ObjectStore> objects_;
  std::unique_ptr<storage::MetaStore> meta_;
  std::unique_ptr<pipeline::Pipeline> pipeline_;
  std::unique_ptr<QueueWorker> worker_;
};

TEST_F(WorkerTest, ArrivalOrderWinsWhateverMessageComesFirst) {
  // a.csv reaches the bucket first; its message is handled last.
  Put("inbox/s1/a.csv", "date,temperature,sd\n2024/06/01,10,0.1\n");
  Put("inbox/s1/b.csv", "date,temperature,sd\n2024/06/01,20,0.1\n2024/06/02,30,0.1\n");
  ASSERT_TRUE(sqs_->SendMessage(url_, EventFor(bucket_, "p/inbox/s1/b.csv")).ok());
  EXPECT_EQ(worker_->Handle(Next()), QueueWorker::Outcome::kDeleted);
  ASSERT_TRUE(sqs_->SendMessage(url_, EventFor(bucket_, "p/inbox/s1/a.csv")).ok());
  EXPECT_EQ(worker_->Handle(Next()), QueueWorker::Outcome::kDeleted);
  auto rows = meta_->ListMetrics({});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].readings, 2);  // 06-01 from a.csv (10), 06-02 from b.csv
  EXPECT_DOUBLE_EQ((*rows)[0].mean_temp, 20);
  EXPECT_EQ(worker_->stats().files_ingested, 2);
  EXPECT_EQ(worker_->stats().files_gone, 1);  // a.csv's own message: already done
  EXPECT_FALSE(*objects_->Exists("inbox/s1/a.csv"));
  // A redelivery of the same file (put again, same bytes) counts once.
  Put("inbox/s1/a.csv", "date,temperature,sd\n2024/06/01,10,0.1\n");
  ASSERT_TRUE(sqs_->SendMessage(url_, EventFor(bucket_, "p/inbox/s1/a.csv")).ok());
  EXPECT_EQ(worker_->Handle(Next()), QueueWorker::Outcome::kDeleted);
  EXPECT_EQ(worker_->stats().files_already, 1);
  EXPECT_EQ((*meta_->ListMetrics({}))[0].readings, 2);
}

// SPEC §9 arrival order with S3's one-second LastModified: b.csv is PUT
// before a.csv in the same second, so the listing cannot tell which came
// first and every worker applies the same tie rule, the key (docs/aws.md):
// a.csv wins the conflict on 06-01. Whichever message is taken first, and
// with two workers taking the two messages at the same moment (each with
// its own pipeline over shared stores that add latency to every call), the
// store ends the same: 06-01 from a.csv (10), 06-02 from b.csv (30).
TEST_F(WorkerTest, ArrivalTieInOneSecondGoesToTheKeyWhateverTheWorkersDo) {
  for (int round = 0; round < 6; ++round) {
    const bool later_first = round % 2 == 0, concurrent = round >= 2;
    FakeClock clock{1'765'000'000'000};  // a whole second: both files get it
    storage::SlowMemoryStores stores(&clock, std::chrono::milliseconds(1));
    storage::ObjectStore* objects = &stores.raw_objects();
    storage::MetaStore* meta = &stores.raw_meta();
    storage::ObjectStore* slow_objects = &stores.objects();
    storage::MetaStore* slow_meta = &stores.meta();
    for (const auto& [key, body] :
         {std::pair{"inbox/s1/b.csv",
                    "date,temperature,sd\n2024/06/01,20,0.1\n2024/06/02,30,0.1\n"},
          std::pair{"inbox/s1/a.csv", "date,temperature,sd\n2024/06/01,10,0.1\n"}})
      ASSERT_TRUE(objects->WriteAll(key, body).ok());
    for (const char* key : later_first ? std::vector{"inbox/s1/b.csv", "inbox/s1/a.csv"}
                                       : std::vector{"inbox/s1/a.csv", "inbox/s1/b.csv"})
      ASSERT_TRUE(sqs_->SendMessage(url_, EventFor(bucket_, key)).ok());
    std::vector<aws::SqsMessage> msgs = {Next(), Next()};
    auto handle = [&](const aws::SqsMessage& m) {
      pipeline::Pipeline p(pipeline::Env{slow_objects, slow_meta, &clock}, pipeline::Options{});
      WorkerDeps deps{sqs_.get(), slow_objects, slow_meta, &p, &clock};
      deps.log = [](const std::string& line) {
        std::fprintf(stderr, "worker: %s\n", line.c_str());
      };
      QueueWorker w(deps, WorkerOptions{.queue_url = url_,
                                        .bucket = bucket_,
                                        .prefix = "",
                                        .wait_s = 1,
                                        .visibility_s = 30,
                                        .retry_delay_s = 0});
      EXPECT_EQ(w.Handle(m), QueueWorker::Outcome::kDeleted);
    };
    if (concurrent) {
      std::jthread first([&] { handle(msgs[0]); });
      std::jthread second([&] { handle(msgs[1]); });
    } else {
      handle(msgs[0]);
      handle(msgs[1]);
    }
    auto rows = meta->ListMetrics({});
    ASSERT_TRUE(rows.ok());
    ASSERT_EQ(rows->size(), 1u) << "round " << round;
    EXPECT_EQ((*rows)[0].readings, 2) << "round " << round;
    EXPECT_DOUBLE_EQ((*rows)[0].mean_temp, 20) << "round " << round;  // (10 + 30) / 2
    EXPECT_EQ(meta->ListFiles()->size(), 2u) << "round " << round;
    EXPECT_TRUE(objects->List("inbox/")->empty()) << "round " << round;
  }
}

TEST_F(WorkerTest, PoisonFileRetriesThenOneAlertAndRelease) {
  Put("inbox/bad sensor!/x.csv", "date,temperature,sd\n2024/06/01,10,0.1\n");
  ASSERT_TRUE(sqs_->SendMessage(url_, EventFor(bucket_, "p/inbox/bad sensor!/x.csv")).ok());
  for (int i = 1; i < aws::kMaxReceiveCount; ++i) {
    aws::SqsMessage m = Next();
    EXPECT_EQ(m.receive_count, i);
    EXPECT_EQ(worker_->Handle(m), QueueWorker::Outcome::kRetry);
  }
  EXPECT_EQ(worker_->Handle(Next()), QueueWorker::Outcome::kGaveUp);
  auto alerts = meta_->RecentAlerts(10);
  ASSERT_TRUE(alerts.ok());
  ASSERT_EQ(alerts->size(), 1u);
  EXPECT_EQ((*alerts)[0].first.kind, "data_quality");
  EXPECT_EQ((*alerts)[0].first.source_name, "inbox/bad sensor!/x.csv");
  auto payload = nlohmann::json::parse((*alerts)[0].first.payload_json);
  EXPECT_EQ(payload["reason"], "dead_letter");
  EXPECT_EQ(payload["receive_count"], aws::kMaxReceiveCount);
  // Released (visible again at once); a second give-up adds no alert.
  EXPECT_EQ(worker_->Handle(Next()), QueueWorker::Outcome::kGaveUp);
  EXPECT_EQ(meta_->RecentAlerts(10)->size(), 1u);
  EXPECT_EQ(worker_->stats().failures, aws::kMaxReceiveCount - 1);
}

TEST_F(WorkerTest, TestEventsAndOtherKeysAreDeleted) {
  ASSERT_TRUE(sqs_->SendMessage(url_, R"({"Service":"Amazon S3","Event":"s3:TestEvent"})").ok());
  EXPECT_EQ(worker_->Handle(Next()), QueueWorker::Outcome::kDeleted);
  ASSERT_TRUE(sqs_->SendMessage(url_, EventFor(bucket_, "p/landing/s1/x.csv")).ok());
  EXPECT_EQ(worker_->Handle(Next()), QueueWorker::Outcome::kDeleted);
  EXPECT_EQ(worker_->stats().events_ignored, 2);
  auto none = sqs_->ReceiveMessage(url_, {.max_messages = 1, .wait_s = 0});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace aquasense::cloud
