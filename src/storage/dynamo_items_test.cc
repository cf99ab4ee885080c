// Issue 12 "one source of truth": each DynamoDB item type maps its fields
// through one attribute table (dynamo_items.cc), read both ways; and the
// store's conflict mode is the merge's (one enum).
#include "storage/dynamo_items.h"

#include <gtest/gtest.h>

#include <type_traits>

namespace aquasense::storage::dynamo {
namespace {

static_assert(std::is_same_v<OnConflict, core::ConflictMode>,
              "one conflict enum from the merge to the ledger");

TEST(DynamoItems, FileRecordRoundTripsEveryField) {
  FileRecord f;
  f.seq = 7;
  f.hash = "ab12";
  f.default_sensor = "s-1";
  f.landing_key = "landing/ab12";
  f.source_name = "in.csv";
  f.on_conflict = OnConflict::kReplace;
  f.ingested_ms = 1'700'000'000'000;
  f.rows = 10;
  f.valid = 8;
  f.invalid = 1;
  f.duplicates = 1;
  f.alerts = 2;
  f.bytes = 4096;
  const Json item = FileItem(f);
  EXPECT_EQ(item["landing_key"]["S"], "landing/ab12");
  EXPECT_EQ(item["bytes"]["N"], "4096");
  EXPECT_EQ(item["on_conflict"]["S"], "replace");
  const FileRecord back = FileFrom(item);
  EXPECT_EQ(back.seq, 7);
  EXPECT_EQ(back.hash, "ab12");
  EXPECT_EQ(back.source_name, "in.csv");
  EXPECT_EQ(back.on_conflict, OnConflict::kReplace);
  EXPECT_EQ(back.ingested_ms, 1'700'000'000'000);
  EXPECT_EQ(back.invalid, 1);
  EXPECT_EQ(back.alerts, 2);
  EXPECT_EQ(back.bytes, 4096);
}

TEST(DynamoItems, AnOldLedgerItemWithoutBytesReadsAsUnknownSize) {
  FileRecord f;
  f.hash = "cd34";
  f.bytes = 10;
  Json item = FileItem(f);
  item.erase("bytes");
  item.erase("on_conflict");
  const FileRecord back = FileFrom(item);
  EXPECT_EQ(back.bytes, -1);
  EXPECT_EQ(back.on_conflict, OnConflict::kReject);
  EXPECT_EQ(back.hash, "cd34");
}

TEST(DynamoItems, AlertDeliveryAndAppliedFileRoundTrip) {
  Alert a;
  a.id = 42;
  a.kind = "deviation";
  a.payload_json = "{}";
  const Alert a2 = AlertFrom(AlertItem(a));
  EXPECT_EQ(a2.id, 42);
  EXPECT_EQ(a2.kind, "deviation");
  EXPECT_EQ(a2.payload_json, "{}");
  EXPECT_EQ(AlertItem(a)["payload"]["S"], "{}");

  Delivery d;
  d.alert_id = 42;
  d.channel = "ops";
  d.state = DeliveryState::kGaveUp;
  d.attempts = 3;
  d.last_error = "timeout";
  const Delivery d2 = DeliveryFrom(DeliveryItem(d));
  EXPECT_EQ(d2.channel, "ops");
  EXPECT_EQ(d2.state, DeliveryState::kGaveUp);
  EXPECT_EQ(d2.attempts, 3);
  EXPECT_EQ(d2.last_error, "timeout");

  const AppliedFile f{"ef", "s-3", 5, 2};
  const AppliedFile f2 = AppliedFrom(AppliedItem("s-3", f));
  EXPECT_EQ(f2.hash, "ef");
  EXPECT_EQ(f2.valid, 5);
  EXPECT_EQ(f2.duplicates, 2);
}

}  // namespace
}  // namespace aquasense::storage::dynamo
