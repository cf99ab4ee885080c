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
  auto [it, inserted] = entries_.try_emplace(Key(sensor, month));
  added = inserted;
  it->second.last_use = now_;
  return it->second;
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
  std::vector<Item> items;
  items.reserve(entries_.size());
  size_t total = 0;
  for (const auto& [key, e] : entries_) {
    items.push_back({e.last_use, key, BytesOf(e)});
    total += items.back().bytes;
  }
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return std::tie(a.last_use, a.key) < std::tie(b.last_use, b.key);
  });
  const size_t target = total > options_.max_bytes ? options_.max_bytes / 4 * 3 : total;
  std::vector<uint64_t> out;
  for (const Item& it : items) {
    const bool idle = it.last_use + options_.idle_ticks < now_;
    if (!idle && total <= target) break;
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
