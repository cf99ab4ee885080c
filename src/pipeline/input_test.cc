// Inputs that misbehave (issue 10, reliability review M2, M8, L5, L10): every
// row accounted for, a file that changes while it is read, inputs of unknown
// size, a closed standard input.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "common/crypto.h"
#include "core/metrics_format.h"
#include "pipeline/pipeline.h"
#include "pipeline/test_pipeline.h"

namespace aquasense::pipeline {
namespace {

class InputTest : public LocalPipelineTest {
 protected:
  void SetUp() override { Open("data"); }
  // A fresh data directory `name` under the test's directory.
  void Open(const std::string& name) {
    data_ = dir_.path() + "/" + name;
    OpenPipeline(data_);
  }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_.path() + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  // `rows` readings of sensor s<k>, distinct per `day0`.
  static std::string Rows(int rows, int day0, int sensor) {
    std::string text;
    for (int i = 0; i < rows; ++i) {
      const int d = day0 + i;
      text += "s" + std::to_string(sensor) + "," + std::to_string(2000 + d / 336) + "-" +
              std::to_string(1 + d / 28 % 12) + "-" + std::to_string(1 + d % 28) + ",12.5,0.1\n";
    }
    return text;
  }
  bool TmpEmpty() {
    const std::string tmp = data_ + "/.tmp";
    return !std::filesystem::exists(tmp) || std::filesystem::is_empty(tmp);
  }
  static void ExpectAccounted(const IngestSummary& s) {
    EXPECT_EQ(s.rows, s.valid + s.invalid + s.duplicates);
    for (const auto& f : s.per_file) {
      if (f.status == "ingested") {
        EXPECT_EQ(f.rows, f.valid + f.invalid + f.duplicates) << f.source_name;
      }
    }
  }

  std::string data_;
};

TEST_F(InputTest, M2StrayQuoteCostsOneRowAndEveryRowIsAccounted) {
  std::string text = "date,temperature,sd\n2020-01-01,\"10,0.1\n";
  for (int i = 0; i < 10000; ++i) text += Rows(1, i, 0).substr(3);  // date,temp,sd
  const std::string path = Write("strayq_big.csv", text);
  auto s = pipeline_->IngestPaths({path}, {});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->rows, 10001);
  EXPECT_EQ(s->valid, 10000);
  EXPECT_EQ(s->invalid, 1);
  ExpectAccounted(*s);
  const std::string invalid =
      *objects_->ReadAll("filtered/default/" + Sha256Hex(text) + ".invalid.csv");
  EXPECT_NE(invalid.find(",2,bad_quote,"), std::string::npos) << invalid;
}

TEST_F(InputTest, AccountingHoldsWithDuplicatesConflictsAndReplace) {
  // rows = valid + invalid + duplicates, also when readings are replaced
  // (the replaced one is recorded in invalid.csv, not counted).
  auto first =
      pipeline_->IngestPaths({Write("a.csv", "s1,2024-01-01,1,0.1\ns1,2024-01-02,2,0.1\n")}, {});
  ASSERT_TRUE(first.ok());
  ExpectAccounted(*first);
  IngestRequest replace;
  replace.on_conflict = storage::OnConflict::kReplace;
  auto second = pipeline_->IngestPaths(
      {Write("b.csv", "s1,2024-01-01,5,0.1\ns1,2024-01-02,2,0.1\ns1,2024-01-02,2,0.1\nx\n")},
      replace);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->rows, 4);
  EXPECT_EQ(second->valid, 1);
  EXPECT_EQ(second->duplicates, 2);
  EXPECT_EQ(second->invalid, 1);
  ExpectAccounted(*second);
}

// M8: the file is appended to while the batch parses it (from the progress
// callback): it is reported unreadable, nothing of it is stored, and the
// other files of the command are ingested, in their places in per_file.
TEST_F(InputTest, M8FileChangedWhileReadIsUnreadableOthersIngested) {
  const std::string big_a = Rows(12000, 0, 1);      // > 256 KiB: background copy
  const std::string big_b = Rows(13000, 20000, 2);  // > 256 KiB, other size
  const std::string small_c = Rows(50, 40000, 3);
  const std::string small_d = Rows(60, 50000, 4);
  ASSERT_GT(big_a.size(), 256u << 10);
  for (int changed : {0, 1, 2, 3}) {
    SCOPED_TRACE("changed file " + std::to_string(changed));
    Open("data" + std::to_string(changed));
    const std::vector<std::string> texts = {big_a, big_b, small_c, small_d};
    std::vector<std::string> paths;
    for (int i = 0; i < 4; ++i)
      paths.push_back(
          Write("f" + std::to_string(changed) + "_" + std::to_string(i) + ".csv", texts[i]));
    IngestRequest req;
    bool appended = false;
    req.progress = [&](uint64_t, uint64_t total) {
      if (appended || total != texts[changed].size()) return;
      appended = true;
      std::ofstream(paths[changed], std::ios::app) << "s9,2099-01-01,10,0.1\n";
    };
    auto s = pipeline_->IngestPaths(paths, req);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_TRUE(appended);
    ASSERT_EQ(s->per_file.size(), 4u);
    EXPECT_EQ(s->files, 3);
    for (int i = 0; i < 4; ++i) {
      const auto& f = s->per_file[i];
      EXPECT_EQ(f.source_name, paths[i]);
      if (i == changed) {
        EXPECT_EQ(f.status, "unreadable");
        EXPECT_NE(f.error.find(paths[i] + " changed while it was being ingested"),
                  std::string::npos)
            << f.error;
        EXPECT_FALSE(*objects_->Exists("landing/default/" + Sha256Hex(texts[i]) + ".csv"));
      } else {
        EXPECT_EQ(f.status, "ingested");
        EXPECT_EQ(f.valid,
                  static_cast<int64_t>(std::count(texts[i].begin(), texts[i].end(), '\n')));
        EXPECT_EQ(*objects_->ReadAll("landing/default/" + Sha256Hex(texts[i]) + ".csv"), texts[i]);
      }
    }
    EXPECT_TRUE(s->any_unreadable());
    EXPECT_EQ(meta_->ListFiles()->size(), 3u);
    // Nothing of the changed file: no sensor s<changed+1>, no s9.
    const std::string csv = core::MetricsCsv(*meta_->ListMetrics({}));
    EXPECT_EQ(csv.find("s" + std::to_string(changed + 1) + ","), std::string::npos);
    EXPECT_EQ(csv.find("s9,"), std::string::npos);
    EXPECT_TRUE(TmpEmpty());
    // Unchanged from now on, it is ingested by the next command.
    auto again = pipeline_->IngestPaths({paths[changed]}, {});
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->files, 1);
  }
}

TEST_F(InputTest, L5MaxInputBoundsAFifo) {
  ::signal(SIGPIPE, SIG_IGN);  // the writer's end when the reader gives up
  const std::string fifo = dir_.path() + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::jthread writer([&] {
    const int fd = ::open(fifo.c_str(), O_WRONLY);
    if (fd < 0) return;
    const std::string block(64 << 10, '1');
    for (int i = 0; i < 64; ++i)  // 4 MiB, or until the reader closes
      if (::write(fd, block.data(), block.size()) < 0) break;
    ::close(fd);
  });
  IngestRequest req;
  req.max_input = 1 << 20;
  const std::string other = Write("ok.csv", Rows(10, 0, 1));
  auto s = pipeline_->IngestPaths({fifo, other}, req);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->per_file.size(), 2u);
  EXPECT_EQ(s->per_file[0].status, "unreadable");
  EXPECT_EQ(s->per_file[0].error,
            "cannot read " + fifo + ": it is larger than --max-input (1048576 bytes)");
  EXPECT_EQ(s->per_file[1].status, "ingested");
  EXPECT_EQ(s->valid, 10);
  EXPECT_TRUE(TmpEmpty());
  EXPECT_EQ(objects_->List("landing/")->size(), 1u);
}

TEST_F(InputTest, L10ClosedStandardInputIsUnreadable) {
  const int saved = ::dup(0);
  ASSERT_GE(saved, 0);
  ::close(0);
  auto s = pipeline_->IngestPaths({"-"}, {});
  ASSERT_EQ(::dup2(saved, 0), 0);
  ::close(saved);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->per_file.size(), 1u);
  EXPECT_EQ(s->per_file[0].status, "unreadable");
  EXPECT_EQ(s->per_file[0].error, "cannot read standard input: Bad file descriptor");
  EXPECT_EQ(s->files, 0);
}

}  // namespace
}  // namespace aquasense::pipeline
