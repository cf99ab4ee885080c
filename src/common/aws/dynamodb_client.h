// DynamoClient: DynamoDB's JSON 1.0 protocol (POST /, X-Amz-Target
// DynamoDB_20120810.<Op>, Content-Type application/x-amz-json-1.0) over the
// shared HttpClient, SigV4 signer and retry policy of common/aws.
//
//   auto o = aws::DynamoOptionsFromEnvironment(env, http);   // region, endpoint, creds
//   aws::DynamoClient db(std::move(*o));
//   json item = {{"pk", aws::S("sensor#s1")}, {"sk", aws::S("m#2026-01")}, {"v", aws::N(3)}};
//   Status s = db.PutItem("aq-meta", item, {.expression = "attribute_not_exists(pk)"});
//   // s.code() == Code::kAborted when the item existed
//
// Items are DynamoDB JSON (attribute name -> {"S": ...} / {"N": ...} / ...),
// as nlohmann::json. AWS's limits are enforced here, before sending (moto
// does not enforce them): an item at most 400 KB (kMaxItemBytes, counted as
// AWS does: ItemSize), a TransactWriteItems at most 100 actions and 4 MB,
// a BatchWriteItem request at most 25 items (BatchWrite splits larger sets).
//
// Errors of every call:
// - kAborted: ConditionalCheckFailedException, or TransactionCanceledException
//   whose reasons include ConditionalCheckFailed (the write did not happen);
// - kUnavailable: throttling (ThrottlingException,
//   ProvisionedThroughputExceededException, RequestLimitExceeded), 5xx and
//   transport errors, after the retries of options.retry (full-jitter
//   back-off); also a TransactionCanceled for conflicts only (retryable);
// - kNotFound: ResourceNotFoundException of DescribeTable / DeleteTable;
//   of any other call kFailedPrecondition (the table is not set up);
// - kInvalidArgument: a limit above exceeded, ValidationException;
// - kFailedPrecondition: credentials or access refused;
// - kInternal: anything else, or an answer that is not JSON.
// kAborted and kUnavailable are the retryable ones for a caller.
// Thread-safe: calls may run from any number of threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/aws/credentials.h"
#include "common/aws/http_client.h"
#include "common/aws/service_options.h"
#include "common/clock.h"
#include "common/status.h"

namespace aquasense::aws {

using Json = nlohmann::json;

// AWS's limits (DynamoDB developer guide, "Service quotas"). "400 KB",
// "4 MB" and "16 MB" are taken in decimal units, the stricter reading, so
// that whatever passes here passes on AWS whichever unit it means.
inline constexpr size_t kMaxItemBytes = 400'000;
inline constexpr size_t kMaxTransactItems = 100;
inline constexpr size_t kMaxTransactBytes = 4'000'000;
inline constexpr size_t kMaxBatchWriteItems = 25;
inline constexpr size_t kMaxBatchWriteBytes = 16'000'000;

// Attribute values.
inline Json S(std::string_view s) { return Json{{"S", std::string(s)}}; }
inline Json N(int64_t n) { return Json{{"N", std::to_string(n)}}; }
Json B(std::string_view bytes);  // base64-encoded on the wire

// Readers of an item's attributes: nullopt when absent or of another type.
std::optional<std::string> GetS(const Json& item, std::string_view name);
std::optional<int64_t> GetN(const Json& item, std::string_view name);
std::optional<std::string> GetB(const Json& item, std::string_view name);  // decoded

// The size of an item as AWS counts it against its 400 KB limit: for each
// attribute, its name's UTF-8 length plus its value's size (S: UTF-8 bytes;
// B: raw bytes; N: (significant digits + 1) / 2 + 1; BOOL, NULL: 1; L, M: 3
// plus 1 per element plus the elements' sizes (names included for M); SS,
// NS, BS: the sum of their members).
size_t ItemSize(const Json& item);

// A condition on a write: empty expression for none.
struct Condition {
  std::string expression{};      // "attribute_not_exists(pk)", "#v = :v"
  Json names = Json::object();   // "#v" -> "version"
  Json values = Json::object();  // ":v" -> {"N": "3"}
};

struct DynamoOptions : ServiceOptions {
  // CreateTable: how long to wait for ACTIVE, polling DescribeTable.
  int64_t table_active_timeout_ms = 120'000;
  int64_t table_poll_ms = 500;
};

// ServiceOptionsFromEnvironment(env, http, "dynamodb") and the defaults above.
Result<DynamoOptions> DynamoOptionsFromEnvironment(const Env& env,
                                                   std::shared_ptr<HttpClient> http);

// One Query: the key condition and its placeholders, paged by the client.
struct QueryRequest {
  std::string table;
  std::string key_condition;  // "pk = :p AND begins_with(sk, :s)"
  Json names = Json::object();
  Json values = Json::object();
  std::string filter{};      // optional FilterExpression
  std::string projection{};  // optional ProjectionExpression
  bool consistent = true;    // ConsistentRead
  bool forward = true;       // ScanIndexForward
  int64_t limit = 0;         // at most this many items in all; 0: no limit
  int64_t page_size = 0;     // Limit per request; 0: DynamoDB's 1 MB pages
};

class DynamoClient {
 public:
  explicit DynamoClient(DynamoOptions options);

  // One call of operation `op` ("GetItem") with request body `request`: the
  // answer's JSON, errors mapped as above. The typed calls below use it.
  Result<Json> Call(std::string_view op, const Json& request) const;

  // Tables. CreateTable makes `name` (pk S HASH + sk S RANGE, on-demand),
  // waits until ACTIVE and turns on point-in-time recovery where the
  // service supports it (an emulator that lacks UpdateContinuousBackups is
  // not an error). kAlreadyExists when the table exists.
  // EnsureTable: the same, idempotent (an existing table is waited for).
  Status CreateTable(const std::string& name) const;
  // The table's description ("Table" of the answer); kNotFound when absent.
  Result<Json> DescribeTable(const std::string& name) const;
  Status EnsureTable(const std::string& name) const;
  Status DeleteTable(const std::string& name) const;

  // Items. GetItem reads consistently; nothing when the item is absent.
  Result<std::optional<Json>> GetItem(const std::string& table, const Json& key,
                                      bool consistent = true) const;
  Status PutItem(const std::string& table, const Json& item, const Condition& cond = {}) const;
  // Applies `update` ("SET #v = #v + :one"); returns the item's attributes
  // after the update (ReturnValues ALL_NEW). `cond` placeholders merge with
  // `names` and `values`.
  Result<Json> UpdateItem(const std::string& table, const Json& key, const std::string& update,
                          const Json& names, const Json& values, const Condition& cond = {}) const;
  Status DeleteItem(const std::string& table, const Json& key, const Condition& cond = {}) const;

  // Every item the query matches (all pages, or up to q.limit), in key order.
  Result<std::vector<Json>> Query(const QueryRequest& q) const;

  // All `actions` (each {"Put": {...}} / {"Update": ...} / {"Delete": ...} /
  // {"ConditionCheck": ...}) or none. `token` (ClientRequestToken, up to 36
  // characters) makes a retry of the same call idempotent on AWS for 10
  // minutes; empty for none. At most 100 actions and 4 MB.
  Status TransactWriteItems(const std::vector<Json>& actions, const std::string& token = "") const;

  // Puts `puts` and deletes the keys `deletes` in `table`, unconditionally,
  // in requests of at most 25 items and 16 MB, retrying the items AWS
  // leaves unprocessed with back-off (policy.max_attempts rounds per
  // request, then kUnavailable). Not atomic.
  Status BatchWrite(const std::string& table, const std::vector<Json>& puts,
                    const std::vector<Json>& deletes = {}) const;

  const DynamoOptions& options() const { return o_; }

 private:
  Result<HttpRequest> Build(std::string_view op, const std::string& body) const;
  Status BatchWriteOnce(const std::string& table, Json requests) const;
  Status WaitActive(const std::string& name) const;  // then PITR

  DynamoOptions o_;
};

// Validation without sending, exposed for tests: the limits above.
Status CheckItem(const Json& item);
Status CheckTransaction(const std::vector<Json>& actions);
Status CheckBatchWrite(const Json& request_items);

}  // namespace aquasense::aws
