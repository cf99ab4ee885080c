// DynamoMetaStore against moto's DynamoDB (python3 -m moto.server, started
// once for this binary on 127.0.0.1 and stopped by its PID at exit): what
// the contract asks of a distributed backend (version fencing, per-sensor
// commits beyond one transaction, blocks over an item in the ObjectStore,
// the change log, the ledger and outbox with conditional writes, a reset
// without truncate). Every test gets a table of its own. Without moto the
// tests are skipped, saying so.
#include "storage/dynamo_meta_store.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <thread>

#include "common/aws/test_server.h"
#include "storage/dynamo_items.h"
#include "storage/meta_store_conformance.h"
#include "storage/test_dir.h"
#include "storage/test_records.h"

namespace aquasense::storage {
namespace {

SystemClock g_clock;

std::shared_ptr<aws::DynamoClient> MotoClient(const std::string& endpoint) {
  auto o = aws::testing::MotoOptions<aws::DynamoOptions>(endpoint, 3);
  o.table_poll_ms = 50;
  return std::make_shared<aws::DynamoClient>(std::move(o));
}

core::MonthlyMetrics M(std::string sensor, int y, int m, double max, std::optional<double> diff) {
  return {std::move(sensor), y, m, max - 1, max, 0.3, diff, 4};
}

class DynamoMetaStoreTest : public aws::testing::MotoTest {
 protected:
  void SetUpMoto(const std::string& url) override {
    db_ = MotoClient(url);
    prefix_ = aws::testing::UniqueName("aq-test");
    ASSERT_TRUE(EnsureDynamoTables(*db_, prefix_).ok());
    objects_ = NewLocalObjectStore(dir_.path());
    store_ = NewDynamoMetaStore(db_, prefix_, objects_.get(), g_clock);
  }

  // One batch writing `rows` to their sensors, fenced by their current versions.
  Status Commit(const std::vector<core::MonthlyMetrics>& rows, bool reset = false) {
    auto b = store_->BeginBatch();
    if (!b.ok()) return b.status();
    if (reset) AQ_RETURN_IF_ERROR((*b)->ResetDerived());
    std::set<std::string> seen;
    for (const auto& m : rows) {
      if (seen.insert(m.sensor).second) {
        auto head = reset ? Result<SensorHead>(SensorHead{}) : store_->ReadSensor(m.sensor);
        if (!head.ok()) return head.status();
        AQ_RETURN_IF_ERROR((*b)->ExpectVersion(m.sensor, head->version));
      }
      AQ_RETURN_IF_ERROR((*b)->PutMetrics(m));
    }
    return (*b)->Commit();
  }

  testing::TempDir dir_;
  std::shared_ptr<aws::DynamoClient> db_;
  std::string prefix_;
  std::unique_ptr<ObjectStore> objects_;
  std::unique_ptr<MetaStore> store_;
};

TEST_F(DynamoMetaStoreTest, SensorCommitIsFencedByItsVersion) {
  auto h0 = store_->ReadSensor("s1");
  ASSERT_TRUE(h0.ok()) << h0.status().ToString();
  EXPECT_EQ(h0->version, 0);
  auto b = *store_->BeginBatch();
  ASSERT_TRUE(b->ExpectVersion("s1", 0).ok());
  ASSERT_TRUE(b->PutBlock("s1", core::MonthIndex(2024, 1), std::string("a\0b", 3)).ok());
  ASSERT_TRUE(b->PutMetrics(M("s1", 2024, 1, 12, std::nullopt)).ok());
  ASSERT_TRUE(b->ApplyFile("s1", {"h1", "s1", 4, 1}).ok());
  EXPECT_TRUE(store_->ListMetrics({})->empty());  // nothing before Commit
  ASSERT_TRUE(b->Commit().ok());

  auto h1 = *store_->ReadSensor("s1");
  EXPECT_NE(h1.version, 0);
  EXPECT_EQ(h1.months, std::vector<int32_t>{core::MonthIndex(2024, 1)});
  EXPECT_EQ(**store_->ReadBlock("s1", core::MonthIndex(2024, 1)), std::string("a\0b", 3));
  EXPECT_EQ(**store_->GetMetrics("s1", core::MonthIndex(2024, 1)), M("s1", 2024, 1, 12, {}));
  EXPECT_EQ((*store_->FindApplied("s1", "h1", "s1"))->duplicates, 1);
  EXPECT_EQ(*store_->ListSensors(), std::vector<std::string>{"s1"});

  // A writer that read version 0 lost the race: kAborted, nothing of it written.
  auto stale = *store_->BeginBatch();
  ASSERT_TRUE(stale->ExpectVersion("s1", 0).ok());
  ASSERT_TRUE(stale->PutMetrics(M("s1", 2024, 1, 99, std::nullopt)).ok());
  EXPECT_EQ(stale->Commit().code(), Code::kAborted);
  EXPECT_EQ((*store_->GetMetrics("s1", core::MonthIndex(2024, 1)))->max_temp, 12);
  EXPECT_EQ(store_->ReadSensor("s1")->version, h1.version);

  // Writing before ExpectVersion breaks the contract.
  auto bad = *store_->BeginBatch();
  ASSERT_TRUE(bad->PutMetrics(M("s2", 2024, 1, 1, std::nullopt)).ok());
  EXPECT_EQ(bad->Commit().code(), Code::kInvalidArgument);
  EXPECT_FALSE(store_->GetMetrics("s2", core::MonthIndex(2024, 1))->has_value());
}

TEST_F(DynamoMetaStoreTest, BlocksOverAnItemLiveInTheObjectStore) {
  std::string big(kMaxInlineBlockBytes + 1000, 'x');
  big[17] = '\0';
  auto b = *store_->BeginBatch();
  ASSERT_TRUE(b->ExpectVersion("s1", 0).ok());
  ASSERT_TRUE(b->PutBlock("s1", 24300, big).ok());
  ASSERT_TRUE(b->PutBlock("s1", 24301, "small").ok());
  ASSERT_TRUE(b->Commit().ok());
  EXPECT_EQ(**store_->ReadBlock("s1", 24300), big);
  EXPECT_EQ(**store_->ReadBlock("s1", 24301), "small");
  auto objects = *objects_->List("meta-blocks/");
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects[0].size, big.size());
  EXPECT_FALSE(store_->ReadBlock("s1", 24302)->has_value());
}

TEST_F(DynamoMetaStoreTest, SensorOverOneTransactionCommitsInFencedChunks) {
  std::vector<core::MonthlyMetrics> rows;
  for (int i = 0; i < 130; ++i) rows.push_back(M("big", 2000 + i / 12, i % 12 + 1, i, i * 0.5));
  auto b = *store_->BeginBatch();
  ASSERT_TRUE(b->ExpectVersion("big", 0).ok());
  for (const auto& m : rows) {
    ASSERT_TRUE(b->PutMetrics(m).ok());
    ASSERT_TRUE(b->PutBlock("big", core::MonthIndex(m.year, m.month), "blk").ok());
  }
  ASSERT_TRUE(b->Commit().ok());  // 260 items: 3 transactions
  EXPECT_EQ(*store_->ListMetrics({}), rows);
  EXPECT_EQ(store_->ReadSensor("big")->months.size(), 130u);
  MetricsQuery q;
  q.sensor = "big";
  q.from_month = core::MonthIndex(2001, 1);
  q.to_month = core::MonthIndex(2001, 12);
  EXPECT_EQ(store_->ListMetrics(q)->size(), 12u);
}

TEST_F(DynamoMetaStoreTest, MetricsSinceReadsTheChangeLog) {
  ASSERT_TRUE(
      Commit({M("a", 2024, 1, 10, {}), M("b", 2024, 1, 11, {}), M("c", 2024, 1, 12, {})}).ok());
  const int64_t g1 = *store_->Generation();
  EXPECT_GT(g1, 0);
  auto same = *store_->MetricsSince(g1);
  EXPECT_FALSE(same.full);
  EXPECT_EQ(same.generation, g1);
  EXPECT_TRUE(same.sensors.empty() && same.rows.empty());
  auto all = *store_->MetricsSince(-1);
  EXPECT_TRUE(all.full);
  EXPECT_EQ(all.rows.size(), 3u);

  ASSERT_TRUE(Commit({M("b", 2024, 2, 13, 2.0)}).ok());
  ASSERT_TRUE(Commit({M("d", 2023, 12, 9, {})}).ok());
  auto delta = *store_->MetricsSince(g1);
  EXPECT_FALSE(delta.full);
  EXPECT_GT(delta.generation, g1);
  EXPECT_EQ(delta.sensors, (std::vector<std::string>{"b", "d"}));
  int b_rows = 0;
  for (const auto& m : delta.rows) b_rows += m.sensor == "b";
  EXPECT_EQ(b_rows, 2);

  const int64_t g3 = *store_->Generation();
  ASSERT_TRUE(Commit({M("a", 2024, 1, 10, {})}, /*reset=*/true).ok());
  auto rebuilt = *store_->MetricsSince(g3);
  EXPECT_TRUE(rebuilt.full);
  EXPECT_EQ(rebuilt.rows, std::vector<core::MonthlyMetrics>{M("a", 2024, 1, 10, {})});
  EXPECT_TRUE(store_->MetricsSince(*store_->Generation() + 5)->full);
}

TEST_F(DynamoMetaStoreTest, LedgerAndOutboxUseConditionalWrites) {
  auto b = *store_->BeginBatch();
  FileRecord f = testing::TestFile("h1", "s1", 10, 123);
  auto seq = b->RecordFile(f);
  ASSERT_TRUE(seq.ok());
  Alert a = testing::TestAlert("deviation", "s1", "h1", 1000);
  a.payload_json = "{\"n\":1}";
  ASSERT_TRUE(b->AddAlert(a, {"log", "hook"}).ok());
  ASSERT_TRUE(b->Commit().ok());
  // The same file and alert again: the first record and alert stay.
  auto again = *store_->BeginBatch();
  f.rows = 99;
  ASSERT_TRUE(again->RecordFile(f).ok());
  ASSERT_TRUE(again->AddAlert(a, {"log", "hook"}).ok());
  ASSERT_TRUE(again->Commit().ok());

  auto found = *store_->FindFile("h1", "s1");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->rows, 10);
  EXPECT_EQ(found->seq, *seq);
  EXPECT_EQ(found->bytes, 123);
  EXPECT_FALSE(store_->FindFile("h1", "s2")->has_value());
  EXPECT_TRUE(*store_->MayHaveFile("s1", 123));
  EXPECT_FALSE(*store_->MayHaveFile("s1", 124));
  EXPECT_EQ(store_->ListFiles()->size(), 1u);

  auto recent = *store_->RecentAlerts(10);
  ASSERT_EQ(recent.size(), 1u);
  EXPECT_EQ(recent[0].first.payload_json, "{\"n\":1}");
  ASSERT_EQ(recent[0].second.size(), 2u);
  EXPECT_EQ(recent[0].second[0].channel, "hook");
  EXPECT_EQ(store_->GetAlert(recent[0].first.id)->kind, "deviation");
  EXPECT_EQ(store_->GetAlert(12345).status().code(), Code::kNotFound);

  auto due = *store_->DueDeliveries(1000, 10);
  ASSERT_EQ(due.size(), 2u);
  Delivery claim = due[0];
  claim.next_attempt_ms = 61'000;  // a lease
  claim.updated_ms = 1000 + 1;
  ASSERT_TRUE(store_->ClaimDelivery(due[0], claim).ok());
  EXPECT_EQ(store_->ClaimDelivery(due[0], claim).code(), Code::kAborted);  // the other host
  EXPECT_EQ(store_->DueDeliveries(1000, 10)->size(), 1u);
  claim.state = DeliveryState::kDelivered;
  Delivery later = due[1];
  later.next_attempt_ms = 5000;
  later.attempts = 2;
  later.last_error = "refused";
  ASSERT_TRUE(store_->UpdateDeliveries(std::vector<Delivery>{claim, later}).ok());
  auto after = *store_->DueDeliveries(5000, 10);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].last_error, "refused");
}

TEST_F(DynamoMetaStoreTest, ResetDerivedEmptiesWithoutTruncate) {
  ASSERT_TRUE(Commit({M("a", 2024, 1, 10, {}), M("b", 2024, 1, 11, {})}).ok());
  auto b = *store_->BeginBatch();
  FileRecord f;
  f.hash = "h";
  f.default_sensor = "a";
  ASSERT_TRUE(b->RecordFile(f).ok());
  Alert a;
  a.kind = "data_quality";
  a.file_hash = "h";
  a.default_sensor = "a";
  ASSERT_TRUE(b->AddAlert(a, {"log"}).ok());
  ASSERT_TRUE(b->Commit().ok());

  auto r = *store_->BeginBatch();
  ASSERT_TRUE(r->ResetDerived().ok());
  ASSERT_TRUE(r->ExpectVersion("c", 0).ok());
  ASSERT_TRUE(r->PutMetrics(M("c", 2024, 3, 1, {})).ok());
  ASSERT_TRUE(r->Commit().ok());
  EXPECT_EQ(*store_->ListSensors(), std::vector<std::string>{"c"});
  EXPECT_EQ(store_->ReadSensor("a")->version, 0);
  EXPECT_TRUE(store_->ListFiles()->empty());
  EXPECT_FALSE(*store_->MayHaveFile("a", 0));
  EXPECT_EQ(store_->RecentAlerts(10)->size(), 1u);  // the outbox stays
}

// A commit that lands after a later one moved the generation past its id
// is announced again above the generation readers may hold: not missed.
TEST_F(DynamoMetaStoreTest, LateCommitIsAnnouncedAgainAboveTheGeneration) {
  ASSERT_TRUE(Commit({M("a", 2024, 1, 10, {})}).ok());
  const int64_t g = *store_->Generation();
  const int64_t late_id = g - 1000;  // took its id before a's commit, landed after
  dynamo::Ctx ctx{db_, DynamoMetaTable(prefix_), objects_.get(), &g_clock};
  ASSERT_TRUE(db_->PutItem(ctx.table, dynamo::ChangeItem(ctx, late_id, "late")).ok());
  ASSERT_TRUE(dynamo::BumpGeneration(ctx, late_id, "late").ok());
  EXPECT_EQ(*store_->Generation(), g + 1);
  auto delta = store_->MetricsSince(g);
  ASSERT_TRUE(delta.ok());
  EXPECT_FALSE(delta->full);
  EXPECT_EQ(delta->sensors, std::vector<std::string>{"late"});
  EXPECT_TRUE(store_->MetricsSince(g + 1)->sensors.empty());
}

// Different sensors commit side by side, nothing waits. (Two writers of
// one sensor at once are not run here: moto restores a deep copy of the
// whole table when a transaction fails, wiping the transactions that landed
// meanwhile; fencing is checked sequentially above.)
TEST_F(DynamoMetaStoreTest, SensorsCommitInParallel) {
  std::vector<Status> results(4);
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < 4; ++i)
      threads.emplace_back(
          [&, i] { results[i] = Commit({M("p" + std::to_string(i), 2024, 1, 10 + i, {})}); });
  }
  for (const Status& s : results) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(*store_->ListSensors(), (std::vector<std::string>{"p0", "p1", "p2", "p3"}));
  EXPECT_EQ(store_->ListMetrics({})->size(), 4u);
}

// An idle reader (the generation did not move) costs one consistent GetItem
// of the generation item per poll, and nothing else.
TEST(DynamoIdleReader, CostsOneGetItemPerPoll) {
  aws::testing::ServerProcess fake({"python3", AQ_AWS_TESTDATA "/fake_dynamo.py"});
  if (!fake.Start()) GTEST_SKIP() << "cannot start fake_dynamo.py: " << fake.error();
  auto store = NewDynamoMetaStore(MotoClient(fake.url()), "idle", nullptr, g_clock);
  auto delta = store->MetricsSince(0);  // the fake has no generation item: 0
  ASSERT_TRUE(delta.ok()) << delta.status().ToString();
  EXPECT_FALSE(delta->full);
  aws::HttpClient http;
  auto log = dynamo::Json::parse(http.Send({.method = "GET", .url = fake.url() + "/log"})->body);
  ASSERT_EQ(log.size(), 1u) << log.dump();
  EXPECT_EQ(log[0]["target"], "DynamoDB_20120810.GetItem");
  EXPECT_EQ(log[0]["body"]["Key"]["pk"]["S"], "gen");
  EXPECT_TRUE(log[0]["body"]["ConsistentRead"].get<bool>());
}

// The MetaStore conformance suite over DynamoDB on moto: a table per test,
// large blocks in a local object store, a second handle on the same table.
class DynamoUnderTest final : public conformance::MetaUnderTest {
 public:
  Status Open() {
    std::string error;
    auto* moto = aws::testing::SharedMoto(&error);
    if (moto == nullptr) return Unavailable(error);
    db_ = MotoClient(moto->url());
    prefix_ = aws::testing::UniqueName("aq-conf");
    AQ_RETURN_IF_ERROR(EnsureDynamoTables(*db_, prefix_));
    store_ = NewDynamoMetaStore(db_, prefix_, objects_.get(), g_clock);
    return Status::Ok();
  }
  MetaStore& store() override { return *store_; }
  std::unique_ptr<MetaStore> OpenAgain() override {
    return NewDynamoMetaStore(MotoClient(db_->options().endpoint), prefix_, objects_.get(),
                              g_clock);
  }

 private:
  testing::TempDir dir_;
  std::unique_ptr<ObjectStore> objects_ = NewLocalObjectStore(dir_.path());
  std::shared_ptr<aws::DynamoClient> db_;
  std::string prefix_;
  std::unique_ptr<MetaStore> store_;
};

Result<std::unique_ptr<conformance::MetaUnderTest>> MakeDynamo() {
  auto sut = std::make_unique<DynamoUnderTest>();
  AQ_RETURN_IF_ERROR(sut->Open());
  return std::unique_ptr<conformance::MetaUnderTest>(std::move(sut));
}

using conformance::MetaStoreConformance;
INSTANTIATE_TEST_SUITE_P(DynamoDB, MetaStoreConformance,
                         ::testing::Values(conformance::MetaBackend{"DynamoOnMoto", MakeDynamo,
                                                                    true}),
                         conformance::ParamName<conformance::MetaBackend>);

TEST(DynamoItems, NumbersRoundTripAndUrlsParse) {
  for (double v : {0.1 + 0.2, 1e-7, -3.25, 123456.789012345678, 0.0}) {
    dynamo::Json item = {{"x", *dynamo::Number(v)}};
    EXPECT_EQ(dynamo::GetDouble(item, "x"), v);
  }
  EXPECT_FALSE(dynamo::Number(std::nan("")).ok());
  EXPECT_EQ(*ParseDynamoUrl("dynamodb://aquasense"), "aquasense");
  EXPECT_EQ(DynamoMetaTable("aquasense"), "aquasense-meta");
  EXPECT_EQ(ParseDynamoUrl("dynamodb://").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseDynamoUrl("dynamodb://a/b").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseDynamoUrl("s3://a").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(dynamo::MetricsSk(core::MonthIndex(2024, 3)), "M#2024-03");
  EXPECT_EQ(dynamo::ChangeSk(42, "s"), "00000000000000000042#s");
}

}  // namespace
}  // namespace aquasense::storage
