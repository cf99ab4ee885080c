#include "pipeline/block_cache.h"

#include <gtest/gtest.h>

namespace aquasense::pipeline::internal {
namespace {

core::Reading R(int32_t day, double t) { return core::Reading{{day}, t, 0.1}; }

TEST(BlockCacheTest, GetAddsOnceAndFindDoesNotAdd) {
  BlockCache cache({});
  EXPECT_EQ(cache.Find(1, 100), nullptr);
  bool added = false;
  BlockCache::Entry& e = cache.Get(1, 100, added);
  EXPECT_TRUE(added);
  e.readings.push_back(R(1, 10));
  EXPECT_EQ(&cache.Get(1, 100, added), &e);
  EXPECT_FALSE(added);
  EXPECT_EQ(cache.Find(1, 100), &e);
  EXPECT_EQ(cache.Find(2, 100), nullptr);
  EXPECT_EQ(BlockCache::SensorOf(BlockCache::Key(7, -3)), 7u);
  EXPECT_EQ(BlockCache::MonthOf(BlockCache::Key(7, -3)), -3);
}

TEST(BlockCacheTest, IdleEntriesAreVictims) {
  BlockCache cache({.max_bytes = 1 << 30, .idle_ticks = 2});
  bool added;
  cache.Get(1, 10, added);  // used at tick 0
  cache.Tick();
  cache.Get(2, 10, added);  // tick 1
  cache.Tick();
  cache.Tick();  // now 3: entry 1 idle for 3 ticks, entry 2 for 2
  EXPECT_EQ(cache.Victims(), std::vector<uint64_t>{BlockCache::Key(1, 10)});
  cache.Get(1, 10, added);  // used again: no longer idle
  EXPECT_TRUE(cache.Victims().empty());
  cache.Tick();
  EXPECT_EQ(cache.Victims(), std::vector<uint64_t>{BlockCache::Key(2, 10)});
}

TEST(BlockCacheTest, OverTheCapLeastRecentlyUsedGoFirst) {
  BlockCache cache({.max_bytes = 0, .idle_ticks = 1000});
  bool added;
  for (uint32_t s = 0; s < 4; ++s) {
    cache.Get(3 - s, 5, added).readings.assign(100, R(1, 1));
    cache.Tick();
  }
  const size_t per_entry = cache.Bytes() / 4;
  EXPECT_GE(per_entry, 100 * sizeof(core::Reading));
  // Over the cap: everything goes, least recently used first (sensor 3 first).
  EXPECT_EQ(cache.Victims(), (std::vector<uint64_t>{BlockCache::Key(3, 5), BlockCache::Key(2, 5),
                                                    BlockCache::Key(1, 5), BlockCache::Key(0, 5)}));

  // A cap of 3 entries' worth: down to 3/4 of it, i.e. 2 entries stay.
  BlockCache capped({.max_bytes = per_entry * 3, .idle_ticks = 1000});
  for (uint32_t s = 0; s < 4; ++s) {
    capped.Get(s, 5, added).readings.assign(100, R(1, 1));
    capped.Tick();
  }
  EXPECT_EQ(capped.Victims(),
            (std::vector<uint64_t>{BlockCache::Key(0, 5), BlockCache::Key(1, 5)}));
  capped.Erase(BlockCache::Key(0, 5));
  capped.Erase(BlockCache::Key(1, 5));
  EXPECT_EQ(capped.size(), 2u);
  EXPECT_TRUE(capped.Victims().empty());
  EXPECT_EQ(capped.Keys(), (std::vector<uint64_t>{BlockCache::Key(2, 5), BlockCache::Key(3, 5)}));
}

}  // namespace
}  // namespace aquasense::pipeline::internal
