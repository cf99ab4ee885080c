// The ObjectStore contract (object_store.h), checked the same way on every
// backend (see object_store_conformance.h).
#include "storage/object_store_conformance.h"

#include <thread>
#include <vector>

namespace aquasense::storage::conformance {
namespace {

std::string Text(size_t size) {
  std::string t;
  for (size_t i = 0; t.size() < size; ++i) t += std::to_string(i * 7919) + ",";
  t.resize(size);
  return t;
}

TEST_P(ObjectStoreConformance, ObjectsAreAllOrNothing) {
  {
    auto w = store().NewWriter("a/b.csv");
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append("hello ").ok());
    EXPECT_FALSE(*store().Exists("a/b.csv"));  // not visible before Commit
  }                                            // destroyed without Commit: nothing is kept
  EXPECT_FALSE(*store().Exists("a/b.csv"));
  ASSERT_TRUE(store().WriteAll("a/b.csv", "hello world").ok());
  EXPECT_TRUE(*store().Exists("a/b.csv"));
  EXPECT_EQ(*store().ReadAll("a/b.csv"), "hello world");
  ASSERT_TRUE(store().WriteAll("a/b.csv", "replaced").ok());
  EXPECT_EQ(*store().ReadAll("a/b.csv"), "replaced");
  auto w = store().NewWriter("x");
  ASSERT_TRUE((*w)->Append("renamed").ok());
  ASSERT_TRUE((*w)->CommitAs("a/c.csv").ok());
  EXPECT_EQ(*store().ReadAll("a/c.csv"), "renamed");
  EXPECT_FALSE(*store().Exists("x"));
  EXPECT_FALSE((*w)->Commit().ok());  // committed twice: an error, not a crash
}

TEST_P(ObjectStoreConformance, ListIsSortedByKeyWithSizes) {
  for (const char* key : {"a/c.csv", "a/b.csv", "a/bc/d e+f\xc3\xa4.csv", "ab", "b/x"})
    ASSERT_TRUE(store().WriteAll(key, key).ok());
  ASSERT_TRUE(store().WriteAll("a/empty", "").ok());
  auto list = store().List("a/");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  std::vector<std::string> keys;
  for (const auto& o : *list) keys.push_back(o.key);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"a/b.csv", "a/bc/d e+f\xc3\xa4.csv", "a/c.csv", "a/empty"}));
  EXPECT_EQ((*list)[0].size, 7u);
  EXPECT_EQ((*list)[3].size, 0u);
  EXPECT_GT((*list)[0].mtime_ms, 1'600'000'000'000);
  EXPECT_EQ(store().List("a/b")->size(), 2u);  // a prefix, not a directory
  EXPECT_EQ(store().List("")->size(), 6u);
  EXPECT_TRUE(store().List("zzz/")->empty());
  EXPECT_EQ(*store().ReadAll("a/bc/d e+f\xc3\xa4.csv"), "a/bc/d e+f\xc3\xa4.csv");
  EXPECT_EQ(*store().ReadAll("a/empty"), "");
}

TEST_P(ObjectStoreConformance, ReadAtReadAndErrors) {
  ASSERT_TRUE(store().WriteAll("f", "0123456789").ok());
  auto r = store().Open("f");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->size(), 10u);
  char buf[16];
  EXPECT_EQ(*(*r)->ReadAt(3, buf, 4), 4u);
  EXPECT_EQ(std::string(buf, 4), "3456");
  EXPECT_EQ(*(*r)->ReadAt(8, buf, 16), 2u);
  EXPECT_EQ(std::string(buf, 2), "89");
  EXPECT_EQ(*(*r)->ReadAt(10, buf, 4), 0u);
  EXPECT_EQ(*(*r)->Read(buf, 6), 6u);  // Read is independent of ReadAt
  EXPECT_EQ(std::string(buf, 6), "012345");
  size_t rest = 0;
  for (size_t n; (n = *(*r)->Read(buf, 3)) > 0;) rest += n;
  EXPECT_EQ(rest, 4u);
  EXPECT_EQ(store().Open("missing").status().code(), Code::kNotFound);
  for (const char* bad : {"../escape", "/abs", "a//b", "a/", ".tmp/x", "a/./b", ""}) {
    EXPECT_EQ(store().NewWriter(bad).status().code(), Code::kInvalidArgument) << bad;
    EXPECT_EQ(store().Open(bad).status().code(), Code::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(store().Delete("f").ok());
  EXPECT_TRUE(store().Delete("f").ok());  // a missing one is not an error
  EXPECT_FALSE(*store().Exists("f"));
}

TEST_P(ObjectStoreConformance, LargeObjectsComeBackByteForByte) {
  const std::string text = Text(GetParam().large_object + 12345);
  for (size_t piece : {size_t{4095}, size_t{(1u << 20) + 1}, size_t{5u << 20}}) {
    const std::string key = "big/" + std::to_string(piece);
    auto w = store().NewWriter("big/pending");
    ASSERT_TRUE(w.ok());
    for (size_t at = 0; at < text.size(); at += piece)
      ASSERT_TRUE((*w)->Append(std::string_view(text).substr(at, piece)).ok());
    ASSERT_TRUE((*w)->CommitAs(key).ok());
    auto back = store().ReadAll(key);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_TRUE(*back == text) << "pieces of " << piece << ": " << back->size() << " bytes back";
    auto r = store().Open(key);
    char buf[5];
    ASSERT_EQ(*(*r)->ReadAt(text.size() - 5, buf, 5), 5u);
    EXPECT_EQ(std::string(buf, 5), text.substr(text.size() - 5));
  }
  EXPECT_FALSE(*store().Exists("big/pending"));
  EXPECT_EQ(store().List("big/")->size(), 3u);
}

// Review item 8: concurrent writers on one placeholder key ("incoming.csv")
// renamed to their own keys must not collide, small or large.
TEST_P(ObjectStoreConformance, WritersSharingAPlaceholderKeyDoNotCollide) {
  const std::string big = Text(GetParam().large_object + 1);
  std::vector<std::unique_ptr<ObjectWriter>> writers;
  for (int i = 0; i < 4; ++i) {
    auto w = store().NewWriter("landing/s/incoming.csv");
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append("writer " + std::to_string(i) + "\n").ok());
    if (i % 2 == 1) {
      ASSERT_TRUE((*w)->Append(big).ok());
    }
    writers.push_back(std::move(*w));
  }
  for (int i = 3; i >= 0; --i)
    ASSERT_TRUE(writers[i]->SetKey("landing/s/" + std::to_string(i) + ".csv").ok());
  std::vector<std::jthread> threads;
  std::vector<Status> done(4);
  for (int i = 0; i < 4; ++i) threads.emplace_back([&, i] { done[i] = writers[i]->Commit(); });
  threads.clear();
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(done[i].ok()) << done[i].ToString();
    auto back = store().ReadAll("landing/s/" + std::to_string(i) + ".csv");
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, "writer " + std::to_string(i) + "\n" + (i % 2 == 1 ? big : ""));
  }
  EXPECT_FALSE(*store().Exists("landing/s/incoming.csv"));
}

TEST_P(ObjectStoreConformance, CommitAllPublishesEveryWriterUnderItsKey) {
  ASSERT_TRUE(store().WriteAll("m/old.csv", "old").ok());
  std::vector<std::unique_ptr<ObjectWriter>> writers;
  for (const char* key : {"intent", "m/old.csv", "m/new.csv", "n/x.csv"}) {
    auto w = store().NewWriter(key);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(std::string("body of ") + key).ok());
    writers.push_back(std::move(*w));
  }
  writers[0]->AllowInPlace();
  std::vector<ObjectWriter*> raw;
  for (auto& w : writers) raw.push_back(w.get());
  EXPECT_FALSE(*store().Exists("m/new.csv"));
  ASSERT_TRUE(store().CommitAll(raw, /*first_is_intent=*/true).ok());
  EXPECT_EQ(*store().ReadAll("intent"), "body of intent");
  EXPECT_EQ(*store().ReadAll("m/old.csv"), "body of m/old.csv");  // replaced
  EXPECT_EQ(*store().ReadAll("m/new.csv"), "body of m/new.csv");
  writers.clear();  // committed writers leave their objects in place
  EXPECT_EQ(*store().ReadAll("n/x.csv"), "body of n/x.csv");
  auto w = store().NewWriter("y");
  ASSERT_TRUE((*w)->Commit().ok());
  ObjectWriter* again[] = {w->get()};
  EXPECT_FALSE(store().CommitAll(again).ok());
  EXPECT_EQ(*store().ReadAll("y"), "");
}

TEST_P(ObjectStoreConformance, ConcurrentWritersAndReaders) {
  std::vector<std::jthread> threads;
  std::vector<Status> errors(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5 && errors[t].ok(); ++i) {
        const std::string key = "c/" + std::to_string(t) + "/" + std::to_string(i);
        errors[t] = store().WriteAll(key, key);
        if (errors[t].ok()) {
          auto back = store().ReadAll(key);
          if (!back.ok() || *back != key) errors[t] = Internal("read back wrong: " + key);
        }
      }
    });
  }
  threads.clear();
  for (const Status& e : errors) EXPECT_TRUE(e.ok()) << e.ToString();
  EXPECT_EQ(store().List("c/")->size(), 40u);
}

}  // namespace
}  // namespace aquasense::storage::conformance
