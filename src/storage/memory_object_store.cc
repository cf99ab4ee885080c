#include "storage/memory_object_store.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>

namespace aquasense::storage {

namespace {

struct Object {
  std::shared_ptr<const std::string> bytes;
  int64_t mtime_ms = 0;
};

class MemoryObjectStore;

class MemoryWriter final : public ObjectWriter {
 public:
  MemoryWriter(MemoryObjectStore& store, std::string key) : store_(store), key_(std::move(key)) {}
  Status Append(std::string_view bytes) override {
    buf_.append(bytes);
    return Status::Ok();
  }
  Status Commit() override { return CommitAs(key_); }
  Status CommitAs(std::string_view key) override;
  Status SetKey(std::string_view key) override {
    key_.assign(key);
    return Status::Ok();
  }

 private:
  MemoryObjectStore& store_;
  std::string key_;
  std::string buf_;
  bool done_ = false;
};

class MemoryReader final : public ObjectReader {
 public:
  explicit MemoryReader(std::shared_ptr<const std::string> bytes) : bytes_(std::move(bytes)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    auto got = ReadAt(pos_, buf, n);
    if (got.ok()) pos_ += *got;
    return got;
  }
  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) override {
    if (offset >= bytes_->size()) return size_t{0};
    const size_t k = std::min<size_t>(n, bytes_->size() - offset);
    // Bytes, not a string: nothing to terminate.
    // NOLINTNEXTLINE(bugprone-not-null-terminated-result)
    std::memcpy(buf, bytes_->data() + offset, k);
    return k;
  }
  uint64_t size() const override { return bytes_->size(); }

 private:
  std::shared_ptr<const std::string> bytes_;
  uint64_t pos_ = 0;
};

class MemoryObjectStore final : public ObjectStore {
 public:
  explicit MemoryObjectStore(const Clock* clock) : clock_(clock ? clock : &system_) {}

  Result<std::unique_ptr<ObjectWriter>> NewWriter(std::string_view key) override {
    return std::unique_ptr<ObjectWriter>(new MemoryWriter(*this, std::string(key)));
  }
  Result<std::unique_ptr<ObjectReader>> Open(std::string_view key) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find(key);
    if (it == objects_.end()) return NotFound("no object " + std::string(key));
    return std::unique_ptr<ObjectReader>(new MemoryReader(it->second.bytes));
  }
  Result<bool> Exists(std::string_view key) override {
    std::lock_guard<std::mutex> lock(mu_);
    return objects_.find(key) != objects_.end();
  }
  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<ObjectInfo> out;
    for (auto it = objects_.lower_bound(prefix);
         it != objects_.end() && std::string_view(it->first).starts_with(prefix); ++it)
      out.push_back({it->first, it->second.bytes->size(), it->second.mtime_ms});
    return out;
  }
  Status Delete(std::string_view key) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = objects_.find(key); it != objects_.end()) objects_.erase(it);
    return Status::Ok();
  }

  void Put(std::string key, std::string bytes) {
    auto shared = std::make_shared<const std::string>(std::move(bytes));
    std::lock_guard<std::mutex> lock(mu_);
    objects_[std::move(key)] = Object{std::move(shared), clock_->NowMs()};
  }

 private:
  SystemClock system_;
  const Clock* clock_;
  std::mutex mu_;
  std::map<std::string, Object, std::less<>> objects_;
};

Status MemoryWriter::CommitAs(std::string_view key) {
  if (done_) return InvalidArgument("object " + key_ + " already committed");
  if (key.empty()) return InvalidArgument("empty object key");
  done_ = true;
  store_.Put(std::string(key), std::move(buf_));
  return Status::Ok();
}

}  // namespace

std::unique_ptr<ObjectStore> NewMemoryObjectStore(const Clock* clock) {
  return std::make_unique<MemoryObjectStore>(clock);
}

}  // namespace aquasense::storage
