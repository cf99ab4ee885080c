// MemoryObjectStore: an ObjectStore in process memory, like leveldb's memenv
// (tests, benchmarks, the reference for a new backend). Objects are
// immutable snapshots: a reader keeps reading the object it opened after it
// is replaced or deleted. Commit is atomic; nothing is durable beyond the
// object's life. Thread-safe.
#pragma once

#include <memory>

#include "common/clock.h"
#include "storage/object_store.h"

namespace aquasense::storage {

// `clock` (mtime_ms) must outlive the store; nullptr: the system clock.
std::unique_ptr<ObjectStore> NewMemoryObjectStore(const Clock* clock = nullptr);

}  // namespace aquasense::storage
