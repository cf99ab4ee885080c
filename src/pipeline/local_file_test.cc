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

TEST_F(LandingCopyTest, HandsOverTheBytesUnderTheExpectedKey) {
  auto copy = LandingCopy::Start(path_, "s1", *objects_);
  copy->Expect(hash_, "landing/s1/" + hash_ + ".csv");
  copy->Take();
  auto writer = copy->Finish();
  ASSERT_TRUE(writer.ok());
  ASSERT_NE(*writer, nullptr);
  EXPECT_FALSE(Landed("landing/s1/" + hash_ + ".csv"));  // the batch commits it
  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_EQ(*objects_->ReadAll("landing/s1/" + hash_ + ".csv"), text_);
  // Once landed, a second copy has nothing to commit.
  auto again = LandingCopy::Start(path_, "s1", *objects_);
  again->Expect(hash_, "landing/s1/" + hash_ + ".csv");
  again->Take();
  auto none = again->Finish();
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, nullptr);
}

TEST_F(LandingCopyTest, WithoutTakeNothingIsStored) {
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
  copy->Take();
  Status s = copy->Finish().status();
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_NE(s.message().find("changed while it was being ingested"), std::string::npos);
  EXPECT_FALSE(Landed("landing/s1/" + other + ".csv"));
}

TEST_F(LandingCopyTest, AnUnreadableFileIsAnError) {
  auto copy = LandingCopy::Start(dir_.path() + "/missing.csv", "s1", *objects_);
  copy->Expect(hash_, "landing/s1/" + hash_ + ".csv");
  copy->Take();
  EXPECT_EQ(copy->Finish().status().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace aquasense::pipeline
