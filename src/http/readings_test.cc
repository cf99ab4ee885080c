#include "http/readings.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "core/block.h"
#include "core/datetime.h"
#include "storage/test_dir.h"

namespace aquasense::http {
namespace {

core::Reading R(const char* when, double t, double sd) {
  return {*core::ParseDateTime(when), t, sd};
}

// Blocks kept in memory, keyed by month; counts the reads.
struct Blocks {
  std::map<int32_t, std::string> bytes;
  int reads = 0;

  void Put(std::vector<core::Reading> rs) {
    const int32_t m = core::MonthIndexOf(rs.front().when);
    bytes[m] = core::EncodeBlock(rs, m);
  }
  std::vector<int32_t> Months() const {
    std::vector<int32_t> out;
    for (const auto& [m, b] : bytes) out.push_back(m);
    return out;
  }
  BlockReader Reader() {
    return [this](int32_t m) -> Result<std::optional<std::string>> {
      ++reads;
      auto it = bytes.find(m);
      if (it == bytes.end()) return std::optional<std::string>();
      return std::optional<std::string>(it->second);
    };
  }
};

ReadingsQuery Q(const std::string& query) {
  std::string error;
  auto q = ParseReadingsQuery(query, error);
  EXPECT_TRUE(q.has_value()) << error;
  return q.value_or(ReadingsQuery{});
}

std::string Body(Blocks& b, const std::string& query, int64_t* count = nullptr) {
  ReadingsQuery q = Q(query);
  ReadingsStream s("s1", q, MonthsInRange(b.Months(), q), b.Reader());
  std::string out;
  for (;;) {
    auto more = s.Next(out);
    EXPECT_TRUE(more.ok());
    if (!more.ok() || !*more) break;
  }
  if (count != nullptr) *count = s.count();
  return out;
}

class ReadingsTest : public ::testing::Test {
 protected:
  ReadingsTest() {
    blocks_.Put({R("2024-01-30", 11.5, 0.1), R("2024-01-31", 12.25, 0.2)});
    blocks_.Put({R("2024-02-01", 13, 0.3), R("2024-02-01T06:30:00", 13.5, 0.35),
                 R("2024-02-29", 14.125, 0.4)});
    blocks_.Put({R("2024-04-02", -1.5, 0)});  // March has no block: a gap
  }
  Blocks blocks_;
};

TEST(ParseDay, AcceptsRealDatesOnly) {
  EXPECT_EQ(ParseDay("1970-01-01"), 0);
  EXPECT_EQ(ParseDay("2024-02-29"), core::DaysFromCivil(2024, 2, 29));
  for (const char* bad : {"2023-02-29", "2024-1-05", "2024/01/05", "2024-13-01", "2024-00-10",
                          "2024-01-32", "", "2024-01-0a", "02024-01-01", "2024-01-01T00:00"}) {
    EXPECT_FALSE(ParseDay(bad).has_value()) << bad;
  }
}

TEST(ParseReadingsQuery, RejectsBadParameters) {
  std::string error;
  for (const char* bad : {"from=2024-02-30", "to=yesterday", "from=2024-03-01&to=2024-02-01",
                          "format=xml", "tail=0", "tail=10001", "points=-1", "points=1e3",
                          "tail=5&points=5", "from=2024-01-01&from=2024-01-02"}) {
    error.clear();
    EXPECT_FALSE(ParseReadingsQuery(bad, error).has_value()) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
  auto q = ParseReadingsQuery("from=2024-01-31&to=2024-02-01&format=json&points=800", error);
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->from_days, core::DaysFromCivil(2024, 1, 31));
  EXPECT_EQ(q->to_days, core::DaysFromCivil(2024, 2, 1));
  EXPECT_EQ(q->format, ReadingsFormat::kJson);
  EXPECT_EQ(q->points, 800u);
}

TEST_F(ReadingsTest, AllReadingsInDateOrderAsCsv) {
  EXPECT_EQ(Body(blocks_, ""),
            "sensor,date,temperature,sd\n"
            "s1,2024-01-30,11.5,0.1\n"
            "s1,2024-01-31,12.25,0.2\n"
            "s1,2024-02-01,13,0.3\n"
            "s1,2024-02-01T06:30:00,13.5,0.35\n"
            "s1,2024-02-29,14.125,0.4\n"
            "s1,2024-04-02,-1.5,0\n");
}

TEST_F(ReadingsTest, FromAndToAreInclusiveDays) {
  EXPECT_EQ(Body(blocks_, "from=2024-01-31&to=2024-02-01"),
            "sensor,date,temperature,sd\n"
            "s1,2024-01-31,12.25,0.2\n"
            "s1,2024-02-01,13,0.3\n"
            "s1,2024-02-01T06:30:00,13.5,0.35\n");
  // Only the blocks of the months in range are read.
  blocks_.reads = 0;
  EXPECT_EQ(Body(blocks_, "from=2024-04-01"), "sensor,date,temperature,sd\ns1,2024-04-02,-1.5,0\n");
  EXPECT_EQ(blocks_.reads, 1);
  EXPECT_EQ(Body(blocks_, "from=2024-03-01&to=2024-03-31"), "sensor,date,temperature,sd\n");
}

TEST_F(ReadingsTest, JsonHasTheSameValues) {
  auto j = nlohmann::json::parse(Body(blocks_, "format=json&to=2024-01-31"));
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0], nlohmann::json::parse(
                      R"({"sensor":"s1","date":"2024-01-30","temperature":11.5,"sd":0.1})"));
  EXPECT_EQ(j[1]["temperature"], 12.25);
  EXPECT_EQ(Body(blocks_, "format=json&from=2024-03-01&to=2024-03-02"), "[\n]\n");
}

TEST_F(ReadingsTest, TailGivesTheLastReadingsOfTheRange) {
  EXPECT_EQ(Body(blocks_, "tail=1"), "sensor,date,temperature,sd\ns1,2024-04-02,-1.5,0\n");
  EXPECT_EQ(Body(blocks_, "tail=2&to=2024-03-31"),
            "sensor,date,temperature,sd\n"
            "s1,2024-02-01T06:30:00,13.5,0.35\n"
            "s1,2024-02-29,14.125,0.4\n");
  blocks_.reads = 0;
  (void)Body(blocks_, "tail=1");
  EXPECT_EQ(blocks_.reads, 1);  // newest block only
}

TEST_F(ReadingsTest, PointsKeepTheLowestAndHighestOfEachBucket) {
  // One bucket for Jan 30 - Feb 29 (31 days): its extremes 11.5 and 14.125, in time order.
  EXPECT_EQ(Body(blocks_, "from=2024-01-30&to=2024-02-29&points=1"),
            "sensor,date,temperature,sd\n"
            "s1,2024-01-30,11.5,0.1\n"
            "s1,2024-02-29,14.125,0.4\n");
  // Enough buckets: every reading is its own bucket's extreme, nothing is lost.
  int64_t n = 0;
  (void)Body(blocks_, "points=100000", &n);
  EXPECT_EQ(n, 6);
}

TEST(ReadingsStream, ManyReadingsComeInBoundedPieces) {
  Blocks b;
  int64_t total = 0;
  for (int month = 1; month <= 3; ++month) {
    std::vector<core::Reading> rs;
    const int32_t day0 = core::DaysFromCivil(2024, month, 1);
    for (int d = 0; d < 28; ++d) {
      for (int minute = 0; minute < 1440; ++minute) {
        core::Reading r;
        r.when.days = day0 + d;
        r.when.ms_of_day = minute * 60'000;
        r.temperature = 10 + (minute % 100) / 100.0;
        r.sd = 0.01 * (minute % 7);
        rs.push_back(r);
      }
    }
    total += static_cast<int64_t>(rs.size());
    b.bytes[core::MonthIndex(2024, month)] = core::EncodeBlock(rs, core::MonthIndex(2024, month));
  }
  ReadingsStream s("s1", ReadingsQuery{}, b.Months(), b.Reader());
  std::string piece;
  size_t lines = 0, pieces = 0;
  std::string last_date;
  for (bool more = true; more;) {
    piece.clear();
    auto next = s.Next(piece);
    ASSERT_TRUE(next.ok());
    more = *next;
    ++pieces;
    EXPECT_LE(piece.size(), kPieceBytes + 128);
    for (char c : piece) lines += c == '\n';
  }
  EXPECT_EQ(s.count(), total);
  EXPECT_EQ(lines, static_cast<size_t>(total) + 1);
  EXPECT_GT(pieces, 50u);
}

TEST(ReadingsStream, CorruptBlockIsAnError) {
  Blocks b;
  b.bytes[core::MonthIndex(2024, 1)] = "\xff\xff garbage";
  ReadingsStream s("s1", ReadingsQuery{}, b.Months(), b.Reader());
  std::string out;
  auto r = s.Next(out);
  EXPECT_FALSE(r.ok());
}

class ReadingsResponseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = storage::OpenSqliteMetaStore(dir_.path() + "/t.db");
    ASSERT_TRUE(m.ok());
    meta_ = std::move(*m);
    std::vector<core::Reading> rs = {R("2024-05-01", 20.5, 0.2), R("2024-05-02", 21, 0.25)};
    const int32_t month = core::MonthIndex(2024, 5);
    auto b = meta_->BeginBatch();
    ASSERT_TRUE(b.ok());
    ASSERT_TRUE((*b)->ExpectVersion("buoy-1", 0).ok());
    ASSERT_TRUE((*b)->PutBlock("buoy-1", month, core::EncodeBlock(rs, month)).ok());
    core::MonthlyMetrics mm;
    mm.sensor = "buoy-1";
    mm.year = 2024;
    mm.month = 5;
    mm.readings = 2;
    ASSERT_TRUE((*b)->PutMetrics(mm).ok());
    ASSERT_TRUE((*b)->Commit().ok());
    auto rows = meta_->ListMetrics({});
    ASSERT_TRUE(rows.ok());
    snap_ = std::make_unique<Snapshot>(*rows, 1, 0);
  }
  std::string Drain(const Response& r) {
    std::string out;
    for (;;) {
      auto more = r.stream(out);
      EXPECT_TRUE(more.ok());
      if (!more.ok() || !*more) break;
    }
    return out;
  }
  testing::TempDir dir_;
  std::unique_ptr<storage::MetaStore> meta_;
  std::unique_ptr<Snapshot> snap_;
};

TEST_F(ReadingsResponseTest, StreamsStoredReadings) {
  Response r = ReadingsResponse("buoy-1", "from=2024-05-02", *snap_, meta_.get());
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, kCsvType);
  ASSERT_TRUE(r.stream);
  EXPECT_EQ(Drain(r), "sensor,date,temperature,sd\nbuoy-1,2024-05-02,21,0.25\n");
  Response j = ReadingsResponse("buoy-1", "format=json", *snap_, meta_.get());
  EXPECT_EQ(j.content_type, kJsonType);
  EXPECT_EQ(nlohmann::json::parse(Drain(j)).size(), 2u);
}

TEST_F(ReadingsResponseTest, BadDatesAre400UnknownSensorIs404) {
  EXPECT_EQ(ReadingsResponse("buoy-1", "from=2024-02-30", *snap_, meta_.get()).status, 400);
  EXPECT_EQ(ReadingsResponse("buoy-1", "to=05/02/2024", *snap_, meta_.get()).status, 400);
  EXPECT_EQ(ReadingsResponse("bad%2Fid", "", *snap_, meta_.get()).status, 400);
  Response r = ReadingsResponse("nobody", "", *snap_, meta_.get());
  EXPECT_EQ(r.status, 404);
  EXPECT_FALSE(r.stream);
  EXPECT_NE(r.body.find("not_found"), std::string::npos);
}

TEST(RoutesTest, ReadingsAndDashboardRoutes) {
  RouteMatch m = MatchRoute("/v1/sensors/buoy-1/readings");
  EXPECT_EQ(m.route, Route::kReadings);
  EXPECT_EQ(m.sensor_segment, "buoy-1");
  EXPECT_EQ(MatchRoute("/v1/sensors/a/b/readings").route, Route::kUnknown);
  EXPECT_EQ(MatchRoute("/v1/sensors//readings").route, Route::kUnknown);
  EXPECT_EQ(MatchRoute("/").route, Route::kDashboard);
  EXPECT_EQ(MatchRoute("/dashboard/app.js").route, Route::kDashboard);
  m = MatchRoute("/v1/files/abc/invalid");
  EXPECT_EQ(m.route, Route::kFileInvalid);
  EXPECT_EQ(m.file_segment, "abc");
}

}  // namespace
}  // namespace aquasense::http
