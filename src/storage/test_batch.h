// CommitMetrics: one batch that writes metrics rows, for tests of MetaStore
// and of what reads it.
#pragma once

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "storage/meta_store.h"

namespace aquasense::testing {

// Commits one batch writing `rows` (after ResetDerived() when `reset`).
inline void CommitMetrics(storage::MetaStore& store, const std::vector<core::MonthlyMetrics>& rows,
                          bool reset = false) {
  auto b = store.BeginBatch();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  if (reset) {
    ASSERT_TRUE((*b)->ResetDerived().ok());
  }
  std::set<std::string> sensors;
  for (const auto& m : rows) sensors.insert(m.sensor);
  for (const auto& s : sensors) {  // fenced at each sensor's current version
    auto head = store.ReadSensor(s);
    ASSERT_TRUE(head.ok()) << head.status().ToString();
    ASSERT_TRUE((*b)->ExpectVersion(s, reset ? 0 : head->version).ok());
  }
  for (const auto& m : rows) ASSERT_TRUE((*b)->PutMetrics(m).ok());
  ASSERT_TRUE((*b)->Commit().ok());
}

}  // namespace aquasense::testing
