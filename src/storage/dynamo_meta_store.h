// DynamoMetaStore: the MetaStore (meta_store.h) on one DynamoDB table,
// `<TABLE_PREFIX>-meta` (pk S HASH, sk S RANGE, on-demand), single-table
// design. Every item type and its keys: docs/aws.md ("DynamoDB items").
//
//   auto meta = OpenMetaStoreUrl("dynamodb://aquasense", objects.get(), clock);
//   // the table must exist: EnsureDynamoTables (setup-aws) creates it
//
// How it meets the contract:
// - per-sensor atomicity: each sensor of a batch commits in one
//   TransactWriteItems holding its head item (version, months; Put guarded
//   by the version the writer read), its blocks, metrics and applied files,
//   its sensor-index entry and a change-log item. A sensor whose writes
//   exceed one transaction (100 actions, 4 MB) commits in chunks, each
//   guarded by a ConditionCheck on the unchanged head, the head written
//   last: fenced, but a reader may see part of such a commit (rebuilds of
//   sensors with more than ~45 months; see docs/aws.md).
// - blocks over kMaxInlineBlockBytes go to the ObjectStore under
//   "meta-blocks/<sensor>/<month>-<version>"; the item names the key.
// - Generation(): one GetItem of the generation item, moved after every
//   sensor commit; MetricsSince: a Query of the change-log items above the
//   reader's generation (a commit that lands late is announced again above
//   it: dynamo::BumpGeneration), so an idle reader costs one small GetItem
//   per poll and no scan.
// - ids (ledger seq, alert ids) are NewSortableId; alert uniqueness and
//   delivery claims are conditional writes.
// - ResetDerived: no truncate: at Commit, every sensor partition the sensor
//   index names, and the ledger, are deleted item by item (BatchWriteItem),
//   then a "*" change-log item makes readers reload.
// Errors as the contract and DynamoClient (common/aws/dynamodb_client.h).
// Thread-safe as the contract says.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/aws/dynamodb_client.h"
#include "common/clock.h"
#include "storage/meta_store.h"
#include "storage/object_store.h"

namespace aquasense::storage {

// "dynamodb://TABLE_PREFIX" -> TABLE_PREFIX (letters, digits, '_', '-', '.';
// 3..250 characters with the "-meta" suffix). kInvalidArgument otherwise.
Result<std::string> ParseDynamoUrl(std::string_view url);

// The table of a prefix: "<prefix>-meta".
std::string DynamoMetaTable(std::string_view table_prefix);

// Creates the table of `table_prefix` unless it exists, waits until it is
// ACTIVE, turns on point-in-time recovery where supported. Idempotent; for
// `setup-aws`.
Status EnsureDynamoTables(const aws::DynamoClient& db, std::string_view table_prefix);
// The same from the URL, with the AWS settings of the environment.
Status EnsureDynamoTables(std::string_view meta_url, const Clock& clock);

// The store on `db`'s table of `table_prefix`; large blocks go to `blocks`
// (which must outlive the store). Nothing is contacted yet.
std::unique_ptr<MetaStore> NewDynamoMetaStore(std::shared_ptr<aws::DynamoClient> db,
                                              std::string_view table_prefix, ObjectStore* blocks,
                                              const Clock& clock);

// The MetaStore a --meta URL names: "dynamodb://TABLE_PREFIX" (AWS settings
// from the environment). kInvalidArgument for another scheme.
Result<std::unique_ptr<MetaStore>> OpenMetaStoreUrl(std::string_view url, ObjectStore* blocks,
                                                    const Clock& clock);

}  // namespace aquasense::storage
