// Fault-injecting (and latency-adding) wrappers for both storage interfaces,
// for tests of what the pipeline does when the store fails, and for
// benchmarks that need a store with a network's latency.
//
//   FaultInjector faults;
//   auto meta = WrapMetaStore(*real_meta, faults);
//   auto objects = WrapObjectStore(*real_objects, faults);
//   faults.FailCall(7);         // the 7th call from now fails, doing nothing
//   faults.FailAfterWrite(9);   // the 9th call is done, then reports a failure
//   faults.SetDelay(std::chrono::milliseconds(20));   // every call waits first
//
// Every call through a wrapper counts: MetaStore, Batch, ObjectStore,
// ObjectWriter and ObjectReader methods alike (one shared count per
// injector). An injected failure is kUnavailable (transient, as a network
// store reports), its message starting "injected". Thread-safe; the wrapped
// stores must outlive the wrappers.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "storage/meta_store.h"
#include "storage/object_store.h"

namespace aquasense::storage {

class FaultInjector {
 public:
  // The n-th call from now (1 = the next) fails before doing anything.
  void FailCall(int64_t n) { fail_before_ = calls_.load() + n; }
  // The n-th call from now is done, then returns kUnavailable (for a write:
  // the write happened, the caller is told it did not).
  void FailAfterWrite(int64_t n) { fail_after_ = calls_.load() + n; }
  // Every call sleeps this long first (0: none).
  void SetDelay(std::chrono::microseconds d) { delay_us_ = d.count(); }
  // Calls made so far.
  int64_t calls() const { return calls_.load(); }
  // Failures injected so far.
  int64_t injected() const { return injected_.load(); }
  // Calls the wrapped store answered kAborted (lost conditional writes).
  int64_t aborted() const { return aborted_.load(); }
  void CountAborted() { aborted_.fetch_add(1); }

  // For the wrappers: counts a call, sleeps, and says whether it fails now
  // (before) or after its work (*after set).
  Status Before(bool* after);
  Status After(Status done, bool after);

 private:
  std::atomic<int64_t> calls_{0};
  std::atomic<int64_t> fail_before_{-1}, fail_after_{-1};
  std::atomic<int64_t> delay_us_{0};
  std::atomic<int64_t> injected_{0};
  std::atomic<int64_t> aborted_{0};
};

// `base` and `faults` must outlive the wrapper.
std::unique_ptr<MetaStore> WrapMetaStore(MetaStore& base, FaultInjector& faults);
std::unique_ptr<ObjectStore> WrapObjectStore(ObjectStore& base, FaultInjector& faults);

// Called after the `index`-th (0-based) sensor commit of a split batch (see
// SplitCommitsPerSensor); an error stops the commit there and is returned,
// as a crash or a lost connection between two sensors would leave it.
using AfterSensorCommit = std::function<Status(const std::string& sensor, int index)>;

// A MetaStore over `base` that commits a batch the way a per-sensor store
// (DynamoDB) does, at the weakest the contract allows: each sensor in a base
// batch of its own (its ExpectVersion and writes), one after the other in
// name order, then the alerts and ledger records in a last one. So a failed
// commit can leave some sensors applied and the ledger not written
// (MayApplyPartially() is true). A batch with ResetDerived commits whole.
// Reads go to `base`. `base` must outlive the wrapper.
std::unique_ptr<MetaStore> SplitCommitsPerSensor(MetaStore& base, AfterSensorCommit after = {});

}  // namespace aquasense::storage
