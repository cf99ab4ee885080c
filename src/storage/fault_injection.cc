#include "storage/fault_injection.h"

#include <map>
#include <thread>
#include <vector>

#include "common/clock.h"

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
  if constexpr (std::is_same_v<decltype(r), Status>) {
    if (r.code() == Code::kAborted) f.CountAborted();
  } else {
    if (!r.ok() && r.status().code() == Code::kAborted) f.CountAborted();
  }
  if (!after) return r;
  if constexpr (std::is_same_v<decltype(r), Status>) {
    return f.After(std::move(r), true);
  } else {
    if (!r.ok()) return r;
    return f.After(Status::Ok(), true);
  }
}

// Runs `open` (returning Result<std::unique_ptr<Base>>) like Faulty, and wraps
// the object it opened in `Wrapper`, so that its calls fail on `f` too.
template <typename Wrapper, typename Base, typename F>
Result<std::unique_ptr<Base>> FaultyOpen(FaultInjector& f, F&& open) {
  return Faulty(f, [&]() -> Result<std::unique_ptr<Base>> {
    auto opened = open();
    if (!opened.ok()) return opened.status();
    return std::unique_ptr<Base>(new Wrapper(std::move(*opened), f));
  });
}

// What every faulty wrapper holds: the wrapped object (`Held`: an owning
// pointer or a reference) and the injector its calls go through.
template <typename Interface, typename Held>
class Wrapping : public Interface {
 public:
  Wrapping(Held base, FaultInjector& f) : base_(std::forward<Held>(base)), f_(f) {}

 protected:
  Held base_;
  FaultInjector& f_;
};

class FaultyBatch final : public Wrapping<Batch, std::unique_ptr<Batch>> {
 public:
  using Wrapping::Wrapping;
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
  Status ResetDerived() override {
    return Faulty(f_, [&] { return base_->ResetDerived(); });
  }
  void WritesDone() override { base_->WritesDone(); }
  bool ReadsOwnWrites() const override { return base_->ReadsOwnWrites(); }
  Result<std::optional<std::string>> ReadBlock(std::string_view s, int32_t m) override {
    return Faulty(f_, [&] { return base_->ReadBlock(s, m); });
  }
  Result<std::optional<core::MonthlyMetrics>> GetMetrics(std::string_view s, int32_t m) override {
    return Faulty(f_, [&] { return base_->GetMetrics(s, m); });
  }
  Result<std::vector<core::MonthlyMetrics>> ListMetrics(const MetricsQuery& q) override {
    return Faulty(f_, [&] { return base_->ListMetrics(q); });
  }
  Result<std::vector<std::string>> ListSensors() override {
    return Faulty(f_, [&] { return base_->ListSensors(); });
  }
  Status Commit() override {
    return Faulty(f_, [&] { return base_->Commit(); });
  }
};

class FaultyMetaStore final : public Wrapping<MetaStore, MetaStore&> {
 public:
  using Wrapping::Wrapping;
  Result<std::unique_ptr<Batch>> BeginBatch() override {
    return FaultyOpen<FaultyBatch, Batch>(f_, [&] { return base_.BeginBatch(); });
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
  Result<int64_t> Generation() override {
    return Faulty(f_, [&] { return base_.Generation(); });
  }
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
  Result<Alert> GetAlert(int64_t id) override {
    return Faulty(f_, [&] { return base_.GetAlert(id); });
  }
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
  bool MayApplyPartially() const override { return base_.MayApplyPartially(); }
};

class FaultyWriter final : public Wrapping<ObjectWriter, std::unique_ptr<ObjectWriter>> {
 public:
  using Wrapping::Wrapping;
  Status Append(std::string_view b) override {
    return Faulty(f_, [&] { return base_->Append(b); });
  }
  Status Commit() override {
    return Faulty(f_, [&] { return base_->Commit(); });
  }
  Status CommitAs(std::string_view k) override {
    return Faulty(f_, [&] { return base_->CommitAs(k); });
  }
  Status SetKey(std::string_view k) override {
    return Faulty(f_, [&] { return base_->SetKey(k); });
  }
  void AllowInPlace() override { base_->AllowInPlace(); }
  ObjectWriter* base() { return base_.get(); }
};

class FaultyReader final : public Wrapping<ObjectReader, std::unique_ptr<ObjectReader>> {
 public:
  using Wrapping::Wrapping;
  Result<size_t> Read(char* buf, size_t n) override {
    return Faulty(f_, [&] { return base_->Read(buf, n); });
  }
  Result<size_t> ReadAt(uint64_t off, char* buf, size_t n) override {
    return Faulty(f_, [&] { return base_->ReadAt(off, buf, n); });
  }
  uint64_t size() const override { return base_->size(); }
};

class FaultyObjectStore final : public Wrapping<ObjectStore, ObjectStore&> {
 public:
  using Wrapping::Wrapping;
  Result<std::unique_ptr<ObjectWriter>> NewWriter(std::string_view key) override {
    return FaultyOpen<FaultyWriter, ObjectWriter>(f_, [&] { return base_.NewWriter(key); });
  }
  Result<std::unique_ptr<ObjectReader>> Open(std::string_view key) override {
    return FaultyOpen<FaultyReader, ObjectReader>(f_, [&] { return base_.Open(key); });
  }
  Result<bool> Exists(std::string_view key) override {
    return Faulty(f_, [&] { return base_.Exists(key); });
  }
  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override {
    return Faulty(f_, [&] { return base_.List(prefix); });
  }
  Status Delete(std::string_view key) override {
    return Faulty(f_, [&] { return base_.Delete(key); });
  }
  // One call for the group, as the base store commits it (the writers are
  // this wrapper's: their base writers go down).
  Status CommitAll(std::span<ObjectWriter* const> writers, bool first_is_intent) override {
    return Faulty(f_, [&] {
      std::vector<ObjectWriter*> inner;
      for (ObjectWriter* w : writers) inner.push_back(static_cast<FaultyWriter*>(w)->base());
      return base_.CommitAll(inner, first_is_intent);
    });
  }
};

// ---- SplitCommitsPerSensor ----

// One sensor's part of a split batch: its fencing token and its writes, in
// the order they were made.
struct SensorPart {
  int64_t version = 0;
  std::vector<std::function<Status(Batch&)>> writes;
};

class SplitBatch final : public Batch {
 public:
  SplitBatch(MetaStore& base, const AfterSensorCommit& after) : base_(base), after_(after) {}
  Status ExpectVersion(std::string_view s, int64_t v) override {
    parts_[std::string(s)].version = v;
    return Status::Ok();
  }
  Status PutBlock(std::string_view s, int32_t m, std::string_view b) override {
    return Add(
        s, [m, s = std::string(s), b = std::string(b)](Batch& x) { return x.PutBlock(s, m, b); });
  }
  Status PutMetrics(const core::MonthlyMetrics& m) override {
    return Add(m.sensor, [m](Batch& x) { return x.PutMetrics(m); });
  }
  Status ApplyFile(std::string_view s, const AppliedFile& a) override {
    return Add(s, [s = std::string(s), a](Batch& x) { return x.ApplyFile(s, a); });
  }
  Result<int64_t> RecordFile(const FileRecord& r) override {
    tail_.push_back([r](Batch& x) { return x.RecordFile(r).status(); });
    return NewSortableId(SystemClock().NowMs());
  }
  Status AddAlert(const Alert& a, const std::vector<std::string>& c) override {
    alerts_.push_back([a, c](Batch& x) { return x.AddAlert(a, c); });
    return Status::Ok();
  }
  Status ResetDerived() override {
    reset_ = true;
    return Status::Ok();
  }
  Status Commit() override;

 private:
  Status Add(std::string_view sensor, std::function<Status(Batch&)> w) {
    auto it = parts_.find(std::string(sensor));
    if (it == parts_.end()) return InvalidArgument("sensor written without ExpectVersion");
    it->second.writes.push_back(std::move(w));
    return Status::Ok();
  }
  Status Run(bool sensors, bool tail, const std::string* only);

  MetaStore& base_;
  const AfterSensorCommit& after_;
  std::map<std::string, SensorPart> parts_;
  std::vector<std::function<Status(Batch&)>> alerts_, tail_;
  bool reset_ = false;
};

// One base batch: the sensors (all, or `only`), then alerts and ledger when
// `tail`.
Status SplitBatch::Run(bool sensors, bool tail, const std::string* only) {
  auto b = base_.BeginBatch();
  if (!b.ok()) return b.status();
  if (reset_) AQ_RETURN_IF_ERROR((*b)->ResetDerived());
  for (auto& [sensor, part] : parts_) {
    if (!sensors || (only != nullptr && sensor != *only)) continue;
    AQ_RETURN_IF_ERROR((*b)->ExpectVersion(sensor, part.version));
    for (auto& w : part.writes) AQ_RETURN_IF_ERROR(w(**b));
  }
  if (tail) {
    for (auto& w : alerts_) AQ_RETURN_IF_ERROR(w(**b));
    for (auto& w : tail_) AQ_RETURN_IF_ERROR(w(**b));
  }
  return (*b)->Commit();
}

Status SplitBatch::Commit() {
  if (reset_) return Run(true, true, nullptr);
  int index = 0;
  for (const auto& [sensor, part] : parts_) {
    AQ_RETURN_IF_ERROR(Run(true, false, &sensor));
    if (after_) AQ_RETURN_IF_ERROR(after_(sensor, index));
    ++index;
  }
  return Run(false, true, nullptr);
}

class SplitMetaStore final : public MetaStore {
 public:
  SplitMetaStore(MetaStore& base, AfterSensorCommit after)
      : base_(base), after_(std::move(after)) {}
  Result<std::unique_ptr<Batch>> BeginBatch() override {
    return std::unique_ptr<Batch>(new SplitBatch(base_, after_));
  }
  bool MayApplyPartially() const override { return true; }
  Result<SensorHead> ReadSensor(std::string_view s) override { return base_.ReadSensor(s); }
  Result<std::optional<std::string>> ReadBlock(std::string_view s, int32_t m) override {
    return base_.ReadBlock(s, m);
  }
  Result<std::optional<core::MonthlyMetrics>> GetMetrics(std::string_view s, int32_t m) override {
    return base_.GetMetrics(s, m);
  }
  Result<std::vector<core::MonthlyMetrics>> ListMetrics(const MetricsQuery& q) override {
    return base_.ListMetrics(q);
  }
  Result<std::vector<std::string>> ListSensors() override { return base_.ListSensors(); }
  Result<std::optional<AppliedFile>> FindApplied(std::string_view s, std::string_view h,
                                                 std::string_view d) override {
    return base_.FindApplied(s, h, d);
  }
  Result<int64_t> Generation() override { return base_.Generation(); }
  Result<MetricsDelta> MetricsSince(int64_t g) override { return base_.MetricsSince(g); }
  Result<std::optional<FileRecord>> FindFile(std::string_view h, std::string_view d) override {
    return base_.FindFile(h, d);
  }
  Result<bool> MayHaveFile(std::string_view d, uint64_t b) override {
    return base_.MayHaveFile(d, b);
  }
  Result<std::vector<FileRecord>> ListFiles() override { return base_.ListFiles(); }
  Result<std::vector<Delivery>> DueDeliveries(int64_t now, size_t limit) override {
    return base_.DueDeliveries(now, limit);
  }
  Result<Alert> GetAlert(int64_t id) override { return base_.GetAlert(id); }
  Status ClaimDelivery(const Delivery& seen, const Delivery& next) override {
    return base_.ClaimDelivery(seen, next);
  }
  Status UpdateDelivery(const Delivery& d) override { return base_.UpdateDelivery(d); }
  Status UpdateDeliveries(std::span<const Delivery> ds) override {
    return base_.UpdateDeliveries(ds);
  }
  Result<std::vector<std::pair<Alert, std::vector<Delivery>>>> RecentAlerts(size_t n) override {
    return base_.RecentAlerts(n);
  }

 private:
  MetaStore& base_;
  AfterSensorCommit after_;
};

}  // namespace

std::unique_ptr<MetaStore> WrapMetaStore(MetaStore& base, FaultInjector& faults) {
  return std::make_unique<FaultyMetaStore>(base, faults);
}

std::unique_ptr<ObjectStore> WrapObjectStore(ObjectStore& base, FaultInjector& faults) {
  return std::make_unique<FaultyObjectStore>(base, faults);
}

std::unique_ptr<MetaStore> SplitCommitsPerSensor(MetaStore& base, AfterSensorCommit after) {
  return std::make_unique<SplitMetaStore>(base, std::move(after));
}

}  // namespace aquasense::storage
