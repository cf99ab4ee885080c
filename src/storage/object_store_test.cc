#include "storage/object_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "storage/object_store_conformance.h"
#include "storage/s3_object_store.h"
#include "storage/test_dir.h"

namespace aquasense::storage {
namespace {

// The conformance suite (object_store_conformance.cc) on a local directory.
class LocalUnderTest final : public conformance::StoreUnderTest {
 public:
  LocalUnderTest() : store_(NewLocalObjectStore(dir_.path())) {}
  ObjectStore& store() override { return *store_; }

 private:
  aquasense::testing::TempDir dir_;
  std::unique_ptr<ObjectStore> store_;
};

using conformance::ObjectStoreConformance;
INSTANTIATE_TEST_SUITE_P(Local, ObjectStoreConformance,
                         ::testing::Values(conformance::Backend{
                             "Local",
                             []() -> Result<std::unique_ptr<conformance::StoreUnderTest>> {
                               return std::unique_ptr<conformance::StoreUnderTest>(
                                   new LocalUnderTest());
                             }}),
                         conformance::ParamName<conformance::Backend>);

TEST(StoreUrl, S3UrlsParse) {
  auto loc = ParseS3Url("s3://my-bucket/some/prefix/");
  ASSERT_TRUE(loc.ok());
  EXPECT_EQ(loc->bucket, "my-bucket");
  EXPECT_EQ(loc->prefix, "some/prefix");
  EXPECT_EQ(ParseS3Url("s3://b.c.d")->prefix, "");
  for (const char* bad : {"s3://", "s3://B", "s3://ab", "s3://-ab", "s3://a_b/x", "s3://bkt/a//b",
                          "s3://bkt/../x", "gs://bkt"})
    EXPECT_EQ(ParseS3Url(bad).status().code(), Code::kInvalidArgument) << bad;
}

// OpenObjectStore claims s3:// and directories (plain or file://), refuses
// other schemes; nothing is contacted when opening.
TEST(StoreUrl, OpenObjectStoreChoosesTheBackend) {
  aquasense::testing::TempDir dir;
  SystemClock clock;
  auto local = OpenObjectStore(dir.path(), clock);
  ASSERT_TRUE(local.ok());
  ASSERT_TRUE((*local)->WriteAll("k", "v").ok());
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/k"));
  auto file = OpenObjectStore("file://" + dir.path(), clock);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(*(*file)->ReadAll("k"), "v");
  EXPECT_TRUE(OpenObjectStore("s3://bucket/prefix", clock).ok());
  EXPECT_EQ(OpenObjectStore("gs://bucket", clock).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(OpenObjectStore("s3://Bad_Bucket", clock).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(OpenObjectStore("", clock).status().code(), Code::kInvalidArgument);
}

TEST(LocalObjectStore, WriteIsAtomicAndDurable) {
  testing::TempDir dir;
  auto store = NewLocalObjectStore(dir.path());
  {
    auto w = store->NewWriter("a/b.csv");
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append("hello ").ok());
    EXPECT_FALSE(*store->Exists("a/b.csv"));  // not visible before Commit
    // destroyed without Commit: nothing is kept
  }
  EXPECT_FALSE(*store->Exists("a/b.csv"));
  ASSERT_TRUE(store->WriteAll("a/b.csv", "hello world").ok());
  EXPECT_EQ(*store->ReadAll("a/b.csv"), "hello world");
  auto w = store->NewWriter("x");
  ASSERT_TRUE((*w)->Append("renamed").ok());
  ASSERT_TRUE((*w)->CommitAs("a/c.csv").ok());
  EXPECT_EQ(*store->ReadAll("a/c.csv"), "renamed");
  auto list = store->List("a/");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].key, "a/b.csv");
  EXPECT_EQ((*list)[1].size, 7u);
  EXPECT_TRUE(std::filesystem::is_empty(dir.path() + "/.tmp"));
}

// Objects over the 4 MiB write buffer are written partly with O_DIRECT (whole
// buffers) and partly buffered (the rest), and a writer's first buffer is
// sized to its first piece, then grown: the bytes must come back as
// appended, whatever the sizes of the pieces, with one or several writers.
TEST(LocalObjectStore, LargeObjectsComeBackByteForByte) {
  testing::TempDir dir;
  auto store = NewLocalObjectStore(dir.path());
  std::string text;
  for (size_t i = 0; text.size() < (13u << 20) + 12345; ++i) text += std::to_string(i * 7919) + ",";
  const std::vector<size_t> pieces = {1,        4095,           4096,     65536,   (100u << 10) + 1,
                                      1u << 20, (4u << 20) - 3, 4u << 20, 5u << 20};
  std::vector<std::unique_ptr<ObjectWriter>> writers;
  for (size_t k = 0; k < pieces.size(); ++k) {
    auto w = store->NewWriter("big/" + std::to_string(k));
    ASSERT_TRUE(w.ok());
    for (size_t at = 0; at < text.size(); at += pieces[k])
      ASSERT_TRUE((*w)->Append(std::string_view(text).substr(at, pieces[k])).ok());
    writers.push_back(std::move(*w));
  }
  ASSERT_TRUE(writers[0]->Commit().ok());
  std::vector<ObjectWriter*> rest;
  for (size_t k = 1; k < writers.size(); ++k) rest.push_back(writers[k].get());
  ASSERT_TRUE(store->CommitAll(rest).ok());
  for (size_t k = 0; k < pieces.size(); ++k) {
    auto back = store->ReadAll("big/" + std::to_string(k));
    ASSERT_TRUE(back.ok());
    EXPECT_TRUE(*back == text) << "pieces of " << pieces[k] << ": " << back->size()
                               << " bytes back";
  }
}

// AllowInPlace: the object is overwritten in its file (same inode), also
// by shorter contents; without an object there it is created as usual.
TEST(LocalObjectStore, InPlaceCommitsOverwriteTheFile) {
  testing::TempDir dir;
  auto store = NewLocalObjectStore(dir.path());
  auto write = [&](std::string_view text, bool in_place) {
    auto w = store->NewWriter("a/rec");
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(text).ok());
    if (in_place) (*w)->AllowInPlace();
    ASSERT_TRUE((*w)->Commit().ok());
  };
  auto inode = [&] {
    struct stat st {};
    EXPECT_EQ(::stat((dir.path() + "/a/rec").c_str(), &st), 0);
    return st.st_ino;
  };
  write("first record, long\n", true);  // nothing there yet: created
  EXPECT_EQ(*store->ReadAll("a/rec"), "first record, long\n");
  const auto ino = inode();
  write("second\n", true);
  EXPECT_EQ(*store->ReadAll("a/rec"), "second\n");
  EXPECT_EQ(inode(), ino);
  write("third\n", false);  // replaced atomically: a new file
  EXPECT_EQ(*store->ReadAll("a/rec"), "third\n");
  EXPECT_NE(inode(), ino);
  EXPECT_TRUE(std::filesystem::is_empty(dir.path() + "/.tmp"));
}

// Temp files of a process that is gone are removed when a store opens;
// those of live processes (this one, its parent) and other names stay.
TEST(LocalObjectStore, OpeningRemovesTempFilesOfProcessesThatAreGone) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.path() + "/.tmp");
  pid_t gone = ::fork();  // a pid that surely exits
  if (gone == 0) ::_exit(0);
  ASSERT_GT(gone, 0);
  ::waitpid(gone, nullptr, 0);
  auto touch = [&](const std::string& name) { std::ofstream(dir.path() + "/.tmp/" + name) << "x"; };
  const std::string dead = std::to_string(gone) + "-7.part";
  const std::string mine = std::to_string(::getpid()) + "-1.part";
  const std::string parent = std::to_string(::getppid()) + "-3.part";
  touch(dead);
  touch(mine);
  touch(parent);
  touch("notes.txt");
  auto store = NewLocalObjectStore(dir.path());
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/.tmp/" + dead));
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/.tmp/" + mine));
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/.tmp/" + parent));
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/.tmp/notes.txt"));
}

TEST(LocalObjectStore, ReadAtAndErrors) {
  testing::TempDir dir;
  auto store = NewLocalObjectStore(dir.path());
  ASSERT_TRUE(store->WriteAll("f", "0123456789").ok());
  auto r = store->Open("f");
  ASSERT_TRUE(r.ok());
  char buf[4];
  EXPECT_EQ(*(*r)->ReadAt(3, buf, 4), 4u);
  EXPECT_EQ(std::string(buf, 4), "3456");
  EXPECT_EQ(store->Open("missing").status().code(), Code::kNotFound);
  EXPECT_EQ(store->NewWriter("../escape").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store->NewWriter("/abs").status().code(), Code::kInvalidArgument);
}

TEST(LocalObjectStore, CommitAllPublishesEveryWriterUnderItsKey) {
  testing::TempDir dir;
  auto store = NewLocalObjectStore(dir.path());
  ASSERT_TRUE(store->WriteAll("m/old.csv", "old").ok());
  std::vector<std::unique_ptr<ObjectWriter>> writers;
  for (const char* key : {"intent", "m/old.csv", "m/new.csv", "n/x.csv"}) {
    auto w = store->NewWriter(key);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(std::string("body of ") + key).ok());
    writers.push_back(std::move(*w));
  }
  std::vector<ObjectWriter*> raw;
  for (auto& w : writers) raw.push_back(w.get());
  EXPECT_FALSE(*store->Exists("m/new.csv"));
  ASSERT_TRUE(store->CommitAll(raw, /*first_is_intent=*/true).ok());
  EXPECT_EQ(*store->ReadAll("intent"), "body of intent");
  EXPECT_EQ(*store->ReadAll("m/old.csv"), "body of m/old.csv");  // replaced
  EXPECT_EQ(*store->ReadAll("m/new.csv"), "body of m/new.csv");
  EXPECT_EQ(*store->ReadAll("n/x.csv"), "body of n/x.csv");
  writers.clear();  // committed writers leave their objects in place
  EXPECT_EQ(*store->ReadAll("n/x.csv"), "body of n/x.csv");
  EXPECT_TRUE(std::filesystem::is_empty(dir.path() + "/.tmp"));
  // A writer committed twice is an error, not a crash.
  auto w = store->NewWriter("y");
  ASSERT_TRUE((*w)->Commit().ok());
  ObjectWriter* again[] = {w->get()};
  EXPECT_FALSE(store->CommitAll(again).ok());
}

// Issue 11: a commit of many objects (a large batch's monthly files) syncs
// them with one syncfs() instead of an fsync each; after the intent record,
// every object is published, replacing old ones, and no temp file is left.
TEST(LocalObjectStore, I11_ManyObjectsAfterAnIntentArePublishedByOneSyncfs) {
  testing::TempDir dir;
  auto store = NewLocalObjectStore(dir.path());
  ASSERT_TRUE(store->WriteAll("m/7.csv", "old").ok());
  std::vector<std::unique_ptr<ObjectWriter>> writers;
  auto intent = store->NewWriter("m.intent");
  ASSERT_TRUE((*intent)->Append("intent").ok());
  writers.push_back(std::move(*intent));
  for (int i = 0; i < 40; ++i) {
    auto w = store->NewWriter("m/" + std::to_string(i) + ".csv");
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append("rows of " + std::to_string(i)).ok());
    writers.push_back(std::move(*w));
  }
  std::vector<ObjectWriter*> raw;
  for (auto& w : writers) raw.push_back(w.get());
  ASSERT_TRUE(store->CommitAll(raw, /*first_is_intent=*/true).ok());
  EXPECT_EQ(*store->ReadAll("m.intent"), "intent");
  for (int i = 0; i < 40; ++i)
    EXPECT_EQ(*store->ReadAll("m/" + std::to_string(i) + ".csv"), "rows of " + std::to_string(i));
  writers.clear();
  EXPECT_TRUE(std::filesystem::is_empty(dir.path() + "/.tmp"));
  // A committed writer among many: an error, not a crash.
  for (int i = 0; i < 20; ++i) {
    auto w = store->NewWriter("k/" + std::to_string(i));
    ASSERT_TRUE((*w)->Append("x").ok());
    writers.push_back(std::move(*w));
  }
  ASSERT_TRUE(writers[5]->Commit().ok());
  raw.clear();
  for (auto& w : writers) raw.push_back(w.get());
  EXPECT_FALSE(store->CommitAll(raw).ok());
}

}  // namespace
}  // namespace aquasense::storage
