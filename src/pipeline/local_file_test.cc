#include "pipeline/local_file.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "storage/fault_injection.h"
#include "storage/memory_object_store.h"
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
  static std::string Key(const std::string& hash) { return "landing/s1/" + hash + ".csv"; }
  // A copy of `path` for sensor s1 that expects `hash` at Key(hash), taken
  // (the batch's go-ahead) when `take`.
  std::shared_ptr<LandingCopy> Copy(const std::string& path, const std::string& hash,
                                    bool take = true) {
    auto copy = LandingCopy::Start(path, "s1", *objects_);
    copy->Expect(hash, Key(hash));
    if (take) copy->Take();
    return copy;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::ObjectStore> objects_;
  std::string path_, text_, hash_;
};

TEST_F(LandingCopyTest, HandsOverTheBytesUnderTheExpectedKey) {
  auto copy = Copy(path_, hash_);
  auto writer = copy->Finish();
  ASSERT_TRUE(writer.ok());
  ASSERT_NE(*writer, nullptr);
  EXPECT_FALSE(Landed(Key(hash_)));  // the batch commits it
  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_EQ(*objects_->ReadAll(Key(hash_)), text_);
  // Once landed, a second copy has nothing to commit.
  auto again = Copy(path_, hash_);
  auto none = again->Finish();
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, nullptr);
}

TEST_F(LandingCopyTest, WithoutTakeNothingIsStored) {
  Copy(path_, hash_, /*take=*/false);  // a file already ingested: dropped
  EXPECT_FALSE(Landed(Key(hash_)));
  EXPECT_TRUE(objects_->List("landing/")->empty());
}

TEST_F(LandingCopyTest, OtherBytesThanHashedAreNotStored) {
  const std::string other(64, 'a');
  Status s = Copy(path_, other)->Finish().status();
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_NE(s.message().find("changed while it was being ingested"), std::string::npos);
  EXPECT_FALSE(Landed(Key(other)));
}

TEST_F(LandingCopyTest, AnUnreadableFileIsAnError) {
  auto copy = Copy(dir_.path() + "/missing.csv", hash_);
  EXPECT_EQ(copy->Finish().status().code(), Code::kUnavailable);
  EXPECT_TRUE(copy->input_error());  // M8: the input's error, not the store's
  EXPECT_TRUE(copy->finished());
}

TEST_F(LandingCopyTest, M8ChangedBytesAreTheInputsError) {
  auto copy = Copy(path_, std::string(64, 'b'));
  EXPECT_FALSE(copy->Finish().ok());
  EXPECT_TRUE(copy->input_error());
}

// Code review 3.10.4: ~LandingCopy set cancel_ without mu_, so the copy
// thread could miss the wake-up and the join hang. Many copies dropped at
// every moment of their run (before, during and after the wait) must all
// end; a hang fails the test by its CTest timeout.
TEST_F(LandingCopyTest, CR3_10_4DroppingACopyNeverHangs) {
  const std::string small = dir_.path() + "/small.csv";
  std::ofstream(small, std::ios::binary) << "2024-01-01,1,0.1\n";
  for (int i = 0; i < 300; ++i) {
    auto copy = LandingCopy::Start(small, "s1", *objects_);
    if (i % 3 == 1) std::this_thread::yield();
    if (i % 3 == 2) std::this_thread::sleep_for(std::chrono::microseconds(100 + i));
  }
  EXPECT_TRUE(objects_->List("landing/")->empty());
}

TEST(CopyToLanding, M8TellsInputErrorsFromStoreErrors) {
  testing::TempDir dir;
  auto objects = storage::NewLocalObjectStore(dir.path() + "/data");
  const std::string path = dir.path() + "/in.csv";
  std::ofstream(path, std::ios::binary) << "2024-01-01,1,0.1\n";
  StagedFile f;
  f.local_path = path;
  f.hash = std::string(64, 'c');  // not the bytes' hash: the file "changed"
  f.landing_key = "landing/s1/" + f.hash + ".csv";
  bool input_error = false;
  EXPECT_FALSE(CopyToLanding(f, *objects, &input_error).ok());
  EXPECT_TRUE(input_error);
  f.local_path = dir.path() + "/missing.csv";
  input_error = false;
  EXPECT_FALSE(CopyToLanding(f, *objects, &input_error).ok());
  EXPECT_TRUE(input_error);
}

// Issue 11: into a local store the copy reads the file straight into the
// writer's own buffer (ObjectWriter::Space); into any other store (memory,
// S3, a wrapped writer) it falls back to a buffer of its own and Append.
// Both land the same bytes under the same hash, and both refuse bytes that
// no longer hash as expected, storing nothing. The file spans two whole
// 4 MiB buffers and a partial one.
TEST(CopyToLanding, I11_LentBuffersAndTheFallbackLandTheSameBytes) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/in.csv";
  std::string text;
  for (int i = 0; text.size() < (9u << 20) + 4321; ++i)
    text += "s" + std::to_string(i % 97) + ",2024-01-01," + std::to_string(i) + ",0.1\n";
  std::ofstream(path, std::ios::binary) << text;
  auto reader = OpenLocalFile(path);
  ASSERT_TRUE(reader.ok());
  const std::string hash = *Sha256Of(**reader, path);

  auto local = storage::NewLocalObjectStore(dir.path() + "/data");
  auto memory = storage::NewMemoryObjectStore();
  auto local2 = storage::NewLocalObjectStore(dir.path() + "/data2");
  storage::FaultInjector no_faults;
  auto wrapped = storage::WrapObjectStore(*local2, no_faults);
  const std::pair<storage::ObjectStore*, bool> stores[] = {
      {local.get(), true}, {memory.get(), false}, {wrapped.get(), false}};
  for (const auto& [store, lends] : stores) {
    SCOPED_TRACE(lends ? "lent buffers" : "fallback");
    EXPECT_EQ(!(*store->NewWriter("probe"))->Space().empty(), lends);
    StagedFile f;
    f.local_path = path;
    f.hash = hash;
    f.landing_key = "landing/s1/" + hash + ".csv";
    auto writer = CopyToLanding(f, *store);
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    ASSERT_NE(*writer, nullptr);
    ASSERT_TRUE((*writer)->Commit().ok());
    auto back = store->ReadAll(f.landing_key);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->size(), text.size());
    EXPECT_TRUE(*back == text);
    // The bytes no longer hash as expected: refused, nothing stored.
    f.hash = std::string(64, 'd');
    f.landing_key = "landing/s1/" + f.hash + ".csv";
    bool input_error = false;
    auto changed = CopyToLanding(f, *store, &input_error);
    ASSERT_FALSE(changed.ok());
    EXPECT_TRUE(input_error);
    EXPECT_FALSE(*store->Exists(f.landing_key));
  }
}

}  // namespace
}  // namespace aquasense::pipeline
