// UnusedMetaStore: a MetaStore whose every method answers kInternal
// "unused", for test fakes that implement only the part they need (the
// snapshot poller's metrics, the dispatcher's outbox):
//
//   class FakeOutbox final : public storage::UnusedMetaStore {
//     Result<Alert> GetAlert(int64_t id) override { ... }
//   };
//
// Header-only, for tests. Thread-safe (it keeps no state).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/meta_store.h"

namespace aquasense::storage {

class UnusedMetaStore : public MetaStore {
 public:
  Result<std::unique_ptr<Batch>> BeginBatch() override { return Unused(); }
  Result<SensorHead> ReadSensor(std::string_view) override { return Unused(); }
  Result<std::optional<std::string>> ReadBlock(std::string_view, int32_t) override {
    return Unused();
  }
  Result<std::optional<core::MonthlyMetrics>> GetMetrics(std::string_view, int32_t) override {
    return Unused();
  }
  Result<std::vector<core::MonthlyMetrics>> ListMetrics(const MetricsQuery&) override {
    return Unused();
  }
  Result<std::vector<std::string>> ListSensors() override { return Unused(); }
  Result<std::optional<AppliedFile>> FindApplied(std::string_view, std::string_view,
                                                 std::string_view) override {
    return Unused();
  }
  Result<int64_t> Generation() override { return Unused(); }
  Result<std::optional<FileRecord>> FindFile(std::string_view, std::string_view) override {
    return Unused();
  }
  Result<bool> MayHaveFile(std::string_view, uint64_t) override { return Unused(); }
  Result<std::vector<FileRecord>> ListFiles() override { return Unused(); }
  Result<std::vector<Delivery>> DueDeliveries(int64_t, size_t) override { return Unused(); }
  Result<Alert> GetAlert(int64_t) override { return Unused(); }
  Status ClaimDelivery(const Delivery&, const Delivery&) override { return Unused(); }
  Status UpdateDelivery(const Delivery&) override { return Unused(); }
  Result<std::vector<std::pair<Alert, std::vector<Delivery>>>> RecentAlerts(size_t) override {
    return Unused();
  }

 protected:
  static Status Unused() { return Internal("unused"); }
};

}  // namespace aquasense::storage
