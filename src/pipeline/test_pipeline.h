// LocalPipelineTest: the fixture of the pipeline tests that ingest into a
// local data directory (its files and its SQLite store), on a fake clock,
// with the "log" alert channel.
//
//   class MyTest : public LocalPipelineTest {};   // SetUp opens dir_.path()
//   TEST_F(MyTest, X) { auto s = pipeline_->IngestPaths({path}, {}); ... }
//
// Header-only, for tests.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#include "common/clock.h"
#include "pipeline/pipeline.h"
#include "storage/test_dir.h"

namespace aquasense::pipeline {

class LocalPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override { OpenPipeline(dir_.path()); }

  // A new pipeline over data directory `data` (created if missing); the
  // previous one, if any, is closed first.
  void OpenPipeline(const std::string& data) {
    pipeline_.reset();
    std::filesystem::create_directories(data);
    objects_ = storage::NewLocalObjectStore(data);
    auto meta = storage::OpenSqliteMetaStore(data + "/aquasense.db");
    ASSERT_TRUE(meta.ok()) << meta.status().ToString();
    meta_ = std::move(*meta);
    Options o;
    o.alert_channels = {"log"};
    pipeline_ = std::make_unique<Pipeline>(Env{objects_.get(), meta_.get(), &clock_}, o);
  }

  testing::TempDir dir_;
  FakeClock clock_{1'700'000'000'000};
  std::unique_ptr<storage::ObjectStore> objects_;
  std::unique_ptr<storage::MetaStore> meta_;
  std::unique_ptr<Pipeline> pipeline_;
};

}  // namespace aquasense::pipeline
