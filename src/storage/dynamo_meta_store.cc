// DynamoMetaStore: the committed reads, the URL and the table setup (see
// dynamo_meta_store.h); the batch is in dynamo_batch.cc, the item layout in
// dynamo_items.h.
#include "storage/dynamo_meta_store.h"

#include <algorithm>
#include <set>

#include "storage/dynamo_items.h"

namespace aquasense::storage {

using aws::Json;
using aws::N;
using aws::S;
using dynamo::Ctx;
using dynamo::Key;

namespace dynamo {

Result<std::vector<Json>> QueryPartition(const Ctx& c, std::string_view pk,
                                         std::string_view sk_prefix) {
  aws::QueryRequest q{.table = c.table, .key_condition = "pk = :p"};
  q.values = {{":p", S(pk)}};
  if (!sk_prefix.empty()) {
    q.key_condition += " AND begins_with(sk, :s)";
    q.values[":s"] = S(sk_prefix);
  }
  return c.db->Query(q);
}

Json ChangeItem(const Ctx& c, int64_t id, std::string_view sensor) {
  Json change = Key(kChangesPk, ChangeSk(id, sensor));
  change["sensor"] = S(sensor);
  change["expires_at"] = N(c.clock->NowMs() / 1000 + kChangeTtlS);
  return change;
}

// A commit's change item (at its id) landed before this. Usually the
// generation is below the id: it moves to it. When a later commit moved it
// past the id already (this one landed late), readers may have read past
// it: the generation moves on by one and the change is announced again at
// that new value, in one transaction, so a reader never holds a generation
// at or above an unseen change.
Status BumpGeneration(const Ctx& c, int64_t commit_id, std::string_view sensor) {
  auto set = c.db->UpdateItem(c.table, Key(kGenPk, kGenPk), "SET #g = :id", {{"#g", "g"}},
                              {{":id", N(commit_id)}},
                              {.expression = "attribute_not_exists(#g) OR #g < :id"});
  if (set.ok() || set.status().code() != Code::kAborted) return set.status();
  for (;;) {
    auto gen = c.db->GetItem(c.table, Key(kGenPk, kGenPk));
    if (!gen.ok()) return gen.status();
    const int64_t g = gen->has_value() ? aws::GetN(**gen, "g").value_or(0) : 0;
    Json bump = {{"Update",
                  {{"TableName", c.table},
                   {"Key", Key(kGenPk, kGenPk)},
                   {"UpdateExpression", "SET #g = :next"},
                   {"ConditionExpression", "#g = :g"},
                   {"ExpressionAttributeNames", {{"#g", "g"}}},
                   {"ExpressionAttributeValues", {{":next", N(g + 1)}, {":g", N(g)}}}}}};
    Json again = {{"Put", {{"TableName", c.table}, {"Item", ChangeItem(c, g + 1, sensor)}}}};
    Status s = c.db->TransactWriteItems({bump, again});
    if (s.code() != Code::kAborted) return s;  // else the generation moved: read it again
  }
}

}  // namespace dynamo

namespace {

constexpr int kIdShift = 21;  // NewSortableId: ms << 21

class DynamoMetaStore final : public MetaStore {
 public:
  explicit DynamoMetaStore(std::shared_ptr<const Ctx> c) : c_(std::move(c)) {}

  Result<std::unique_ptr<Batch>> BeginBatch() override { return dynamo::NewBatch(c_); }
  bool MayApplyPartially() const override { return true; }  // one transaction per sensor

  Result<SensorHead> ReadSensor(std::string_view sensor) override {
    auto head = Get(dynamo::SensorPk(sensor), dynamo::kHeadSk);
    if (!head.ok()) return head.status();
    SensorHead h;
    if (!head->has_value()) return h;
    h.version = aws::GetN(**head, "ver").value_or(0);
    if ((*head)->contains("months"))
      for (const Json& m : (**head)["months"]["L"])
        h.months.push_back(static_cast<int32_t>(std::stoll(m["N"].get<std::string>())));
    return h;
  }

  Result<std::optional<std::string>> ReadBlock(std::string_view sensor, int32_t month) override {
    if (month < dynamo::kMinMonth || month > dynamo::kMaxMonth) return std::optional<std::string>();
    auto item = Get(dynamo::SensorPk(sensor), dynamo::BlockSk(month));
    if (!item.ok()) return item.status();
    if (!item->has_value()) return std::optional<std::string>();
    if (auto key = aws::GetS(**item, "object")) {
      if (c_->blocks == nullptr) return Internal("block in " + *key + " and no object store");
      auto bytes = c_->blocks->ReadAll(*key);
      if (!bytes.ok()) return bytes.status();
      return std::optional<std::string>(std::move(*bytes));
    }
    return std::optional<std::string>(aws::GetB(**item, "data").value_or(""));
  }

  Result<std::optional<core::MonthlyMetrics>> GetMetrics(std::string_view sensor,
                                                         int32_t month) override {
    using Opt = std::optional<core::MonthlyMetrics>;
    if (month < dynamo::kMinMonth || month > dynamo::kMaxMonth) return Opt();
    auto item = Get(dynamo::SensorPk(sensor), dynamo::MetricsSk(month));
    if (!item.ok()) return item.status();
    if (!item->has_value()) return Opt();
    auto m = dynamo::MetricsFrom(**item, sensor);
    if (!m.ok()) return m.status();
    return Opt(std::move(*m));
  }

  Result<std::vector<core::MonthlyMetrics>> ListMetrics(const MetricsQuery& q) override {
    std::vector<std::string> sensors;
    if (q.sensor) {
      sensors.push_back(*q.sensor);
    } else {
      auto all = ListSensors();
      if (!all.ok()) return all.status();
      sensors = std::move(*all);
    }
    std::vector<core::MonthlyMetrics> out;
    for (const std::string& s : sensors) AQ_RETURN_IF_ERROR(SensorMetrics(s, q, &out));
    return out;
  }

  Result<std::vector<std::string>> ListSensors() override {
    auto items = dynamo::QueryPartition(*c_, dynamo::kSensorsPk);
    if (!items.ok()) return items.status();
    std::vector<std::string> out;
    for (const Json& item : *items)
      if (aws::GetN(item, "metrics").value_or(0) == 1) out.push_back(*aws::GetS(item, "sk"));
    return out;
  }

  Result<std::optional<AppliedFile>> FindApplied(std::string_view sensor, std::string_view hash,
                                                 std::string_view default_sensor) override {
    auto item = Get(dynamo::SensorPk(sensor), dynamo::AppliedSk(hash, default_sensor));
    if (!item.ok()) return item.status();
    if (!item->has_value()) return std::optional<AppliedFile>();
    return std::optional<AppliedFile>(dynamo::AppliedFrom(**item));
  }

  Result<int64_t> Generation() override {
    auto item = Get(dynamo::kGenPk, dynamo::kGenPk);
    if (!item.ok()) return item.status();
    return item->has_value() ? aws::GetN(**item, "g").value_or(0) : 0;
  }

  Result<MetricsDelta> MetricsSince(int64_t generation) override;

  Result<std::optional<FileRecord>> FindFile(std::string_view hash,
                                             std::string_view default_sensor) override {
    auto item = Get(dynamo::kLedgerPk, dynamo::FileSk(hash, default_sensor));
    if (!item.ok()) return item.status();
    if (!item->has_value()) return std::optional<FileRecord>();
    return std::optional<FileRecord>(dynamo::FileFrom(**item));
  }

  Result<bool> MayHaveFile(std::string_view default_sensor, uint64_t bytes) override {
    for (int64_t size : {static_cast<int64_t>(bytes), int64_t{-1}}) {
      auto item = Get(dynamo::kSizesPk, dynamo::SizeSk(default_sensor, size));
      if (!item.ok()) return item.status();
      if (item->has_value()) return true;
    }
    return false;
  }

  Result<std::vector<FileRecord>> ListFiles() override {
    auto items = dynamo::QueryPartition(*c_, dynamo::kLedgerPk);
    if (!items.ok()) return items.status();
    std::vector<FileRecord> out;
    for (const Json& item : *items) out.push_back(dynamo::FileFrom(item));
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.seq < b.seq; });
    return out;
  }

  Result<std::vector<Delivery>> DueDeliveries(int64_t now_ms, size_t limit) override;

  Result<Alert> GetAlert(int64_t id) override {
    auto item = Get(dynamo::kAlertPk, dynamo::Pad20(id));
    if (!item.ok()) return item.status();
    if (!item->has_value()) return NotFound("no alert " + std::to_string(id));
    return dynamo::AlertFrom(**item);
  }

  Status ClaimDelivery(const Delivery& seen, const Delivery& next) override {
    if (seen.alert_id != next.alert_id || seen.channel != next.channel)
      return InvalidArgument("ClaimDelivery of two different deliveries");
    aws::Condition cond{.expression = "#s = :s AND #a = :a AND #n = :n AND #u = :u",
                        .names = {{"#s", "state"},
                                  {"#a", "attempts"},
                                  {"#n", "next_attempt_ms"},
                                  {"#u", "updated_ms"}},
                        .values = {{":s", N(static_cast<int64_t>(seen.state))},
                                   {":a", N(seen.attempts)},
                                   {":n", N(seen.next_attempt_ms)},
                                   {":u", N(seen.updated_ms)}}};
    return c_->db->PutItem(c_->table, dynamo::DeliveryItem(next), cond);
  }

  Status UpdateDelivery(const Delivery& d) override {
    return c_->db->PutItem(c_->table, dynamo::DeliveryItem(d),
                           {.expression = "attribute_exists(pk)"});
  }

  Status UpdateDeliveries(std::span<const Delivery> ds) override {
    if (ds.empty()) return Status::Ok();
    if (ds.size() > aws::kMaxTransactItems) return MetaStore::UpdateDeliveries(ds);
    std::vector<Json> actions;
    for (const Delivery& d : ds)
      actions.push_back({{"Put", {{"TableName", c_->table}, {"Item", dynamo::DeliveryItem(d)}}}});
    return c_->db->TransactWriteItems(actions);
  }

  Result<std::vector<std::pair<Alert, std::vector<Delivery>>>> RecentAlerts(size_t limit) override;

 private:
  Result<std::optional<Json>> Get(std::string_view pk, std::string_view sk) {
    return c_->db->GetItem(c_->table, Key(pk, sk));
  }

  Status SensorMetrics(const std::string& sensor, const MetricsQuery& q,
                       std::vector<core::MonthlyMetrics>* out) {
    const int32_t from = std::max(q.from_month, dynamo::kMinMonth);
    const int32_t to = std::min(q.to_month, dynamo::kMaxMonth);
    if (from > to) return Status::Ok();
    aws::QueryRequest req{.table = c_->table, .key_condition = "pk = :p AND sk BETWEEN :a AND :b"};
    req.values = {{":p", S(dynamo::SensorPk(sensor))},
                  {":a", S(dynamo::MetricsSk(from))},
                  {":b", S(dynamo::MetricsSk(to))}};
    auto items = c_->db->Query(req);
    if (!items.ok()) return items.status();
    for (const Json& item : *items) {
      auto m = dynamo::MetricsFrom(item, sensor);
      if (!m.ok()) return m.status();
      out->push_back(std::move(*m));
    }
    return Status::Ok();
  }

  std::shared_ptr<const Ctx> c_;
};

Result<MetricsDelta> DynamoMetaStore::MetricsSince(int64_t generation) {
  MetricsDelta delta;
  auto now = Generation();
  if (!now.ok()) return now.status();
  delta.generation = *now;
  if (generation >= 0 && generation == *now) return delta;  // the idle case: one GetItem
  bool full = generation < 0 || generation > *now;
  std::set<std::string> sensors;
  if (!full) {
    // Changes after `generation`: "<id:020>#..." sorts above "<generation:020>$".
    aws::QueryRequest q{.table = c_->table, .key_condition = "pk = :p AND sk > :from"};
    q.values = {{":p", S(dynamo::kChangesPk)}, {":from", S(dynamo::Pad20(generation) + "$")}};
    auto changes = c_->db->Query(q);
    if (!changes.ok()) return changes.status();
    for (const Json& c : *changes) {
      const std::string s = aws::GetS(c, "sensor").value_or("");
      if (s == dynamo::kAllSensors) full = true;
      sensors.insert(s);
    }
    // A change log older than its TTL (7 days) may have lost items.
    if ((generation >> kIdShift) < c_->clock->NowMs() - 6LL * 24 * 3600 * 1000) full = true;
  }
  if (full) {
    delta.full = true;
    auto rows = ListMetrics({});
    if (!rows.ok()) return rows.status();
    delta.rows = std::move(*rows);
    return delta;
  }
  for (const std::string& s : sensors) {
    delta.sensors.push_back(s);
    AQ_RETURN_IF_ERROR(SensorMetrics(s, MetricsQuery{}, &delta.rows));
  }
  return delta;
}

Result<std::vector<Delivery>> DynamoMetaStore::DueDeliveries(int64_t now_ms, size_t limit) {
  aws::QueryRequest q{
      .table = c_->table, .key_condition = "pk = :p", .filter = "#s = :pending AND #n <= :now"};
  q.names = {{"#s", "state"}, {"#n", "next_attempt_ms"}};
  q.values = {{":p", S(dynamo::kDeliveryPk)},
              {":pending", N(static_cast<int64_t>(DeliveryState::kPending))},
              {":now", N(now_ms)}};
  auto items = c_->db->Query(q);
  if (!items.ok()) return items.status();
  std::vector<Delivery> out;
  for (const Json& item : *items) out.push_back(dynamo::DeliveryFrom(item));
  std::sort(out.begin(), out.end(), [](const Delivery& a, const Delivery& b) {
    return std::tie(a.next_attempt_ms, a.alert_id, a.channel) <
           std::tie(b.next_attempt_ms, b.alert_id, b.channel);
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

Result<std::vector<std::pair<Alert, std::vector<Delivery>>>> DynamoMetaStore::RecentAlerts(
    size_t limit) {
  aws::QueryRequest q{.table = c_->table, .key_condition = "pk = :p"};
  q.values = {{":p", S(dynamo::kAlertPk)}};
  q.forward = false;
  q.limit = static_cast<int64_t>(limit);
  std::vector<std::pair<Alert, std::vector<Delivery>>> out;
  if (limit == 0) return out;
  auto items = c_->db->Query(q);
  if (!items.ok()) return items.status();
  for (const Json& item : *items) {
    Alert a = dynamo::AlertFrom(item);
    auto ds = dynamo::QueryPartition(*c_, dynamo::kDeliveryPk, dynamo::Pad20(a.id) + "#");
    if (!ds.ok()) return ds.status();
    std::vector<Delivery> deliveries;
    for (const Json& d : *ds) deliveries.push_back(dynamo::DeliveryFrom(d));
    std::sort(deliveries.begin(), deliveries.end(),
              [](const Delivery& x, const Delivery& y) { return x.channel < y.channel; });
    out.emplace_back(std::move(a), std::move(deliveries));
  }
  return out;
}

bool ValidPrefixChar(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         ch == '_' || ch == '-' || ch == '.';
}

}  // namespace

Result<std::string> ParseDynamoUrl(std::string_view url) {
  constexpr std::string_view kScheme = "dynamodb://";
  if (!url.starts_with(kScheme))
    return InvalidArgument("unsupported meta URL \"" + std::string(url) +
                           "\": use dynamodb://TABLE_PREFIX");
  std::string prefix(url.substr(kScheme.size()));
  const std::string table = DynamoMetaTable(prefix);
  if (prefix.empty() || table.size() > 255 ||
      !std::all_of(prefix.begin(), prefix.end(), ValidPrefixChar))
    return InvalidArgument("bad DynamoDB table prefix \"" + prefix +
                           "\": letters, digits, '_', '-', '.'; the table name <prefix>-meta "
                           "at most 255 characters");
  return prefix;
}

std::string DynamoMetaTable(std::string_view table_prefix) {
  return std::string(table_prefix) + "-meta";
}

Status EnsureDynamoTables(const aws::DynamoClient& db, std::string_view table_prefix) {
  const std::string table = DynamoMetaTable(table_prefix);
  AQ_RETURN_IF_ERROR(db.EnsureTable(table));
  // The change log expires through TTL (attribute expires_at); an emulator
  // without TTL keeps it, which only costs space.
  auto ttl =
      db.Call("UpdateTimeToLive",
              {{"TableName", table},
               {"TimeToLiveSpecification", {{"Enabled", true}, {"AttributeName", "expires_at"}}}});
  if (!ttl.ok() && ttl.status().code() == Code::kFailedPrecondition) return ttl.status();
  return Status::Ok();
}

namespace {
Result<std::shared_ptr<aws::DynamoClient>> ClientFromEnvironment(const Clock& clock) {
  auto http = std::make_shared<aws::HttpClient>();
  aws::Env env{aws::ProcessEnv(), http.get(), &clock};
  auto options = aws::DynamoOptionsFromEnvironment(env, http);
  if (!options.ok()) return options.status();
  return std::make_shared<aws::DynamoClient>(std::move(*options));
}
}  // namespace

Status EnsureDynamoTables(std::string_view meta_url, const Clock& clock) {
  auto prefix = ParseDynamoUrl(meta_url);
  if (!prefix.ok()) return prefix.status();
  auto db = ClientFromEnvironment(clock);
  if (!db.ok()) return db.status();
  return EnsureDynamoTables(**db, *prefix);
}

std::unique_ptr<MetaStore> NewDynamoMetaStore(std::shared_ptr<aws::DynamoClient> db,
                                              std::string_view table_prefix, ObjectStore* blocks,
                                              const Clock& clock) {
  auto c = std::make_shared<Ctx>();
  c->db = std::move(db);
  c->table = DynamoMetaTable(table_prefix);
  c->blocks = blocks;
  c->clock = &clock;
  return std::make_unique<DynamoMetaStore>(std::move(c));
}

Result<std::unique_ptr<MetaStore>> OpenMetaStoreUrl(std::string_view url, ObjectStore* blocks,
                                                    const Clock& clock) {
  auto prefix = ParseDynamoUrl(url);
  if (!prefix.ok()) return prefix.status();
  auto db = ClientFromEnvironment(clock);
  if (!db.ok()) return db.status();
  return NewDynamoMetaStore(std::move(*db), *prefix, blocks, clock);
}

}  // namespace aquasense::storage
