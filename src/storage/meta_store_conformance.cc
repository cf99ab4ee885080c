// The MetaStore conformance tests (see meta_store_conformance.h).
#include "storage/meta_store_conformance.h"

#include <set>
#include <thread>

#include "storage/test_batch.h"
#include "storage/test_records.h"

namespace aquasense::storage::conformance {
namespace {

core::MonthlyMetrics M(std::string sensor, int y, int m, double max, std::optional<double> diff) {
  return {std::move(sensor), y, m, max - 1, max, 0.3, diff, 4};
}

int64_t VersionOf(MetaStore& store, const std::string& sensor) {
  auto head = store.ReadSensor(sensor);
  EXPECT_TRUE(head.ok()) << head.status().ToString();
  return head.ok() ? head->version : -1;
}

FileRecord File(const std::string& hash, const std::string& sensor, int64_t rows) {
  return testing::TestFile(hash, sensor, rows, /*bytes=*/100 + rows);
}

// C15/C16: a batch is a write set: invisible until Commit, gone without it;
// readers see committed state only.
TEST_P(MetaStoreConformance, C16_BatchIsInvisibleUntilCommitAndGoneWithout) {
  const int64_t g0 = *store().Generation();
  {
    auto b = store().BeginBatch();
    ASSERT_TRUE(b.ok());
    ASSERT_TRUE((*b)->ExpectVersion("s1", 0).ok());
    ASSERT_TRUE((*b)->PutMetrics(M("s1", 2024, 1, 12, std::nullopt)).ok());
    ASSERT_TRUE((*b)->PutBlock("s1", 100, "abc").ok());
    // no Commit: nothing
  }
  EXPECT_TRUE(store().ListMetrics({})->empty());
  EXPECT_FALSE(store().ReadBlock("s1", 100)->has_value());
  EXPECT_EQ(*store().Generation(), g0);
  {
    auto b = store().BeginBatch();
    ASSERT_TRUE((*b)->ExpectVersion("s1", 0).ok());
    ASSERT_TRUE((*b)->ExpectVersion("s2", 0).ok());
    ASSERT_TRUE((*b)->PutMetrics(M("s2", 2024, 2, 13, 1.0)).ok());
    ASSERT_TRUE((*b)->PutMetrics(M("s1", 2024, 1, 12, std::nullopt)).ok());
    ASSERT_TRUE((*b)->PutBlock("s1", 100, std::string("a\0b", 3)).ok());
    ASSERT_TRUE((*b)->PutBlock("s1", 98, "x").ok());
    ASSERT_TRUE((*b)->Commit().ok());
  }
  EXPECT_GT(*store().Generation(), g0);
  auto all = *store().ListMetrics({});
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], M("s1", 2024, 1, 12, std::nullopt));
  EXPECT_EQ(all[1], M("s2", 2024, 2, 13, 1.0));
  MetricsQuery q;
  q.sensor = "s2";
  q.from_month = core::MonthIndex(2024, 2);
  EXPECT_EQ(store().ListMetrics(q)->size(), 1u);
  q.from_month = core::MonthIndex(2024, 3);
  EXPECT_TRUE(store().ListMetrics(q)->empty());
  EXPECT_EQ(*store().ListSensors(), (std::vector<std::string>{"s1", "s2"}));
  EXPECT_EQ(**store().ReadBlock("s1", 100), std::string("a\0b", 3));
  EXPECT_EQ(**store().GetMetrics("s2", core::MonthIndex(2024, 2)), M("s2", 2024, 2, 13, 1.0));
  EXPECT_FALSE(store().GetMetrics("s2", core::MonthIndex(2024, 1))->has_value());
  auto head = store().ReadSensor("s1");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->months, (std::vector<int32_t>{98, 100}));
  EXPECT_NE(head->version, 0);
  EXPECT_EQ(store().ReadSensor("never")->version, 0);
  EXPECT_TRUE(store().ReadSensor("never")->months.empty());
}

// C17: optimistic concurrency instead of a lock: a commit whose sensor moved
// since it was read is refused with kAborted and writes nothing of it.
TEST_P(MetaStoreConformance, C17_CommitFencedBySensorVersion) {
  testing::CommitMetrics(store(), {M("s", 2024, 1, 10, std::nullopt)});
  const int64_t v1 = VersionOf(store(), "s");
  ASSERT_NE(v1, 0);
  testing::CommitMetrics(store(), {M("s", 2024, 2, 11, 1.0)});  // another writer moves s
  const int64_t v2 = VersionOf(store(), "s");
  EXPECT_NE(v2, v1);
  const int64_t g = *store().Generation();
  auto b = store().BeginBatch();
  ASSERT_TRUE((*b)->ExpectVersion("s", v1).ok());  // stale
  ASSERT_TRUE((*b)->PutMetrics(M("s", 2024, 3, 99, 1.0)).ok());
  Status st = (*b)->Commit();
  EXPECT_EQ(st.code(), Code::kAborted) << st.ToString();
  b->reset();
  EXPECT_FALSE(store().GetMetrics("s", core::MonthIndex(2024, 3))->has_value());
  EXPECT_EQ(VersionOf(store(), "s"), v2);
  EXPECT_EQ(*store().Generation(), g);
  // A fresh read and the same write: accepted.
  auto again = store().BeginBatch();
  ASSERT_TRUE((*again)->ExpectVersion("s", v2).ok());
  ASSERT_TRUE((*again)->PutMetrics(M("s", 2024, 3, 99, 1.0)).ok());
  EXPECT_TRUE((*again)->Commit().ok());
}

// C17: writers of different sensors do not wait for or abort each other.
TEST_P(MetaStoreConformance, C17_DifferentSensorsCommitIndependently) {
  auto one = [&](const std::string& sensor) {
    auto b = store().BeginBatch();
    EXPECT_TRUE((*b)->ExpectVersion(sensor, 0).ok());
    EXPECT_TRUE((*b)->PutMetrics(M(sensor, 2024, 1, 10, std::nullopt)).ok());
    return (*b)->Commit();
  };
  if (GetParam().concurrent_batches) {
    // Both read version 0 of their own sensor, both open at once.
    auto a = store().BeginBatch();
    auto b = store().BeginBatch();
    ASSERT_TRUE((*a)->ExpectVersion("a", 0).ok());
    ASSERT_TRUE((*b)->ExpectVersion("b", 0).ok());
    ASSERT_TRUE((*a)->PutMetrics(M("a", 2024, 1, 10, std::nullopt)).ok());
    ASSERT_TRUE((*b)->PutMetrics(M("b", 2024, 1, 10, std::nullopt)).ok());
    EXPECT_TRUE((*b)->Commit().ok());
    EXPECT_TRUE((*a)->Commit().ok());
  } else {
    EXPECT_TRUE(one("a").ok());
    EXPECT_TRUE(one("b").ok());
  }
  EXPECT_EQ(*store().ListSensors(), (std::vector<std::string>{"a", "b"}));
}

// A write to a sensor without ExpectVersion breaks the contract.
TEST_P(MetaStoreConformance, WriteWithoutExpectVersionIsRefused) {
  auto b = store().BeginBatch();
  ASSERT_TRUE((*b)->PutMetrics(M("s", 2024, 1, 10, std::nullopt)).ok());
  EXPECT_EQ((*b)->Commit().code(), Code::kInvalidArgument);
  b->reset();
  EXPECT_TRUE(store().ListMetrics({})->empty());
}

// C19: the ledger's seq is assigned by the store, increases with the order
// files are recorded in, and ListFiles replays that order. RecordFile and
// ApplyFile are idempotent for a file retried after a crash.
TEST_P(MetaStoreConformance, C19_LedgerOrderAndIdempotentRecords) {
  std::vector<std::string> order = {"h3", "h1", "h2"};
  for (const std::string& h : order) {
    auto b = store().BeginBatch();
    ASSERT_TRUE((*b)->ExpectVersion("s", VersionOf(store(), "s")).ok());
    ASSERT_TRUE((*b)->ApplyFile("s", {h, "s", 5, 1}).ok());
    auto seq = (*b)->RecordFile(File(h, "s", 6));
    ASSERT_TRUE(seq.ok());
    ASSERT_TRUE((*b)->Commit().ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  auto files = *store().ListFiles();
  ASSERT_EQ(files.size(), 3u);
  for (size_t i = 0; i < order.size(); ++i) EXPECT_EQ(files[i].hash, order[i]);
  EXPECT_LT(files[0].seq, files[1].seq);
  EXPECT_LT(files[1].seq, files[2].seq);
  // The same file recorded again (a retry): the first record stays.
  {
    auto b = store().BeginBatch();
    FileRecord again = File("h1", "s", 999);
    ASSERT_TRUE((*b)->RecordFile(again).ok());
    ASSERT_TRUE((*b)->Commit().ok());
  }
  EXPECT_EQ((*store().FindFile("h1", "s"))->rows, 6);
  EXPECT_EQ(store().ListFiles()->size(), 3u);
  EXPECT_FALSE(store().FindFile("h1", "other")->has_value());
  auto applied = store().FindApplied("s", "h2", "s");
  ASSERT_TRUE(applied.ok());
  ASSERT_TRUE(applied->has_value());
  EXPECT_EQ((*applied)->valid, 5);
  EXPECT_EQ((*applied)->duplicates, 1);
  EXPECT_FALSE(store().FindApplied("s", "h2", "x")->has_value());
  EXPECT_FALSE(store().FindApplied("t", "h2", "s")->has_value());
  // MayHaveFile: by size (bytes = 100 + rows = 106).
  EXPECT_TRUE(*store().MayHaveFile("s", 106));
  EXPECT_FALSE(*store().MayHaveFile("s", 107));
  EXPECT_FALSE(*store().MayHaveFile("other", 106));
}

// C19 (ids), C22 (claims): alerts are unique per (file, kind, sensor) with
// store-assigned increasing ids; a delivery is claimed by one host only.
TEST_P(MetaStoreConformance, C22_OutboxAndClaimDelivery) {
  const Alert a = testing::TestAlert("deviation", "s1", "h1", 1000);
  {
    auto b = store().BeginBatch();
    ASSERT_TRUE((*b)->AddAlert(a, {"log", "hook"}).ok());
    ASSERT_TRUE((*b)->AddAlert(a, {"log", "hook"}).ok());  // same key: once
    ASSERT_TRUE((*b)->Commit().ok());
  }
  {
    auto b = store().BeginBatch();
    ASSERT_TRUE((*b)->AddAlert(a, {"log", "hook"}).ok());  // a retried file: still once
    Alert second = a;
    second.kind = "data_quality";
    second.sensor = "";
    ASSERT_TRUE((*b)->AddAlert(second, {"hook"}).ok());
    ASSERT_TRUE((*b)->Commit().ok());
  }
  auto recent = *store().RecentAlerts(10);
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[0].first.kind, "data_quality");  // newest first
  EXPECT_GT(recent[0].first.id, recent[1].first.id);
  EXPECT_EQ(recent[1].second.size(), 2u);
  EXPECT_EQ(store().GetAlert(recent[1].first.id)->kind, "deviation");
  EXPECT_EQ(store().GetAlert(recent[0].first.id + 12345).status().code(), Code::kNotFound);

  auto due = *store().DueDeliveries(1000, 10);
  ASSERT_EQ(due.size(), 3u);
  // Two hosts read the same due delivery; one claim wins.
  Delivery lease = due[0];
  lease.next_attempt_ms = 60'000;
  lease.updated_ms = 1001;
  Delivery other = due[0];
  other.next_attempt_ms = 70'000;
  other.updated_ms = 1002;
  EXPECT_TRUE(store().ClaimDelivery(due[0], lease).ok());
  EXPECT_EQ(store().ClaimDelivery(due[0], other).code(), Code::kAborted);
  EXPECT_EQ(store().DueDeliveries(1000, 10)->size(), 2u);
  // The holder records the outcome.
  Delivery done = lease;
  done.state = DeliveryState::kDelivered;
  done.attempts = 1;
  ASSERT_TRUE(store().UpdateDelivery(done).ok());
  EXPECT_EQ(store().ClaimDelivery(lease, other).code(), Code::kAborted);  // delivered: gone
  Delivery later = due[1];
  later.next_attempt_ms = 5000;
  later.attempts = 2;
  later.last_error = "refused";
  ASSERT_TRUE(store().UpdateDeliveries(std::vector<Delivery>{later}).ok());
  auto after = *store().DueDeliveries(5000, 10);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after.back().attempts, 2);  // earliest first
  EXPECT_EQ(after.back().last_error, "refused");
}

// C21: the change log names the sensors committed after a generation; a
// reset (rebuild) answers full.
TEST_P(MetaStoreConformance, C21_MetricsSinceNamesTheChangedSensors) {
  testing::CommitMetrics(store(),
                         {M("a", 2024, 1, 10, std::nullopt), M("b", 2024, 1, 11, std::nullopt),
                          M("c", 2024, 1, 12, std::nullopt)});
  const int64_t g1 = *store().Generation();
  auto same = store().MetricsSince(g1);
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_FALSE(same->full);
  EXPECT_TRUE(same->sensors.empty());
  EXPECT_TRUE(same->rows.empty());
  auto all = store().MetricsSince(-1);
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->full);
  EXPECT_EQ(all->rows, *store().ListMetrics({}));

  testing::CommitMetrics(store(), {M("b", 2024, 2, 13, 2.0)});
  testing::CommitMetrics(store(), {M("d", 2023, 12, 9, std::nullopt), M("b", 2024, 3, 14, 1.0)});
  testing::CommitMetrics(store(), {});  // a batch that wrote no metrics
  const int64_t g4 = *store().Generation();
  auto delta = store().MetricsSince(g1);
  ASSERT_TRUE(delta.ok());
  EXPECT_FALSE(delta->full);
  EXPECT_GE(delta->generation, g4);
  EXPECT_EQ(delta->sensors, (std::vector<std::string>{"b", "d"}));
  EXPECT_EQ(delta->rows.size(), 4u);

  testing::CommitMetrics(store(), {M("a", 2024, 1, 10, std::nullopt)}, /*reset=*/true);
  auto rebuilt = store().MetricsSince(g4);
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_TRUE(rebuilt->full);
  EXPECT_EQ(rebuilt->rows, (std::vector<core::MonthlyMetrics>{M("a", 2024, 1, 10, std::nullopt)}));
  const int64_t g5 = *store().Generation();
  testing::CommitMetrics(store(), {M("e", 2024, 1, 10, std::nullopt)});
  auto after = store().MetricsSince(g5);
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->full);
  EXPECT_EQ(after->sensors, std::vector<std::string>{"e"});
}

// C18: ResetDerived empties blocks, metrics, versions, applied files and the
// ledger, keeps the outbox; after it every sensor is at version 0.
TEST_P(MetaStoreConformance, C18_ResetDerivedKeepsTheOutbox) {
  {
    auto b = store().BeginBatch();
    ASSERT_TRUE((*b)->ExpectVersion("s", 0).ok());
    ASSERT_TRUE((*b)->PutBlock("s", 5, "b").ok());
    ASSERT_TRUE((*b)->PutMetrics(M("s", 2024, 1, 10, std::nullopt)).ok());
    ASSERT_TRUE((*b)->ApplyFile("s", {"h", "s", 1, 0}).ok());
    ASSERT_TRUE((*b)->RecordFile(File("h", "s", 1)).ok());
    Alert a;
    a.kind = "deviation";
    a.file_hash = "h";
    a.default_sensor = "s";
    a.payload_json = "{}";
    ASSERT_TRUE((*b)->AddAlert(a, {"log"}).ok());
    ASSERT_TRUE((*b)->Commit().ok());
  }
  {
    auto b = store().BeginBatch();
    ASSERT_TRUE((*b)->ResetDerived().ok());
    ASSERT_TRUE((*b)->ExpectVersion("t", 0).ok());
    ASSERT_TRUE((*b)->PutMetrics(M("t", 2024, 1, 10, std::nullopt)).ok());
    ASSERT_TRUE((*b)->Commit().ok());
  }
  EXPECT_EQ(*store().ListSensors(), std::vector<std::string>{"t"});
  EXPECT_FALSE(store().ReadBlock("s", 5)->has_value());
  EXPECT_EQ(VersionOf(store(), "s"), 0);
  EXPECT_TRUE(store().ListFiles()->empty());
  EXPECT_FALSE(store().FindApplied("s", "h", "s")->has_value());
  EXPECT_EQ(store().RecentAlerts(10)->size(), 1u);
}

// C23: a block of any size round-trips (a backend with an item limit keeps
// the larger ones elsewhere).
TEST_P(MetaStoreConformance, C23_LargeBlocksRoundTrip) {
  std::string big(kMaxInlineBlockBytes + 4096, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + i / 251);
  auto b = store().BeginBatch();
  ASSERT_TRUE((*b)->ExpectVersion("dense", 0).ok());
  ASSERT_TRUE((*b)->PutBlock("dense", 7, big).ok());
  ASSERT_TRUE((*b)->PutBlock("dense", 8, "small").ok());
  ASSERT_TRUE((*b)->Commit().ok());
  EXPECT_EQ(**store().ReadBlock("dense", 7), big);
  EXPECT_EQ(**store().ReadBlock("dense", 8), "small");
}

// I11: a batch that reads its own writes (Batch::ReadsOwnWrites) sees the
// committed state overlaid with its PutBlock/PutMetrics, exactly as given, the
// last write winning; the store's readers still see committed state only.
TEST_P(MetaStoreConformance, I11_BatchReadsItsOwnWritesOverCommittedState) {
  const int32_t jan = core::MonthIndex(2024, 1), feb = core::MonthIndex(2024, 2);
  {
    auto b = store().BeginBatch();
    ASSERT_TRUE((*b)->ExpectVersion("s1", 0).ok());
    ASSERT_TRUE((*b)->PutBlock("s1", jan, "old").ok());
    ASSERT_TRUE((*b)->PutMetrics(M("s1", 2024, 1, 10, std::nullopt)).ok());
    ASSERT_TRUE((*b)->Commit().ok());
  }
  auto b = store().BeginBatch();
  ASSERT_TRUE(b.ok());
  Batch& batch = **b;
  if (!batch.ReadsOwnWrites()) {
    EXPECT_EQ(batch.ReadBlock("s1", jan).status().code(), Code::kInvalidArgument);
    EXPECT_EQ(batch.ListSensors().status().code(), Code::kInvalidArgument);
    GTEST_SKIP() << "this backend's batches do not read their own writes";
  }
  EXPECT_EQ(**batch.ReadBlock("s1", jan), "old");  // committed, not written yet
  EXPECT_EQ(**batch.GetMetrics("s1", jan), M("s1", 2024, 1, 10, std::nullopt));
  ASSERT_TRUE(batch.ExpectVersion("s1", VersionOf(store(), "s1")).ok());
  ASSERT_TRUE(batch.ExpectVersion("s0", 0).ok());
  ASSERT_TRUE(batch.PutBlock("s1", jan, std::string("n\0w", 3)).ok());
  ASSERT_TRUE(batch.PutBlock("s1", feb, "first").ok());
  ASSERT_TRUE(batch.PutBlock("s1", feb, "second").ok());  // overwritten in the batch
  ASSERT_TRUE(batch.PutMetrics(M("s1", 2024, 2, 14, 4.0)).ok());
  ASSERT_TRUE(batch.PutMetrics(M("s1", 2024, 1, 11, std::nullopt)).ok());
  ASSERT_TRUE(batch.PutMetrics(M("s0", 2024, 3, 9, std::nullopt)).ok());
  ASSERT_TRUE(batch.PutMetrics(M("s0", 2024, 3, 8, -1.5)).ok());
  EXPECT_EQ(**batch.ReadBlock("s1", jan), std::string("n\0w", 3));
  EXPECT_EQ(**batch.ReadBlock("s1", feb), "second");
  EXPECT_FALSE(batch.ReadBlock("s1", feb + 1)->has_value());
  EXPECT_FALSE(batch.ReadBlock("s0", feb)->has_value());
  EXPECT_EQ(**batch.GetMetrics("s1", jan), M("s1", 2024, 1, 11, std::nullopt));
  EXPECT_EQ(**batch.GetMetrics("s0", core::MonthIndex(2024, 3)), M("s0", 2024, 3, 8, -1.5));
  EXPECT_FALSE(batch.GetMetrics("s0", feb)->has_value());
  MetricsQuery q;
  q.sensor = "s1";
  EXPECT_EQ(*batch.ListMetrics(q),
            (std::vector<core::MonthlyMetrics>{M("s1", 2024, 1, 11, std::nullopt),
                                               M("s1", 2024, 2, 14, 4.0)}));
  q.from_month = feb;
  EXPECT_EQ(*batch.ListMetrics(q), std::vector<core::MonthlyMetrics>{M("s1", 2024, 2, 14, 4.0)});
  EXPECT_EQ(*batch.ListMetrics({}),
            (std::vector<core::MonthlyMetrics>{M("s0", 2024, 3, 8, -1.5),
                                               M("s1", 2024, 1, 11, std::nullopt),
                                               M("s1", 2024, 2, 14, 4.0)}));
  EXPECT_EQ(*batch.ListSensors(), (std::vector<std::string>{"s0", "s1"}));
  // The store's readers: committed state only, until the commit.
  EXPECT_EQ(**store().ReadBlock("s1", jan), "old");
  EXPECT_EQ(*store().ListSensors(), std::vector<std::string>{"s1"});
  ASSERT_TRUE(batch.Commit().ok());
  EXPECT_EQ(**store().ReadBlock("s1", feb), "second");
  EXPECT_EQ(**store().GetMetrics("s1", jan), M("s1", 2024, 1, 11, std::nullopt));
}

// I11: after ResetDerived a batch's reads see none of the committed state,
// only what the batch wrote since.
TEST_P(MetaStoreConformance, I11_BatchReadsAfterResetDerivedSeeOnlyItsWrites) {
  const int32_t jan = core::MonthIndex(2024, 1);
  testing::CommitMetrics(store(), {M("s", 2024, 1, 10, std::nullopt)});
  auto b = store().BeginBatch();
  ASSERT_TRUE(b.ok());
  Batch& batch = **b;
  if (!batch.ReadsOwnWrites())
    GTEST_SKIP() << "this backend's batches do not read their own writes";
  ASSERT_TRUE(batch.ResetDerived().ok());
  EXPECT_FALSE(batch.GetMetrics("s", jan)->has_value());
  EXPECT_TRUE(batch.ListMetrics({})->empty());
  EXPECT_TRUE(batch.ListSensors()->empty());
  ASSERT_TRUE(batch.ExpectVersion("t", 0).ok());
  ASSERT_TRUE(batch.PutBlock("t", jan, "tb").ok());
  ASSERT_TRUE(batch.PutMetrics(M("t", 2024, 1, 7, std::nullopt)).ok());
  EXPECT_EQ(**batch.ReadBlock("t", jan), "tb");
  EXPECT_FALSE(batch.ReadBlock("s", jan)->has_value());
  EXPECT_EQ(*batch.ListMetrics({}),
            std::vector<core::MonthlyMetrics>{M("t", 2024, 1, 7, std::nullopt)});
  EXPECT_EQ(*batch.ListSensors(), std::vector<std::string>{"t"});
  EXPECT_EQ(*store().ListSensors(), std::vector<std::string>{"s"});  // not committed yet
}

// C19: sortable ids increase within a process, also within one ms.
TEST(SortableId, IncreasesWithinOneMillisecond) {
  int64_t last = NewSortableId(1'700'000'000'000);
  for (int i = 0; i < 5000; ++i) {  // past the 1,024 of one ms: borrows the next
    const int64_t id = NewSortableId(1'700'000'000'000);
    EXPECT_GT(id, last);
    last = id;
  }
  EXPECT_GT(NewSortableId(1'700'000'000'100), last);
  EXPECT_EQ(NewSortableId(1'800'000'000'000) >> 21, 1'800'000'000'000);
}

}  // namespace
}  // namespace aquasense::storage::conformance
