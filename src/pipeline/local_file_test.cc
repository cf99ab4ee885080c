#include "pipeline/local_file.h"

#include <gtest/gtest.h>

#include <fstream>

#include "storage/test_dir.h"

namespace aquasense::pipeline {
namespace {

class LandingCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    objects_ = storage::NewLocalObjectStore(dir_.path() + "/data");
    path_ = dir_.path() + "/in.csv";
    for (int i = 0; i < 200000; ++i) text_ += "2024-01-01," + std::to_string(i % 40) + ",0.1\n";
    std::ofstream(path_, std::ios::binary) << text_;
    auto r = OpenLocalFile(path_);
    ASSERT_TRUE(r.ok());
    hash_ = *Sha256Of(**r, path_);
  }
  bool Landed(const std::string& key) { return *objects_->Exists(key); }

  testing::TempDir dir_;
  std::unique_ptr<storage::ObjectStore> objects_;
  std::string path_, text_, hash_;
};

TEST_F(LandingCopyTest, CommitsTheBytesUnderTheExpectedKey) {
  auto copy = LandingCopy::Start(path_, "s1", *objects_);
  copy->Expect(hash_, "landing/s1/" + hash_ + ".csv");
  copy->Commit();
  ASSERT_TRUE(copy->Finish().ok());
  EXPECT_EQ(*objects_->ReadAll("landing/s1/" + hash_ + ".csv"), text_);
}

TEST_F(LandingCopyTest, WithoutCommitNothingIsStored) {
  {
    auto copy = LandingCopy::Start(path_, "s1", *objects_);
    copy->Expect(hash_, "landing/s1/" + hash_ + ".csv");
  }  // a file already ingested: dropped
  EXPECT_FALSE(Landed("landing/s1/" + hash_ + ".csv"));
  EXPECT_TRUE(objects_->List("landing/")->empty());
}

TEST_F(LandingCopyTest, OtherBytesThanHashedAreNotStored) {
  auto copy = LandingCopy::Start(path_, "s1", *objects_);
  const std::string other(64, 'a');
  copy->Expect(other, "landing/s1/" + other + ".csv");
  copy->Commit();
  Status s = copy->Finish();
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_NE(s.message().find("changed while it was being ingested"), std::string::npos);
  EXPECT_FALSE(Landed("landing/s1/" + other + ".csv"));
}

TEST_F(LandingCopyTest, AnUnreadableFileIsAnError) {
  auto copy = LandingCopy::Start(dir_.path() + "/missing.csv", "s1", *objects_);
  copy->Expect(hash_, "landing/s1/" + hash_ + ".csv");
  copy->Commit();
  EXPECT_EQ(copy->Finish().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace aquasense::pipeline
