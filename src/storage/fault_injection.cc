#include "storage/fault_injection.h"

#include <thread>
#include <vector>

namespace aquasense::storage {

Status FaultInjector::Before(bool* after) {
  const int64_t n = calls_.fetch_add(1) + 1;
  if (const int64_t us = delay_us_.load(); us > 0)
    std::this_thread::sleep_for(std::chrono::microseconds(us));
  *after = n == fail_after_.load();
  if (n != fail_before_.load()) return Status::Ok();
  injected_.fetch_add(1);
  return Unavailable("injected failure of call " + std::to_string(n));
}

Status FaultInjector::After(Status done, bool after) {
  if (!after || !done.ok()) return done;
  injected_.fetch_add(1);
  return Unavailable("injected failure after the call's work");
}

namespace {

// Runs `work` (returning Status or Result<T>) between Before and After.
template <typename F>
auto Faulty(FaultInjector& f, F&& work) -> decltype(work()) {
  bool after = false;
  if (Status s = f.Before(&after); !s.ok()) return s;
  auto r = work();
  if (!after) return r;
  if constexpr (std::is_same_v<decltype(r), Status>) {
    return f.After(std::move(r), true);
  } else {
    if (!r.ok()) return r;
    return f.After(Status::Ok(), true);
  }
}

class FaultyBatch final : public Batch {
 public:
  FaultyBatch(std::unique_ptr<Batch> base, FaultInjector& f) : base_(std::move(base)), f_(f) {}
  Status ExpectVersion(std::string_view s, int64_t v) override {
    return Faulty(f_, [&] { return base_->ExpectVersion(s, v); });
  }
  Status PutBlock(std::string_view s, int32_t m, std::string_view b) override {
    return Faulty(f_, [&] { return base_->PutBlock(s, m, b); });
  }
  Status PutMetrics(const core::MonthlyMetrics& m) override {
    return Faulty(f_, [&] { return base_->PutMetrics(m); });
  }
  Status ApplyFile(std::string_view s, const AppliedFile& a) override {
    return Faulty(f_, [&] { return base_->ApplyFile(s, a); });
  }
  Result<int64_t> RecordFile(const FileRecord& r) override {
    return Faulty(f_, [&] { return base_->RecordFile(r); });
  }
  Status AddAlert(const Alert& a, const std::vector<std::string>& c) override {
    return Faulty(f_, [&] { return base_->AddAlert(a, c); });
  }
  Status ResetDerived() override { return Faulty(f_, [&] { return base_->ResetDerived(); }); }
  void WritesDone() override { base_->WritesDone(); }
  Status Commit() override { return Faulty(f_, [&] { return base_->Commit(); }); }

 private:
  std::unique_ptr<Batch> base_;
  FaultInjector& f_;
};

class FaultyMetaStore final : public MetaStore {
 public:
  FaultyMetaStore(MetaStore& base, FaultInjector& f) : base_(base), f_(f) {}
  Result<std::unique_ptr<Batch>> BeginBatch() override {
    return Faulty(f_, [&]() -> Result<std::unique_ptr<Batch>> {
      auto b = base_.BeginBatch();
      if (!b.ok()) return b.status();
      return std::unique_ptr<Batch>(new FaultyBatch(std::move(*b), f_));
    });
  }
  Result<SensorHead> ReadSensor(std::string_view s) override {
    return Faulty(f_, [&] { return base_.ReadSensor(s); });
  }
  Result<std::optional<std::string>> ReadBlock(std::string_view s, int32_t m) override {
    return Faulty(f_, [&] { return base_.ReadBlock(s, m); });
  }
  Result<std::optional<core::MonthlyMetrics>> GetMetrics(std::string_view s, int32_t m) override {
    return Faulty(f_, [&] { return base_.GetMetrics(s, m); });
  }
  Result<std::vector<core::MonthlyMetrics>> ListMetrics(const MetricsQuery& q) override {
    return Faulty(f_, [&] { return base_.ListMetrics(q); });
  }
  Result<std::vector<std::string>> ListSensors() override {
    return Faulty(f_, [&] { return base_.ListSensors(); });
  }
  Result<std::optional<AppliedFile>> FindApplied(std::string_view s, std::string_view h,
                                                 std::string_view d) override {
    return Faulty(f_, [&] { return base_.FindApplied(s, h, d); });
  }
  Result<int64_t> Generation() override { return Faulty(f_, [&] { return base_.Generation(); }); }
  Result<MetricsDelta> MetricsSince(int64_t g) override {
    return Faulty(f_, [&] { return base_.MetricsSince(g); });
  }
  Result<std::optional<FileRecord>> FindFile(std::string_view h, std::string_view d) override {
    return Faulty(f_, [&] { return base_.FindFile(h, d); });
  }
  Result<bool> MayHaveFile(std::string_view d, uint64_t b) override {
    return Faulty(f_, [&] { return base_.MayHaveFile(d, b); });
  }
  Result<std::vector<FileRecord>> ListFiles() override {
    return Faulty(f_, [&] { return base_.ListFiles(); });
  }
  Result<std::vector<Delivery>> DueDeliveries(int64_t now, size_t limit) override {
    return Faulty(f_, [&] { return base_.DueDeliveries(now, limit); });
  }
  Result<Alert> GetAlert(int64_t id) override { return Faulty(f_, [&] { return base_.GetAlert(id); }); }
  Status ClaimDelivery(const Delivery& seen, const Delivery& next) override {
    return Faulty(f_, [&] { return base_.ClaimDelivery(seen, next); });
  }
  Status UpdateDelivery(const Delivery& d) override {
    return Faulty(f_, [&] { return base_.UpdateDelivery(d); });
  }
  Status UpdateDeliveries(std::span<const Delivery> ds) override {
    return Faulty(f_, [&] { return base_.UpdateDeliveries(ds); });
  }
  Result<std::vector<std::pair<Alert, std::vector<Delivery>>>> RecentAlerts(size_t n) override {
    return Faulty(f_, [&] { return base_.RecentAlerts(n); });
  }

 private:
  MetaStore& base_;
  FaultInjector& f_;
};

class FaultyWriter final : public ObjectWriter {
 public:
  FaultyWriter(std::unique_ptr<ObjectWriter> base, FaultInjector& f)
      : base_(std::move(base)), f_(f) {}
  Status Append(std::string_view b) override { return Faulty(f_, [&] { return base_->Append(b); }); }
  Status Commit() override { return Faulty(f_, [&] { return base_->Commit(); }); }
  Status CommitAs(std::string_view k) override {
    return Faulty(f_, [&] { return base_->CommitAs(k); });
  }
  Status SetKey(std::string_view k) override { return Faulty(f_, [&] { return base_->SetKey(k); }); }
  void AllowInPlace() override { base_->AllowInPlace(); }
  ObjectWriter* base() { return base_.get(); }

 private:
  std::unique_ptr<ObjectWriter> base_;
  FaultInjector& f_;
};

class FaultyReader final : public ObjectReader {
 public:
  FaultyReader(std::unique_ptr<ObjectReader> base, FaultInjector& f)
      : base_(std::move(base)), f_(f) {}
  Result<size_t> Read(char* buf, size_t n) override {
    return Faulty(f_, [&] { return base_->Read(buf, n); });
  }
  Result<size_t> ReadAt(uint64_t off, char* buf, size_t n) override {
    return Faulty(f_, [&] { return base_->ReadAt(off, buf, n); });
  }
  uint64_t size() const override { return base_->size(); }

 private:
  std::unique_ptr<ObjectReader> base_;
  FaultInjector& f_;
};

class FaultyObjectStore final : public ObjectStore {
 public:
  FaultyObjectStore(ObjectStore& base, FaultInjector& f) : base_(base), f_(f) {}
  Result<std::unique_ptr<ObjectWriter>> NewWriter(std::string_view key) override {
    return Faulty(f_, [&]() -> Result<std::unique_ptr<ObjectWriter>> {
      auto w = base_.NewWriter(key);
      if (!w.ok()) return w.status();
      return std::unique_ptr<ObjectWriter>(new FaultyWriter(std::move(*w), f_));
    });
  }
  Result<std::unique_ptr<ObjectReader>> Open(std::string_view key) override {
    return Faulty(f_, [&]() -> Result<std::unique_ptr<ObjectReader>> {
      auto r = base_.Open(key);
      if (!r.ok()) return r.status();
      return std::unique_ptr<ObjectReader>(new FaultyReader(std::move(*r), f_));
    });
  }
  Result<bool> Exists(std::string_view key) override {
    return Faulty(f_, [&] { return base_.Exists(key); });
  }
  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override {
    return Faulty(f_, [&] { return base_.List(prefix); });
  }
  Status Delete(std::string_view key) override { return Faulty(f_, [&] { return base_.Delete(key); }); }
  // One call for the group, as the base store commits it (the writers are
  // this wrapper's: their base writers go down).
  Status CommitAll(std::span<ObjectWriter* const> writers, bool first_is_intent) override {
    return Faulty(f_, [&] {
      std::vector<ObjectWriter*> inner;
      for (ObjectWriter* w : writers) inner.push_back(static_cast<FaultyWriter*>(w)->base());
      return base_.CommitAll(inner, first_is_intent);
    });
  }

 private:
  ObjectStore& base_;
  FaultInjector& f_;
};

}  // namespace

std::unique_ptr<MetaStore> WrapMetaStore(MetaStore& base, FaultInjector& faults) {
  return std::make_unique<FaultyMetaStore>(base, faults);
}

std::unique_ptr<ObjectStore> WrapObjectStore(ObjectStore& base, FaultInjector& faults) {
  return std::make_unique<FaultyObjectStore>(base, faults);
}

}  // namespace aquasense::storage
