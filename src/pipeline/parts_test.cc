// Issue 11: a file over Options::parse_part_bytes is parsed in parts on two
// threads (file_ingest.cc). Each test ingests the same files with one parser
// (parse_part_bytes = 0) and in parts of several sizes, and compares
// everything the ingest leaves behind.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "core/metrics_format.h"
#include "pipeline/pipeline.h"
#include "storage/test_dir.h"

namespace aquasense::pipeline {
namespace {

// The files' summaries, filtered/ outputs, analysis/ files, metrics and alerts.
std::string IngestAll(uint64_t part_bytes, const std::vector<std::string>& texts,
                      storage::OnConflict mode) {
  testing::TempDir dir;
  auto objects = storage::NewLocalObjectStore(dir.path() + "/data");
  auto meta = std::move(*storage::OpenSqliteMetaStore(dir.path() + "/aquasense.db"));
  FakeClock clock{1'700'000'000'000};
  Options o;
  o.alert_channels = {"log"};
  o.parse_part_bytes = part_bytes;
  Pipeline pipeline(Env{objects.get(), meta.get(), &clock}, o);
  std::string r;
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::string path = dir.path() + "/in" + std::to_string(i) + ".csv";
    std::ofstream(path, std::ios::binary) << texts[i];
    IngestRequest req;
    req.on_conflict = mode;
    auto s = pipeline.IngestPaths({path}, req);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (!s.ok()) return "";
    for (const FileSummary& f : s->per_file) {
      r += f.status + " rows=" + std::to_string(f.rows) + " valid=" + std::to_string(f.valid) +
           " invalid=" + std::to_string(f.invalid) + " dup=" + std::to_string(f.duplicates) +
           " alerts=" + std::to_string(f.alerts) + "\n";
    }
  }
  const auto files = objects->List("");
  for (const auto& f : *files) {
    if (f.key.starts_with("filtered/") || f.key.starts_with("analysis/"))
      r += "== " + f.key + "\n" + *objects->ReadAll(f.key);
  }
  r += core::MetricsCsv(*meta->ListMetrics({}));
  // Each sensor's record of each file: its valid and duplicate readings.
  const auto records = meta->ListFiles();
  const auto sensors = meta->ListSensors();
  for (const storage::FileRecord& f : *records) {
    for (const std::string& sensor : *sensors) {
      const auto a = *meta->FindApplied(sensor, f.hash, f.default_sensor);
      if (a)
        r += sensor + " applied " + std::to_string(a->valid) + "/" + std::to_string(a->duplicates) +
             "\n";
    }
  }
  const auto alerts = meta->RecentAlerts(100);
  for (const auto& [a, deliveries] : *alerts)
    r += a.kind + " " + a.sensor + " " + a.payload_json + "\n";
  // The source names hold the run's directory.
  for (size_t at; (at = r.find(dir.path())) != std::string::npos;)
    r.replace(at, dir.path().size(), "DIR");
  return r;
}

void ExpectPartsMatchOneParser(const std::vector<std::string>& texts,
                               storage::OnConflict mode = storage::OnConflict::kReject) {
  const std::string one = IngestAll(0, texts, mode);
  ASSERT_FALSE(one.empty());
  for (uint64_t part : {1, 7, 23, 64, 100, 1000}) {
    EXPECT_EQ(IngestAll(part, texts, mode), one) << "parts of " << part << " bytes";
  }
}

TEST(Parts, I11_SplitInsideQuotesCrlfAndNoLastNewline) {
  ExpectPartsMatchOneParser({
      "sensor,date,temperature,sd\r\n"
      "a,2024-01-01,1.5,0.1\r\n"
      "\"b\",\"2024-01-02\",\"2\",\"0.2\"\r\n"
      "\"c\nc\",2024-01-02,2,0.2\r\n"  // a newline inside quotes: a part start is no record start
      "a,2024-01-03,12.549188181281455,0.7\r\n"
      "\"d,2024-01-05,5,0.5\r\n"  // never closed
      "e,2024-01-06,6,0.6",       // no newline at the end
  });
}

TEST(Parts, I11_FileSmallerThanAPartAndPartsOfOnlyBadRows) {
  ExpectPartsMatchOneParser({"2024-01-01,1,0.1\n"});
  ExpectPartsMatchOneParser({
      "s1,2024-01-01,1,0.1\n"
      "bad\nbad\nbad\nbad\nbad\nbad\nbad\nbad\nbad\nbad\nbad\nbad\n"
      "s1,2024-13-01,1,0.1\ns1,2024-01-02,99,0.1\ns1,2024-01-02,1,-1\ns1,2024-01-02,x,1\n"
      "s2,2024-01-02,3,0.9\n",
  });
}

TEST(Parts, I11_DuplicatesAndConflictsAcrossParts) {
  std::string text;
  for (int round = 0; round < 3; ++round) {
    for (int s = 0; s < 5; ++s) {
      // Round 1 repeats round 0 (duplicates), round 2 changes s3's values (conflicts).
      const std::string temp = round == 2 && s == 3 ? "20.5" : std::to_string(10 + s) + ".25";
      text += "s" + std::to_string(s) + ",2024-0" + std::to_string(1 + s % 3) + "-0" +
              std::to_string(1 + s) + "," + temp + ",0." + std::to_string(s) + "\n";
    }
  }
  const std::string stored = "s4,2024-02-05,99,0.1\ns0,2024-01-01,10.25,0\n";
  ExpectPartsMatchOneParser({stored, text});
  ExpectPartsMatchOneParser({stored, text}, storage::OnConflict::kReplace);
}

TEST(Parts, I11_ManySensorsFirstSeenInLaterParts) {
  std::string text = "sensor;date;temperature;sd\n";
  for (int i = 0; i < 400; ++i) {
    text += "n" + std::to_string((i * 37) % 150) + ";2024/0" + std::to_string(1 + i % 9) + "/" +
            std::to_string(10 + i % 17) + ";" + std::to_string(i % 30) + ",549188181281455;0," +
            std::to_string(i % 10) + "\n";
  }
  ExpectPartsMatchOneParser({text});
}

// The merging thread maps a part's sensor ids and lines where it uses them
// (per group, per written row), not per row up front: sensors first seen in
// later parts, deviations (sd over 0.5: alert examples carry line and
// sensor), invalid rows between valid ones and conflicts, all in later
// parts, must come out as with one parser.
TEST(Parts, I11_LazyMappingOfSensorsAndLinesInLaterParts) {
  std::string text = "sensor,date,temperature,sd\n";
  for (int i = 0; i < 300; ++i) {
    const int s = (i * 7) % (1 + i / 10);  // new sensors keep appearing
    const std::string sd = i % 13 == 0 ? "0.9" : "0.1";
    text += "q" + std::to_string(s) + ",2024-0" + std::to_string(1 + i % 4) + "-" +
            std::to_string(10 + i % 19) + "," + std::to_string(i % 17) + ".5," + sd + "\n";
    if (i % 29 == 0) text += "q1,2024-02-30,1,0.1\n";                          // invalid date
    if (i % 31 == 0) text += "q2,2024-01-11,99.5," + sd + "\n";                // conflict later
    if (i % 37 == 0) text += "q" + std::to_string(s) + ",2024-03-01,1,0.1\n";  // duplicates
  }
  ExpectPartsMatchOneParser({text});
  ExpectPartsMatchOneParser({text}, storage::OnConflict::kReplace);
}

// The merging thread keeps the stored reading of a conflict or replacement
// by row (FileIngest::others_), gathered group by group: with sensors
// interleaved, each row must still name its own stored reading.
TEST(Parts, I11_ConflictsNameTheirOwnStoredReading) {
  const std::string stored = "a,2024-01-01,1,0.1\nb,2024-01-01,2,0.2\nb,2024-01-02,3,0.3\n";
  const std::string text = "b,2024-01-01,9,0.9\na,2024-01-01,8,0.8\nb,2024-01-02,7,0.7\n";
  const std::string reject = IngestAll(0, {stored, text}, storage::OnConflict::kReject);
  for (const char* row :
       {R"(,1,conflicting_duplicate,"stored temperature=2 sd=0.2","b,2024-01-01,9,0.9")",
        R"(,2,conflicting_duplicate,"stored temperature=1 sd=0.1","a,2024-01-01,8,0.8")",
        R"(,3,conflicting_duplicate,"stored temperature=3 sd=0.3","b,2024-01-02,7,0.7")"})
    EXPECT_NE(reject.find(row), std::string::npos) << row << "\n" << reject;
  const std::string replace = IngestAll(0, {stored, text}, storage::OnConflict::kReplace);
  for (const char* row :
       {R"(,1,conflicting_duplicate,"replaced by line 1 of this file","b,2024-01-01,2,0.2")",
        R"(,2,conflicting_duplicate,"replaced by line 2 of this file","a,2024-01-01,1,0.1")",
        R"(,3,conflicting_duplicate,"replaced by line 3 of this file","b,2024-01-02,3,0.3")"})
    EXPECT_NE(replace.find(row), std::string::npos) << row << "\n" << replace;
  ExpectPartsMatchOneParser({stored, text});
}

}  // namespace
}  // namespace aquasense::pipeline
