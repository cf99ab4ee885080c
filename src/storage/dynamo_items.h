// The items of DynamoMetaStore (internal to storage): keys and the codecs of
// each record type. The layout is documented for readers outside the
// binary (boto3) in docs/aws.md, "DynamoDB items"; keep the two in step.
//
//   pk                      sk                              what
//   S#<sensor>              head                            version, block months
//   S#<sensor>              B#<YYYY-MM>                     reading block (or its object key)
//   S#<sensor>              M#<YYYY-MM>                     monthly metrics
//   S#<sensor>              F#<hash>#<default_sensor>       a file applied to the sensor
//   sensors                 <sensor>                        sensor index
//   gen                     gen                             the generation number
//   changes                 <commit id:020>#<sensor>        change log ("*": a reset)
//   ledger                  <hash>#<default_sensor>         ingested file
//   fsize                   <default_sensor>#<bytes>        sizes in the ledger (MayHaveFile)
//   alertkey                <hash>#<ds>#<kind>#<sensor>     alert uniqueness -> id
//   alert                   <id:020>                        alert
//   delivery                <id:020>#<channel>              delivery of an alert to a channel
//
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/aws/dynamodb_client.h"
#include "common/clock.h"
#include "storage/meta_store.h"
#include "storage/object_store.h"

namespace aquasense::storage::dynamo {

using aws::Json;

inline constexpr std::string_view kHeadSk = "head";
inline constexpr std::string_view kSensorsPk = "sensors";
inline constexpr std::string_view kGenPk = "gen";
inline constexpr std::string_view kChangesPk = "changes";
inline constexpr std::string_view kLedgerPk = "ledger";
inline constexpr std::string_view kSizesPk = "fsize";
inline constexpr std::string_view kAlertKeyPk = "alertkey";
inline constexpr std::string_view kAlertPk = "alert";
inline constexpr std::string_view kDeliveryPk = "delivery";
inline constexpr std::string_view kAllSensors = "*";  // a change-log entry: everything
// Month indexes a key can hold: years 0000..9999.
inline constexpr int32_t kMinMonth = 0;
inline constexpr int32_t kMaxMonth = 9999 * 12 + 11;

Json Key(std::string_view pk, std::string_view sk);
std::string SensorPk(std::string_view sensor);
std::string MonthText(int32_t month);  // "YYYY-MM"
std::string BlockSk(int32_t month);
std::string MetricsSk(int32_t month);
std::string AppliedSk(std::string_view hash, std::string_view default_sensor);
std::string Pad20(int64_t id);  // zero-padded, so that keys sort as numbers
std::string ChangeSk(int64_t commit_id, std::string_view sensor);
std::string FileSk(std::string_view hash, std::string_view default_sensor);
std::string SizeSk(std::string_view default_sensor, int64_t bytes);
std::string AlertKeySk(const Alert& a);
std::string DeliverySk(int64_t alert_id, std::string_view channel);

// A double as a DynamoDB number that reads back to the same double
// ("%.17g"); kInvalidArgument for NaN and infinities.
Result<Json> Number(double v);
std::optional<double> GetDouble(const Json& item, std::string_view name);

Result<Json> MetricsItem(const core::MonthlyMetrics& m, int64_t version);
Result<core::MonthlyMetrics> MetricsFrom(const Json& item, std::string_view sensor);
Json FileItem(const FileRecord& f);
FileRecord FileFrom(const Json& item);
Json AlertItem(const Alert& a);
Alert AlertFrom(const Json& item);
Json DeliveryItem(const Delivery& d);
Delivery DeliveryFrom(const Json& item);
Json AppliedItem(std::string_view sensor, const AppliedFile& f);
AppliedFile AppliedFrom(const Json& item);

// What the store and its batches share.
struct Ctx {
  std::shared_ptr<aws::DynamoClient> db;
  std::string table;
  ObjectStore* blocks = nullptr;  // blocks over kMaxInlineBlockBytes
  const Clock* clock = nullptr;
};

// Every item of partition `pk` (with sk starting with `sk_prefix`), in key order.
Result<std::vector<Json>> QueryPartition(const Ctx& c, std::string_view pk,
                                         std::string_view sk_prefix = "");
// The change-log item of a commit (dynamo_meta_store.cc).
inline constexpr int64_t kChangeTtlS = 7 * 24 * 3600;
Json ChangeItem(const Ctx& c, int64_t id, std::string_view sensor);
// Moves the generation on after commit `commit_id` of `sensor`, whose
// change item landed: to the id, or, when a later commit moved it past the
// id already, by one, announcing the change again there (atomically).
Status BumpGeneration(const Ctx& c, int64_t commit_id, std::string_view sensor);
// A new batch (dynamo_batch.cc).
std::unique_ptr<Batch> NewBatch(std::shared_ptr<const Ctx> c);

}  // namespace aquasense::storage::dynamo
