// FileParser: turns the bytes of one input file into valid rows and invalid
// rows with reasons (SPEC §2–3), streaming, with bounded memory.
//
//   FileParser p(limits, "default");
//   ParseOutput out;
//   p.Feed(bytes, out);  ... p.Finish(out);   // out.rows / out.invalid
//
// Decided per file: delimiter (',' or ';', from the first non-blank line),
// header (all fields known column names) and, without a header, the layout
// (a sensor column unless the first data row starts with a date). Records may
// span lines inside quotes. Every physical line is accounted for (SPEC §3):
// a line over limits.max_line bytes is `line_too_long` and is skipped
// without buffering it; a quote that is not closed before the end of the
// file, or whose record does not end within limits.max_line bytes, makes
// only the line that opens it `bad_quote`, and parsing resumes on the next
// physical line. So rows + invalid == data_rows for any input. Duplicates
// and conflicts are not decided here (see core/block.h): they need the store.
// Not thread-safe; one FileParser per file. Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/reading.h"

namespace aquasense::core {

struct Limits {
  double temp_min = -5;  // °C, inclusive
  double temp_max = 45;
  double sd_min = 0;
  double sd_max = 10;
  double sd_alert = 0.5;  // a valid reading with sd above this is a deviation alert
  size_t max_line = 64 * 1024;
};

// A row that passed every check of SPEC §3 except the duplicate/conflict ones.
struct ParsedRow {
  uint32_t sensor = 0;  // index into FileParser::sensors()
  int32_t month = 0;    // MonthIndex of the date as written
  DateTime when;
  double temperature = 0;
  double sd = 0;
  int64_t line = 0;          // 1-based line where the record starts
  uint64_t offset = 0;       // byte offset of the record in the file
  uint32_t length = 0;       // record length in bytes (without the line end)
  uint32_t norm_offset = 0;  // the row's normalised CSV line in ParseOutput::normalized
  uint32_t norm_length = 0;  //   (`sensor,date,temperature,sd\n`, SPEC §4)
};

struct InvalidRow {
  int64_t line = 0;
  Reason reason = Reason::kBadFieldCount;
  std::string detail;
  std::string raw;  // the record as written (truncated to 1 KiB when too long;
                    //   the first line only for bad_quote)
};

struct ParseOutput {
  std::vector<ParsedRow> rows;
  std::string normalized;  // the valid rows' normalised lines, back to back
  std::vector<InvalidRow> invalid;
  int64_t data_rows = 0;  // records that are not blank and not the header
};

class FileParser {
 public:
  FileParser(const Limits& limits, std::string default_sensor);

  // Parses every complete record in `bytes` (the next part of the file),
  // appending to `out`; keeps an incomplete last record for the next call.
  void Feed(std::string_view bytes, ParseOutput& out);
  // End of file: parses what is left.
  void Finish(ParseOutput& out);

  // Sensor ids seen so far; ParsedRow::sensor indexes this.
  const std::vector<std::string>& sensors() const { return sensors_; }
  char delimiter() const { return delim_; }

  // Parsing one file in parts, on several threads (pipeline/file_ingest.cc):
  // True once the first record decided the delimiter and the columns.
  bool configured() const { return state_ == State::kData; }
  // True when the bytes fed so far end at a record boundary: nothing is
  // carried, skipped or replayed. Then the rest of the file parses exactly
  // as it would with a fork made at that offset (ForkAt).
  bool AtRecordBoundary() const {
    return carry_.empty() && !skipping_ && !has_replay_ && bom_held_ == 0;
  }
  // Line number of the next record (1 before any byte is fed).
  int64_t next_line() const { return line_; }
  // A parser for the same file's bytes from `offset` on, a record boundary
  // of this configured() parser: same delimiter, columns and limits, no
  // sensors yet, lines counted from 1 (the caller adds the lines before
  // `offset`), row offsets counted from `offset` (the file's own).
  FileParser ForkAt(uint64_t offset) const;

 private:
  enum class State { kStart, kData };
  // Parses what it can of `bytes` (file offset fed_); returns the bytes used:
  // all of them, unless a carried record ran past max_line inside a quote:
  // then replay_ holds the bytes after its first line, to be parsed first.
  size_t FeedSome(std::string_view bytes, ParseOutput& out);
  // Feed after the byte-order mark: parses bytes[pos, end) (bytes starts at
  // file offset fed_).
  void FeedData(std::string_view bytes, size_t pos, ParseOutput& out);
  // Goes on with the record carried in carry_ at [p, e); returns where the
  // next record starts (e: all used; p itself: see replay_).
  const char* ContinueCarry(const char* p, const char* e, ParseOutput& out);
  // A record starting on line `line` with `head` (no newline in it) and going
  // on at [p, e) that runs past max_line: reports its first physical line
  // (bad_quote when that line fits, else line_too_long) and returns where
  // parsing resumes (after that line, or e when it ends in a later piece).
  void EndSkippedLine(ParseOutput& out);
  const char* Overflow(int64_t line, std::string_view head, const char* p, const char* e,
                       ParseOutput& out);
  void ResetCarry();
  // `maybe_quoted` false: the record is known to hold no '"'.
  void ProcessRecord(std::string_view rec, int64_t line, bool maybe_quoted, ParseOutput& out);
  void ProcessFirst(std::string_view rec, int64_t line, ParseOutput& out);
  void ProcessData(std::string_view rec, int64_t line, ParseOutput& out);
  void Invalid(ParseOutput& out, int64_t line, Reason r, std::string detail, std::string_view raw);
  int SplitFields(std::string_view rec);
  void SetOutputOrder();  // after the columns are known
  // ParseNumber(text, comma, &printed), remembered for short texts.
  std::optional<double> ParseNumberMemo(std::string_view text, bool comma, size_t& printed);
  bool FieldsFill(std::string_view rec) const;
  // The id's index, added when new; kNoSensor for a new id that `validate`
  // finds invalid (IsValidSensorId).
  static constexpr uint32_t kNoSensor = UINT32_MAX;
  uint32_t InternSensor(std::string_view id, bool validate);

  Limits limits_;
  std::string default_sensor_;
  State state_ = State::kStart;
  bool bom_checked_ = false;
  size_t bom_held_ = 0;  // bytes of a byte-order mark held back (see Feed)
  char delim_ = ',';
  // Column positions; -1 when absent.
  int col_sensor_ = -1, col_date_ = 0, col_temp_ = 1, col_sd_ = 2;
  int ncols_ = 3;
  // The columns are ([sensor,]date,temperature,sd) with ',': a record whose
  // fields are all canonical is its own normalised line.
  bool output_order_ = false;

  // Recently parsed short number texts (see ParseNumberMemo).
  static constexpr int kNumberMemoBits = 12;
  static constexpr size_t kNumberMemoSlots = size_t{1} << kNumberMemoBits;
  static constexpr int64_t kNumberMemoAfter = 4096;  // numbers parsed before the table is set up
  struct NumberSlot {
    uint64_t key = 0;  // text bytes | length << 56; 0 = empty (no text has length 0)
    double value = 0;
    uint32_t printed = 0;
  };
  std::vector<NumberSlot> number_memo_;
  int64_t numbers_unmemoized_ = 0;

  // The last valid date text and its value (see ProcessData).
  std::string last_date_text_;
  DateTime last_when_;
  CivilDate last_civil_{};
  bool last_date_canonical_ = false;

  // Incomplete record carried between Feed calls.
  std::string carry_;
  int carry_qstate_ = 0;        // quote state at the end of carry_
  int64_t carry_newlines_ = 0;  // newlines inside carry_ (quoted)
  int64_t carry_line_ = 1;      // line where the carried record starts
  bool skipping_ = false;       // inside a too-long line: skip to its '\n'
  InvalidRow skip_row_;         // its row, pushed at its end (see Overflow)
  int64_t skip_line_ = 0;       // the line being skipped
  bool skip_whole_ = false;     // skip_row_.raw holds every byte of that line seen so far
  std::string replay_;          // see FeedSome
  bool has_replay_ = false;
  int64_t line_ = 1;            // line number of the next record
  uint64_t fed_ = 0;            // file offset of the bytes being parsed
  uint64_t carry_offset_ = 0;   // file offset of carry_
  uint64_t record_offset_ = 0;  // file offset of the record being processed

  std::vector<std::string_view> fields_;
  std::vector<std::string> unquoted_;  // storage for fields with "" escapes
  bool maybe_quoted_ = true;           // the record being processed may hold a '"'
  bool split_quoted_ = false;  // SplitFields met quotes: fields_ may not be views into the record
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<std::string> sensors_;
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> sensor_ids_;
  uint32_t last_sensor_ = UINT32_MAX;
  // Per sensor: the sensor of the row that followed it last time. Files that
  // interleave sensors repeat their order (a row per sensor and date), so
  // the next sensor is usually found with one comparison instead of a hash.
  std::vector<uint32_t> next_sensor_;
};

// The one sensor-id rule (SPEC §2), for every way an id comes in: --sensor,
// ?sensor=, a sensor column (else bad_sensor), an inbox folder. Ids match
// [A-Za-z0-9._-]{1,64} and do not start with '.': ".", ".." and ".tmp"
// would collide with the data directory's layout.
inline constexpr std::string_view kSensorIdRule =
    "use 1-64 of A-Z a-z 0-9 . _ -, not starting with .";
bool IsValidSensorId(std::string_view id);
// `sensor id "<id>" is not allowed: <kSensorIdRule>`, the id cut at 64
// characters (then "…").
std::string SensorIdError(std::string_view id);
// True when `s` is valid UTF-8.
bool IsValidUtf8(std::string_view s);

}  // namespace aquasense::core
