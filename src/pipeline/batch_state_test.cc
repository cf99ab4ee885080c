#include "pipeline/batch_state.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>
#include <set>
#include <tuple>

#include "core/metrics_format.h"
#include "storage/test_dir.h"

namespace aquasense::pipeline::internal {
namespace {

using core::ConflictMode;

// Every block leaves the cache and is written at the end of every chunk.
const BatchLimits kTiny{.cache = {.max_bytes = 0, .idle_ticks = 0}, .write_behind_bytes = 0};

struct Outcome {
  int64_t changed = 0;
  size_t kept_bytes = 0;  // BatchState::KeptBytes() at the end
  int block_reads = 0;    // blocks read back from the batch
  std::vector<ChangedSensor> sensors;
  // "name@first_month" of each changed sensor.
  std::vector<std::string> Changed() const {
    std::vector<std::string> out;
    for (const auto& c : sensors) out.push_back(c.name + "@" + std::to_string(c.first_month));
    return out;
  }
};

// Merges one reading into the batch's block of its sensor-month.
void AddReading(BatchState& st, const std::string& sensor, int y, int m, int d, double temp,
                ConflictMode mode = ConflictMode::kReject) {
  auto id = st.SensorId(sensor);
  ASSERT_TRUE(id.ok());
  auto e = st.Block(*id, core::MonthIndex(y, m));
  ASSERT_TRUE(e.ok());
  std::vector<core::Incoming> in{{core::Reading{{core::DaysFromCivil(y, m, d)}, temp, 0.1}, 0}};
  std::vector<core::MergeDecision> decisions(1);
  if (core::MergeInto((*e)->readings, in, mode, decisions)) (*e)->dirty = true;
}

// Forwards to a batch and remembers which sensor-months got a metrics row and
// how many blocks were read back. With `own_reads` false it hides the base's
// reads of its own writes (a store like DynamoDB's).
class RecordingBatch final : public storage::Batch {
 public:
  explicit RecordingBatch(storage::Batch& base, bool own_reads = false)
      : base_(base), own_reads_(own_reads) {}
  Status ExpectVersion(std::string_view s, int64_t v) override { return base_.ExpectVersion(s, v); }
  Status PutBlock(std::string_view s, int32_t m, std::string_view b) override {
    return base_.PutBlock(s, m, b);
  }
  Status PutMetrics(const core::MonthlyMetrics& m) override {
    rows.emplace(m.sensor, core::MonthIndex(m.year, m.month));
    return base_.PutMetrics(m);
  }
  Status ApplyFile(std::string_view s, const storage::AppliedFile& f) override {
    return base_.ApplyFile(s, f);
  }
  Result<int64_t> RecordFile(const storage::FileRecord& f) override { return base_.RecordFile(f); }
  Status AddAlert(const storage::Alert& a, const std::vector<std::string>& c) override {
    return base_.AddAlert(a, c);
  }
  Status ResetDerived() override { return base_.ResetDerived(); }
  Status Commit() override { return base_.Commit(); }
  bool ReadsOwnWrites() const override { return own_reads_ && base_.ReadsOwnWrites(); }
  Result<std::optional<std::string>> ReadBlock(std::string_view s, int32_t m) override {
    ++block_reads;
    return base_.ReadBlock(s, m);
  }
  Result<std::optional<core::MonthlyMetrics>> GetMetrics(std::string_view s, int32_t m) override {
    return base_.GetMetrics(s, m);
  }
  Result<std::vector<core::MonthlyMetrics>> ListMetrics(const storage::MetricsQuery& q) override {
    return base_.ListMetrics(q);
  }
  Result<std::vector<std::string>> ListSensors() override { return base_.ListSensors(); }
  std::set<std::pair<std::string, int32_t>> rows;
  int block_reads = 0;

 private:
  storage::Batch& base_;
  const bool own_reads_;
};

// Parameters: tiny limits (every block leaves the cache after each chunk)
// or the defaults; a batch that reads its own writes (SQLite's) or one that
// does not (BatchState then keeps what it wrote).
class BatchStateTest : public ::testing::TestWithParam<std::tuple<bool, bool>> {
 protected:
  void SetUp() override {
    meta_ = std::move(*storage::OpenSqliteMetaStore(dir_.path() + "/aquasense.db"));
  }
  BatchLimits Limits() const { return std::get<0>(GetParam()) ? kTiny : BatchLimits{}; }
  static bool OwnReads() { return std::get<1>(GetParam()); }

  // One batch; `chunks` merges readings and ends chunks. `fresh`: a rebuild's
  // batch (ResetDerived first).
  Outcome Run(const std::function<void(BatchState&)>& chunks, bool fresh = false) {
    auto batch = meta_->BeginBatch();
    EXPECT_TRUE(batch.ok());
    if (fresh) {
      EXPECT_TRUE((*batch)->ResetDerived().ok());
    }
    RecordingBatch recording(**batch, OwnReads());
    BatchState state(*meta_, recording, fresh, Limits());
    chunks(state);
    Outcome o;
    auto changed = state.FinalizeMetrics(o.sensors);
    EXPECT_TRUE(changed.ok()) << changed.status().ToString();
    o.changed = *changed;
    o.kept_bytes = state.KeptBytes();
    o.block_reads = recording.block_reads;
    EXPECT_TRUE((*batch)->Commit().ok());
    return o;
  }
  static void Add(BatchState& st, const std::string& sensor, int y, int m, int d, double temp,
                  ConflictMode mode = ConflictMode::kReject) {
    AddReading(st, sensor, y, m, d, temp, mode);
  }
  static void EndChunk(BatchState& st) { ASSERT_TRUE(st.EndChunk().ok()); }
  std::string Csv() { return core::MetricsCsv(*meta_->ListMetrics({})); }

  testing::TempDir dir_;
  std::unique_ptr<storage::MetaStore> meta_;
};

constexpr const char* kHeader =
    "sensor,year,month,mean_temp,max_temp,max_sd,max_temp_diff,readings\n";

TEST_P(BatchStateTest, OutOfOrderMonthsGiveTheMetricsOfSortedInput) {
  Outcome o = Run([](BatchState& st) {
    Add(st, "s", 2024, 3, 1, 10);
    Add(st, "s", 2024, 3, 2, 12);
    Add(st, "t", 2024, 1, 1, 1);
    EndChunk(st);
    Add(st, "s", 2024, 1, 1, 8);
    EndChunk(st);
    Add(st, "s", 2024, 3, 3, 20);  // March again: its max changes after it was written
    EndChunk(st);
    Add(st, "s", 2024, 4, 1, 15);
    Add(st, "s", 2024, 2, 1, 9);  // fills the gap: March's diff appears
    EndChunk(st);
  });
  EXPECT_EQ(o.changed, 5);
  // Both sensors are new to the store: their whole files (INT32_MIN).
  const std::string all = std::to_string(INT32_MIN);
  EXPECT_EQ(o.Changed(), (std::vector<std::string>{"s@" + all, "t@" + all}));
  EXPECT_EQ(Csv(), std::string(kHeader) +
                       "s,2024,1,8,8,0.1,,1\n"
                       "s,2024,2,9,9,0.1,1,1\n"
                       "s,2024,3,14,20,0.1,11,3\n"
                       "s,2024,4,15,15,0.1,-5,1\n"
                       "t,2024,1,1,1,0.1,,1\n");

  // A later batch raises February's max: February and March's diff change.
  o = Run([](BatchState& st) {
    Add(st, "s", 2024, 2, 2, 30);
    EndChunk(st);
  });
  EXPECT_EQ(o.changed, 2);
  EXPECT_EQ(o.Changed(),
            std::vector<std::string>{"s@" + std::to_string(core::MonthIndex(2024, 2))});
  EXPECT_EQ(Csv(), std::string(kHeader) +
                       "s,2024,1,8,8,0.1,,1\n"
                       "s,2024,2,19.5,30,0.1,22,2\n"
                       "s,2024,3,14,20,0.1,-10,3\n"
                       "s,2024,4,15,15,0.1,-5,1\n"
                       "t,2024,1,1,1,0.1,,1\n");
}

// I11: a sensor the store did not know is rendered whole (INT32_MIN), so the
// monthly files step reads no committed file for it (a thousand failed opens,
// or S3 GETs, at 10M rows); a known sensor keeps its rows before the first change.
TEST_P(BatchStateTest, I11_ASensorNewToTheStoreChangesFromItsFirstRow) {
  Run([](BatchState& st) {
    Add(st, "s", 2024, 1, 1, 8);
    Add(st, "s", 2024, 2, 1, 9);
    EndChunk(st);
  });
  Outcome o = Run([](BatchState& st) {
    Add(st, "s", 2024, 3, 1, 10);
    Add(st, "u", 2024, 5, 1, 11);
    EndChunk(st);
  });
  EXPECT_EQ(o.Changed(), (std::vector<std::string>{"s@" + std::to_string(core::MonthIndex(2024, 3)),
                                                   "u@" + std::to_string(INT32_MIN)}));
}

TEST_P(BatchStateTest, ChangesUndoneWithinABatchAreNotCounted) {
  Run([](BatchState& st) {
    Add(st, "s", 2024, 1, 1, 8);
    Add(st, "s", 2024, 2, 1, 9);
    EndChunk(st);
  });
  const std::string before = Csv();
  // January replaced, then replaced back: rows are rewritten in between
  // (with the tiny limits), but end as they were.
  Outcome o = Run([](BatchState& st) {
    Add(st, "s", 2024, 1, 1, 5, ConflictMode::kReplace);
    EndChunk(st);
    Add(st, "s", 2024, 2, 1, 9);  // an exact duplicate: nothing changes
    EndChunk(st);
    Add(st, "s", 2024, 1, 1, 8, ConflictMode::kReplace);
    EndChunk(st);
  });
  EXPECT_EQ(o.changed, 0);
  EXPECT_TRUE(o.sensors.empty());
  EXPECT_EQ(Csv(), before);
}

// I11: blocks that left a tiny cache (written to the batch) and come back
// are read again: from the batch when it reads its own writes, keeping no
// copy (flat memory), else from BatchState's own copy. Both give the same
// metrics, in a normal batch and in a rebuild's.
TEST_P(BatchStateTest, I11_EvictedBlocksAreReadBackFromWhatTheBatchStored) {
  for (const bool fresh : {false, true}) {
    SCOPED_TRACE(fresh ? "fresh" : "normal");
    Outcome o = Run(
        [](BatchState& st) {
          for (int round = 0; round < 3; ++round) {
            for (int m = 1; m <= 4; ++m) Add(st, "s", 2024, m, 1 + round, 10 + m + round);
            Add(st, "t", 2024, 2, 1 + round, 5 - round);
            EndChunk(st);
          }
        },
        fresh);
    EXPECT_EQ(Csv(), std::string(kHeader) +
                         "s,2024,1,12,13,0.1,,3\n"
                         "s,2024,2,13,14,0.1,1,3\n"
                         "s,2024,3,14,15,0.1,1,3\n"
                         "s,2024,4,15,16,0.1,1,3\n"
                         "t,2024,2,4,5,0.1,,3\n");
    if (OwnReads()) {
      EXPECT_EQ(o.kept_bytes, 0u);
      // Tiny: each of the 5 blocks is read back in rounds 2 and 3.
      if (std::get<0>(GetParam())) {
        EXPECT_EQ(o.block_reads, 10);
      }
    } else {
      EXPECT_EQ(o.block_reads, 0);
      EXPECT_GT(o.kept_bytes, 0u);  // the blocks of s and t, kept for re-reads
    }
  }
}

INSTANTIATE_TEST_SUITE_P(LimitsAndReads, BatchStateTest,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool()),
                         [](const auto& p) {
                           return std::string(std::get<0>(p.param) ? "Tiny" : "Default") +
                                  (std::get<1>(p.param) ? "OwnReads" : "KeepsWrites");
                         });

// A small write-behind buffer is written out a few sensors at a time, in
// name order round robin: after a chunk some sensors are in the store and
// others still wait, and the final metrics equal those of a batch that
// buffers everything.
TEST(BatchStateRoundRobin, PartialWritesGiveTheSameMetrics) {
  auto run = [](const BatchLimits& limits, std::vector<int>* stored_after_chunk) {
    aquasense::testing::TempDir dir;
    auto meta = std::move(*storage::OpenSqliteMetaStore(dir.path() + "/aquasense.db"));
    auto batch = meta->BeginBatch();
    EXPECT_TRUE(batch.ok());
    RecordingBatch recording(**batch);
    BatchState st(*meta, recording, false, limits);
    std::mt19937 rng(3);
    for (int chunk = 0; chunk < 12; ++chunk) {
      for (int r = 0; r < 200; ++r) {
        const std::string sensor = "s" + std::to_string(rng() % 30);
        const int month = 1 + chunk;  // months advance, as in a file by date
        AddReading(st, sensor, 2024, month, 1 + static_cast<int>(rng() % 28),
                   static_cast<double>(rng() % 300) / 10);
      }
      EXPECT_TRUE(st.EndChunk().ok());
      if (stored_after_chunk != nullptr) {
        int stored = 0;
        for (int s = 0; s < 30; ++s)
          stored +=
              recording.rows.count({"s" + std::to_string(s), core::MonthIndex(2024, 1 + chunk)});
        stored_after_chunk->push_back(stored);
      }
    }
    std::vector<ChangedSensor> changed;
    EXPECT_TRUE(st.FinalizeMetrics(changed).ok());
    EXPECT_TRUE((*batch)->Commit().ok());
    return core::MetricsCsv(*meta->ListMetrics({}));
  };
  std::vector<int> stored;
  const BatchLimits small{.cache = {.max_bytes = 0, .idle_ticks = 0}, .write_behind_bytes = 6000};
  const std::string csv = run(small, &stored);
  EXPECT_EQ(csv, run(BatchLimits{}, nullptr));
  EXPECT_NE(csv.find("s29,2024,12,"), std::string::npos);
  // Some chunk ended with part of the sensors written and part waiting.
  EXPECT_TRUE(std::any_of(stored.begin(), stored.end(), [](int n) { return n > 0 && n < 30; }));
}

}  // namespace
}  // namespace aquasense::pipeline::internal
