#include "http/readings.h"

#include <algorithm>
#include <charconv>
#include <deque>
#include <memory>

#include "core/block.h"
#include "core/datetime.h"
#include "core/number.h"
#include "http/query.h"
#include "storage/keys.h"

namespace aquasense::http {
namespace {

constexpr int64_t kDayMs = 86'400'000;

int64_t TimeMs(const core::DateTime& t) {
  return int64_t{t.days} * kDayMs + (t.has_time() ? t.ms_of_day : 0);
}

int32_t FirstDayOf(int32_t month) {
  return core::DaysFromCivil(core::YearOf(month), core::MonthOf(month), 1);
}

int32_t LastDayOf(int32_t month) {
  const int32_t y = core::YearOf(month), m = core::MonthOf(month);
  return core::DaysFromCivil(y, m, core::DaysInMonth(y, m));
}

std::optional<size_t> ParseCount(const std::string* v, size_t max, std::string_view name,
                                 std::string& error) {
  if (v == nullptr) return size_t{0};
  size_t n = 0;
  auto r = std::from_chars(v->data(), v->data() + v->size(), n);
  if (v->empty() || v->size() > 6 || r.ec != std::errc() || r.ptr != v->data() + v->size() ||
      n < 1 || n > max) {
    error = std::string(name) + " must be a whole number from 1 to " + std::to_string(max);
    return std::nullopt;
  }
  return n;
}

}  // namespace

std::optional<int32_t> ParseDay(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  }
  auto num = [&](size_t at, size_t len) {
    int v = 0;
    for (size_t i = at; i < at + len; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  const int y = num(0, 4), m = num(5, 2), d = num(8, 2);
  if (m < 1 || m > 12 || d < 1 || d > core::DaysInMonth(y, m)) return std::nullopt;
  return core::DaysFromCivil(y, m, d);
}

std::optional<ReadingsQuery> ParseReadingsQuery(std::string_view query, std::string& error) {
  QueryParams params;
  if (!QueryParams::Parse(query, params, error)) return std::nullopt;
  ReadingsQuery q;
  for (const char* name : {"from", "to"}) {
    const std::string* v = params.Get(name);
    if (v == nullptr) continue;
    auto day = ParseDay(*v);
    if (!day) {
      error = std::string(name) + " must be a date YYYY-MM-DD, got \"" + v->substr(0, 40) + "\"";
      return std::nullopt;
    }
    (name[0] == 'f' ? q.from_days : q.to_days) = *day;
  }
  if (q.from_days && q.to_days && *q.from_days > *q.to_days) {
    error = "from must not be after to";
    return std::nullopt;
  }
  if (const std::string* f = params.Get("format")) {
    if (*f == "json") {
      q.format = ReadingsFormat::kJson;
    } else if (*f != "csv") {
      error = "format must be csv or json";
      return std::nullopt;
    }
  }
  auto tail = ParseCount(params.Get("tail"), kMaxTail, "tail", error);
  if (!tail) return std::nullopt;
  auto points = ParseCount(params.Get("points"), kMaxPoints, "points", error);
  if (!points) return std::nullopt;
  if (*tail > 0 && *points > 0) {
    error = "tail and points cannot be combined";
    return std::nullopt;
  }
  q.tail = *tail;
  q.points = *points;
  return q;
}

std::vector<int32_t> MonthsInRange(std::span<const int32_t> months, const ReadingsQuery& q) {
  std::vector<int32_t> out;
  for (int32_t m : months) {
    if (q.from_days && LastDayOf(m) < *q.from_days) continue;
    if (q.to_days && FirstDayOf(m) > *q.to_days) continue;
    out.push_back(m);
  }
  return out;
}

ReadingsStream::ReadingsStream(std::string sensor, ReadingsQuery q, std::vector<int32_t> months,
                               BlockReader read)
    : sensor_(std::move(sensor)), q_(q), months_(std::move(months)), read_(std::move(read)) {}

bool ReadingsStream::InRange(const core::Reading& r) const {
  return (!q_.from_days || r.when.days >= *q_.from_days) &&
         (!q_.to_days || r.when.days <= *q_.to_days);
}

Status ReadingsStream::LoadNextBlock(bool& loaded) {
  loaded = false;
  while (next_month_ < months_.size()) {
    const int32_t month = months_[next_month_++];
    auto bytes = read_(month);
    if (!bytes.ok()) return bytes.status();
    if (!*bytes) continue;  // gone since the month list was taken (a rebuild)
    if (!core::DecodeBlock(**bytes, month, block_)) {
      return Internal("the stored readings of " + sensor_ + " are corrupt");
    }
    pos_ = 0;
    loaded = true;
    return Status::Ok();
  }
  return Status::Ok();
}

// The last q_.tail readings of the range, newest block first; then they are
// the only "block" left to write.
Status ReadingsStream::CollectTail() {
  std::deque<core::Reading> kept;
  std::vector<core::Reading> decoded;
  for (size_t i = months_.size(); i-- > 0 && kept.size() < q_.tail;) {
    auto bytes = read_(months_[i]);
    if (!bytes.ok()) return bytes.status();
    if (!*bytes) continue;
    if (!core::DecodeBlock(**bytes, months_[i], decoded)) {
      return Internal("the stored readings of " + sensor_ + " are corrupt");
    }
    for (size_t j = decoded.size(); j-- > 0 && kept.size() < q_.tail;) {
      if (InRange(decoded[j])) kept.push_front(decoded[j]);
    }
  }
  block_.assign(kept.begin(), kept.end());
  pos_ = 0;
  next_month_ = months_.size();
  return Status::Ok();
}

void ReadingsStream::Append(std::string& out, const core::Reading& r) {
  char buf[48];
  if (r.when.days != civil_days_) {
    civil_days_ = r.when.days;
    civil_ = core::CivilFromDays(r.when.days);
  }
  if (q_.format == ReadingsFormat::kCsv) {
    out.append(sensor_).push_back(',');
    out.append(buf, core::FormatDateTimeTo(r.when, civil_, buf)).push_back(',');
    out.append(buf, core::FormatNumberTo(r.temperature, buf)).push_back(',');
    out.append(buf, core::FormatNumberTo(r.sd, buf)).push_back('\n');
  } else {
    out.append(count_ == 0 ? "{\"sensor\":\"" : ",\n{\"sensor\":\"").append(sensor_);
    out.append("\",\"date\":\"").append(buf, core::FormatDateTimeTo(r.when, civil_, buf));
    out.append("\",\"temperature\":").append(buf, core::FormatNumberTo(r.temperature, buf));
    out.append(",\"sd\":").append(buf, core::FormatNumberTo(r.sd, buf)).push_back('}');
  }
  ++count_;
}

void ReadingsStream::FlushBucket(std::string& out) {
  if (!lo_) return;
  if (lo_->when == hi_->when) {
    Append(out, *lo_);
  } else if (lo_->when < hi_->when) {
    Append(out, *lo_);
    Append(out, *hi_);
  } else {
    Append(out, *hi_);
    Append(out, *lo_);
  }
  lo_.reset();
  hi_.reset();
}

Result<bool> ReadingsStream::Next(std::string& out) {
  if (done_) return false;
  const size_t start = out.size();
  if (!started_) {
    started_ = true;
    out.append(q_.format == ReadingsFormat::kCsv ? "sensor,date,temperature,sd\n" : "[\n");
    if (q_.tail > 0) AQ_RETURN_IF_ERROR(CollectTail());
    if (q_.points > 0 && !months_.empty()) {
      const int32_t first = q_.from_days.value_or(FirstDayOf(months_.front()));
      const int32_t last = q_.to_days.value_or(LastDayOf(months_.back()));
      range_start_ms_ = int64_t{first} * kDayMs;
      const int64_t span = (int64_t{last} + 1) * kDayMs - range_start_ms_;
      bucket_ms_ = std::max<int64_t>(
          1, (span + static_cast<int64_t>(q_.points) - 1) / static_cast<int64_t>(q_.points));
    }
  }
  while (out.size() - start < kPieceBytes) {
    if (pos_ == block_.size()) {
      bool loaded = false;
      AQ_RETURN_IF_ERROR(LoadNextBlock(loaded));
      if (loaded) continue;
      FlushBucket(out);
      out.append(q_.format == ReadingsFormat::kCsv ? "" : count_ == 0 ? "]\n" : "\n]\n");
      done_ = true;
      return false;
    }
    const core::Reading& r = block_[pos_++];
    if (!InRange(r)) continue;
    if (q_.points == 0) {
      Append(out, r);
      continue;
    }
    const int64_t bucket = (TimeMs(r.when) - range_start_ms_) / bucket_ms_;
    if (bucket != bucket_) {
      FlushBucket(out);
      bucket_ = bucket;
    }
    if (!lo_ || r.temperature < lo_->temperature) lo_ = r;
    if (!hi_ || r.temperature > hi_->temperature) hi_ = r;
  }
  return true;
}

Response ReadingsResponse(std::string_view segment, std::string_view query, const Snapshot& snap,
                          storage::MetaStore* meta) {
  auto sensor = PercentDecode(segment, false);
  if (!sensor || !IsValidSensorId(*sensor)) {
    return ErrorResponse(400, "sensor must be 1 to 64 characters from A-Z a-z 0-9 . _ -");
  }
  std::string error;
  auto q = ParseReadingsQuery(query, error);
  if (!q) return ErrorResponse(400, error);
  const SensorEntry* e = snap.FindSensor(*sensor);
  if (e == nullptr || meta == nullptr) return ErrorResponse(404, "no data for sensor " + *sensor);
  std::vector<int32_t> all;
  all.reserve(e->months->size());
  for (const MonthRecord& r : *e->months) all.push_back(r.month);
  auto stream = std::make_shared<ReadingsStream>(
      *sensor, *q, MonthsInRange(all, *q),
      [meta, id = *sensor](int32_t month) { return meta->ReadBlock(id, month); });
  Response r;
  r.content_type = q->format == ReadingsFormat::kJson ? kJsonType : kCsvType;
  r.stream = [stream](std::string& out) { return stream->Next(out); };
  return r;
}

Response InvalidRowsResponse(std::string_view sha_segment, std::string_view query,
                             storage::ObjectStore* objects) {
  const bool hex = sha_segment.size() == 64 &&
                   sha_segment.find_first_not_of("0123456789abcdef") == std::string_view::npos;
  if (!hex) return ErrorResponse(400, "the file must be named by its SHA-256, 64 hex digits");
  QueryParams params;
  std::string error;
  if (!QueryParams::Parse(query, params, error)) return ErrorResponse(400, error);
  const std::string* sensor = params.Get("sensor");
  if (sensor == nullptr || !IsValidSensorId(*sensor) || *sensor == "." || *sensor == "..") {
    return ErrorResponse(400, "sensor must be 1 to 64 characters from A-Z a-z 0-9 . _ -");
  }
  if (objects == nullptr) return ErrorResponse(404, "no invalid rows are kept here");
  const std::string key = storage::keys::FilteredInvalid(*sensor, sha_segment);
  auto reader = objects->Open(key);
  if (!reader.ok()) {
    if (reader.status().code() == Code::kNotFound) {
      return ErrorResponse(404, "no invalid rows for that file and sensor");
    }
    return ErrorResponse(reader.status());
  }
  Response r;
  r.content_type = kCsvType;
  r.body.resize(kMaxInvalidBytes);
  size_t got = 0;
  while (got < r.body.size()) {
    auto n = (*reader)->Read(r.body.data() + got, r.body.size() - got);
    if (!n.ok()) return ErrorResponse(n.status());
    if (*n == 0) break;
    got += *n;
  }
  r.body.resize(got);
  if (got == kMaxInvalidBytes && (*reader)->size() > got) {
    const size_t nl = r.body.rfind('\n');
    r.body.resize(nl == std::string::npos ? 0 : nl + 1);
  }
  return r;
}

}  // namespace aquasense::http
