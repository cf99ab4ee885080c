#include "core/validate.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <utility>

#include "common/enum_names.h"
#include "core/datetime.h"
#include "core/number.h"

namespace aquasense::core {

namespace {

constexpr size_t kMaxRawKept = 1024;  // raw bytes kept of a too-long record
constexpr int kQFieldStart = 0, kQUnquoted = 1, kQQuoted = 2, kQQuoteSeen = 3;

inline bool IsDelimChar(char c, char delim) { return delim ? c == delim : (c == ',' || c == ';'); }

// Scans [p, e) for the '\n' ending the current record, honouring RFC 4180
// quotes (a quote opens a quoted field only at the start of a field).
// `qs` carries the quote state across calls. Returns nullptr when the record
// does not end inside [p, e). `quoted` is false when [p, result) is known to
// hold no quote (the common case), so callers need not search it again.
const char* ScanRecord(const char* p, const char* e, int& qs, char delim, bool& quoted) {
  quoted = false;
  if (qs == kQFieldStart) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(e - p)));
    if (nl != nullptr && std::memchr(p, '"', static_cast<size_t>(nl - p)) == nullptr) return nl;
  }
  quoted = true;
  for (; p < e; ++p) {
    const char c = *p;
    switch (qs) {
      case kQFieldStart:
        if (c == '"')
          qs = kQQuoted;
        else if (c == '\n')
          return p;
        else if (c != ' ' && c != '\t' && !IsDelimChar(c, delim))
          qs = kQUnquoted;
        break;
      case kQUnquoted:
        if (c == '\n') {
          qs = kQFieldStart;
          return p;
        }
        if (IsDelimChar(c, delim)) qs = kQFieldStart;
        break;
      case kQQuoted:
        if (c == '"') qs = kQQuoteSeen;
        break;
      default:  // kQQuoteSeen
        if (c == '"')
          qs = kQQuoted;
        else if (c == '\n') {
          qs = kQFieldStart;
          return p;
        } else if (IsDelimChar(c, delim))
          qs = kQFieldStart;
        else
          qs = kQUnquoted;
        break;
    }
  }
  return nullptr;
}

inline std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

inline bool IsBlank(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\r') return false;
  return true;
}

inline bool IsAscii(std::string_view s) {
  const char* p = s.data();
  size_t n = s.size();
  uint64_t acc = 0;
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    acc |= w;
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    acc |= static_cast<unsigned char>(*p++);
    --n;
  }
  return (acc & 0x8080808080808080ULL) == 0;
}

enum Column { kColSensor, kColDate, kColTemp, kColSd, kColUnknown };

Column ColumnOf(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "date" || lower == "fecha" || lower == "timestamp") return kColDate;
  if (lower == "temperature" || lower == "temp" || lower == "temperatura") return kColTemp;
  if (lower == "sd" || lower == "std" || lower == "desviacion") return kColSd;
  if (lower == "sensor" || lower == "station" || lower == "estacion") return kColSensor;
  return kColUnknown;
}

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace

bool IsValidSensorId(std::string_view id) {
  // A leading '.' would name "." or "..", or a hidden entry (".tmp") in the
  // data directory's layout (landing/<id>/, analysis/monthly/<id>.csv).
  if (id.empty() || id.size() > 64 || id[0] == '.') return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string SensorIdError(std::string_view id) {
  constexpr size_t kShown = 64;  // a 10,000-character id is not echoed in full
  std::string shown(id.substr(0, kShown));
  if (id.size() > kShown) shown += "\u2026";
  return "sensor id \"" + shown + "\" is not allowed: " + std::string(kSensorIdRule);
}

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* e = p + s.size();
  while (p < e) {
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF)
      n = 1, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
      n = 2, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
      n = 3, cp = c & 0x07;
    else
      return false;
    if (e - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    p += n + 1;
  }
  return true;
}

FileParser::FileParser(const Limits& limits, std::string default_sensor)
    : limits_(limits), default_sensor_(std::move(default_sensor)) {
  fields_.reserve(8);
}

FileParser FileParser::ForkAt(uint64_t offset) const {
  FileParser f(limits_, default_sensor_);
  f.state_ = state_;
  f.bom_checked_ = true;  // a byte-order mark only starts the file
  f.delim_ = delim_;
  f.col_sensor_ = col_sensor_;
  f.col_date_ = col_date_;
  f.col_temp_ = col_temp_;
  f.col_sd_ = col_sd_;
  f.ncols_ = ncols_;
  f.output_order_ = output_order_;
  f.number_memo_ = number_memo_;  // a cache of pure results: warm from the start
  f.numbers_unmemoized_ = numbers_unmemoized_;
  f.fed_ = offset;
  return f;
}

uint32_t FileParser::InternSensor(std::string_view id, bool validate) {
  const uint32_t prev = last_sensor_;
  if (prev != UINT32_MAX) {
    if (sensors_[prev] == id) return prev;
    const uint32_t guess = next_sensor_[prev];
    if (guess != UINT32_MAX && sensors_[guess] == id) return last_sensor_ = guess;
  }
  auto it = sensor_ids_.find(id);
  if (it == sensor_ids_.end()) {
    // Only a new id needs checking: the known ones were checked when added.
    if (validate && !IsValidSensorId(id)) return kNoSensor;
    it = sensor_ids_.emplace(std::string(id), static_cast<uint32_t>(sensors_.size())).first;
    sensors_.emplace_back(id);
    next_sensor_.push_back(UINT32_MAX);
  }
  if (prev != UINT32_MAX) next_sensor_[prev] = it->second;
  last_sensor_ = it->second;
  return last_sensor_;
}

void FileParser::Invalid(ParseOutput& out, int64_t line, Reason r, std::string detail,
                         std::string_view raw) {
  out.invalid.push_back(InvalidRow{line, r, std::move(detail), std::string(raw)});
}

namespace {
constexpr std::string_view kBom = "\xEF\xBB\xBF";  // UTF-8 byte-order mark
}  // namespace

void FileParser::Feed(std::string_view bytes, ParseOutput& out) {
  size_t pos = 0;
  if (!bom_checked_) {
    // A byte-order mark is only meaningful at the very start of the file,
    // and may come split over calls: its first bytes are held back (not
    // parsed, bom_held_) until the mark is whole (skipped) or a byte shows
    // it is none (then parsed as data), so that where the pieces end does
    // not matter (issue 11: found by the parser fuzz target's split check).
    size_t have = bom_held_;
    while (have < kBom.size() && pos < bytes.size() && bytes[pos] == kBom[have]) ++have, ++pos;
    if (have < kBom.size() && pos == bytes.size()) {
      bom_held_ = have;
      fed_ += bytes.size();
      return;
    }
    bom_checked_ = true;
    if (have < kBom.size()) {  // no mark: what was held back is data
      pos = 0;
      if (bom_held_ > 0) {
        const size_t held = std::exchange(bom_held_, 0);
        fed_ -= held;
        FeedData(std::string(kBom.substr(0, held)).append(bytes), 0, out);
        return;
      }
    }
    bom_held_ = 0;
  }
  FeedData(bytes, pos, out);
}

void FileParser::FeedData(std::string_view bytes, size_t pos, ParseOutput& out) {
  const uint64_t base = fed_;
  while (true) {
    fed_ = base + pos;
    pos += FeedSome(bytes.substr(pos), out);
    if (!has_replay_) break;
    // A quoted record ran past max_line: its first line was reported; the
    // lines after it (held in replay_, shorter than max_line) are parsed
    // again as records of their own, before the rest of `bytes`.
    has_replay_ = false;
    const std::string replay = std::move(replay_);
    replay_.clear();
    fed_ = base + pos - replay.size();
    FeedSome(replay, out);  // no carry at its start and short: used whole
  }
  fed_ = base + bytes.size();
}

void FileParser::ResetCarry() {
  carry_.clear();
  carry_qstate_ = kQFieldStart;
  carry_newlines_ = 0;
}

size_t FileParser::FeedSome(std::string_view bytes, ParseOutput& out) {
  const char* p = bytes.data();
  const char* const e = p + bytes.size();

  // 1. Finish a line being skipped, or a record carried over from the previous call.
  if (skipping_) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', bytes.size()));
    const size_t seg = nl ? static_cast<size_t>(nl - p) : bytes.size();
    std::string& raw = skip_row_.raw;  // completed up to kMaxRawKept (see Overflow)
    const size_t room = kMaxRawKept - std::min(raw.size(), kMaxRawKept);
    raw.append(p, std::min(seg, room));
    skip_whole_ = skip_whole_ && seg <= room;
    if (nl == nullptr) return bytes.size();
    EndSkippedLine(out);
    line_ = skip_line_ + 1;
    p = nl + 1;
  } else if (!carry_.empty()) {
    p = ContinueCarry(p, e, out);
    if (has_replay_) return static_cast<size_t>(p - bytes.data());
  }

  // 2. Complete records in place.
  while (p < e) {
    int state = kQFieldStart;
    bool quoted;
    const char* nl = ScanRecord(p, e, state, state_ == State::kData ? delim_ : 0, quoted);
    if (nl == nullptr) {
      const size_t n = static_cast<size_t>(e - p);
      if (n > limits_.max_line) {
        p = Overflow(line_, {}, p, e, out);
        continue;
      }
      carry_line_ = line_;
      carry_offset_ = fed_ + static_cast<uint64_t>(p - bytes.data());
      carry_qstate_ = state;
      carry_newlines_ = std::count(p, e, '\n');
      carry_.assign(p, n);
      break;
    }
    const std::string_view rec(p, static_cast<size_t>(nl - p));
    // A quoted field may hold newlines: they belong to this record, unless
    // it runs past max_line (then its lines are records of their own).
    const bool multiline = quoted && std::memchr(rec.data(), '\n', rec.size()) != nullptr;
    if (multiline && rec.size() - (rec.back() == '\r') > limits_.max_line) {
      p = Overflow(line_, {}, p, e, out);
      continue;
    }
    record_offset_ = fed_ + static_cast<uint64_t>(p - bytes.data());
    ProcessRecord(rec, line_, quoted, out);
    line_ += 1 + (multiline ? std::count(rec.begin(), rec.end(), '\n') : 0);
    p = nl + 1;
  }
  return bytes.size();
}

const char* FileParser::ContinueCarry(const char* p, const char* e, ParseOutput& out) {
  int state = carry_qstate_;
  bool quoted;
  const char* nl = ScanRecord(p, e, state, state_ == State::kData ? delim_ : 0, quoted);
  const char* seg_end = nl ? nl : e;
  const size_t seg = static_cast<size_t>(seg_end - p);
  size_t len = carry_.size() + seg;
  if (nl != nullptr && len > 0 && (seg > 0 ? seg_end[-1] : carry_.back()) == '\r') --len;
  if (len > limits_.max_line) {
    const size_t first_nl = carry_.find('\n');
    if (first_nl == std::string::npos) {
      const int64_t line = carry_line_;
      const std::string head = std::move(carry_);
      ResetCarry();
      return Overflow(line, head, p, e, out);
    }
    // The record spans lines inside an open quote and runs past max_line:
    // its first line is the invalid row, the others are parsed again.
    std::string_view first(carry_.data(), first_nl);
    if (!first.empty() && first.back() == '\r') first.remove_suffix(1);
    out.data_rows++;
    Invalid(out, carry_line_, Reason::kBadQuote,
            "quote not closed within " + std::to_string(limits_.max_line) + " bytes", first);
    replay_.assign(carry_, first_nl + 1);
    has_replay_ = true;
    line_ = carry_line_ + 1;
    ResetCarry();
    return p;
  }
  carry_.append(p, seg);
  carry_newlines_ += std::count(p, seg_end, '\n');
  carry_qstate_ = state;
  if (nl == nullptr) return e;
  record_offset_ = carry_offset_;
  ProcessRecord(carry_, carry_line_, /*maybe_quoted=*/true, out);
  line_ = carry_line_ + carry_newlines_ + 1;
  ResetCarry();
  return nl + 1;
}

const char* FileParser::Overflow(int64_t line, std::string_view head, const char* p, const char* e,
                                 ParseOutput& out) {
  const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(e - p)));
  const size_t tail = static_cast<size_t>((nl ? nl : e) - p);
  size_t len = head.size() + tail;  // of the first line, without its line end
  if (nl != nullptr && len > 0 && (tail > 0 ? nl[-1] : head.back()) == '\r') --len;
  std::string raw;
  out.data_rows++;
  if (nl != nullptr && len <= limits_.max_line) {
    // The line fits: the record runs on past it inside an open quote.
    raw.append(head).append(p, tail).resize(len);
    Invalid(out, line, Reason::kBadQuote,
            "quote not closed within " + std::to_string(limits_.max_line) + " bytes", raw);
  } else {
    // The kept text is the line's first bytes without its line end, as
    // ProcessRecord keeps them, whatever the pieces.
    const size_t keep = std::min(len, kMaxRawKept);
    raw.assign(head.substr(0, keep));
    raw.append(p, keep - raw.size());
    Invalid(out, line, Reason::kLineTooLong,
            "line longer than " + std::to_string(limits_.max_line) + " bytes", raw);
  }
  if (nl == nullptr) {
    // The line goes on in the next pieces: its row waits for the rest of its
    // raw text (up to kMaxRawKept), so that what is kept does not depend on
    // where the pieces end (parts of a file parsed on two threads, issue 11).
    skip_row_ = std::move(out.invalid.back());
    out.invalid.pop_back();
    skipping_ = true;
    skip_whole_ = len <= kMaxRawKept;
    skip_line_ = line;
    return e;
  }
  line_ = line + 1;
  return nl + 1;
}

// The end of a skipped too-long line: a '\r' before its '\n' (or at the end
// of the file) is its line end, not text, when the kept text reached it.
void FileParser::EndSkippedLine(ParseOutput& out) {
  std::string& raw = skip_row_.raw;
  if (skip_whole_ && !raw.empty() && raw.back() == '\r') raw.pop_back();
  out.invalid.push_back(std::move(skip_row_));
  skipping_ = false;
}

void FileParser::Finish(ParseOutput& out) {
  if (!bom_checked_) {  // a file shorter than the mark, held back: data
    bom_checked_ = true;
    const size_t held = std::exchange(bom_held_, 0);
    fed_ -= held;
    FeedData(kBom.substr(0, held), 0, out);
  }
  if (skipping_) {
    EndSkippedLine(out);
    return;
  }
  while (!carry_.empty()) {
    if (carry_qstate_ != kQQuoted) {
      record_offset_ = carry_offset_;
      ProcessRecord(carry_, carry_line_, /*maybe_quoted=*/true, out);
      ResetCarry();
      return;
    }
    // A quote still open at the end of the file: only the line that opened
    // it is invalid; the lines after it are parsed as records of their own.
    const size_t first_nl = carry_.find('\n');
    std::string_view first = std::string_view(carry_).substr(0, first_nl);
    if (!first.empty() && first.back() == '\r') first.remove_suffix(1);
    out.data_rows++;
    Invalid(out, carry_line_, Reason::kBadQuote, "quote not closed before the end of the file",
            first);
    if (first_nl == std::string::npos) {
      ResetCarry();
      return;
    }
    const std::string replay = carry_.substr(first_nl + 1);
    fed_ = carry_offset_ + first_nl + 1;
    line_ = carry_line_ + 1;
    ResetCarry();
    FeedSome(replay, out);  // its unfinished last record is carried again
  }
}

void FileParser::ProcessRecord(std::string_view rec, int64_t line, bool maybe_quoted,
                               ParseOutput& out) {
  maybe_quoted_ = maybe_quoted;
  if (!rec.empty() && rec.back() == '\r') rec.remove_suffix(1);
  if (IsBlank(rec)) return;
  if (rec.size() > limits_.max_line) {
    out.data_rows++;
    Invalid(out, line, Reason::kLineTooLong,
            "line longer than " + std::to_string(limits_.max_line) + " bytes",
            rec.substr(0, kMaxRawKept));
    return;
  }
  if (!IsAscii(rec) && !IsValidUtf8(rec)) {
    out.data_rows++;
    Invalid(out, line, Reason::kBadEncoding, "not valid UTF-8", rec);
    return;
  }
  if (state_ == State::kStart) {
    ProcessFirst(rec, line, out);
  } else {
    ProcessData(rec, line, out);
  }
}

void FileParser::ProcessFirst(std::string_view rec, int64_t line, ParseOutput& out) {
  delim_ = rec.find(';') != std::string_view::npos ? ';' : ',';
  state_ = State::kData;
  const int n = SplitFields(rec);

  // A header names every column, with date, temperature and sd among them.
  int cols[4] = {-1, -1, -1, -1};
  bool header = n >= 3 && n <= 4;
  for (int i = 0; header && i < n; ++i) {
    const Column c = ColumnOf(fields_[static_cast<size_t>(i)]);
    if (c == kColUnknown || cols[c] != -1)
      header = false;
    else
      cols[c] = i;
  }
  if (header && cols[kColDate] >= 0 && cols[kColTemp] >= 0 && cols[kColSd] >= 0) {
    col_sensor_ = cols[kColSensor];
    col_date_ = cols[kColDate];
    col_temp_ = cols[kColTemp];
    col_sd_ = cols[kColSd];
    ncols_ = n;
    SetOutputOrder();
    return;
  }
  // No header: the first data row decides whether there is a sensor column.
  const bool first_is_date = n > 0 && ParseDateTime(fields_[0]).has_value();
  const bool sensor_layout =
      !first_is_date && (n == 4 || (n != 3 && n > 0 && IsValidSensorId(fields_[0])));
  if (sensor_layout) {
    col_sensor_ = 0, col_date_ = 1, col_temp_ = 2, col_sd_ = 3, ncols_ = 4;
  } else {
    col_sensor_ = -1, col_date_ = 0, col_temp_ = 1, col_sd_ = 2, ncols_ = 3;
  }
  SetOutputOrder();
  ProcessData(rec, line, out);
}

void FileParser::SetOutputOrder() {
  const int first = col_sensor_ < 0 ? col_date_ : col_sensor_;
  output_order_ = delim_ == ',' && first == 0 && (col_sensor_ < 0 || col_date_ == 1) &&
                  col_temp_ == col_date_ + 1 && col_sd_ == col_temp_ + 1 && ncols_ == col_sd_ + 1;
}

// Long on purpose: the SWAR field scan, the parser's hot path (issue 11, bench/ingest_instr.sh)
// NOLINTNEXTLINE(readability-function-size)
int FileParser::SplitFields(std::string_view rec) {
  fields_.clear();
  split_quoted_ = maybe_quoted_ && std::memchr(rec.data(), '"', rec.size()) != nullptr;
  if (!split_quoted_) {
    // Fields are a few bytes long: no memchr call per field. Eight bytes at
    // a time (SWAR): the exact zero-byte test of `word ^ delimiters` marks
    // each delimiter's byte; a full-precision record is ~60 bytes with 3
    // delimiters, 8 steps instead of 60 compares (callgrind: 550 -> ~200
    // instructions a row). The last 0-7 bytes go byte by byte.
    const char* const begin = rec.data();
    const char* const end = begin + rec.size();
    const char* start = begin;
    const char* p = begin;
    constexpr uint64_t kLow7 = 0x7F7F7F7F7F7F7F7FULL;
    const uint64_t delims = 0x0101010101010101ULL * static_cast<unsigned char>(delim_);
    for (; end - p >= 8; p += 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      const uint64_t x = word ^ delims;  // a zero byte where a delimiter is
      uint64_t hits = ~(((x & kLow7) + kLow7) | x | kLow7);
      for (; hits != 0; hits &= hits - 1) {
        const char* d = p + (std::countr_zero(hits) >> 3);
        fields_.push_back(Trim(std::string_view(start, static_cast<size_t>(d - start))));
        start = d + 1;
      }
    }
    for (; p != end; ++p) {
      if (*p == delim_) {
        fields_.push_back(Trim(std::string_view(start, static_cast<size_t>(p - start))));
        start = p + 1;
      }
    }
    fields_.push_back(Trim(std::string_view(start, static_cast<size_t>(end - start))));
    return static_cast<int>(fields_.size());
  }
  // RFC 4180 quoted fields; "" inside quotes is one quote.
  unquoted_.clear();
  unquoted_.reserve(rec.size() / 2 + 1);  // fields_ views into unquoted_: no reallocation
  size_t i = 0;
  while (true) {
    while (i < rec.size() && (rec[i] == ' ' || rec[i] == '\t')) ++i;
    if (i < rec.size() && rec[i] == '"') {
      std::string value;
      ++i;
      while (i < rec.size()) {
        if (rec[i] == '"') {
          if (i + 1 < rec.size() && rec[i + 1] == '"') {
            value.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        value.push_back(rec[i++]);
      }
      // Anything between the closing quote and the delimiter is kept as text.
      const size_t d = rec.find(delim_, i);
      const std::string_view tail =
          Trim(rec.substr(i, d == std::string_view::npos ? rec.npos : d - i));
      value.append(tail);
      unquoted_.push_back(std::move(value));
      fields_.push_back(unquoted_.back());
      if (d == std::string_view::npos) break;
      i = d + 1;
    } else {
      const size_t d = rec.find(delim_, i);
      fields_.push_back(Trim(rec.substr(i, d == std::string_view::npos ? rec.npos : d - i)));
      if (d == std::string_view::npos) break;
      i = d + 1;
    }
  }
  return static_cast<int>(fields_.size());
}

// Kept whole (117 lines, over STYLE's 60): the per-row hot path of the
// parser, whose speed issue 11 measures (bench/ingest_bench.sh); the cached
// date and number state it shares with the normalised-line rendering would
// have to travel through a parameter struct. Split it with a benchmark run.
// Long on purpose: the per-row hot path (issue 11); see the comment above
// NOLINTNEXTLINE(readability-function-size)
void FileParser::ProcessData(std::string_view rec, int64_t line, ParseOutput& out) {
  out.data_rows++;
  const int n = SplitFields(rec);
  if (n != ncols_) {
    Invalid(out, line, Reason::kBadFieldCount,
            "expected " + std::to_string(ncols_) + " fields, got " + std::to_string(n), rec);
    return;
  }
  uint32_t sensor;
  if (col_sensor_ >= 0) {
    const std::string_view id = fields_[static_cast<size_t>(col_sensor_)];
    sensor = InternSensor(id, /*validate=*/true);
    if (sensor == kNoSensor) {
      Invalid(out, line, Reason::kBadSensor, "sensor id must match [A-Za-z0-9._-]{1,64}", rec);
      return;
    }
  } else {
    sensor = InternSensor(default_sensor_, /*validate=*/false);
  }
  const std::string_view date_text = fields_[static_cast<size_t>(col_date_)];
  // Rows of many sensors for one date follow each other: a date equal to the
  // last valid one is not parsed again.
  if (date_text.empty() || date_text != last_date_text_) {
    CivilDate civil;
    const auto when = ParseDateTime(date_text, &civil);
    if (!when) {
      Invalid(out, line, Reason::kBadDate,
              "not a valid year-first date: " + Quote(date_text.substr(0, 64)), rec);
      return;
    }
    last_date_text_.assign(date_text);
    last_when_ = *when;
    last_civil_ = civil;
    last_date_canonical_ = IsCanonicalDateText(date_text);
  }
  const DateTime* when = &last_when_;
  const CivilDate& civil = last_civil_;
  const bool comma = delim_ == ';';
  const std::string_view temp_text = fields_[static_cast<size_t>(col_temp_)];
  size_t temp_printed = 0, sd_printed = 0;  // see ParseNumber
  const auto temp = ParseNumberMemo(temp_text, comma, temp_printed);
  if (!temp) {
    Invalid(out, line, Reason::kBadNumber,
            "temperature is not a number: " + Quote(temp_text.substr(0, 64)), rec);
    return;
  }
  const std::string_view sd_text = fields_[static_cast<size_t>(col_sd_)];
  const auto sd = ParseNumberMemo(sd_text, comma, sd_printed);
  if (!sd) {
    Invalid(out, line, Reason::kBadNumber, "sd is not a number: " + Quote(sd_text.substr(0, 64)),
            rec);
    return;
  }
  if (*temp < limits_.temp_min || *temp > limits_.temp_max) {
    Invalid(out, line, Reason::kTempOutOfRange,
            "temperature " + FormatNumber(*temp) + " outside [" + FormatNumber(limits_.temp_min) +
                ", " + FormatNumber(limits_.temp_max) + "]",
            rec);
    return;
  }
  if (*sd < limits_.sd_min || *sd > limits_.sd_max) {
    Invalid(out, line, Reason::kSdOutOfRange,
            "sd " + FormatNumber(*sd) + " outside [" + FormatNumber(limits_.sd_min) + ", " +
                FormatNumber(limits_.sd_max) + "]",
            rec);
    return;
  }
  ParsedRow row;
  row.sensor = sensor;
  row.month = MonthIndex(civil.year, civil.month);
  row.when = *when;
  row.temperature = *temp;
  row.sd = *sd;
  row.line = line;
  row.offset = record_offset_;
  row.length = static_cast<uint32_t>(rec.size());
  // The normalised line, rendered here (the parsing stage) rather than by the
  // stage that decides duplicates, which only copies it.
  std::string& norm = out.normalized;
  row.norm_offset = static_cast<uint32_t>(norm.size());
  // A field already in its normalised form (canonical date, canonical number:
  // see IsCanonicalDateText / IsCanonicalNumberText) prints as its own text,
  // so the text is copied instead of formatting the parsed value; a record
  // made only of such fields, in output order, is copied whole.
  const bool canonical =
      last_date_canonical_ && temp_printed == temp_text.size() && sd_printed == sd_text.size();
  if (canonical && output_order_ && !split_quoted_ && FieldsFill(rec)) {
    if (col_sensor_ < 0) {
      norm += sensors_[sensor];
      norm += ',';
    }
    norm += rec;
  } else {
    norm += sensors_[sensor];
    norm += ',';
    char buf[40];
    if (last_date_canonical_) {
      norm += date_text;
    } else {
      norm.append(buf, FormatDateTimeTo(*when, civil, buf));
    }
    norm += ',';
    if (temp_printed > 0) {
      norm += temp_text.substr(0, temp_printed);
    } else {
      norm.append(buf, FormatNumberTo(*temp, buf));
    }
    norm += ',';
    if (sd_printed > 0) {
      norm += sd_text.substr(0, sd_printed);
    } else {
      norm.append(buf, FormatNumberTo(*sd, buf));
    }
  }
  norm += '\n';
  row.norm_length = static_cast<uint32_t>(norm.size()) - row.norm_offset;
  out.rows.push_back(row);
}

std::optional<double> FileParser::ParseNumberMemo(std::string_view text, bool comma,
                                                  size_t& printed) {
  // Readings repeat a few thousand distinct number texts ("12.34"), so the
  // parsed value of a short text is remembered in a small direct-mapped
  // table keyed by its bytes: a hit is a load and a compare instead of a
  // parse. Parsing is pure and `comma` is fixed per file, so a hit is exactly
  // what ParseNumber would return. Set up after the first rows, so small
  // files do not pay for the table.
  if (text.size() > 7 || text.empty()) return ParseNumber(text, comma, &printed);
  if (number_memo_.empty()) {
    if (++numbers_unmemoized_ < kNumberMemoAfter) return ParseNumber(text, comma, &printed);
    number_memo_.assign(kNumberMemoSlots, NumberSlot{});
  }
  uint64_t key = 0;
  std::memcpy(&key, text.data(), text.size());
  key |= static_cast<uint64_t>(text.size()) << 56;  // 7 bytes of text at most: the top byte is free
  NumberSlot& slot = number_memo_[(key * 0x9E3779B97F4A7C15ULL) >> (64 - kNumberMemoBits)];
  if (slot.key == key) {
    printed = slot.printed;
    return slot.value;
  }
  const auto v = ParseNumber(text, comma, &printed);
  if (v) slot = {key, *v, static_cast<uint32_t>(printed)};
  return v;
}

bool FileParser::FieldsFill(std::string_view rec) const {
  // The fields are views into `rec` split at the delimiters: they fill it
  // exactly unless whitespace was trimmed.
  size_t total = fields_.size() - 1;
  for (std::string_view f : fields_) total += f.size();
  return total == rec.size();
}

namespace {

// Indexed by Reason: keep in the order of the enum.
constexpr std::array<std::string_view, kReasonCount> kReasonNames = {
    "bad_field_count",
    "bad_date",
    "bad_number",
    "temp_out_of_range",
    "sd_out_of_range",
    "bad_sensor",
    "conflicting_duplicate",
    "line_too_long",
    "bad_encoding",
    "bad_quote",
};

}  // namespace

std::string_view ReasonName(Reason r) { return EnumName(r, kReasonNames, "unknown"); }

}  // namespace aquasense::core
