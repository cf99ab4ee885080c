#include "common/aws/dynamodb_client.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <thread>

#include "common/crypto.h"

namespace aquasense::aws {
namespace {

constexpr std::string_view kTargetPrefix = "DynamoDB_20120810.";

std::string Base64Decode(std::string_view in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(in.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = val(c);
    if (v < 0) continue;  // padding, whitespace
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

// The size of a number as AWS counts it: about one byte per two significant digits.
size_t NumberSize(std::string_view n) {
  size_t digits = 0;
  bool leading = true;
  for (char c : n) {
    if (c == 'e' || c == 'E') break;
    if (c < '0' || c > '9') continue;
    if (leading && c == '0') continue;
    leading = false;
    ++digits;
  }
  return (digits + 1) / 2 + 1;
}

size_t ValueSize(const Json& v) {
  if (!v.is_object() || v.size() != 1) return 0;
  const auto it = v.begin();
  const std::string& type = it.key();
  const Json& x = it.value();
  if (type == "S") return x.is_string() ? x.get_ref<const std::string&>().size() : 0;
  if (type == "N") return x.is_string() ? NumberSize(x.get_ref<const std::string&>()) : 0;
  if (type == "B") return x.is_string() ? Base64Decode(x.get_ref<const std::string&>()).size() : 0;
  if (type == "BOOL" || type == "NULL") return 1;
  size_t total = 0;
  if (type == "SS" || type == "NS" || type == "BS") {
    for (const auto& e : x) total += ValueSize(Json{{type.substr(0, 1), e}});
    return total;
  }
  if (type == "L") {
    for (const auto& e : x) total += 1 + ValueSize(e);
    return 3 + total;
  }
  if (type == "M") {
    for (const auto& [k, e] : x.items()) total += 1 + k.size() + ValueSize(e);
    return 3 + total;
  }
  return 0;
}

// Whether a TransactionCanceled answer lists a failed condition.
bool CancelledByCondition(const Json& body) {
  if (!body.contains("CancellationReasons")) {
    const std::string msg = body.value("message", body.value("Message", ""));
    return msg.find("ConditionalCheckFailed") != std::string::npos;
  }
  for (const auto& r : body["CancellationReasons"])
    if (r.is_object() && r.value("Code", "") == "ConditionalCheckFailed") return true;
  return false;
}

// The status of an error answer of operation `what`.
Status ErrorStatus(const HttpResponse& r, const std::string& what) {
  const std::string code = AwsErrorCode(r);
  Json body = Json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) body = Json::object();
  std::string msg = what + ": HTTP " + std::to_string(r.status) + " " + code;
  const std::string detail = body.value("message", body.value("Message", ""));
  if (!detail.empty()) msg += ": " + detail;
  if (code == "ConditionalCheckFailedException") return Status(Code::kAborted, msg);
  if (code == "TransactionCanceledException")
    return CancelledByCondition(body) ? Status(Code::kAborted, msg) : Unavailable(msg);
  if (code == "ResourceNotFoundException") {
    if (what.ends_with("DescribeTable") || what.ends_with("DeleteTable")) return NotFound(msg);
    return FailedPrecondition(msg + " (create the table: aquasense setup-aws)");
  }
  if (code == "ResourceInUseException") return AlreadyExists(msg);
  if (code == "ValidationException" || code == "SerializationException")
    return InvalidArgument(msg);
  return StatusFromResponse(r, msg);
}

void Sleep(const RetryPolicy& p, int64_t ms) {
  if (p.sleep)
    p.sleep(ms);
  else
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

}  // namespace

Json B(std::string_view bytes) { return Json{{"B", Base64(bytes)}}; }

std::optional<std::string> GetS(const Json& item, std::string_view name) {
  auto it = item.find(name);
  if (it == item.end() || !it->is_object() || !it->contains("S")) return std::nullopt;
  return (*it)["S"].get<std::string>();
}

std::optional<int64_t> GetN(const Json& item, std::string_view name) {
  auto it = item.find(name);
  if (it == item.end() || !it->is_object() || !it->contains("N")) return std::nullopt;
  const std::string& s = (*it)["N"].get_ref<const std::string&>();
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<std::string> GetB(const Json& item, std::string_view name) {
  auto it = item.find(name);
  if (it == item.end() || !it->is_object() || !it->contains("B")) return std::nullopt;
  return Base64Decode((*it)["B"].get_ref<const std::string&>());
}

size_t ItemSize(const Json& item) {
  size_t total = 0;
  if (!item.is_object()) return 0;
  for (const auto& [name, v] : item.items()) total += name.size() + ValueSize(v);
  return total;
}

Status CheckItem(const Json& item) {
  const size_t n = ItemSize(item);
  if (n > kMaxItemBytes)
    return InvalidArgument("DynamoDB item of " + std::to_string(n) + " bytes is over the " +
                           std::to_string(kMaxItemBytes) + "-byte limit");
  return Status::Ok();
}

Status CheckTransaction(const std::vector<Json>& actions) {
  if (actions.empty()) return InvalidArgument("TransactWriteItems without actions");
  if (actions.size() > kMaxTransactItems)
    return InvalidArgument("TransactWriteItems of " + std::to_string(actions.size()) +
                           " actions is over the limit of " + std::to_string(kMaxTransactItems));
  size_t total = 0;
  for (const Json& a : actions) {
    for (const auto& [kind, body] : a.items()) {
      const Json* item = body.contains("Item") ? &body["Item"] : nullptr;
      if (item != nullptr) AQ_RETURN_IF_ERROR(CheckItem(*item));
      total += item != nullptr ? ItemSize(*item) : ItemSize(body.value("Key", Json::object()));
    }
  }
  if (total > kMaxTransactBytes)
    return InvalidArgument("TransactWriteItems of " + std::to_string(total) +
                           " bytes is over the limit of " + std::to_string(kMaxTransactBytes));
  return Status::Ok();
}

Status CheckBatchWrite(const Json& request_items) {
  size_t count = 0, total = 0;
  for (const auto& [table, reqs] : request_items.items()) {
    for (const Json& r : reqs) {
      ++count;
      if (r.contains("PutRequest")) {
        const Json& item = r["PutRequest"]["Item"];
        AQ_RETURN_IF_ERROR(CheckItem(item));
        total += ItemSize(item);
      } else if (r.contains("DeleteRequest")) {
        total += ItemSize(r["DeleteRequest"]["Key"]);
      }
    }
  }
  if (count == 0) return InvalidArgument("BatchWriteItem without items");
  if (count > kMaxBatchWriteItems)
    return InvalidArgument("BatchWriteItem of " + std::to_string(count) +
                           " items is over the limit of " + std::to_string(kMaxBatchWriteItems));
  if (total > kMaxBatchWriteBytes)
    return InvalidArgument("BatchWriteItem of " + std::to_string(total) +
                           " bytes is over the limit of " + std::to_string(kMaxBatchWriteBytes));
  return Status::Ok();
}

Result<DynamoOptions> DynamoOptionsFromEnvironment(const Env& env,
                                                   std::shared_ptr<HttpClient> http) {
  auto service = ServiceOptionsFromEnvironment(env, std::move(http), "dynamodb");
  if (!service.ok()) return service.status();
  DynamoOptions o;
  static_cast<ServiceOptions&>(o) = std::move(*service);
  return o;
}

DynamoClient::DynamoClient(DynamoOptions options) : o_(std::move(options)) {}

Result<HttpRequest> DynamoClient::Build(std::string_view op, const std::string& body) const {
  return SignedJsonPost(o_, "dynamodb", std::string(kTargetPrefix) + std::string(op), body);
}

Result<Json> DynamoClient::Call(std::string_view op, const Json& request) const {
  const std::string body = request.dump();
  auto resp = SendWithRetry(
      *o_.http, [&] { return Build(op, body); }, o_.retry);
  if (!resp.ok()) return resp.status();
  const std::string what = "DynamoDB " + std::string(op);
  if (resp->status < 200 || resp->status >= 300) {
    Status s = ErrorStatus(*resp, what);
    if (request.contains("TableName") && request["TableName"].is_string())
      s = Status(s.code(),
                 s.message() + " [table " + request["TableName"].get<std::string>() + "]");
    return s;
  }
  if (resp->body.empty()) return Json::object();
  Json j = Json::parse(resp->body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Internal(what + ": the answer is not JSON");
  return j;
}

Result<Json> DynamoClient::DescribeTable(const std::string& name) const {
  auto r = Call("DescribeTable", {{"TableName", name}});
  if (!r.ok()) return r.status();
  if (!r->contains("Table")) return Internal("DescribeTable " + name + ": no Table in the answer");
  return (*r)["Table"];
}

Status DynamoClient::CreateTable(const std::string& name) const {
  Json req = {{"TableName", name},
              {"BillingMode", "PAY_PER_REQUEST"},
              {"AttributeDefinitions",
               {{{"AttributeName", "pk"}, {"AttributeType", "S"}},
                {{"AttributeName", "sk"}, {"AttributeType", "S"}}}},
              {"KeySchema",
               {{{"AttributeName", "pk"}, {"KeyType", "HASH"}},
                {{"AttributeName", "sk"}, {"KeyType", "RANGE"}}}}};
  auto r = Call("CreateTable", req);
  if (!r.ok()) return r.status();
  return WaitActive(name);
}

Status DynamoClient::EnsureTable(const std::string& name) const {
  auto t = DescribeTable(name);
  if (t.ok() || t.status().code() != Code::kNotFound) return t.ok() ? WaitActive(name) : t.status();
  Status s = CreateTable(name);
  return s.code() == Code::kAlreadyExists ? WaitActive(name) : s;  // another process made it
}

Status DynamoClient::WaitActive(const std::string& name) const {
  const int64_t deadline = o_.clock->NowMs() + o_.table_active_timeout_ms;
  for (;;) {
    auto t = DescribeTable(name);
    if (!t.ok() && t.status().code() != Code::kNotFound) return t.status();
    if (t.ok() && t->value("TableStatus", "") == "ACTIVE") break;
    if (o_.clock->NowMs() > deadline)
      return Unavailable("DynamoDB table " + name + " is not ACTIVE after " +
                         std::to_string(o_.table_active_timeout_ms) + " ms");
    Sleep(o_.retry, o_.table_poll_ms);
  }
  // Point-in-time recovery: AWS has it; an emulator without it is not an
  // error, refused permissions are.
  auto pitr = Call("UpdateContinuousBackups",
                   {{"TableName", name},
                    {"PointInTimeRecoverySpecification", {{"PointInTimeRecoveryEnabled", true}}}});
  if (!pitr.ok() && pitr.status().code() == Code::kFailedPrecondition) return pitr.status();
  return Status::Ok();
}

Status DynamoClient::DeleteTable(const std::string& name) const {
  auto r = Call("DeleteTable", {{"TableName", name}});
  return r.ok() ? Status::Ok() : r.status();
}

Result<std::optional<Json>> DynamoClient::GetItem(const std::string& table, const Json& key,
                                                  bool consistent) const {
  auto r = Call("GetItem", {{"TableName", table}, {"Key", key}, {"ConsistentRead", consistent}});
  if (!r.ok()) return r.status();
  if (!r->contains("Item")) return std::optional<Json>();
  return std::optional<Json>((*r)["Item"]);
}

namespace {
void AddCondition(Json& req, const Condition& c) {
  if (c.expression.empty()) return;
  req["ConditionExpression"] = c.expression;
  if (!c.names.empty()) req["ExpressionAttributeNames"].update(c.names);
  if (!c.values.empty()) req["ExpressionAttributeValues"].update(c.values);
}
}  // namespace

Status DynamoClient::PutItem(const std::string& table, const Json& item,
                             const Condition& cond) const {
  AQ_RETURN_IF_ERROR(CheckItem(item));
  Json req = {{"TableName", table}, {"Item", item}};
  AddCondition(req, cond);
  auto r = Call("PutItem", req);
  return r.ok() ? Status::Ok() : r.status();
}

Result<Json> DynamoClient::UpdateItem(const std::string& table, const Json& key,
                                      const std::string& update, const Json& names,
                                      const Json& values, const Condition& cond) const {
  Json req = {{"TableName", table},
              {"Key", key},
              {"UpdateExpression", update},
              {"ReturnValues", "ALL_NEW"}};
  if (!names.empty()) req["ExpressionAttributeNames"] = names;
  if (!values.empty()) req["ExpressionAttributeValues"] = values;
  AddCondition(req, cond);
  auto r = Call("UpdateItem", req);
  if (!r.ok()) return r.status();
  Json attrs = r->value("Attributes", Json::object());
  AQ_RETURN_IF_ERROR(CheckItem(attrs));  // AWS refuses a grown item; moto does not
  return attrs;
}

Status DynamoClient::DeleteItem(const std::string& table, const Json& key,
                                const Condition& cond) const {
  Json req = {{"TableName", table}, {"Key", key}};
  AddCondition(req, cond);
  auto r = Call("DeleteItem", req);
  return r.ok() ? Status::Ok() : r.status();
}

Result<std::vector<Json>> DynamoClient::Query(const QueryRequest& q) const {
  std::vector<Json> out;
  Json req = {{"TableName", q.table},
              {"KeyConditionExpression", q.key_condition},
              {"ConsistentRead", q.consistent},
              {"ScanIndexForward", q.forward}};
  if (!q.names.empty()) req["ExpressionAttributeNames"] = q.names;
  if (!q.values.empty()) req["ExpressionAttributeValues"] = q.values;
  if (!q.filter.empty()) req["FilterExpression"] = q.filter;
  if (!q.projection.empty()) req["ProjectionExpression"] = q.projection;
  for (;;) {
    int64_t page = q.page_size;
    if (q.limit > 0) {
      const int64_t left = q.limit - static_cast<int64_t>(out.size());
      page = page > 0 ? std::min(page, left) : left;
    }
    if (page > 0) req["Limit"] = page;
    auto r = Call("Query", req);
    if (!r.ok()) return r.status();
    for (auto& item : (*r)["Items"]) out.push_back(std::move(item));
    if (q.limit > 0 && static_cast<int64_t>(out.size()) >= q.limit) break;
    if (!r->contains("LastEvaluatedKey")) break;
    req["ExclusiveStartKey"] = (*r)["LastEvaluatedKey"];
  }
  return out;
}

Status DynamoClient::TransactWriteItems(const std::vector<Json>& actions,
                                        const std::string& token) const {
  AQ_RETURN_IF_ERROR(CheckTransaction(actions));
  Json req = {{"TransactItems", actions}};
  if (!token.empty()) req["ClientRequestToken"] = token.substr(0, 36);
  auto r = Call("TransactWriteItems", req);
  return r.ok() ? Status::Ok() : r.status();
}

Status DynamoClient::BatchWriteOnce(const std::string& table, Json requests) const {
  Json items = {{table, std::move(requests)}};
  AQ_RETURN_IF_ERROR(CheckBatchWrite(items));
  for (int round = 1;; ++round) {
    auto r = Call("BatchWriteItem", {{"RequestItems", items}});
    if (!r.ok()) return r.status();
    Json left = r->value("UnprocessedItems", Json::object());
    if (left.empty() || left.value(table, Json::array()).empty()) return Status::Ok();
    if (round >= std::max(1, o_.retry.max_attempts))
      return Unavailable("DynamoDB BatchWriteItem on " + table + ": " +
                         std::to_string(left[table].size()) + " items still unprocessed after " +
                         std::to_string(round) + " rounds");
    Sleep(o_.retry, BackoffMs(o_.retry, round));
    items = std::move(left);
  }
}

Status DynamoClient::BatchWrite(const std::string& table, const std::vector<Json>& puts,
                                const std::vector<Json>& deletes) const {
  Json chunk = Json::array();
  size_t bytes = 0;
  auto flush = [&]() -> Status {
    if (chunk.empty()) return Status::Ok();
    Status s = BatchWriteOnce(table, std::move(chunk));
    chunk = Json::array();
    bytes = 0;
    return s;
  };
  auto add = [&](Json request, size_t size) -> Status {
    if (chunk.size() == kMaxBatchWriteItems || bytes + size > kMaxBatchWriteBytes)
      AQ_RETURN_IF_ERROR(flush());
    chunk.push_back(std::move(request));
    bytes += size;
    return Status::Ok();
  };
  for (const Json& item : puts) {
    AQ_RETURN_IF_ERROR(CheckItem(item));
    AQ_RETURN_IF_ERROR(add({{"PutRequest", {{"Item", item}}}}, ItemSize(item)));
  }
  for (const Json& key : deletes)
    AQ_RETURN_IF_ERROR(add({{"DeleteRequest", {{"Key", key}}}}, ItemSize(key)));
  return flush();
}

}  // namespace aquasense::aws
