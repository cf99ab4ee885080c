// Ledger records and alerts for the storage tests, built one way (the
// conformance suite, the SQLite, memory and DynamoDB tests):
//
//   ASSERT_TRUE(batch->RecordFile(testing::TestFile("h1", "s1", 10, 123)).ok());
//   ASSERT_TRUE(batch->AddAlert(testing::TestAlert("deviation", "s1", "h1"), {"log"}).ok());
//
// Header-only, for tests.
#pragma once

#include <cstdint>
#include <string>

#include "storage/meta_store.h"

namespace aquasense::testing {

// File `hash` whose rows without a sensor column go to `sensor`; kept at
// landing/<sensor>/<hash>.csv and named <hash>.csv. `bytes` -1: unknown.
inline storage::FileRecord TestFile(const std::string& hash, const std::string& sensor,
                                    int64_t rows = 0, int64_t bytes = -1) {
  storage::FileRecord f;
  f.hash = hash;
  f.default_sensor = sensor;
  f.landing_key = "landing/" + sensor + "/" + hash + ".csv";
  f.source_name = hash + ".csv";
  f.rows = rows;
  f.bytes = bytes;
  return f;
}

// An alert of `kind` on `sensor` ("" for a whole file) raised by file
// `hash` of default sensor `sensor`, at `created_ms`, with payload "{}".
inline storage::Alert TestAlert(const std::string& kind, const std::string& sensor,
                                const std::string& hash, int64_t created_ms = 0) {
  storage::Alert a;
  a.kind = kind;
  a.sensor = sensor;
  a.file_hash = hash;
  a.default_sensor = sensor;
  a.created_ms = created_ms;
  a.payload_json = "{}";
  return a;
}

}  // namespace aquasense::testing
