#include "storage/memory_meta_store.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <tuple>

namespace aquasense::storage {

namespace {

using SensorMonth = std::pair<std::string, int32_t>;
using AppliedKey = std::tuple<std::string, std::string, std::string>;  // sensor, hash, default
using AlertKey = std::tuple<std::string, std::string, std::string, std::string>;

constexpr const char* kAllSensors = "*";  // a change log entry: every sensor

// Everything the store holds; guarded by MemoryMetaStore::mu_.
struct Tables {
  std::map<SensorMonth, std::string> blocks;
  std::map<SensorMonth, core::MonthlyMetrics> metrics;
  std::map<std::string, int64_t> versions;
  std::map<AppliedKey, AppliedFile> applied;
  std::map<std::pair<std::string, std::string>, FileRecord> files;  // by (hash, default)
  std::map<int64_t, Alert> alerts;
  std::set<AlertKey> alert_keys;
  std::map<std::pair<int64_t, std::string>, Delivery> deliveries;
  int64_t generation = 0;
  std::map<int64_t, std::set<std::string>> changes;  // generation -> sensors
  int64_t changes_from = 0;  // the log holds every change after this generation
};

// The writes of one batch, applied by Apply under the store's mutex.
struct WriteSet {
  bool reset = false;
  std::map<std::string, int64_t, std::less<>> expected;
  std::map<SensorMonth, std::string> blocks;
  std::map<SensorMonth, core::MonthlyMetrics> metrics;
  std::map<AppliedKey, AppliedFile> applied;
  std::vector<std::pair<Alert, std::vector<std::string>>> alerts;
  std::vector<FileRecord> files;
  std::set<std::string> written;
};

class MemoryMetaStore;

class MemoryBatch final : public Batch {
 public:
  explicit MemoryBatch(MemoryMetaStore& store) : store_(store) {}
  Status ExpectVersion(std::string_view sensor, int64_t version) override {
    w_.expected.insert_or_assign(std::string(sensor), version);
    return Status::Ok();
  }
  Status PutBlock(std::string_view sensor, int32_t month, std::string_view bytes) override {
    w_.written.emplace(sensor);
    w_.blocks.insert_or_assign({std::string(sensor), month}, std::string(bytes));
    return Status::Ok();
  }
  Status PutMetrics(const core::MonthlyMetrics& m) override {
    w_.written.insert(m.sensor);
    w_.metrics.insert_or_assign({m.sensor, core::MonthIndex(m.year, m.month)}, m);
    return Status::Ok();
  }
  Status ApplyFile(std::string_view sensor, const AppliedFile& f) override {
    w_.written.emplace(sensor);
    w_.applied.insert_or_assign({std::string(sensor), f.hash, f.default_sensor}, f);
    return Status::Ok();
  }
  Result<int64_t> RecordFile(const FileRecord& f) override;
  Status AddAlert(const Alert& a, const std::vector<std::string>& channels) override {
    w_.alerts.emplace_back(a, channels);
    return Status::Ok();
  }
  Status ResetDerived() override {
    w_ = WriteSet{};  // nothing written before the reset counts
    w_.reset = true;
    return Status::Ok();
  }
  Status Commit() override;

  // The store's committed state (none after ResetDerived) under w_.
  bool ReadsOwnWrites() const override { return true; }
  Result<std::optional<std::string>> ReadBlock(std::string_view sensor, int32_t month) override;
  Result<std::optional<core::MonthlyMetrics>> GetMetrics(std::string_view sensor,
                                                         int32_t month) override;
  Result<std::vector<core::MonthlyMetrics>> ListMetrics(const MetricsQuery& q) override;
  Result<std::vector<std::string>> ListSensors() override;

 private:
  MemoryMetaStore& store_;
  WriteSet w_;
  bool done_ = false;
};

class MemoryMetaStore final : public MetaStore {
 public:
  explicit MemoryMetaStore(const Clock* clock) : clock_(clock ? clock : &system_) {}

  int64_t NewId() { return NewSortableId(clock_->NowMs()); }

  Result<std::unique_ptr<Batch>> BeginBatch() override {
    return std::unique_ptr<Batch>(new MemoryBatch(*this));
  }

  Status Apply(WriteSet& w);

  Result<SensorHead> ReadSensor(std::string_view sensor) override {
    std::lock_guard<std::mutex> lock(mu_);
    SensorHead head;
    const std::string s(sensor);
    if (auto it = t_.versions.find(s); it != t_.versions.end()) head.version = it->second;
    for (auto it = t_.blocks.lower_bound({s, INT32_MIN});
         it != t_.blocks.end() && it->first.first == s; ++it)
      head.months.push_back(it->first.second);
    return head;
  }
  Result<std::optional<std::string>> ReadBlock(std::string_view sensor, int32_t month) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = t_.blocks.find({std::string(sensor), month});
    if (it == t_.blocks.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  Result<std::optional<core::MonthlyMetrics>> GetMetrics(std::string_view sensor,
                                                         int32_t month) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = t_.metrics.find({std::string(sensor), month});
    if (it == t_.metrics.end()) return std::optional<core::MonthlyMetrics>();
    return std::optional<core::MonthlyMetrics>(it->second);
  }
  Result<std::vector<core::MonthlyMetrics>> ListMetrics(const MetricsQuery& q) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<core::MonthlyMetrics> out;
    auto it = q.sensor ? t_.metrics.lower_bound({*q.sensor, q.from_month}) : t_.metrics.begin();
    for (; it != t_.metrics.end(); ++it) {
      if (q.sensor && it->first.first != *q.sensor) break;
      if (it->first.second >= q.from_month && it->first.second <= q.to_month)
        out.push_back(it->second);
    }
    return out;
  }
  Result<std::vector<std::string>> ListSensors() override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const auto& [key, m] : t_.metrics)
      if (out.empty() || out.back() != key.first) out.push_back(key.first);
    return out;
  }
  Result<std::optional<AppliedFile>> FindApplied(std::string_view sensor, std::string_view hash,
                                                 std::string_view default_sensor) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it =
        t_.applied.find({std::string(sensor), std::string(hash), std::string(default_sensor)});
    if (it == t_.applied.end()) return std::optional<AppliedFile>();
    return std::optional<AppliedFile>(it->second);
  }
  Result<int64_t> Generation() override {
    std::lock_guard<std::mutex> lock(mu_);
    return t_.generation;
  }
  Result<MetricsDelta> MetricsSince(int64_t generation) override;

  Result<std::optional<FileRecord>> FindFile(std::string_view hash,
                                             std::string_view default_sensor) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = t_.files.find({std::string(hash), std::string(default_sensor)});
    if (it == t_.files.end()) return std::optional<FileRecord>();
    return std::optional<FileRecord>(it->second);
  }
  Result<bool> MayHaveFile(std::string_view default_sensor, uint64_t bytes) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, f] : t_.files)
      if (f.default_sensor == default_sensor &&
          (f.bytes < 0 || f.bytes == static_cast<int64_t>(bytes)))
        return true;
    return false;
  }
  Result<std::vector<FileRecord>> ListFiles() override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<FileRecord> out;
    for (const auto& [key, f] : t_.files) out.push_back(f);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
    return out;
  }

  Result<std::vector<Delivery>> DueDeliveries(int64_t now_ms, size_t limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Delivery> out;
    for (const auto& [key, d] : t_.deliveries)
      if (d.state == DeliveryState::kPending && d.next_attempt_ms <= now_ms) out.push_back(d);
    std::sort(out.begin(), out.end(), [](const Delivery& a, const Delivery& b) {
      return std::tie(a.next_attempt_ms, a.alert_id, a.channel) <
             std::tie(b.next_attempt_ms, b.alert_id, b.channel);
    });
    if (out.size() > limit) out.resize(limit);
    return out;
  }
  Result<Alert> GetAlert(int64_t id) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = t_.alerts.find(id);
    if (it == t_.alerts.end()) return NotFound("no alert " + std::to_string(id));
    return it->second;
  }
  Status ClaimDelivery(const Delivery& seen, const Delivery& next) override {
    if (seen.alert_id != next.alert_id || seen.channel != next.channel)
      return InvalidArgument("ClaimDelivery: seen and next name different deliveries");
    std::lock_guard<std::mutex> lock(mu_);
    auto it = t_.deliveries.find({seen.alert_id, seen.channel});
    if (it == t_.deliveries.end()) return Aborted("no such delivery");
    const Delivery& d = it->second;
    if (std::tie(d.state, d.attempts, d.next_attempt_ms, d.updated_ms) !=
        std::tie(seen.state, seen.attempts, seen.next_attempt_ms, seen.updated_ms))
      return Aborted("delivery of alert " + std::to_string(seen.alert_id) + " to " + seen.channel +
                     " changed since it was read");
    it->second = next;
    return Status::Ok();
  }
  Status UpdateDelivery(const Delivery& d) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = t_.deliveries.find({d.alert_id, d.channel});
    if (it != t_.deliveries.end()) it->second = d;
    return Status::Ok();
  }
  Result<std::vector<std::pair<Alert, std::vector<Delivery>>>> RecentAlerts(size_t limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::pair<Alert, std::vector<Delivery>>> out;
    for (auto it = t_.alerts.rbegin(); it != t_.alerts.rend() && out.size() < limit; ++it) {
      out.push_back({it->second, {}});
      for (auto d = t_.deliveries.lower_bound({it->first, ""});
           d != t_.deliveries.end() && d->first.first == it->first; ++d)
        out.back().second.push_back(d->second);
    }
    return out;
  }

 private:
  Status CheckVersions(const WriteSet& w) const;
  void ApplySensors(WriteSet& w, int64_t gen);
  void ApplyOutboxAndLedger(WriteSet& w);

  SystemClock system_;
  const Clock* clock_;
  std::mutex mu_;
  Tables t_;
};

Result<int64_t> MemoryBatch::RecordFile(const FileRecord& f) {
  FileRecord r = f;
  r.seq = store_.NewId();
  w_.files.push_back(r);
  return r.seq;
}

Result<std::optional<std::string>> MemoryBatch::ReadBlock(std::string_view sensor, int32_t month) {
  if (auto it = w_.blocks.find({std::string(sensor), month}); it != w_.blocks.end())
    return std::optional<std::string>(it->second);
  if (w_.reset) return std::optional<std::string>();
  return store_.ReadBlock(sensor, month);
}

Result<std::optional<core::MonthlyMetrics>> MemoryBatch::GetMetrics(std::string_view sensor,
                                                                    int32_t month) {
  if (auto it = w_.metrics.find({std::string(sensor), month}); it != w_.metrics.end())
    return std::optional<core::MonthlyMetrics>(it->second);
  if (w_.reset) return std::optional<core::MonthlyMetrics>();
  return store_.GetMetrics(sensor, month);
}

Result<std::vector<core::MonthlyMetrics>> MemoryBatch::ListMetrics(const MetricsQuery& q) {
  std::map<SensorMonth, core::MonthlyMetrics> rows;
  if (!w_.reset) {
    auto committed = store_.ListMetrics(q);
    if (!committed.ok()) return committed.status();
    for (auto& m : *committed)
      rows.insert_or_assign({m.sensor, core::MonthIndex(m.year, m.month)}, std::move(m));
  }
  for (const auto& [key, m] : w_.metrics)
    if ((!q.sensor || key.first == *q.sensor) && key.second >= q.from_month &&
        key.second <= q.to_month)
      rows.insert_or_assign(key, m);
  std::vector<core::MonthlyMetrics> out;
  out.reserve(rows.size());
  for (auto& [key, m] : rows) out.push_back(std::move(m));
  return out;
}

Result<std::vector<std::string>> MemoryBatch::ListSensors() {
  std::vector<std::string> out;
  if (!w_.reset) {
    auto committed = store_.ListSensors();
    if (!committed.ok()) return committed.status();
    out = std::move(*committed);
  }
  for (const auto& [key, m] : w_.metrics)
    if (out.empty() || out.back() != key.first) out.push_back(key.first);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Status MemoryBatch::Commit() {
  if (done_) return InvalidArgument("batch already committed");
  AQ_RETURN_IF_ERROR(store_.Apply(w_));
  done_ = true;
  return Status::Ok();
}

Status MemoryMetaStore::CheckVersions(const WriteSet& w) const {
  for (const std::string& s : w.written)
    if (w.expected.find(s) == w.expected.end())
      return InvalidArgument("sensor " + s + " written without ExpectVersion");
  for (const auto& [sensor, version] : w.expected) {
    int64_t now = 0;
    if (!w.reset)
      if (auto it = t_.versions.find(sensor); it != t_.versions.end()) now = it->second;
    if (now != version)
      return Aborted("sensor " + sensor + " moved to version " + std::to_string(now) +
                     " (expected " + std::to_string(version) + ")");
  }
  return Status::Ok();
}

Status MemoryMetaStore::Apply(WriteSet& w) {
  std::lock_guard<std::mutex> lock(mu_);
  AQ_RETURN_IF_ERROR(CheckVersions(w));
  const int64_t gen = t_.generation + 1;
  if (w.reset) {
    t_.blocks.clear();
    t_.metrics.clear();
    t_.versions.clear();
    t_.applied.clear();
    t_.files.clear();
    t_.changes.clear();
    t_.changes[gen].insert(kAllSensors);
    t_.changes_from = gen - 1;
  }
  ApplySensors(w, gen);
  ApplyOutboxAndLedger(w);
  t_.generation = gen;
  return Status::Ok();
}

void MemoryMetaStore::ApplySensors(WriteSet& w, int64_t gen) {
  for (auto& [key, bytes] : w.blocks) t_.blocks[key] = std::move(bytes);
  for (auto& [key, m] : w.metrics) {
    t_.changes[gen].insert(key.first);
    t_.metrics[key] = std::move(m);
  }
  for (auto& [key, f] : w.applied) t_.applied[key] = std::move(f);
  for (const std::string& s : w.written) t_.versions[s] = gen;
}

void MemoryMetaStore::ApplyOutboxAndLedger(WriteSet& w) {
  for (auto& [a, channels] : w.alerts) {
    if (!t_.alert_keys.insert({a.file_hash, a.default_sensor, a.kind, a.sensor}).second) continue;
    Alert stored = a;
    stored.id = NewId();
    for (const std::string& c : channels) {
      Delivery d;
      d.alert_id = stored.id;
      d.channel = c;
      d.next_attempt_ms = d.updated_ms = a.created_ms;
      t_.deliveries[{stored.id, c}] = d;
    }
    t_.alerts[stored.id] = std::move(stored);
  }
  for (FileRecord& f : w.files) t_.files.try_emplace({f.hash, f.default_sensor}, std::move(f));
}

Result<MetricsDelta> MemoryMetaStore::MetricsSince(int64_t generation) {
  std::lock_guard<std::mutex> lock(mu_);
  MetricsDelta delta;
  delta.generation = t_.generation;
  if (generation == t_.generation) return delta;
  std::set<std::string> sensors;
  delta.full = generation < 0 || generation > t_.generation || generation < t_.changes_from;
  for (auto it = t_.changes.upper_bound(generation); !delta.full && it != t_.changes.end(); ++it) {
    delta.full = it->second.count(kAllSensors) > 0;
    sensors.insert(it->second.begin(), it->second.end());
  }
  for (const auto& [key, m] : t_.metrics)
    if (delta.full || sensors.count(key.first) > 0) delta.rows.push_back(m);
  if (!delta.full) delta.sensors.assign(sensors.begin(), sensors.end());
  return delta;
}

}  // namespace

std::unique_ptr<MetaStore> NewMemoryMetaStore(const Clock* clock) {
  return std::make_unique<MemoryMetaStore>(clock);
}

}  // namespace aquasense::storage
