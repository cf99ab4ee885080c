#include "pipeline/block_cache.h"

#include <algorithm>
#include <tuple>

namespace aquasense::pipeline::internal {

namespace {
constexpr size_t kEntryOverhead = 96;  // hash node, key, vector header
}  // namespace

size_t BlockCache::BytesOf(const Entry& e) {
  return kEntryOverhead + e.readings.capacity() * sizeof(core::Reading);
}

BlockCache::Entry* BlockCache::Find(uint64_t key) {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

BlockCache::Entry* BlockCache::Find(uint32_t sensor, int32_t month) {
  return Find(Key(sensor, month));
}

BlockCache::Entry& BlockCache::Get(uint32_t sensor, int32_t month, bool& added) {
  const uint64_t key = Key(sensor, month);
  auto it = entries_.find(key);
  added = it == entries_.end();
  if (added && !spare_.empty()) {
    Map::node_type node = std::move(spare_.back());
    spare_.pop_back();
    spare_bytes_ -= BytesOf(node.mapped());
    node.key() = key;
    node.mapped().dirty = false;
    it = entries_.insert(std::move(node)).position;
  } else if (added) {
    it = entries_.try_emplace(key).first;
  }
  it->second.last_use = now_;
  return it->second;
}

void BlockCache::Erase(uint64_t key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  const size_t bytes = BytesOf(it->second);
  if (spare_bytes_ + bytes > options_.max_bytes / 4) {
    entries_.erase(it);
    return;
  }
  Map::node_type node = entries_.extract(it);
  node.mapped().readings.clear();
  spare_bytes_ += bytes;
  spare_.push_back(std::move(node));
}

size_t BlockCache::Bytes() const {
  size_t total = 0;
  for (const auto& [key, e] : entries_) total += BytesOf(e);
  return total;
}

std::vector<uint64_t> BlockCache::Victims() const {
  struct Item {
    uint64_t last_use, key;
    size_t bytes;
  };
  auto older = [](const Item& a, const Item& b) {
    return std::tie(a.last_use, a.key) < std::tie(b.last_use, b.key);
  };
  // One pass for the idle entries and the total; the others are only sorted
  // when the total is over the cap.
  std::vector<Item> idle, busy;
  size_t total = 0;
  for (const auto& [key, e] : entries_) {
    const Item it{e.last_use, key, BytesOf(e)};
    if (it.last_use + options_.idle_ticks < now_) {
      idle.push_back(it);
    } else {
      busy.push_back(it);
      total += it.bytes;
    }
  }
  std::sort(idle.begin(), idle.end(), older);
  std::vector<uint64_t> out;
  out.reserve(idle.size());
  for (const Item& it : idle) out.push_back(it.key);
  if (total <= options_.max_bytes) return out;
  std::sort(busy.begin(), busy.end(), older);
  const size_t target = options_.max_bytes / 4 * 3;
  for (const Item& it : busy) {
    if (total <= target) break;
    out.push_back(it.key);
    total -= it.bytes;
  }
  return out;
}

std::vector<uint64_t> BlockCache::Keys() const {
  std::vector<uint64_t> out;
  out.reserve(entries_.size());
  for (const auto& [key, e] : entries_) out.push_back(key);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace aquasense::pipeline::internal
