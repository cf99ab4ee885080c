// BlockCache: the decoded sensor-month blocks an ingest batch is merging
// into, kept in memory so a block that several chunks (or files) touch is
// read, decoded, encoded and written once instead of once per chunk.
//
//   BlockCache cache({.max_bytes = 16 << 20, .idle_ticks = 1});
//   bool added;
//   BlockCache::Entry& e = cache.Get(sensor, month, added);  // fill e.readings if added
//   cache.Tick();                                             // after each chunk
//   for (uint64_t key : cache.Victims()) { /* flush if dirty */ cache.Erase(key); }
//
// Memory is bounded: Victims() names the entries idle for `idle_ticks` ticks,
// then the least recently used ones until the estimate is under 3/4 of
// `max_bytes`. The cache does no I/O: the owner writes dirty entries back.
// Entry references stay valid until that entry is erased. Not thread-safe.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "core/reading.h"

namespace aquasense::pipeline::internal {

class BlockCache {
 public:
  struct Options {
    size_t max_bytes = 16 << 20;  // estimate of decoded readings plus bookkeeping
    // Entries unused for more than this many ticks are evicted: input sorted
    // by date touches a sensor-month in at most two consecutive chunks.
    uint64_t idle_ticks = 1;
  };
  struct Entry {
    std::vector<core::Reading> readings;  // sorted by time
    uint64_t last_use = 0;                // tick of the last Get
    bool dirty = false;                   // changed since read from the store
  };

  explicit BlockCache(Options options) : options_(options) {}

  static uint64_t Key(uint32_t sensor, int32_t month) {
    return static_cast<uint64_t>(sensor) << 32 | static_cast<uint32_t>(month);
  }
  static uint32_t SensorOf(uint64_t key) { return static_cast<uint32_t>(key >> 32); }
  static int32_t MonthOf(uint64_t key) { return static_cast<int32_t>(static_cast<uint32_t>(key)); }

  // The entry, or nullptr. Does not count as a use.
  Entry* Find(uint32_t sensor, int32_t month);
  Entry* Find(uint64_t key);
  // The entry, added empty and clean when missing (`added`); marked used now.
  Entry& Get(uint32_t sensor, int32_t month, bool& added);
  // Ends a unit of work (a chunk): the clock of last_use.
  void Tick() { ++now_; }

  // Keys to evict now, by last use (oldest first, then key).
  std::vector<uint64_t> Victims() const;
  // Every key, sorted.
  std::vector<uint64_t> Keys() const;
  // Removes the entry; its memory may be reused by a later Get.
  void Erase(uint64_t key);
  size_t size() const { return entries_.size(); }
  // The memory estimate Victims() bounds.
  size_t Bytes() const;

 private:
  static size_t BytesOf(const Entry& e);

  using Map = std::unordered_map<uint64_t, Entry>;
  Options options_;
  uint64_t now_ = 0;
  Map entries_;
  // Erased nodes kept for Get, with their readings' capacity: an ingest
  // replaces thousands of entries per chunk, and reusing them saves two
  // allocations and frees per sensor-month (and the vector's regrowth).
  // At most max_bytes / 4 of them (by BytesOf): about the entries a chunk of
  // interleaved sensors completes.
  std::vector<Map::node_type> spare_;
  size_t spare_bytes_ = 0;
};

}  // namespace aquasense::pipeline::internal
