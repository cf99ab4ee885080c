// SlowMemoryStores: memory stores behind a FaultInjector that delays every
// call, for tests that make concurrent writers meet (two workers, several
// ingesters of one sensor):
//
//   storage::SlowMemoryStores stores(&clock, std::chrono::milliseconds(2));
//   Pipeline p(Env{&stores.objects(), &stores.meta(), &clock}, Options{});
//   ... stores.raw_meta().ListMetrics({}) ... stores.latency().aborted() ...
//
// Header-only, for tests. Thread-safe as the stores it wraps.
#pragma once

#include <chrono>
#include <memory>

#include "common/clock.h"
#include "storage/fault_injection.h"
#include "storage/memory_meta_store.h"
#include "storage/memory_object_store.h"

namespace aquasense::storage {

class SlowMemoryStores {
 public:
  SlowMemoryStores(const Clock* clock, std::chrono::microseconds delay)
      : raw_meta_(NewMemoryMetaStore(clock)), raw_objects_(NewMemoryObjectStore(clock)) {
    latency_.SetDelay(delay);
    meta_ = WrapMetaStore(*raw_meta_, latency_);
    objects_ = WrapObjectStore(*raw_objects_, latency_);
  }

  MetaStore& meta() { return *meta_; }          // every call delayed
  ObjectStore& objects() { return *objects_; }  // every call delayed
  MetaStore& raw_meta() { return *raw_meta_; }  // the same store, no delay
  ObjectStore& raw_objects() { return *raw_objects_; }
  FaultInjector& latency() { return latency_; }

 private:
  std::unique_ptr<MetaStore> raw_meta_;
  std::unique_ptr<ObjectStore> raw_objects_;
  FaultInjector latency_;
  std::unique_ptr<MetaStore> meta_;
  std::unique_ptr<ObjectStore> objects_;
};

}  // namespace aquasense::storage
