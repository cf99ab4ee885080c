#include "http/snapshot.h"

#include <gtest/gtest.h>

#include <atomic>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "common/aws/request_stats.h"
#include "http/metrics.h"
#include "http/server.h"
#include "storage/test_batch.h"
#include "storage/test_dir.h"
#include "storage/test_meta_store.h"

namespace aquasense::http {
namespace {

core::MonthlyMetrics M(std::string sensor, int y, int m, double mean) {
  core::MonthlyMetrics r;
  r.sensor = std::move(sensor);
  r.year = y;
  r.month = m;
  r.mean_temp = mean;
  r.readings = 1;
  return r;
}

TEST(Snapshot, SortsAndFinds) {
  Snapshot s({M("b", 2024, 2, 2), M("a", 2024, 1, 1), M("b", 2024, 1, 3), M("b", 2023, 12, 4)}, 3,
             0);
  ASSERT_EQ(s.sensors().size(), 2u);
  EXPECT_EQ(s.sensors()[0].id, "a");
  EXPECT_EQ(s.record_count(), 4u);
  ASSERT_NE(s.Find("b", core::MonthIndex(2024, 1)), nullptr);
  EXPECT_EQ(s.Find("b", core::MonthIndex(2024, 1))->mean_temp, 3);
  EXPECT_EQ(s.Find("b", core::MonthIndex(2022, 1)), nullptr);
  EXPECT_EQ(s.Find("c", core::MonthIndex(2024, 1)), nullptr);
  const SensorEntry* b = s.FindSensor("b");
  ASSERT_NE(b, nullptr);
  auto all = s.Months(*b, INT32_MIN, INT32_MAX);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].month, core::MonthIndex(2023, 12));
  EXPECT_EQ(s.Months(*b, core::MonthIndex(2024, 1), core::MonthIndex(2024, 1)).size(), 1u);
  EXPECT_EQ(s.Months(*b, core::MonthIndex(2025, 1), INT32_MAX).size(), 0u);
}

// Every sensor and month of a snapshot, as text.
std::string Dump(const Snapshot& s) {
  std::ostringstream out;
  out << s.sensors().size() << " sensors, " << s.record_count() << " records\n";
  for (const SensorEntry& e : s.sensors()) {
    out << e.id << " readings=" << e.readings << "\n";
    for (const MonthRecord& r : s.Months(e, INT32_MIN, INT32_MAX)) {
      out << "  " << r.month << " " << r.mean_temp << " " << r.max_temp << " " << r.max_sd << " "
          << r.has_diff << " " << r.max_temp_diff << " " << r.readings << "\n";
    }
  }
  return out.str();
}

TEST(Snapshot, DeltaReplacesAddsAndDropsSensors) {
  Snapshot base({M("b", 2024, 1, 1), M("b", 2024, 2, 2), M("d", 2024, 1, 3), M("f", 2024, 1, 4)}, 1,
                0);
  // b gets a month, d has none left, c and g are new, f is unchanged.
  Snapshot next(base, {"b", "d"},
                {M("g", 2024, 5, 9), M("b", 2024, 1, 1), M("b", 2024, 2, 2), M("b", 2024, 3, 5),
                 M("c", 2023, 1, 7)},
                2, 10);
  Snapshot want({M("b", 2024, 1, 1), M("b", 2024, 2, 2), M("b", 2024, 3, 5), M("c", 2023, 1, 7),
                 M("f", 2024, 1, 4), M("g", 2024, 5, 9)},
                2, 10);
  EXPECT_EQ(Dump(next), Dump(want));
  EXPECT_EQ(next.generation(), 2);
  EXPECT_EQ(next.built_ms(), 10);
  EXPECT_EQ(next.FindSensor("d"), nullptr);
  ASSERT_NE(next.Find("b", core::MonthIndex(2024, 3)), nullptr);
  // The unchanged sensor's months are shared, not copied.
  EXPECT_EQ(next.FindSensor("f")->months, base.FindSensor("f")->months);
  EXPECT_NE(next.FindSensor("b")->months, base.FindSensor("b")->months);
  // The base is untouched.
  EXPECT_EQ(base.record_count(), 4u);
  EXPECT_NE(base.FindSensor("d"), nullptr);
}

// A MetaStore whose metrics and generation the test sets.
class FakeMeta final : public storage::UnusedMetaStore {
 public:
  std::vector<core::MonthlyMetrics> rows;
  int64_t generation = 1;
  bool fail = false;
  int lists = 0;
  std::atomic<bool> throws{false};  // Generation() throws (read by the poller thread)
  std::atomic<int> generation_calls{0};

  Result<int64_t> Generation() override {
    generation_calls.fetch_add(1);
    if (throws.load()) throw std::runtime_error("driver bug");
    if (fail) return Unavailable("disk gone");
    return generation;
  }
  Result<std::vector<core::MonthlyMetrics>> ListMetrics(const storage::MetricsQuery&) override {
    ++lists;
    return rows;
  }
};

TEST(SnapshotHolder, ReloadsOnlyWhenTheGenerationMoves) {
  FakeMeta meta;
  FakeClock clock(5000);
  SnapshotHolder h(&meta, &clock);
  EXPECT_FALSE(h.healthy());
  EXPECT_EQ(h.Get()->record_count(), 0u);
  meta.rows = {M("a", 2024, 1, 1)};
  ASSERT_TRUE(h.Refresh().ok());
  EXPECT_TRUE(h.healthy());
  EXPECT_EQ(h.Get()->record_count(), 1u);
  EXPECT_EQ(h.Get()->generation(), 1);
  uint64_t v = h.version();
  ASSERT_TRUE(h.Refresh().ok());
  EXPECT_EQ(meta.lists, 1);
  EXPECT_EQ(h.version(), v);
  meta.rows.push_back(M("a", 2024, 2, 2));
  meta.generation = 2;
  clock.Advance(100);
  ASSERT_TRUE(h.Refresh().ok());
  EXPECT_EQ(h.Get()->record_count(), 2u);
  EXPECT_GT(h.version(), v);
  EXPECT_EQ(h.last_check_ms(), 5100);
}

TEST(SnapshotHolder, KeepsTheOldSnapshotWhenTheStoreFails) {
  FakeMeta meta;
  FakeClock clock(0);
  SnapshotHolder h(&meta, &clock);
  meta.rows = {M("a", 2024, 1, 1)};
  ASSERT_TRUE(h.Refresh().ok());
  meta.fail = true;
  EXPECT_FALSE(h.Refresh().ok());
  EXPECT_FALSE(h.healthy());
  EXPECT_EQ(h.last_error(), "disk gone");
  EXPECT_EQ(h.Get()->record_count(), 1u);
  meta.fail = false;
  ASSERT_TRUE(h.Refresh().ok());
  EXPECT_TRUE(h.healthy());
}

TEST(SnapshotHolder, BackgroundPollerPicksUpChanges) {
  FakeMeta meta;
  SystemClock clock;
  SnapshotHolder h(&meta, &clock);
  h.Start(std::chrono::milliseconds(5));
  for (int i = 0; i < 400 && !h.healthy(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(h.healthy());
  h.Stop();
}

TEST(SnapshotHolder, Threads_PollerSurvivesAnExceptionAndKeepsPolling) {
  FakeMeta meta;
  SystemClock clock;
  SnapshotHolder h(&meta, &clock);
  meta.throws = true;
  h.Start(std::chrono::milliseconds(2));
  for (int i = 0; i < 1000 && meta.generation_calls.load() < 5; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_GE(meta.generation_calls.load(), 5);  // polled again after each throw
  EXPECT_FALSE(h.healthy());
  EXPECT_NE(h.last_error().find("driver bug"), std::string::npos);
  meta.throws = false;  // the store recovers: the poller picks it up
  for (int i = 0; i < 1000 && !h.healthy(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_TRUE(h.healthy());
  h.Stop();
}

// Against a real store: after every refresh (several batches, a new sensor,
// a rebuild, two batches between refreshes) the holder's snapshot is exactly
// a full reload of the store, and the delta refreshes share what did not change.
TEST(SnapshotHolder, DeltaRefreshEqualsAFullReload) {
  testing::TempDir dir;
  auto opened = storage::OpenSqliteMetaStore(dir.path() + "/t.db");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  storage::MetaStore& meta = **opened;
  FakeClock clock(0);
  SnapshotHolder h(&meta, &clock);
  auto commit = [&](const std::vector<core::MonthlyMetrics>& rows, bool reset = false) {
    testing::CommitMetrics(meta, rows, reset);
  };
  auto refresh_and_compare = [&] {
    clock.Advance(1);
    ASSERT_TRUE(h.Refresh().ok());
    Snapshot full(*meta.ListMetrics({}), *meta.Generation(), clock.NowMs());
    EXPECT_EQ(Dump(*h.Get()), Dump(full));
    EXPECT_EQ(h.Get()->generation(), full.generation());
  };
  std::vector<core::MonthlyMetrics> first;
  for (std::string s : {"s1", "s2", "s3", "s5"}) {
    for (int m = 1; m <= 12; ++m) first.push_back(M(s, 2023, m, m + s[1] - '0'));
  }
  commit(first);
  refresh_and_compare();
  auto before = h.Get();

  commit({M("s2", 2023, 12, 99), M("s2", 2024, 1, 98)});  // one month changed, one added
  refresh_and_compare();
  EXPECT_EQ(h.Get()->FindSensor("s1")->months, before->FindSensor("s1")->months);
  EXPECT_NE(h.Get()->FindSensor("s2")->months, before->FindSensor("s2")->months);
  EXPECT_EQ(h.Get()->record_count(), 49u);

  commit({M("s4", 2024, 2, 7)});                       // a new sensor in the middle
  commit({M("s0", 2020, 1, 1), M("s5", 2024, 3, 2)});  // two batches before one refresh
  refresh_and_compare();
  EXPECT_EQ(h.Get()->FindSensor("s3")->months, before->FindSensor("s3")->months);
  EXPECT_EQ(h.Get()->sensors().size(), 6u);
  EXPECT_EQ(h.reloads(), 3u);
  EXPECT_EQ(h.full_reloads(), 1u);  // only the first

  ASSERT_TRUE(h.Refresh().ok());  // nothing new: same snapshot
  uint64_t v = h.version();
  ASSERT_TRUE(h.Refresh().ok());
  EXPECT_EQ(h.version(), v);

  commit({M("s1", 2023, 1, 5), M("s9", 2023, 1, 6)}, /*reset=*/true);  // a rebuild drops sensors
  refresh_and_compare();
  EXPECT_EQ(h.Get()->sensors().size(), 2u);
  EXPECT_EQ(h.full_reloads(), 2u);

  commit({M("s1", 2023, 2, 8)});
  refresh_and_compare();
  ASSERT_TRUE(h.Refresh(/*force=*/true).ok());
  Snapshot full(*meta.ListMetrics({}), *meta.Generation(), 0);
  EXPECT_EQ(Dump(*h.Get()), Dump(full));
}

TEST(ServerMetrics, RendersPrometheusText) {
  FakeMeta meta;
  FakeClock clock(10'000);
  SnapshotHolder h(&meta, &clock);
  ASSERT_TRUE(h.Refresh().ok());
  ServerMetrics m(2);
  m.RecordRequest(0, Route::kTemp, 200, 0.0002);
  m.RecordRequest(1, Route::kTemp, 200, 0.002);
  m.RecordRequest(1, Route::kTemp, 404, 0.00001);
  m.RecordIngest("watch", true, IngestCounts{1, 10, 9, 1, 0, 0, 2, 0.5});
  std::string text = m.Render(h, 12'000);
  EXPECT_NE(text.find("aquasense_http_requests_total{route=\"temp\",code=\"200\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("aquasense_http_requests_total{route=\"temp\",code=\"404\"} 1\n"),
            std::string::npos);
  EXPECT_NE(
      text.find(
          "aquasense_http_request_duration_seconds_bucket{route=\"temp\",le=\"0.00025\"} 2\n"),
      std::string::npos);
  EXPECT_NE(text.find("aquasense_http_request_duration_seconds_count{route=\"temp\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("aquasense_ingest_rows_total{source=\"watch\"} 10\n"), std::string::npos);
  EXPECT_NE(text.find("aquasense_snapshot_age_seconds 2\n"), std::string::npos);
  EXPECT_NE(text.find("aquasense_store_up 1\n"), std::string::npos);
}

// awsbench: /metrics carries the per-service AWS counters that bench/aws prices.
TEST(ServerMetrics, RendersAwsRequestCounters) {
  FakeMeta meta;
  FakeClock clock(10'000);
  SnapshotHolder h(&meta, &clock);
  ServerMetrics m(1);
  aws::ResetRequestCounts();
  EXPECT_EQ(m.Render(h, 12'000).find("aquasense_aws_"), std::string::npos);
  aws::CountRequest("s3", 100, 7);
  aws::CountRequest("s3", 20, 3);
  aws::CountRequest("dynamodb", 5, 9);
  std::string text = m.Render(h, 12'000);
  aws::ResetRequestCounts();
  EXPECT_NE(text.find("aquasense_aws_requests_total{service=\"s3\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("aquasense_aws_requests_total{service=\"dynamodb\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("aquasense_aws_bytes_total{service=\"s3\",direction=\"sent\"} 120\n"),
            std::string::npos);
  EXPECT_NE(text.find("aquasense_aws_bytes_total{service=\"s3\",direction=\"received\"} 10\n"),
            std::string::npos);
}

TEST(Server, ParseListen) {
  std::string host;
  uint16_t port = 0;
  ASSERT_TRUE(ParseListen("127.0.0.1:8080", host, port).ok());
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 8080);
  ASSERT_TRUE(ParseListen("[::1]:0", host, port).ok());
  EXPECT_EQ(host, "::1");
  ASSERT_TRUE(ParseListen(":9000", host, port).ok());
  EXPECT_EQ(host, "0.0.0.0");
  EXPECT_FALSE(ParseListen("localhost", host, port).ok());
  EXPECT_FALSE(ParseListen("h:70000", host, port).ok());
  EXPECT_FALSE(ParseListen("h:80x", host, port).ok());
}

TEST(Server, TokenMatches) {
  EXPECT_TRUE(TokenMatches("s3cret", "s3cret"));
  EXPECT_FALSE(TokenMatches("s3cres", "s3cret"));
  EXPECT_FALSE(TokenMatches("", "s3cret"));
  EXPECT_FALSE(TokenMatches("s3cret-longer", "s3cret"));
}

}  // namespace
}  // namespace aquasense::http
