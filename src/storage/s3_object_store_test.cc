// S3ObjectStore against moto's S3 (python3 -m moto.server, started once for
// this binary on 127.0.0.1 and stopped by its PID at exit): the
// conformance suite, then what is particular to S3 (multipart uploads and
// their abort, UploadPartCopy, pagination, objects replaced under a reader,
// prefixes). Every test gets a bucket of its own. Without moto the tests
// are skipped, saying so.
#include "storage/s3_object_store.h"

#include <gtest/gtest.h>

#include <random>

#include "common/aws/test_server.h"
#include "storage/object_store_conformance.h"
#include "storage/s3_client.h"

namespace aquasense::storage {
namespace {

using conformance::Backend;
using conformance::ObjectStoreConformance;
using conformance::StoreUnderTest;

S3Options MotoOptions(const std::string& endpoint) {
  auto o = aws::testing::MotoOptions<S3Options>(endpoint, 3);
  o.path_style = true;
  o.part_size = 5u << 20;  // S3's minimum, so that tests reach multipart cheaply
  return o;
}

// A new bucket for a test; its objects die with the moto process.
Result<std::string> NewBucket(const S3Options& o) {
  std::string name = aws::testing::UniqueName("aq-test");
  S3Client s3(name, o);
  auto r = s3.Call({.method = "PUT", .key = ""});
  if (!r.ok()) return r.status();
  return name;
}

class S3UnderTest final : public StoreUnderTest {
 public:
  explicit S3UnderTest(std::unique_ptr<ObjectStore> s) : store_(std::move(s)) {}
  ObjectStore& store() override { return *store_; }

 private:
  std::unique_ptr<ObjectStore> store_;
};

Result<std::unique_ptr<StoreUnderTest>> MakeS3() {
  std::string error;
  auto* moto = aws::testing::SharedMoto(&error);
  if (moto == nullptr) return Unavailable(error);
  S3Options o = MotoOptions(moto->url());
  auto bucket = NewBucket(o);
  if (!bucket.ok()) return bucket.status();
  return std::unique_ptr<StoreUnderTest>(
      new S3UnderTest(NewS3ObjectStore({*bucket, "some/prefix"}, std::move(o))));
}

INSTANTIATE_TEST_SUITE_P(S3, ObjectStoreConformance,
                         ::testing::Values(Backend{"S3OnMoto", MakeS3, 5u << 20}),
                         conformance::ParamName<conformance::Backend>);

class S3Store : public aws::testing::MotoTest {
 protected:
  void SetUpMoto(const std::string& url) override {
    options_ = MotoOptions(url);
    auto bucket = NewBucket(options_);
    ASSERT_TRUE(bucket.ok()) << bucket.status().ToString();
    bucket_ = *bucket;
    raw_ = std::make_unique<S3Client>(bucket_, options_);
  }
  std::unique_ptr<ObjectStore> Open(std::string prefix, S3Options o) {
    return NewS3ObjectStore({bucket_, std::move(prefix)}, std::move(o));
  }
  // Every key in the bucket, and the multipart uploads in progress.
  std::vector<std::string> RawKeys() {
    auto r = raw_->Call({.method = "GET", .query = {{"list-type", "2"}}});
    std::vector<std::string> keys;
    size_t at = 0, end = 0;
    while (r.ok()) {
      std::string item = XmlValue(r->body, "Key", at, &end);
      if (end == std::string::npos) break;
      keys.push_back(item);
      at = end;
    }
    return keys;
  }
  size_t UploadsInProgress() {
    auto r = raw_->Call({.method = "GET", .query = {{"uploads", ""}}});
    EXPECT_TRUE(r.ok());
    size_t n = 0;
    for (size_t at = 0; (at = r->body.find("<UploadId>", at)) != std::string::npos; ++at) ++n;
    return n;
  }

  S3Options options_;
  std::string bucket_;
  std::unique_ptr<S3Client> raw_;
};

TEST_F(S3Store, ObjectsLiveUnderThePrefix) {
  auto a = Open("tenant/a", options_);
  auto b = Open("tenant/b", options_);
  ASSERT_TRUE(a->WriteAll("landing/x.csv", "A").ok());
  ASSERT_TRUE(b->WriteAll("landing/x.csv", "B").ok());
  EXPECT_EQ(*a->ReadAll("landing/x.csv"), "A");
  EXPECT_EQ(a->List("")->size(), 1u);
  EXPECT_EQ(RawKeys(),
            (std::vector<std::string>{"tenant/a/landing/x.csv", "tenant/b/landing/x.csv"}));
}

TEST_F(S3Store, ListPagesThroughContinuationTokens) {
  S3Options o = options_;
  o.list_page_size = 2;
  auto store = Open("p", std::move(o));
  for (int i = 6; i >= 0; --i) ASSERT_TRUE(store->WriteAll("k/" + std::to_string(i), "v").ok());
  auto list = store->List("k/");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 7u);
  for (int i = 0; i < 7; ++i) EXPECT_EQ((*list)[i].key, "k/" + std::to_string(i));
}

// A large object goes up in parts under .tmp/, then is copied to its key:
// nothing is left under .tmp/ after a commit, and a writer dropped without
// Commit aborts its multipart upload.
TEST_F(S3Store, MultipartUploadsCompleteOrAbortAndLeaveNothingBehind) {
  auto store = Open("p", options_);
  const std::string big((11u << 20) + 3, 'b');
  ASSERT_TRUE(store->WriteAll("big.csv", big).ok());
  EXPECT_EQ(RawKeys(), (std::vector<std::string>{"p/big.csv"}));
  EXPECT_EQ(UploadsInProgress(), 0u);
  {
    auto w = store->NewWriter("dropped.csv");
    ASSERT_TRUE((*w)->Append(big).ok());  // two parts uploaded already
    EXPECT_EQ(UploadsInProgress(), 1u);
  }
  EXPECT_EQ(UploadsInProgress(), 0u);
  EXPECT_FALSE(*store->Exists("dropped.csv"));
  EXPECT_EQ(*store->ReadAll("big.csv"), big);
}

// Above copy_part_size the copy to the final key is a multipart copy
// (UploadPartCopy), as CopyObject stops at 5 GiB.
TEST_F(S3Store, LargeCopiesUseUploadPartCopy) {
  S3Options o = options_;
  o.copy_part_size = 5u << 20;
  auto store = Open("p", std::move(o));
  std::string big;
  for (int i = 0; big.size() < (12u << 20); ++i) big += std::to_string(i) + "\n";
  auto w = store->NewWriter("incoming");
  ASSERT_TRUE((*w)->Append(big).ok());
  ASSERT_TRUE((*w)->CommitAs("final.csv").ok());
  EXPECT_EQ(*store->ReadAll("final.csv"), big);
  EXPECT_EQ(RawKeys(), (std::vector<std::string>{"p/final.csv"}));
}

// A reader pins the version it opened: reading on after the object was
// replaced is an error, never a mix of the two.
TEST_F(S3Store, ReaderRefusesAnObjectReplacedUnderIt) {
  S3Options o = options_;
  o.read_chunk = 4;
  auto store = Open("p", std::move(o));
  ASSERT_TRUE(store->WriteAll("f", "aaaaaaaaaaaa").ok());
  auto r = store->Open("f");
  ASSERT_TRUE(r.ok());
  char buf[4];
  EXPECT_EQ(*(*r)->Read(buf, 4), 4u);
  ASSERT_TRUE(store->WriteAll("f", "bbbbbbbbbbbb").ok());
  EXPECT_EQ((*r)->Read(buf, 4).status().code(), Code::kFailedPrecondition);
}

TEST_F(S3Store, ErrorsMapToCodes) {
  auto missing = NewS3ObjectStore({"no-such-bucket-aq", ""}, options_);
  EXPECT_EQ(missing->Open("x").status().code(), Code::kNotFound);
  EXPECT_EQ(missing->WriteAll("x", "y").code(), Code::kNotFound);
  S3Options down = options_;
  down.endpoint = "http://127.0.0.1:1";
  down.retry.max_attempts = 2;
  down.retry.sleep = [](int64_t) {};
  auto unreachable = NewS3ObjectStore({bucket_, ""}, std::move(down));
  EXPECT_EQ(unreachable->WriteAll("x", "y").code(), Code::kUnavailable);
  EXPECT_EQ(unreachable->List("").status().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace aquasense::storage
