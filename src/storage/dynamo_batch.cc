// The Batch of DynamoMetaStore: a write set kept in memory until Commit,
// which writes (dynamo_meta_store.h): the reset, if asked; each sensor in
// one fenced TransactWriteItems (chunks beyond one); alerts; the ledger.
#include <algorithm>
#include <map>
#include <set>

#include "storage/dynamo_items.h"

namespace aquasense::storage::dynamo {
namespace {

using aws::N;
using aws::S;

// Actions of one transaction: AWS's 100, less the head and the index, the
// change item and a ConditionCheck.
constexpr size_t kChunkActions = 96;
constexpr size_t kChunkBytes = 3'500'000;  // under AWS's 4 MB with the keys

struct SensorWrites {
  bool expected = false;
  int64_t version = 0;  // the version the writer read
  std::map<int32_t, std::string> blocks;
  std::map<int32_t, core::MonthlyMetrics> metrics;
  std::map<std::string, AppliedFile> applied;  // by key: one action per item
};

Json PutAction(const std::string& table, Json item) {
  return {{"Put", {{"TableName", table}, {"Item", std::move(item)}}}};
}

// The condition that the sensor's head still has the version read.
void Guard(Json& action_body, int64_t version) {
  if (version == 0) {
    action_body["ConditionExpression"] = "attribute_not_exists(pk)";
  } else {
    action_body["ConditionExpression"] = "#v = :v";
    action_body["ExpressionAttributeNames"] = {{"#v", "ver"}};
    action_body["ExpressionAttributeValues"] = {{":v", N(version)}};
  }
}

class DynamoBatch final : public Batch {
 public:
  explicit DynamoBatch(std::shared_ptr<const Ctx> c) : c_(std::move(c)) {}

  Status ExpectVersion(std::string_view sensor, int64_t version) override {
    AQ_RETURN_IF_ERROR(Usable());
    SensorWrites& w = sensors_[std::string(sensor)];
    if (w.expected && w.version != version)
      return Fail("ExpectVersion(" + std::string(sensor) + ") twice with different versions");
    w.expected = true;
    w.version = version;
    return Status::Ok();
  }

  Status PutBlock(std::string_view sensor, int32_t month, std::string_view bytes) override {
    AQ_RETURN_IF_ERROR(Writable(sensor, month));
    sensors_[std::string(sensor)].blocks[month] = std::string(bytes);
    return Status::Ok();
  }

  Status PutMetrics(const core::MonthlyMetrics& m) override {
    AQ_RETURN_IF_ERROR(Writable(m.sensor, core::MonthIndex(m.year, m.month)));
    sensors_[m.sensor].metrics[core::MonthIndex(m.year, m.month)] = m;
    return Status::Ok();
  }

  Status ApplyFile(std::string_view sensor, const AppliedFile& f) override {
    AQ_RETURN_IF_ERROR(Writable(sensor, kMinMonth));
    sensors_[std::string(sensor)].applied[AppliedSk(f.hash, f.default_sensor)] = f;
    return Status::Ok();
  }

  Result<int64_t> RecordFile(const FileRecord& f) override {
    AQ_RETURN_IF_ERROR(Usable());
    files_.push_back(f);
    files_.back().seq = NewSortableId(c_->clock->NowMs());
    return files_.back().seq;
  }

  Status AddAlert(const Alert& a, const std::vector<std::string>& channels) override {
    AQ_RETURN_IF_ERROR(Usable());
    if (channels.size() + 2 > kMaxTransactItems)
      return Fail("an alert with " + std::to_string(channels.size()) + " channels");
    alerts_.emplace_back(a, channels);
    return Status::Ok();
  }

  Status ResetDerived() override {
    AQ_RETURN_IF_ERROR(Usable());
    reset_ = true;
    return Status::Ok();
  }

  Status Commit() override;

 private:
  static constexpr size_t kMaxTransactItems = aws::kMaxTransactItems;

  Status Usable() const {
    if (done_) return InvalidArgument("DynamoDB batch used after Commit or a failed call");
    return Status::Ok();
  }
  Status Fail(std::string why) {
    done_ = true;
    return InvalidArgument("DynamoDB batch: " + why);
  }
  Status Writable(std::string_view sensor, int32_t month) {
    AQ_RETURN_IF_ERROR(Usable());
    if (sensor.empty()) return Fail("empty sensor name");
    if (month < kMinMonth || month > kMaxMonth)
      return Fail("month index " + std::to_string(month) + " outside years 0000-9999");
    auto it = sensors_.find(std::string(sensor));
    if ((it == sensors_.end() || !it->second.expected) && broken_.empty())
      broken_ = "a write to " + std::string(sensor) + " before its ExpectVersion";
    return Status::Ok();  // the contract: Commit reports it
  }

  Status Reset();
  Status CommitSensor(const std::string& sensor, SensorWrites& w);
  Status WriteChunks(const std::string& sensor, int64_t version, std::vector<Json> actions,
                     std::vector<Json> last, int64_t commit_id);
  Status CommitAlert(const Alert& a, const std::vector<std::string>& channels);
  Status CommitFile(const FileRecord& f);

  std::shared_ptr<const Ctx> c_;
  std::map<std::string, SensorWrites> sensors_;
  std::vector<std::pair<Alert, std::vector<std::string>>> alerts_;
  std::vector<FileRecord> files_;
  bool reset_ = false;
  bool done_ = false;
  std::string broken_;  // a contract violation Commit reports
};

Status DynamoBatch::Commit() {
  AQ_RETURN_IF_ERROR(Usable());
  done_ = true;
  if (!broken_.empty()) return InvalidArgument("DynamoDB batch: " + broken_);
  if (reset_) AQ_RETURN_IF_ERROR(Reset());
  for (auto& [sensor, w] : sensors_) AQ_RETURN_IF_ERROR(CommitSensor(sensor, w));
  for (const auto& [a, channels] : alerts_) AQ_RETURN_IF_ERROR(CommitAlert(a, channels));
  for (const FileRecord& f : files_) AQ_RETURN_IF_ERROR(CommitFile(f));
  return Status::Ok();
}

// No truncate: every item of every sensor the index names, the ledger and
// its sizes, item by item; then a "*" change. Idempotent.
Status DynamoBatch::Reset() {
  auto sensors = QueryPartition(*c_, kSensorsPk);
  if (!sensors.ok()) return sensors.status();
  std::vector<Json> keys;
  for (const Json& entry : *sensors) {
    const std::string sensor = aws::GetS(entry, "sk").value_or("");
    auto items = QueryPartition(*c_, SensorPk(sensor));
    if (!items.ok()) return items.status();
    for (const Json& item : *items) keys.push_back(Key(SensorPk(sensor), *aws::GetS(item, "sk")));
  }
  for (std::string_view pk : {kLedgerPk, kSizesPk}) {
    auto items = QueryPartition(*c_, pk);
    if (!items.ok()) return items.status();
    for (const Json& item : *items) keys.push_back(Key(pk, *aws::GetS(item, "sk")));
  }
  AQ_RETURN_IF_ERROR(c_->db->BatchWrite(c_->table, {}, keys));
  // The index last, so that a reset cut short finds the sensors again.
  keys.clear();
  for (const Json& entry : *sensors) keys.push_back(Key(kSensorsPk, *aws::GetS(entry, "sk")));
  AQ_RETURN_IF_ERROR(c_->db->BatchWrite(c_->table, {}, keys));
  if (c_->blocks != nullptr) {
    auto objects = c_->blocks->List("meta-blocks/");
    if (!objects.ok()) return objects.status();
    for (const ObjectInfo& o : *objects) AQ_RETURN_IF_ERROR(c_->blocks->Delete(o.key));
  }
  const int64_t id = NewSortableId(c_->clock->NowMs());
  AQ_RETURN_IF_ERROR(c_->db->PutItem(c_->table, ChangeItem(*c_, id, kAllSensors)));
  return BumpGeneration(*c_, id, kAllSensors);
}

// Long on purpose: one sensor's transaction with its chunking and fencing, read as one
// NOLINTNEXTLINE(readability-function-size)
Status DynamoBatch::CommitSensor(const std::string& sensor, SensorWrites& w) {
  // The head as read, to carry its block months forward; the transaction's
  // condition makes sure it is still the one read.
  auto head = c_->db->GetItem(c_->table, Key(SensorPk(sensor), kHeadSk));
  if (!head.ok()) return head.status();
  const int64_t current = head->has_value() ? aws::GetN(**head, "ver").value_or(0) : 0;
  if (current != w.version)
    return Aborted("sensor " + sensor + " moved: version " + std::to_string(current) +
                   ", the batch expected " + std::to_string(w.version));
  std::set<int64_t> months;
  if (head->has_value() && (*head)->contains("months"))
    for (const Json& m : (**head)["months"]["L"])
      months.insert(std::stoll(m["N"].get<std::string>()));

  const int64_t version = NewSortableId(c_->clock->NowMs());
  std::vector<Json> actions;
  for (const auto& [month, bytes] : w.blocks) {
    months.insert(month);
    Json item = Key(SensorPk(sensor), BlockSk(month));
    item["ver"] = N(version);
    item["size"] = N(static_cast<int64_t>(bytes.size()));
    if (bytes.size() > kMaxInlineBlockBytes) {
      if (c_->blocks == nullptr) return Internal("a large block and no object store for it");
      const std::string key =
          "meta-blocks/" + sensor + "/" + std::to_string(month) + "-" + std::to_string(version);
      AQ_RETURN_IF_ERROR(c_->blocks->WriteAll(key, bytes));
      item["object"] = S(key);
    } else {
      item["data"] = aws::B(bytes);
    }
    actions.push_back(PutAction(c_->table, std::move(item)));
  }
  for (const auto& [month, m] : w.metrics) {
    auto item = MetricsItem(m, version);
    if (!item.ok()) return item.status();
    actions.push_back(PutAction(c_->table, std::move(*item)));
  }
  for (const auto& [sk, f] : w.applied)
    actions.push_back(PutAction(c_->table, AppliedItem(sensor, f)));

  // The last transaction: the head (fenced), the index entry, the change.
  Json head_item = Key(SensorPk(sensor), kHeadSk);
  head_item["sensor"] = S(sensor);
  head_item["ver"] = N(version);
  head_item["months"] = {{"L", Json::array()}};
  for (int64_t m : months) head_item["months"]["L"].push_back(N(m));
  Json head_put = PutAction(c_->table, head_item);
  Guard(head_put["Put"], w.version);
  Json index = {{"Update",
                 {{"TableName", c_->table},
                  {"Key", Key(kSensorsPk, sensor)},
                  {"UpdateExpression",
                   w.metrics.empty() ? "SET #m = if_not_exists(#m, :z)" : "SET #m = :one"},
                  {"ExpressionAttributeNames", {{"#m", "metrics"}}},
                  {"ExpressionAttributeValues",
                   w.metrics.empty() ? Json{{":z", N(0)}} : Json{{":one", N(1)}}}}}};
  std::vector<Json> last = {std::move(head_put), std::move(index),
                            PutAction(c_->table, ChangeItem(*c_, version, sensor))};
  Status s = WriteChunks(sensor, w.version, std::move(actions), std::move(last), version);
  if (s.code() == Code::kAborted) {
    // A retry of a transaction that had landed (its answer lost) fails its
    // own condition where ClientRequestToken is not honoured (moto): the
    // head carrying this commit's version means it landed.
    auto now = c_->db->GetItem(c_->table, Key(SensorPk(sensor), kHeadSk));
    if (now.ok() && now->has_value() && aws::GetN(**now, "ver") == version) s = Status::Ok();
  }
  AQ_RETURN_IF_ERROR(s);
  return BumpGeneration(*c_, version, sensor);
}

// One transaction when everything fits; else chunks of data items, each
// with a ConditionCheck that the head is unchanged, and `last` at the end.
Status DynamoBatch::WriteChunks(const std::string& sensor, int64_t version,
                                std::vector<Json> actions, std::vector<Json> last,
                                int64_t commit_id) {
  size_t bytes = 0;
  for (const Json& a : actions) bytes += aws::ItemSize(a["Put"]["Item"]);
  const std::string token = "aq-" + std::to_string(commit_id);
  if (actions.size() + last.size() <= kMaxTransactItems && bytes <= kChunkBytes) {
    actions.insert(actions.end(), last.begin(), last.end());
    return c_->db->TransactWriteItems(actions, token);
  }
  Json check = {
      {"ConditionCheck", {{"TableName", c_->table}, {"Key", Key(SensorPk(sensor), kHeadSk)}}}};
  Guard(check["ConditionCheck"], version);
  std::vector<Json> chunk;
  size_t chunk_bytes = 0;
  int n = 0;
  auto flush = [&]() -> Status {
    if (chunk.empty()) return Status::Ok();
    chunk.push_back(check);
    Status s = c_->db->TransactWriteItems(chunk, token + "-" + std::to_string(n++));
    chunk.clear();
    chunk_bytes = 0;
    return s;
  };
  for (Json& a : actions) {
    const size_t size = aws::ItemSize(a["Put"]["Item"]);
    if (chunk.size() == kChunkActions || chunk_bytes + size > kChunkBytes)
      AQ_RETURN_IF_ERROR(flush());
    chunk.push_back(std::move(a));
    chunk_bytes += size;
  }
  AQ_RETURN_IF_ERROR(flush());
  return c_->db->TransactWriteItems(last, token + "-last");
}

// The alert key (unique), the alert and its deliveries in one transaction;
// an existing key means the alert exists: nothing to do.
Status DynamoBatch::CommitAlert(const Alert& alert, const std::vector<std::string>& channels) {
  Alert a = alert;
  a.id = NewSortableId(c_->clock->NowMs());
  Json key_item = Key(kAlertKeyPk, AlertKeySk(a));
  key_item["id"] = N(a.id);
  Json key_put = PutAction(c_->table, key_item);
  key_put["Put"]["ConditionExpression"] = "attribute_not_exists(pk)";
  std::vector<Json> actions = {std::move(key_put), PutAction(c_->table, AlertItem(a))};
  for (const std::string& ch : channels) {
    Delivery d;
    d.alert_id = a.id;
    d.channel = ch;
    d.next_attempt_ms = a.created_ms;
    d.updated_ms = a.created_ms;
    actions.push_back(PutAction(c_->table, DeliveryItem(d)));
  }
  Status s = c_->db->TransactWriteItems(actions, "aq-alert-" + std::to_string(a.id));
  return s.code() == Code::kAborted ? Status::Ok() : s;
}

// The size marker first: a marker without its record only costs a hash.
Status DynamoBatch::CommitFile(const FileRecord& f) {
  Json size = Key(kSizesPk, SizeSk(f.default_sensor, f.bytes));
  AQ_RETURN_IF_ERROR(c_->db->PutItem(c_->table, size));
  Status s = c_->db->PutItem(c_->table, FileItem(f), {.expression = "attribute_not_exists(pk)"});
  return s.code() == Code::kAborted ? Status::Ok() : s;  // already in the ledger: kept
}

}  // namespace

std::unique_ptr<Batch> NewBatch(std::shared_ptr<const Ctx> c) {
  return std::make_unique<DynamoBatch>(std::move(c));
}

}  // namespace aquasense::storage::dynamo
