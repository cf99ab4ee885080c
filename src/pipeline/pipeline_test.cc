#include "pipeline/pipeline.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "common/crypto.h"
#include "core/metrics_format.h"
#include "pipeline/test_pipeline.h"
#include "storage/test_dir.h"

namespace aquasense::pipeline {
namespace {

class PipelineTest : public LocalPipelineTest {
 protected:
  IngestSummary Ingest(const std::string& text, const std::string& sensor = "default",
                       storage::OnConflict mode = storage::OnConflict::kReject) {
    auto w = pipeline_->NewLandingWriter(sensor, "test.csv");
    EXPECT_TRUE(w.ok());
    EXPECT_TRUE((*w)->Append(text).ok());
    auto staged = (*w)->Finish();
    EXPECT_TRUE(staged.ok());
    IngestRequest req;
    req.default_sensor = sensor;
    req.on_conflict = mode;
    auto s = pipeline_->IngestStaged({*staged}, req);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return *s;
  }

  std::string Csv() { return core::MetricsCsv(*meta_->ListMetrics({})); }

  // analysis/monthly/<sensor>.csv joined in sensor order under one header:
  // what `export` prints.
  std::string Files() {
    std::map<std::string, std::string> by_sensor;
    const auto files = objects_->List("analysis/monthly/");
    for (const auto& f : *files) {
      const std::string sensor = f.key.substr(17, f.key.size() - 17 - 4);
      std::string text = *objects_->ReadAll(f.key);
      EXPECT_TRUE(text.starts_with(kHeader)) << f.key;
      by_sensor[sensor] = text.starts_with(kHeader) ? text.substr(kHeader.size()) : text;
    }
    std::string out(kHeader);
    for (const auto& [sensor, rows] : by_sensor) out += rows;
    return out;
  }
  static constexpr std::string_view kHeader =
      "sensor,year,month,mean_temp,max_temp,max_sd,max_temp_diff,readings\n";
};

TEST_F(PipelineTest, MonthlyMetricsWithGapsAndDiffs) {
  auto s =
      Ingest("2024/01/03,12.5,0.2\n2024/01/10,13.5,0.6\n2024/02/01,15,0.1\n2024/04/01,10,0.1\n");
  EXPECT_EQ(s.files, 1);
  EXPECT_EQ(s.valid, 4);
  EXPECT_EQ(s.alerts, 1);
  EXPECT_EQ(s.months_updated, 3);
  EXPECT_EQ(Csv(),
            "sensor,year,month,mean_temp,max_temp,max_sd,max_temp_diff,readings\n"
            "default,2024,1,13,13.5,0.6,,2\n"
            "default,2024,2,15,15,0.1,1.5,1\n"
            "default,2024,4,10,10,0.1,,1\n");
  EXPECT_EQ(*objects_->ReadAll("analysis/monthly/default.csv"), Csv());
}

TEST_F(PipelineTest, SameBytesTwiceIsANoOp) {
  Ingest("2024/01/03,12.5,0.2\n");
  auto s = Ingest("2024/01/03,12.5,0.2\n");
  EXPECT_EQ(s.files, 0);
  ASSERT_EQ(s.per_file.size(), 1u);
  EXPECT_EQ(s.per_file[0].status, "already_ingested");
  // The same bytes for another sensor are another file.
  EXPECT_EQ(Ingest("2024/01/03,12.5,0.2\n", "s2").files, 1);
}

TEST_F(PipelineTest, ConflictsKeepTheFirstAndReplaceWins) {
  Ingest("2024-01-03,12.5,0.2\n");
  auto s = Ingest("2024/01/03,12.50,0.2\n2024/01/03,13,0.2\n");
  EXPECT_EQ(s.duplicates, 1);
  EXPECT_EQ(s.invalid, 1);
  EXPECT_NE(Csv().find("default,2024,1,12.5,12.5,0.2,,1"), std::string::npos);
  auto r = Ingest("2024/01/03,14,0.2\n", "default", storage::OnConflict::kReplace);
  EXPECT_EQ(r.valid, 1);
  // The replaced reading is recorded in invalid.csv but is no row of this
  // file: rows = valid + invalid + duplicates (SPEC §3).
  EXPECT_EQ(r.invalid, 0);
  EXPECT_EQ(r.rows, 1);
  EXPECT_NE(Csv().find("default,2024,1,14,14,0.2,,1"), std::string::npos);
}

TEST_F(PipelineTest, FilteredOutputsAndAlerts) {
  auto s = Ingest("date,temperature,sd\n2024-01-03,12.50,0.7\n2024-01-04,xx,0.1\n");
  const std::string base = "filtered/default/" + s.per_file[0].hash;
  EXPECT_EQ(*objects_->ReadAll(base + ".valid.csv"),
            "sensor,date,temperature,sd\ndefault,2024-01-03,12.5,0.7\n");
  EXPECT_EQ(*objects_->ReadAll(base + ".invalid.csv"),
            "source,line,reason,detail,raw\n\"test.csv\",3,bad_number,"
            "\"temperature is not a number: \"\"xx\"\"\",\"2024-01-04,xx,0.1\"\n");
  auto alerts = *meta_->RecentAlerts(10);
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].first.kind, "data_quality");
  EXPECT_EQ(alerts[1].first.kind, "deviation");
  EXPECT_EQ(alerts[1].second.size(), 1u);
}

// M7 (SPEC §6): one alert per file and kind, not one per sensor; the
// payload names the sensors (count and the first ten).
TEST_F(PipelineTest, M7_OneAlertPerFileAndKindFor500Sensors) {
  std::string text = "sensor,date,temperature,sd\n";
  for (int i = 0; i < 500; ++i) {
    char id[8];
    std::snprintf(id, sizeof id, "s%03d", i);
    text += std::string(id) + ",2024-01-03,12,0.9\n";
    text += std::string(id) + ",2024-13-03,12,0.1\n";  // bad_date
  }
  auto s = Ingest(text);
  EXPECT_EQ(s.alerts, 500);  // readings above the limit, as before
  auto alerts = *meta_->RecentAlerts(1000);
  ASSERT_EQ(alerts.size(), 2u);
  const storage::Alert& dq = alerts[0].first;
  const storage::Alert& dev = alerts[1].first;
  EXPECT_EQ(dev.kind, "deviation");
  EXPECT_EQ(dev.sensor, "");               // about several sensors
  EXPECT_EQ(alerts[1].second.size(), 1u);  // one pending delivery for "log"
  auto p = nlohmann::json::parse(dev.payload_json);
  EXPECT_EQ(p["counts"]["readings_above_limit"], 500);
  EXPECT_EQ(p["sensors"]["count"], 500);
  ASSERT_EQ(p["sensors"]["first"].size(), 10u);
  EXPECT_EQ(p["sensors"]["first"][0], "s000");
  EXPECT_EQ(p["sensors"]["first"][9], "s009");
  EXPECT_EQ(p["examples"].size(), 5u);
  EXPECT_EQ(p["examples"][1]["sensor"], "s001");
  EXPECT_EQ(dq.kind, "data_quality");
  auto q = nlohmann::json::parse(dq.payload_json);
  EXPECT_EQ(q["invalid"], 500);
  EXPECT_EQ(q["sensors"]["count"], 500);

  // One sensor: the alert is about it, as before.
  Ingest("2024-02-03,12,0.9\n", "solo");
  auto solo = meta_->RecentAlerts(1)->at(0).first;
  EXPECT_EQ(solo.sensor, "solo");
  EXPECT_EQ(nlohmann::json::parse(solo.payload_json)["sensors"]["count"], 1);
}

// L9: after the database is lost, rebuild re-derives the alerts of landing/
// but records them for no channel (they were raised when the files came in):
// nothing is pending, nothing is sent again.
TEST_F(PipelineTest, L9_RebuildAfterLostDatabaseSendsNothing) {
  Ingest("s1,2024-01-03,12.5,0.9\ns2,2024-01-03,11,0.8\nbad\n");
  ASSERT_EQ(meta_->RecentAlerts(10)->size(), 2u);
  pipeline_.reset();
  meta_.reset();
  for (const char* f : {"/aquasense.db", "/aquasense.db-wal", "/aquasense.db-shm"})
    std::filesystem::remove(dir_.path() + f);
  meta_ = std::move(*storage::OpenSqliteMetaStore(dir_.path() + "/aquasense.db"));
  Options o;
  o.alert_channels = {"log"};
  pipeline_ = std::make_unique<Pipeline>(Env{objects_.get(), meta_.get(), &clock_}, o);
  auto r = pipeline_->Rebuild();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->files, 1);
  auto alerts = *meta_->RecentAlerts(10);
  ASSERT_EQ(alerts.size(), 2u);
  for (const auto& [alert, deliveries] : alerts) {
    EXPECT_TRUE(deliveries.empty()) << alert.kind;
    EXPECT_EQ(nlohmann::json::parse(alert.payload_json)["rederived"], true);
  }
  EXPECT_TRUE(meta_->DueDeliveries(INT64_MAX, 100)->empty());
  // A new file after the rebuild is alerted as usual.
  Ingest("2024-03-03,12,0.9\n", "s3");
  auto fresh = meta_->RecentAlerts(1)->at(0);
  EXPECT_EQ(fresh.second.size(), 1u);
  EXPECT_FALSE(nlohmann::json::parse(fresh.first.payload_json).contains("rederived"));
}

TEST_F(PipelineTest, NextMonthDiffFollowsAnEarlierMonth) {
  Ingest("2024-02-01,15,0.1\n");
  auto s = Ingest("2024-01-01,10,0.1\n");
  EXPECT_EQ(s.months_updated, 2);  // January is new, February's diff changed
  EXPECT_NE(Csv().find("default,2024,2,15,15,0.1,5,1"), std::string::npos);
}

TEST_F(PipelineTest, RebuildGivesTheSameMetrics) {
  Ingest("s1,2024-01-03,12.5,0.2\ns2,2024-01-03,11,0.1\n");
  Ingest("s1,2024-01-03,13,0.2\ns1,2024-02-03,13,0.2\n");
  Ingest("s1,2024-01-03,14,0.2\n", "default", storage::OnConflict::kReplace);
  const std::string before = Csv();
  const size_t alerts_before = meta_->RecentAlerts(100)->size();
  EXPECT_EQ(alerts_before, 2u);  // data quality of files 2 (conflict) and 3 (replaced)
  auto r = pipeline_->Rebuild();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->files, 3);
  EXPECT_EQ(Csv(), before);
  EXPECT_EQ(meta_->RecentAlerts(100)->size(), alerts_before);  // nothing new from the replay
}

TEST_F(PipelineTest, MonthlyFileKeepsItsRowsBeforeTheFirstChangedMonth) {
  Ingest("2024-01-03,12.5,0.2\n2024-02-01,15,0.1\n2024-03-01,10,0.1\n");
  const std::string key = "analysis/monthly/default.csv";
  // Mark January's row: a batch that changes March on must keep it as it is
  // (it rewrites the rows from March on only), and put the rest right.
  ASSERT_EQ(*objects_->ReadAll(key), std::string(kHeader) +
                                         "default,2024,1,12.5,12.5,0.2,,1\n"
                                         "default,2024,2,15,15,0.1,2.5,1\n"
                                         "default,2024,3,10,10,0.1,-5,1\n");
  ASSERT_TRUE(objects_
                  ->WriteAll(key, std::string(kHeader) + "default,2024,1,KEPT,12.5,0.2,,1\n"
                                                         "default,2024,2,15,15,0.1,2.5,1\n"
                                                         "default,2024,3,WRONG,10,0.1,-5,1\n")
                  .ok());
  Ingest("2024-03-02,20,0.1\n2024-05-01,1,0.1\n");
  EXPECT_EQ(*objects_->ReadAll(key), std::string(kHeader) +
                                         "default,2024,1,KEPT,12.5,0.2,,1\n"
                                         "default,2024,2,15,15,0.1,2.5,1\n"
                                         "default,2024,3,15,20,0.1,5,2\n"
                                         "default,2024,5,1,1,0.1,,1\n");
  // A file that is not the header and rows of this sensor is rendered whole.
  const std::vector<std::string> bad = {"garbage\n",
                                        std::string(kHeader) + "other,2024,1,1,1,0.1,,1\n",
                                        std::string(kHeader) + "default,2024,1,1,1,0.1,,1"};
  for (size_t i = 0; i < bad.size(); ++i) {
    ASSERT_TRUE(objects_->WriteAll(key, bad[i]).ok());
    Ingest("2024-05-0" + std::to_string(2 + i) + "," + std::to_string(2 + i) + ",0.1\n");
    EXPECT_EQ(*objects_->ReadAll(key), Csv()) << bad[i];
  }
  // So is a missing one.
  ASSERT_TRUE(objects_->Delete(key).ok());
  Ingest("2024-06-02,2,0.1\n");
  EXPECT_EQ(*objects_->ReadAll(key), Csv());
}

TEST_F(PipelineTest, MonthlyFilesPerSensorEqualAFullRender) {
  // Sensors whose names sort around each other, batches touching a few of
  // them: after every batch the files must equal a full render.
  std::mt19937 rng(11);
  const std::vector<std::string> sensors = {"a", "a.1", "a1", "b", "b-2", "c", "zz"};
  for (int batch = 0; batch < 25; ++batch) {
    std::string text;
    const int rows = 1 + static_cast<int>(rng() % 6);
    for (int r = 0; r < rows; ++r) {
      const std::string& s = sensors[rng() % sensors.size()];
      const int month = 1 + static_cast<int>(rng() % 12);
      const int day = 1 + static_cast<int>(rng() % 28);
      text += s + ",2024-" + std::to_string(month) + "-" + std::to_string(day) + "," +
              std::to_string(rng() % 30) + "." + std::to_string(rng() % 10) + ",0.1\n";
    }
    text += "# batch " + std::to_string(batch) + "\n";  // distinct bytes every time
    Ingest(text);
    ASSERT_EQ(Files(), Csv()) << "after batch " << batch;
  }
  EXPECT_EQ(objects_->List("analysis/monthly/")->size(), sensors.size());
}

TEST_F(PipelineTest, MonthlyFilesOfManySensorsEqualAFullRender) {
  // Batches that change many sensors (more than one group of files written
  // and committed together) and some, and a rebuild that renders every file
  // and removes a stray one.
  std::mt19937 rng(5);
  for (int batch = 0; batch < 6; ++batch) {
    std::string text;
    for (int r = 0; r < (batch % 2 == 0 ? 900 : 20); ++r) {
      const int s = static_cast<int>(rng() % 300);
      text += "s" + std::to_string(s) + ",2024-" + std::to_string(1 + rng() % 12) + "-" +
              std::to_string(1 + rng() % 28) + "," + std::to_string(rng() % 30) + ",0.1\n";
    }
    text += "# batch " + std::to_string(batch) + "\n";
    Ingest(text);
    ASSERT_EQ(Files(), Csv()) << "after batch " << batch;
  }
  ASSERT_TRUE(objects_->WriteAll("analysis/monthly/s7.csv", "garbage\n").ok());
  ASSERT_TRUE(objects_->WriteAll("analysis/monthly/zz-none.csv", "stray\n").ok());
  ASSERT_TRUE(pipeline_->Rebuild().ok());
  EXPECT_EQ(Files(), Csv());
  EXPECT_FALSE(*objects_->Exists("analysis/monthly/zz-none.csv"));
}

TEST_F(PipelineTest, FilesOfABatchThatNeverCommittedAreRenderedAgain) {
  Ingest("a,2024-01-01,1,0.1\nb,2024-01-01,2,0.1\n");
  const std::string good = Files();
  // As after a crash between the files and the commit: the files of a and b
  // are ahead of the store, and the intent record names them with the
  // generation the batch would have committed.
  const int64_t next = *meta_->Generation() + 1;
  ASSERT_TRUE(objects_->WriteAll("analysis/monthly/a.csv", "garbage\n").ok());
  ASSERT_TRUE(objects_->WriteAll("analysis/monthly/b.csv", "garbage\n").ok());
  ASSERT_TRUE(objects_->WriteAll("analysis/monthly/zz.csv", "stray\n").ok());
  ASSERT_TRUE(
      objects_->WriteAll("analysis/monthly.intent", std::to_string(next) + "\na\nb\nzz\n").ok());
  // The next batch (about another sensor) puts them right again.
  Ingest("c,2024-01-01,3,0.1\n");
  EXPECT_EQ(Files(), Csv());
  EXPECT_FALSE(*objects_->Exists("analysis/monthly/zz.csv"));  // no metrics: no file
  EXPECT_NE(Csv().find(good.substr(kHeader.size())), std::string::npos);
  // An intent record of a committed generation changes nothing.
  ASSERT_TRUE(objects_->WriteAll("analysis/monthly/a.csv", "kept\n").ok());
  ASSERT_TRUE(objects_->WriteAll("analysis/monthly.intent", "1\na\n").ok());
  Ingest("c,2024-02-01,3,0.1\n");
  EXPECT_EQ(*objects_->ReadAll("analysis/monthly/a.csv"), "kept\n");
  // A rebuild that never committed ("*": every file) is redone whole.
  ASSERT_TRUE(objects_->WriteAll("analysis/monthly/b.csv", "garbage\n").ok());
  ASSERT_TRUE(
      objects_
          ->WriteAll("analysis/monthly.intent", std::to_string(*meta_->Generation() + 1) + "\n*\n")
          .ok());
  Ingest("c,2024-02-02,3,0.1\n");
  EXPECT_EQ(Files(), Csv());
  // An unreadable record: every file is rendered again.
  ASSERT_TRUE(objects_->WriteAll("analysis/monthly.intent", "x").ok());
  Ingest("c,2024-03-01,3,0.1\n");
  EXPECT_EQ(Files(), Csv());
}

// The intent record carries a checksum and is rewritten in place (same
// file) once one with a checksum is there; a torn one (a mix of two records)
// reads as unreadable, so every file is rendered again.
TEST_F(PipelineTest, IntentRecordChecksItselfAndIsRewrittenInPlace) {
  const std::string path = dir_.path() + "/analysis/monthly.intent";
  Ingest("a,2024-01-01,1,0.1\nb,2024-01-01,2,0.1\n");
  const std::string first = *objects_->ReadAll("analysis/monthly.intent");
  EXPECT_EQ(first, std::to_string(*meta_->Generation()) + "\na\nb\n#" +
                       Sha256Hex(std::to_string(*meta_->Generation()) + "\na\nb\n") + "\n");
  struct stat before {};
  ASSERT_EQ(::stat(path.c_str(), &before), 0);
  Ingest("a,2024-02-01,1,0.1\n");
  struct stat after {};
  ASSERT_EQ(::stat(path.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);  // overwritten in place, not replaced
  EXPECT_EQ(*objects_->ReadAll("analysis/monthly.intent"),
            std::to_string(*meta_->Generation()) + "\na\n#" +
                Sha256Hex(std::to_string(*meta_->Generation()) + "\na\n") + "\n");
  // Torn: the next generation's first line over the old record's rest, as
  // after a crash in the middle of an in-place write. Files ahead of the
  // store must then be put right though the record cannot say which.
  const std::string now = *objects_->ReadAll("analysis/monthly.intent");
  std::string torn = now;
  torn[0] = static_cast<char>(torn[0] + 1);
  ASSERT_TRUE(objects_->WriteAll("analysis/monthly/b.csv", "garbage\n").ok());
  ASSERT_TRUE(objects_->WriteAll("analysis/monthly.intent", torn).ok());
  Ingest("c,2024-01-01,3,0.1\n");
  EXPECT_EQ(Files(), Csv());
}

// Files of 256 KiB or more are parsed before their hash is known (their
// landing copy computes it) unless a file of the same size may have been
// ingested: every path must still name, store and recognise files by hash.
TEST_F(PipelineTest, LargeFilesAreNamedByTheirHashAndRecognisedAgain) {
  auto write = [&](const std::string& name, int day0) {
    std::string text;
    for (int i = 0; i < 12000; ++i)  // ~30 bytes a row: > 256 KiB
      text += "s" + std::to_string(i % 7) + "," + std::to_string(2000 + (day0 + i) / 300) + "-" +
              std::to_string(1 + (day0 + i) / 25 % 12) + "-" + std::to_string(1 + (day0 + i) % 25) +
              ",12.5,0.1\n";
    const std::string path = dir_.path() + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return std::pair{path, text};
  };
  auto [a, a_text] = write("a.csv", 0);
  auto [b, b_text] = write("b.csv", 7);  // other bytes, same size
  ASSERT_EQ(a_text.size(), b_text.size());
  ASSERT_GE(a_text.size(), 256u << 10);
  IngestRequest req;
  auto first = pipeline_->IngestPaths({a, b, a}, req);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->per_file.size(), 3u);
  EXPECT_EQ(first->files, 2);
  EXPECT_EQ(first->per_file[0].hash, Sha256Hex(a_text));
  EXPECT_EQ(first->per_file[1].hash, Sha256Hex(b_text));
  EXPECT_EQ(first->per_file[2].status, "already_ingested");
  for (const auto& [hash, text] :
       {std::pair{Sha256Hex(a_text), a_text}, std::pair{Sha256Hex(b_text), b_text}}) {
    EXPECT_EQ(*objects_->ReadAll("landing/default/" + hash + ".csv"), text);
    EXPECT_TRUE(*objects_->Exists("filtered/default/" + hash + ".valid.csv"));
    EXPECT_TRUE(*objects_->Exists("filtered/default/" + hash + ".invalid.csv"));
  }
  EXPECT_FALSE(*objects_->Exists("filtered/default/pending.valid.csv"));
  const auto ledger = *meta_->ListFiles();
  ASSERT_EQ(ledger.size(), 2u);
  EXPECT_EQ(ledger[0].hash, Sha256Hex(a_text));
  EXPECT_EQ(ledger[0].landing_key, "landing/default/" + Sha256Hex(a_text) + ".csv");
  // Again, in a later batch: both are known.
  auto again = pipeline_->IngestPaths({b, a}, req);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->files, 0);
  EXPECT_EQ(again->per_file[0].status, "already_ingested");
  EXPECT_EQ(again->per_file[1].status, "already_ingested");
  const std::string csv = Csv();
  // A rebuild keeps the sizes in the ledger: the files are still recognised.
  ASSERT_TRUE(pipeline_->Rebuild().ok());
  EXPECT_EQ(Csv(), csv);
  EXPECT_EQ(pipeline_->IngestPaths({a}, req)->per_file[0].status, "already_ingested");
}

// FinishForBatch: a small file's landing copy appears with its batch (and not
// without one); the same bytes again are recognised; a large file is landed
// at once, as by Finish.
TEST_F(PipelineTest, SmallStagedFilesLandWithTheirBatch) {
  const std::string text = "s1,2024-01-01,10,0.1\ns1,2024-01-02,11,0.2\nbad\n";
  const std::string key = "landing/s1/" + Sha256Hex(text) + ".csv";
  auto stage = [&](const std::string& bytes) {
    auto w = pipeline_->NewLandingWriter("s1", "up.csv");
    EXPECT_TRUE(w.ok());
    EXPECT_TRUE((*w)->Append(bytes).ok());
    auto f = (*w)->FinishForBatch();
    EXPECT_TRUE(f.ok());
    return *f;
  };
  IngestRequest req;
  req.default_sensor = "s1";
  {
    StagedFile dropped = stage(text);  // never ingested: nothing kept
    ASSERT_NE(dropped.staged, nullptr);
    EXPECT_NE(dropped.staged->landing, nullptr);
  }
  EXPECT_FALSE(*objects_->Exists(key));
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path() + "/.tmp"));

  StagedFile f = stage(text);
  EXPECT_FALSE(*objects_->Exists(key));  // not before the batch
  auto s = pipeline_->IngestStaged({f}, req);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->valid, 2);
  EXPECT_EQ(s->invalid, 1);
  EXPECT_EQ(*objects_->ReadAll(key), text);
  EXPECT_EQ(*objects_->ReadAll("filtered/s1/" + Sha256Hex(text) + ".valid.csv"),
            "sensor,date,temperature,sd\ns1,2024-01-01,10,0.1\ns1,2024-01-02,11,0.2\n");

  StagedFile again = stage(text);  // landed already: no copy to commit
  ASSERT_NE(again.staged, nullptr);
  EXPECT_EQ(again.staged->landing, nullptr);
  s = pipeline_->IngestStaged({again}, req);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->per_file.at(0).status, "already_ingested");

  std::string big;
  for (int d = 0; big.size() <= (256u << 10); ++d)
    big += "s1,2025-01-01T" + std::to_string(d / 3600 % 24) + ":" + std::to_string(d / 60 % 60) +
           ":" + std::to_string(d % 60) + ",12.5,0.1\n";
  StagedFile large = stage(big);
  EXPECT_EQ(large.staged, nullptr);
  EXPECT_EQ(*objects_->ReadAll("landing/s1/" + Sha256Hex(big) + ".csv"), big);  // at once
}

}  // namespace
}  // namespace aquasense::pipeline
