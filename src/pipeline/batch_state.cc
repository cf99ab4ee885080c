#include "pipeline/batch_state.h"

#include <algorithm>

#include "core/metric_values.h"

namespace aquasense::pipeline::internal {

void SensorState::SlotFor(int32_t month) {
  if (flags_.empty()) {
    base_ = month;
    flags_.assign(1, 0);
    return;
  }
  if (month < base_) {
    flags_.insert(flags_.begin(), static_cast<size_t>(base_ - month), 0);
    base_ = month;
  } else if (Slot(month) >= flags_.size()) {
    flags_.resize(Slot(month) + 1, 0);
  }
}

void SensorState::Set(int32_t month, uint8_t flag, bool on) {
  SlotFor(month);
  if (on) {
    flags_[Slot(month)] |= flag;
  } else {
    flags_[Slot(month)] &= static_cast<uint8_t>(~flag);
  }
}

int64_t SensorState::DifferingMonths() const {
  return std::count_if(flags_.begin(), flags_.end(), [](uint8_t f) { return f & kDiffers; });
}

bool SensorState::HadAnyBefore() const {
  return std::any_of(flags_.begin(), flags_.end(), [](uint8_t f) { return f & kBefore; });
}

int32_t SensorState::FirstDifferingMonth() const {
  auto it = std::find_if(flags_.begin(), flags_.end(), [](uint8_t f) { return f & kDiffers; });
  return it == flags_.end() ? INT32_MAX : base_ + static_cast<int32_t>(it - flags_.begin());
}

Result<uint32_t> BatchState::SensorId(const std::string& name) {
  auto it = ids_.find(name);
  if (it != ids_.end()) return it->second;
  storage::SensorHead head;
  if (!fresh_) {
    auto read = meta_.ReadSensor(name);
    if (!read.ok()) return read.status();
    head = std::move(*read);
  }
  // The commit of this sensor checks that nothing changed it since this read.
  AQ_RETURN_IF_ERROR(batch_.ExpectVersion(name, head.version));
  const std::vector<int32_t>& months = head.months;
  auto s = std::make_unique<SensorState>(name);
  if (!months.empty()) {
    s->MarkBefore(months.front());  // sorted: two calls size the range once
    s->MarkBefore(months.back());
  }
  for (int32_t m : months) s->MarkBefore(m);
  const auto id = static_cast<uint32_t>(sensors_.size());
  sensors_.push_back(std::move(s));
  pending_.emplace_back();
  written_.emplace_back();
  ids_.emplace(name, id);
  return id;
}

Result<BlockCache::Entry*> BatchState::Block(uint32_t id, int32_t month) {
  bool added = false;
  BlockCache::Entry& e = cache_.Get(id, month, added);
  const SensorState& s = sensor(id);
  if (added && s.Has(month)) {
    auto bytes = StoredBlock(id, month);
    if (!bytes.ok()) {
      cache_.Erase(BlockCache::Key(id, month));
      return bytes.status();
    }
    if (*bytes && !core::DecodeBlock(**bytes, month, e.readings)) {
      cache_.Erase(BlockCache::Key(id, month));
      return Internal("stored block of sensor " + s.name() + " month " + std::to_string(month) +
                      " is corrupt");
    }
  }
  return &e;
}

Result<std::optional<std::string>> BatchState::StoredBlock(uint32_t id, int32_t month) {
  using Bytes = std::optional<std::string>;
  if (const Pending* p = FindPending(id, month); p != nullptr && p->has_block)
    return Bytes(std::string(BlockOf(id, *p)));
  const std::string& name = sensor(id).name();
  if (own_reads_) return batch_.ReadBlock(name, month);
  if (const Pending* w = FindWritten(id, month); w != nullptr && w->has_block)
    return Bytes(std::string(WrittenBlockOf(id, *w)));
  return meta_.ReadBlock(name, month);
}

Status BatchState::EndChunk() {
  cache_.Tick();
  auto victims = cache_.Victims();
  if (!victims.empty()) AQ_RETURN_IF_ERROR(Flush(std::move(victims)));
  if (pending_bytes_ > write_behind_bytes_) return WritePending(write_behind_bytes_ / 8 * 7);
  return Status::Ok();
}

namespace {
constexpr size_t kPendingOverhead = 112;  // map node with its Pending
}  // namespace

BatchState::Pending& BatchState::PendingFor(uint32_t id, int32_t month) {
  SensorPending& sp = pending_[id];
  auto [it, added] = sp.months.try_emplace(month);
  if (added) {
    sp.bytes += kPendingOverhead;
    pending_bytes_ += kPendingOverhead;
  }
  return it->second;
}

const BatchState::Pending* BatchState::FindWritten(uint32_t id, int32_t month) const {
  const auto& months = written_[id].months;
  auto it = months.find(month);
  return it == months.end() ? nullptr : &it->second;
}

const BatchState::Pending* BatchState::FindPending(uint32_t id, int32_t month) const {
  const auto& months = pending_[id].months;
  auto it = months.find(month);
  return it == months.end() ? nullptr : &it->second;
}

Status BatchState::WritePending(size_t target) {
  if (pending_bytes_ <= target) return Status::Ok();
  RankSensors();
  // Around the round from the cursor; each sensor at most once.
  for (size_t step = 0; step < by_name_.size() && pending_bytes_ > target; ++step) {
    if (next_rank_ >= by_name_.size()) next_rank_ = 0;
    AQ_RETURN_IF_ERROR(WriteSensor(by_name_[next_rank_++]));
  }
  return Status::Ok();
}

Status BatchState::WriteSensor(uint32_t id) {
  SensorPending& sp = pending_[id];
  if (sp.months.empty()) return Status::Ok();
  const std::string& name = sensor(id).name();
  for (const auto& [month, p] : sp.months)
    if (p.has_block) AQ_RETURN_IF_ERROR(batch_.PutBlock(name, month, BlockOf(id, p)));
  for (const auto& [month, p] : sp.months)
    if (p.has_row) AQ_RETURN_IF_ERROR(batch_.PutMetrics(RowOf(id, month, p)));
  pending_bytes_ -= sp.bytes;
  if (!own_reads_) Keep(id);
  sp.bytes = 0;
  sp.months.clear();
  sp.arena.clear();
  return Status::Ok();
}

void BatchState::Keep(uint32_t id) {
  // Kept for this batch's reads: the store shows only committed state.
  const SensorPending& sp = pending_[id];
  SensorPending& kept = written_[id];
  for (const auto& [month, p] : sp.months) {
    Pending& k = kept.months[month];
    if (p.has_block) {
      k.has_block = true;
      k.block_offset = kept.arena.size();
      k.block_size = p.block_size;
      kept.arena.append(BlockOf(id, p));
      kept_bytes_ += p.block_size;
    }
    if (p.has_row) {
      const size_t offset = k.block_offset, size = k.block_size;
      const bool has_block = k.has_block;
      k = p;
      k.block_offset = offset;
      k.block_size = size;
      k.has_block = has_block;
    }
  }
}

Result<std::optional<core::MonthlyMetrics>> BatchState::CurrentRow(uint32_t id, int32_t month) {
  if (const Pending* p = FindPending(id, month); p != nullptr && p->has_row)
    return std::optional<core::MonthlyMetrics>(RowOf(id, month, *p));
  if (own_reads_) {
    // A row the batch never wrote is the committed one.
    if (!sensor(id).RowWritten(month)) return CommittedRow(id, month);
    return batch_.GetMetrics(sensor(id).name(), month);
  }
  if (const Pending* w = FindWritten(id, month); w != nullptr && w->has_row)
    return std::optional<core::MonthlyMetrics>(RowOf(id, month, *w));
  return CommittedRow(id, month);
}

Result<std::optional<core::MonthlyMetrics>> BatchState::CommittedRow(uint32_t id, int32_t month) {
  if (fresh_ || !sensor(id).HadBefore(month)) return std::optional<core::MonthlyMetrics>();
  return meta_.GetMetrics(sensor(id).name(), month);
}

Result<std::vector<core::MonthlyMetrics>> BatchState::ListMetrics(const storage::MetricsQuery& q) {
  if (!q.sensor) return Internal("BatchState::ListMetrics needs a sensor");
  const auto it = ids_.find(*q.sensor);
  const bool overlay = it != ids_.end() && (!written_[it->second].months.empty() ||
                                            !pending_[it->second].months.empty());
  Result<std::vector<core::MonthlyMetrics>> committed{std::vector<core::MonthlyMetrics>()};
  if (own_reads_ || !fresh_) committed = own_reads_ ? batch_.ListMetrics(q) : meta_.ListMetrics(q);
  if (!committed.ok()) return committed.status();
  // Nothing of the sensor's held back (after FinalizeMetrics on a batch that
  // reads its own writes, always): the store's rows, sorted by month, are
  // the answer (the render of a thousand sensors' files spent a third of
  // its time moving them through the map below).
  if (!overlay) return committed;
  std::map<int32_t, core::MonthlyMetrics> rows;
  for (auto& m : *committed) rows.emplace(core::MonthIndex(m.year, m.month), std::move(m));
  const uint32_t id = it->second;
  for (const auto* part : {&written_[id].months, &pending_[id].months})
    for (const auto& [month, p] : *part)
      if (p.has_row && month >= q.from_month && month <= q.to_month)
        rows.insert_or_assign(month, RowOf(id, month, p));
  std::vector<core::MonthlyMetrics> out;
  out.reserve(rows.size());
  for (auto& [month, m] : rows) out.push_back(std::move(m));
  return out;
}

Result<std::vector<std::string>> BatchState::ListSensors() {
  std::vector<std::string> out;
  if (own_reads_ || !fresh_) {
    auto committed = own_reads_ ? batch_.ListSensors() : meta_.ListSensors();
    if (!committed.ok()) return committed.status();
    out = std::move(*committed);
  }
  for (uint32_t id = 0; id < sensors_.size(); ++id) {
    bool rows = false;
    for (const auto* part : {&written_[id].months, &pending_[id].months})
      for (const auto& [month, p] : *part) rows = rows || p.has_row;
    if (rows) out.push_back(sensors_[id]->name());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

core::MonthlyMetrics BatchState::RowOf(uint32_t id, int32_t month, const Pending& p) {
  core::MonthlyMetrics m;
  m.sensor = sensor(id).name();
  m.year = core::YearOf(month);
  m.month = core::MonthOf(month);
  m.mean_temp = p.mean_temp;
  m.max_temp = p.max_temp;
  m.max_sd = p.max_sd;
  if (p.has_diff) m.max_temp_diff = p.max_temp_diff;
  m.readings = p.readings;
  return m;
}

void BatchState::RankSensors() {
  if (name_rank_.size() == sensors_.size()) return;
  by_name_.resize(sensors_.size());
  for (uint32_t i = 0; i < by_name_.size(); ++i) by_name_[i] = i;
  std::sort(by_name_.begin(), by_name_.end(),
            [&](uint32_t a, uint32_t b) { return sensors_[a]->name() < sensors_[b]->name(); });
  name_rank_.resize(by_name_.size());
  for (uint32_t r = 0; r < by_name_.size(); ++r) name_rank_[by_name_[r]] = r;
}

bool BatchState::ByName(uint64_t a, uint64_t b) const {
  const uint32_t sa = BlockCache::SensorOf(a), sb = BlockCache::SensorOf(b);
  if (sa != sb) return name_rank_[sa] < name_rank_[sb];
  return BlockCache::MonthOf(a) < BlockCache::MonthOf(b);
}

Status BatchState::Flush(std::vector<uint64_t> keys) {
  // By sensor name, then month: the previous month of a sensor is usually the
  // row just written.
  RankSensors();
  std::sort(keys.begin(), keys.end(), [&](uint64_t a, uint64_t b) { return ByName(a, b); });
  // Entries stay cached until all are stored, so a dirty neighbour month is
  // seen as pending (its own flush writes its diff).
  Status status;
  for (uint64_t key : keys) {
    BlockCache::Entry* e = cache_.Find(key);
    if (!e->dirty) continue;
    status = StoreBlock(BlockCache::SensorOf(key), BlockCache::MonthOf(key), *e);
    if (!status.ok()) break;
    e->dirty = false;
  }
  for (uint64_t key : keys) cache_.Erase(key);
  return status;
}

Status BatchState::StoreBlock(uint32_t id, int32_t month, BlockCache::Entry& e) {
  if (e.readings.empty()) return Status::Ok();  // a merge only adds readings
  SensorState& s = sensor(id);
  Pending& p = PendingFor(id, month);
  std::string& arena = pending_[id].arena;
  p.has_block = true;
  p.block_offset = arena.size();
  encoder_.Append(e.readings, month, arena);
  p.block_size = arena.size() - p.block_offset;
  pending_[id].bytes += p.block_size;
  pending_bytes_ += p.block_size;
  s.MarkStored(month);
  const core::MonthAgg agg = core::Aggregate(e.readings);
  core::MonthlyMetrics m;
  m.sensor = s.name();
  m.year = core::YearOf(month);
  m.month = core::MonthOf(month);
  m.mean_temp = agg.mean_temp;
  m.max_temp = agg.max_temp;
  m.max_sd = agg.max_sd;
  m.readings = agg.readings;
  auto prev = MaxTempOf(id, month - 1);
  if (!prev.ok()) return prev.status();
  if (*prev) m.max_temp_diff = m.max_temp - **prev;
  AQ_RETURN_IF_ERROR(PutRow(id, month, m));
  return FixNextDiff(id, month, m.max_temp);
}

Result<std::optional<double>> BatchState::MaxTempOf(uint32_t id, int32_t month) {
  if (const BlockCache::Entry* e = cache_.Find(id, month); e && !e->readings.empty()) {
    double max = e->readings.front().temperature;
    for (const core::Reading& r : e->readings) max = std::max(max, r.temperature);
    return std::optional<double>(max);
  }
  SensorState& s = sensor(id);
  if (auto memo = s.Recall(month)) return memo;
  if (!s.Has(month)) return std::optional<double>();
  auto m = CurrentRow(id, month);
  if (!m.ok()) return m.status();
  if (!*m) return std::optional<double>();
  s.Remember(month, (*m)->max_temp);
  return std::optional<double>((*m)->max_temp);
}

Status BatchState::FixNextDiff(uint32_t id, int32_t month, double max_temp) {
  const int32_t next = month + 1;
  if (const BlockCache::Entry* e = cache_.Find(id, next); e && e->dirty) return Status::Ok();
  SensorState& s = sensor(id);
  if (!s.Has(next)) return Status::Ok();
  auto cur = CurrentRow(id, next);
  if (!cur.ok()) return cur.status();
  if (!*cur) return Status::Ok();
  // Not written by this batch yet: the row read is the one before the batch.
  if (s.HadBefore(next) && !s.RowWritten(next))
    originals_.emplace(BlockCache::Key(id, next), **cur);
  core::MonthlyMetrics nm = **cur;
  nm.max_temp_diff = nm.max_temp - max_temp;
  if (nm == **cur) return Status::Ok();
  return PutRow(id, next, nm);
}

Status BatchState::PutRow(uint32_t id, int32_t month, const core::MonthlyMetrics& m) {
  SensorState& s = sensor(id);
  bool differs = true;
  if (s.HadBefore(month)) {
    const uint64_t key = BlockCache::Key(id, month);
    auto it = originals_.find(key);
    if (it == originals_.end()) {  // first write of this month: the stored row is the original
      auto o = CommittedRow(id, month);
      if (!o.ok()) return o.status();
      it = originals_.emplace(key, std::move(*o)).first;
    }
    differs = !it->second || !(*it->second == m);
  }
  s.Remember(month, m.max_temp);
  if (!differs && !s.RowWritten(month)) return Status::Ok();  // the stored row already is m
  Pending& p = PendingFor(id, month);
  p.has_row = true;
  core::CopyMetricValues(m, p);
  s.MarkRowWritten(month, differs);
  return Status::Ok();
}

Result<int64_t> BatchState::FinalizeMetrics(std::vector<ChangedSensor>& changed_sensors) {
  AQ_RETURN_IF_ERROR(Flush(cache_.Keys()));
  AQ_RETURN_IF_ERROR(WritePending());
  std::vector<const SensorState*> order;
  for (const auto& s : sensors_) order.push_back(s.get());
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->name() < b->name(); });
  int64_t changed = 0;
  for (const SensorState* s : order) {
    const int64_t n = s->DifferingMonths();
    if (n == 0) continue;
    changed += n;
    changed_sensors.push_back(
        {s->name(), s->HadAnyBefore() ? s->FirstDifferingMonth() : INT32_MIN});
  }
  return changed;
}

}  // namespace aquasense::pipeline::internal
