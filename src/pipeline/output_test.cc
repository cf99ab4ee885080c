#include "pipeline/output.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "storage/test_dir.h"

namespace aquasense::pipeline::internal {
namespace {

// Records what it is given; fails (or throws) at Append number `fail_at`
// (0-based), slowly when `delay` is set.
struct Recorded {
  std::string bytes;
  std::atomic<int> appends{0};
  int fail_at = -1;
  bool throw_instead = false;
  std::chrono::microseconds delay{0};
};

class RecordingWriter final : public storage::ObjectWriter {
 public:
  explicit RecordingWriter(Recorded& r) : r_(r) {}
  Status Append(std::string_view bytes) override {
    const int n = r_.appends++;
    std::this_thread::sleep_for(r_.delay);
    if (n == r_.fail_at) {
      if (r_.throw_instead) throw std::runtime_error("disk on fire");
      return Unavailable("injected append failure");
    }
    r_.bytes.append(bytes);
    return Status::Ok();
  }
  Status Commit() override { return Status::Ok(); }
  Status CommitAs(std::string_view) override { return Status::Ok(); }
  Status SetKey(std::string_view) override { return Status::Ok(); }

 private:
  Recorded& r_;
};

// A store whose writers record into `recorded` (one per NewWriter call, in order).
class RecordingStore final : public storage::ObjectStore {
 public:
  explicit RecordingStore(std::vector<Recorded*> recorded) : recorded_(std::move(recorded)) {}
  Result<std::unique_ptr<storage::ObjectWriter>> NewWriter(std::string_view) override {
    return std::unique_ptr<storage::ObjectWriter>(new RecordingWriter(*recorded_.at(next_++)));
  }
  Result<std::unique_ptr<storage::ObjectReader>> Open(std::string_view) override {
    return NotFound("none");
  }
  Result<bool> Exists(std::string_view) override { return false; }
  Result<std::vector<storage::ObjectInfo>> List(std::string_view) override {
    return std::vector<storage::ObjectInfo>{};
  }
  Status Delete(std::string_view) override { return Status::Ok(); }

 private:
  std::vector<Recorded*> recorded_;
  size_t next_ = 0;
};

// Piece i of a test stream: sizes from 1 byte to over two buffers.
std::string Piece(int i) {
  const size_t sizes[] = {1, 17, 4096, kOutFlush - 3, 70000, 2 * kOutFlush + 5, 333};
  return std::string(sizes[i % 7], static_cast<char>('a' + i % 26));
}

TEST(AsyncOutput, I11_TwoOutputsOnOneThreadKeepTheirBytesInOrder) {
  Recorded valid, invalid;
  valid.delay = invalid.delay = std::chrono::microseconds(300);  // the thread lags behind
  RecordingStore store({&valid, &invalid});
  std::string want_valid = "header-v\n", want_invalid = "header-i\n";
  {
    Output v, inv;
    OutputThread thread(2);
    ASSERT_TRUE(v.Open(store, "v", "header-v\n", &thread).ok());
    ASSERT_TRUE(inv.Open(store, "i", "header-i\n", &thread).ok());
    for (int i = 0; i < 60; ++i) {
      const std::string p = Piece(i);
      ASSERT_TRUE(v.Write(p).ok());
      want_valid += p;
      // The invalid output is written through buf() + MaybeFlush, as WriteInvalid does.
      inv.buf() += std::to_string(i) + ",line\n";
      want_invalid += std::to_string(i) + ",line\n";
      ASSERT_TRUE(inv.MaybeFlush().ok());
    }
    auto wv = v.Finish();
    auto wi = inv.Finish();
    ASSERT_TRUE(wv.ok() && wi.ok());
    EXPECT_NE(*wv, nullptr);
    // Two thread buffers plus each Output's own: never more.
    EXPECT_LE(thread.buffers(), 2u);
  }
  EXPECT_GT(valid.appends.load(), 20);  // it went through the thread in pieces
  EXPECT_EQ(valid.bytes.size(), want_valid.size());
  EXPECT_TRUE(valid.bytes == want_valid);
  EXPECT_EQ(invalid.bytes, want_invalid);
}

TEST(AsyncOutput, I11_BuffersStayBoundedWhenTheWriterIsSlow) {
  Recorded slow;
  slow.delay = std::chrono::milliseconds(2);
  RecordingStore store({&slow});
  OutputThread thread(3);
  Output out;
  ASSERT_TRUE(out.Open(store, "v", "", &thread).ok());
  const std::string mib(kOutFlush, 'x');
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(out.Write(mib).ok());
  EXPECT_LE(thread.buffers(), 3u);
  ASSERT_TRUE(out.Finish().ok());
  EXPECT_EQ(slow.bytes.size(), 40 * kOutFlush);
}

TEST(AsyncOutput, I11_AnAppendErrorSurfacesAtALaterWriteAndAtFinish) {
  Recorded failing;
  failing.fail_at = 1;
  RecordingStore store({&failing});
  OutputThread thread;
  Output out;
  ASSERT_TRUE(out.Open(store, "v", "", &thread).ok());
  const std::string mib(kOutFlush, 'x');
  Status seen;
  for (int i = 0; i < 50 && seen.ok(); ++i) {
    seen = out.Write(mib);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(seen.code(), Code::kUnavailable);
  EXPECT_EQ(seen.message(), "injected append failure");
  auto finished = out.Finish();
  ASSERT_FALSE(finished.ok());
  EXPECT_EQ(finished.status().message(), "injected append failure");
  // Nothing after the failed append was written to the useless writer.
  EXPECT_EQ(failing.bytes.size(), kOutFlush);
}

TEST(AsyncOutput, I11_AnExceptionOnTheThreadBecomesTheFinishError) {
  Recorded throwing;
  throwing.fail_at = 0;
  throwing.throw_instead = true;
  RecordingStore store({&throwing});
  OutputThread thread;
  Output out;
  ASSERT_TRUE(out.Open(store, "v", "", &thread).ok());
  ASSERT_TRUE(out.Write(std::string(kOutFlush + 10, 'y')).ok());  // one buffer queued
  auto finished = out.Finish();
  ASSERT_FALSE(finished.ok());
  EXPECT_EQ(finished.status().code(), Code::kInternal);
  EXPECT_NE(finished.status().message().find("disk on fire"), std::string::npos);
}

TEST(AsyncOutput, I11_ASmallOutputStartsNoThreadAndIsWrittenAtFinish) {
  Recorded small;
  RecordingStore store({&small});
  OutputThread thread;
  Output out;
  ASSERT_TRUE(out.Open(store, "v", "h\n", &thread).ok());
  ASSERT_TRUE(out.Write("a,b\n").ok());
  EXPECT_EQ(small.appends.load(), 0);
  ASSERT_TRUE(out.Finish().ok());
  EXPECT_EQ(small.bytes, "h\na,b\n");
  EXPECT_EQ(thread.buffers(), 0u);
}

TEST(AsyncOutput, I11_DestroyedWithWritesQueuedDropsThemSafely) {
  Recorded slow;
  slow.delay = std::chrono::milliseconds(5);
  RecordingStore store({&slow});
  {
    Output out;  // destroyed after the thread (declared first), as in FileIngest
    OutputThread thread(4);
    ASSERT_TRUE(out.Open(store, "v", "", &thread).ok());
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(out.Write(std::string(kOutFlush, 'z')).ok());
  }  // no Finish: a failed ingest
  EXPECT_LT(slow.bytes.size(), 4 * kOutFlush);
}

// A local store's writer lends its own buffer: the bytes are copied into it
// on the calling thread (no writer thread, no second copy) and come back
// byte for byte, the invalid output's buf() appends included.
TEST(AsyncOutput, I11_ALendingWriterIsFilledDirectlyWithoutTheThread) {
  testing::TempDir dir;
  auto store = storage::NewLocalObjectStore(dir.path());
  OutputThread thread;
  Output v, inv;
  ASSERT_TRUE(v.Open(*store, "v.csv", "header-v\n", &thread).ok());
  ASSERT_TRUE(inv.Open(*store, "i.csv", "header-i\n", &thread).ok());
  std::string want_v = "header-v\n", want_i = "header-i\n";
  for (int i = 0; i < 40; ++i) {
    const std::string p = Piece(i);
    ASSERT_TRUE(v.Write(p).ok());
    want_v += p;
    inv.buf() += p.substr(0, 50000) + "\n";
    want_i += p.substr(0, 50000) + "\n";
    ASSERT_TRUE(inv.MaybeFlush().ok());
  }
  for (auto [out, key] : {std::pair{&v, "v.csv"}, std::pair{&inv, "i.csv"}}) {
    auto w = out->Finish();
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Commit().ok());
  }
  EXPECT_EQ(thread.buffers(), 0u);  // the thread was never needed
  auto back_v = store->ReadAll("v.csv");
  auto back_i = store->ReadAll("i.csv");
  ASSERT_TRUE(back_v.ok() && back_i.ok());
  EXPECT_EQ(back_v->size(), want_v.size());
  EXPECT_TRUE(*back_v == want_v);
  EXPECT_TRUE(*back_i == want_i);
}

// Once the writer is known to lend its buffer, Write copies straight into
// it; bytes appended through buf() in between still come out in order.
TEST(AsyncOutput, I11_ALendingWriterKeepsWritesAndBufAppendsInOrder) {
  testing::TempDir dir;
  auto store = storage::NewLocalObjectStore(dir.path());
  Output out;
  ASSERT_TRUE(out.Open(*store, "o.csv", "header\n").ok());
  std::string want = "header\n";
  for (int i = 0; i < 4000; ++i) {
    const std::string row = "row " + std::to_string(i) + std::string(i % 1499, 'x') + "\n";
    if (i % 7 == 0) {
      out.buf() += row;
      ASSERT_TRUE(out.MaybeFlush().ok());
    } else {
      ASSERT_TRUE(out.Write(row).ok());
    }
    want += row;
  }
  auto w = out.Finish();
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Commit().ok());
  auto back = store->ReadAll("o.csv");
  ASSERT_TRUE(back.ok());
  ASSERT_GT(want.size(), 2 * kOutFlush);  // the writer's lending was asked and used
  EXPECT_EQ(back->size(), want.size());
  EXPECT_TRUE(*back == want);
}

}  // namespace
}  // namespace aquasense::pipeline::internal
