// Core value types: a reading's timestamp, a reading, a sensor-month and its
// monthly metrics, and the reasons a row can be invalid.
//
//   DateTime t = ...;            // from ParseDateTime (core/datetime.h)
//   int32_t m = t.MonthIndex();  // year*12 + month-1, the sensor-month key
//   Reading r{t, 12.5, 0.2};
//
// Plain values: no I/O, no allocation beyond std::string, thread-compatible.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace aquasense::core {

// A date, optionally with a time of day and a UTC offset, exactly as written.
// Two timestamps are the same reading time when all fields are equal: the
// month is the month of the date as written (SPEC §2); an offset is kept, not
// applied. A plain date and the same date at 00:00 are different times.
struct DateTime {
  static constexpr int32_t kNoTime = -1;
  static constexpr int16_t kNoOffset = INT16_MIN;

  int32_t days = 0;                // days since 1970-01-01 (may be negative)
  int32_t ms_of_day = kNoTime;     // 0..86'399'999, or kNoTime for a plain date
  int16_t offset_min = kNoOffset;  // UTC offset in minutes, or kNoOffset

  bool has_time() const { return ms_of_day != kNoTime; }
  bool has_offset() const { return offset_min != kNoOffset; }
  auto operator<=>(const DateTime&) const = default;
};

struct CivilDate {
  int32_t year;
  int32_t month;  // 1..12
  int32_t day;    // 1..31
};

// Calendar conversions (proleptic Gregorian, H. Hinnant's algorithms).
int32_t DaysFromCivil(int32_t y, int32_t m, int32_t d);
CivilDate CivilFromDays(int32_t days);
bool IsLeapYear(int32_t y);
int32_t DaysInMonth(int32_t y, int32_t m);

// Sensor-month key: year*12 + (month-1).
inline int32_t MonthIndex(int32_t year, int32_t month) { return year * 12 + (month - 1); }
inline int32_t YearOf(int32_t month_index) { return month_index / 12; }
inline int32_t MonthOf(int32_t month_index) { return month_index % 12 + 1; }
inline int32_t MonthIndexOf(const DateTime& t) {
  CivilDate c = CivilFromDays(t.days);
  return MonthIndex(c.year, c.month);
}

struct Reading {
  DateTime when;
  double temperature = 0;
  double sd = 0;

  // Exact duplicate: same time and same values (compared as doubles).
  bool SameValues(const Reading& o) const { return temperature == o.temperature && sd == o.sd; }
};

// Monthly metrics of one sensor-month (SPEC §4).
struct MonthlyMetrics {
  std::string sensor;
  int32_t year = 0;
  int32_t month = 0;
  double mean_temp = 0;
  double max_temp = 0;
  double max_sd = 0;
  std::optional<double> max_temp_diff;  // empty when the previous month has no data
  int64_t readings = 0;

  bool operator==(const MonthlyMetrics&) const = default;
};

// Why a row is invalid (SPEC §3). The names are the machine-readable reasons.
enum class Reason : uint8_t {
  kBadFieldCount,
  kBadDate,
  kBadNumber,
  kTempOutOfRange,
  kSdOutOfRange,
  kBadSensor,
  kConflictingDuplicate,
  kLineTooLong,
  kBadEncoding,
  kBadQuote,  // keep last: kReasonCount follows it
};
inline constexpr int kReasonCount = static_cast<int>(Reason::kBadQuote) + 1;
std::string_view ReasonName(Reason r);

}  // namespace aquasense::core
