// CommitMetrics: one batch that writes metrics rows, for tests of MetaStore
// and of what reads it.
#pragma once

#include <gtest/gtest.h>

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
  for (const auto& m : rows) ASSERT_TRUE((*b)->PutMetrics(m).ok());
  ASSERT_TRUE((*b)->Commit().ok());
}

}  // namespace aquasense::testing
