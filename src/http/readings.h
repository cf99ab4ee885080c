// Readings: the stored valid readings of one sensor, as a stream of text
// pieces (SPEC §10), for GET /v1/sensors/{id}/readings and `aquasense readings`.
//
//   std::string error;
//   auto q = ParseReadingsQuery("from=2024-01-01&to=2024-01-31&format=json", error);
//   ReadingsStream s("buoy-3", *q, MonthsInRange(months, *q), read_block);
//   std::string piece;
//   while (true) { auto more = s.Next(piece); ...send piece...; if (!*more) break; }
//
// Readings come out in date order (blocks are read one month at a time,
// oldest first, through `read_block`), so memory stays flat whatever the
// range: one decoded block and one piece of about kPieceBytes. `from`/`to`
// are inclusive days, compared with the date as written (time and offset
// aside). Options for charts: `tail=N` gives the last N readings of the range
// (read newest block first, N <= 10,000); `points=N` decimates per pixel: the
// range is cut into N equal time buckets and each gives its lowest and highest
// temperature reading (at most 2N rows, all of them real stored readings).
// Thread-safety: a ReadingsStream belongs to one thread. Errors: Next() passes
// on the reader's error, and kInternal for a block that does not decode.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "core/reading.h"
#include "http/handlers.h"
#include "http/snapshot.h"
#include "storage/meta_store.h"
#include "storage/object_store.h"

namespace aquasense::http {

enum class ReadingsFormat : uint8_t { kCsv, kJson };

inline constexpr std::string_view kCsvType = "text/csv; charset=utf-8";

struct ReadingsQuery {
  std::optional<int32_t> from_days;  // inclusive, days since 1970-01-01
  std::optional<int32_t> to_days;    // inclusive
  ReadingsFormat format = ReadingsFormat::kCsv;
  size_t tail = 0;    // 0: every reading; else the last `tail` of the range
  size_t points = 0;  // 0: every reading; else min and max of `points` time buckets
};

inline constexpr size_t kMaxTail = 10'000;
inline constexpr size_t kMaxPoints = 100'000;
inline constexpr size_t kPieceBytes = 64 * 1024;

// "YYYY-MM-DD" (exactly 4-2-2 digits, a real calendar date) as days since
// 1970-01-01; nothing otherwise.
std::optional<int32_t> ParseDay(std::string_view s);

// Parses from, to, format (csv|json), tail and points; unknown parameters are
// ignored. On failure returns nothing and sets `error` (the 400 message).
std::optional<ReadingsQuery> ParseReadingsQuery(std::string_view query, std::string& error);

// The months of `months` (ascending month indexes) that overlap the query's
// day range.
std::vector<int32_t> MonthsInRange(std::span<const int32_t> months, const ReadingsQuery& q);

// Reads the block of one month of the sensor (nothing when it is gone).
using BlockReader = std::function<Result<std::optional<std::string>>(int32_t month)>;

class ReadingsStream {
 public:
  ReadingsStream(std::string sensor, ReadingsQuery q, std::vector<int32_t> months,
                 BlockReader read);

  // Appends the next piece of the body (about kPieceBytes, the CSV header or
  // the JSON brackets included) to `out`. Returns false once the body is
  // complete (the last piece may be empty), true while more follows.
  Result<bool> Next(std::string& out);

  // Readings written so far.
  int64_t count() const { return count_; }

 private:
  Status LoadNextBlock(bool& loaded);
  Status CollectTail();
  void Append(std::string& out, const core::Reading& r);
  void FlushBucket(std::string& out);
  bool InRange(const core::Reading& r) const;

  std::string sensor_;
  ReadingsQuery q_;
  std::vector<int32_t> months_;
  BlockReader read_;
  size_t next_month_ = 0;
  std::vector<core::Reading> block_;
  size_t pos_ = 0;
  bool started_ = false;
  bool done_ = false;
  int64_t count_ = 0;
  // points: the bucket being filled, its lowest and highest readings.
  int64_t range_start_ms_ = 0;
  int64_t bucket_ms_ = 1;
  int64_t bucket_ = -1;
  std::optional<core::Reading> lo_, hi_;
  // The civil date of the last reading printed (readings of a day share it).
  int32_t civil_days_ = INT32_MIN;
  core::CivilDate civil_{};
};

// GET /v1/sensors/{id}/readings: 400 (bad id or query), 404 (a sensor the
// snapshot does not know), else a 200 whose body streams the readings of the
// snapshot's months from `meta` (one short SQLite read per block, on the
// calling thread). `meta` must outlive the response.
Response ReadingsResponse(std::string_view segment, std::string_view query, const Snapshot& snap,
                          storage::MetaStore* meta);

// GET /v1/files/{sha256}/invalid?sensor=S: filtered/S/SHA.invalid.csv as
// text/csv, at most its first kMaxInvalidBytes (cut after a whole line). 400
// for a malformed sha256 or sensor, 404 when there is no such file.
inline constexpr size_t kMaxInvalidBytes = 256 * 1024;
Response InvalidRowsResponse(std::string_view sha_segment, std::string_view query,
                             storage::ObjectStore* objects);

}  // namespace aquasense::http
