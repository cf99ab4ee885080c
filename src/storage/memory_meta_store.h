// MemoryMetaStore: a MetaStore held in process memory, like leveldb's memenv:
// for tests, benchmarks and as the reference a new backend is compared with.
// One mutex guards everything; a batch buffers its writes and applies them
// all at Commit (all or nothing, stronger than per-sensor atomicity), after
// checking every ExpectVersion. BeginBatch takes no lock, so batches of
// several threads run side by side and conflict only on a shared sensor
// (kAborted). Ids: NewSortableId. The change log is kept whole.
// Thread-safe; lost when the object is destroyed.
#pragma once

#include <memory>

#include "common/clock.h"
#include "storage/meta_store.h"

namespace aquasense::storage {

// `clock` (ids, nothing else) must outlive the store; nullptr: the system clock.
std::unique_ptr<MetaStore> NewMemoryMetaStore(const Clock* clock = nullptr);

}  // namespace aquasense::storage
