#include "core/block.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace aquasense::core {

namespace {

constexpr uint8_t kVersion1 = 1;
constexpr uint8_t kVersion2 = 2;
constexpr int kRawDouble = 15;         // v1 scale code: 8 raw bytes follow
constexpr int kMaxDecimalScaleV2 = 6;  // v2 codes 0..6: decimal scales
constexpr int kXorCode = 7;            // v2 codes 7..15: 0..8 XOR bytes
constexpr double kPow10[] = {1,   1e1, 1e2,  1e3,  1e4,  1e5,  1e6, 1e7,
                             1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14};

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// The same bytes written at `p`; returns the end.
inline char* PutVarint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

bool GetVarint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.empty()) return false;
    const auto b = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

inline uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t UnZigZag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

// std::nearbyint for |x| < 2^53 in the default rounding mode (to nearest,
// ties to even), inline: the baseline x86-64 target has no rounding
// instruction, and the libm call was a visible part of encoding. Adding 2^52
// leaves no fraction bits, so the FPU rounds exactly as nearbyint does.
inline double RoundToInteger(double x) {
  constexpr double kTwo52 = 4503599627370496.0;
  if (std::fabs(x) >= kTwo52) return x;  // already an integer
  return x >= 0 ? (x + kTwo52) - kTwo52 : (x - kTwo52) + kTwo52;
}

}  // namespace

namespace block_internal {

// v * 10^6 of a value with at most 6 decimals, v == fl(N / 10^6) (N = M *
// 10^(6-k)), is within |N| * 2^-52 (two roundings) of the integer N; with
// |v * 10^6| < 2^50 its distance to the nearest integer is exact. A value
// further than |v * 10^6| * 2^-48 from it (|N| <= 2 |v * 10^6| + 1 leaves
// room) has no such N; a full-precision reading is ~0.25 away on average.
bool ClearlyRaw(double v) {
  const double scaled6 = v * kPow10[kMaxDecimalScaleV2];
  const double size = std::fabs(scaled6);
  return size < 1125899906842624.0 /* 2^50 */ &&
         std::fabs(scaled6 - RoundToInteger(scaled6)) > size * 0x1p-48;
}

int ScaleOf(double v, int64_t& mantissa) {
  // Cheap tests first: if some k <= 6 fits, k = 6 does too (v * 10^6 is then
  // within 0.25 of the integer M * 10^(6-k) below 2^50, and dividing that
  // integer by 10^6 rounds to v again). So a value failing at 6 has no
  // decimal structure up to 6 places: doubles read from full-precision text
  // skip the loop (v1's scales 7..14 are not written any more).
  if (v == 0 && std::signbit(v)) return kRawDouble;  // -0: the mantissa 0 would lose the sign
  if (ClearlyRaw(v)) return kRawDouble;
  const double scaled6 = v * kPow10[kMaxDecimalScaleV2];
  if (std::fabs(scaled6) < 1125899906842624.0 /* 2^50 */ &&
      RoundToInteger(scaled6) / kPow10[kMaxDecimalScaleV2] != v) {
    return kRawDouble;
  }
  for (int k = 0; k <= kMaxDecimalScaleV2; ++k) {
    const double scaled = v * kPow10[k];
    if (std::fabs(scaled) >= 9007199254740992.0) break;
    const double m = RoundToInteger(scaled);
    if (m / kPow10[k] == v) {
      mantissa = static_cast<int64_t>(m);
      return k;
    }
  }
  return kRawDouble;
}

}  // namespace block_internal

namespace {

using block_internal::ScaleOf;

bool GetValue(std::string_view& in, int scale, double& v) {
  if (scale == kRawDouble) {
    if (in.size() < 8) return false;
    std::memcpy(&v, in.data(), 8);
    in.remove_prefix(8);
    return true;
  }
  uint64_t z;
  if (!GetVarint(in, z)) return false;
  v = static_cast<double>(UnZigZag(z)) / kPow10[scale];
  return true;
}

// The optional time of day and UTC offset that `flags` announces.
bool GetTime(std::string_view& in, uint8_t flags, DateTime& when) {
  if (flags & 1) {
    uint64_t ms;
    if (!GetVarint(in, ms) || ms >= 86'400'000) return false;
    when.ms_of_day = static_cast<int32_t>(ms);
  }
  if (flags & 2) {
    uint64_t z;
    if (!GetVarint(in, z)) return false;
    when.offset_min = static_cast<int16_t>(UnZigZag(z));
  }
  return true;
}

}  // namespace

namespace {

// Version 1 (written until v2; still read): version byte, varint count, then
// per reading: varint day-of-month offset; byte flags (bit0 time, bit1
// offset); byte (temp scale << 4 | sd scale); [varint ms_of_day]; [zigzag
// offset]; temperature; sd (zigzag varint mantissa, or 8 raw bytes for 15).
bool DecodeV1(std::string_view in, int32_t first_day, std::vector<Reading>& out) {
  uint64_t count;
  if (!GetVarint(in, count) || count > in.size()) return false;
  out.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    Reading r;
    uint64_t day;
    if (!GetVarint(in, day) || day > 30 || in.size() < 2) return false;
    r.when.days = first_day + static_cast<int32_t>(day);
    const auto flags = static_cast<uint8_t>(in[0]);
    const auto scales = static_cast<uint8_t>(in[1]);
    in.remove_prefix(2);
    if (!GetTime(in, flags, r.when)) return false;
    if (!GetValue(in, scales >> 4, r.temperature) || !GetValue(in, scales & 15, r.sd)) return false;
    out.push_back(r);
  }
  return in.empty();
}

using block_internal::Coded;

inline Coded CodeValue(double v, int scale, int64_t mantissa, uint64_t& prev_bits) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  const uint64_t x = bits ^ prev_bits;
  prev_bits = bits;
  if (scale <= kMaxDecimalScaleV2) return {static_cast<uint8_t>(scale), ZigZag(mantissa)};
  const int n = x == 0 ? 0 : (64 - __builtin_clzll(x) + 7) / 8;
  return {static_cast<uint8_t>(kXorCode + n), x};
}

// Writes `c` at `p`, which has room for 8 bytes (AppendEncoded's
// kMaxReadingBytes per reading); returns the end.
inline char* PutCoded(char* p, Coded c) {
  if (c.code < kXorCode) return PutVarint(p, c.payload);
  const int n = c.code - kXorCode;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &c.payload, 8);  // one store; the bytes past n are overwritten or cut
    return p + n;
  }
  for (int b = 0; b < n; ++b) *p++ = static_cast<char>(c.payload >> (8 * b));
  return p;
}

bool GetCoded(std::string_view& in, int code, uint64_t& prev_bits, double& v) {
  uint64_t bits;
  if (code < kXorCode) {
    uint64_t z;
    if (!GetVarint(in, z)) return false;
    v = static_cast<double>(UnZigZag(z)) / kPow10[code];
    std::memcpy(&bits, &v, sizeof bits);
  } else {
    const auto n = static_cast<size_t>(code - kXorCode);
    if (in.size() < n) return false;
    uint64_t x = 0;
    for (size_t b = 0; b < n; ++b)
      x |= static_cast<uint64_t>(static_cast<uint8_t>(in[b])) << (8 * b);
    in.remove_prefix(n);
    bits = prev_bits ^ x;
    std::memcpy(&v, &bits, sizeof v);
  }
  prev_bits = bits;
  return true;
}

}  // namespace

// Version 2: version byte, varint count, layout byte, then
//   layout bit0 (daily): every reading is a date without time, days strictly
//     increasing: a 4-byte little-endian mask of the days present; else per
//     reading v1's varint day, flags byte and optional time and offset;
//   layout bit1 (one code): every reading after the first has the same code
//     byte, written once here (XOR codes may be widened for it: see
//     OneCode); else each of them has its own, before its values (the
//     first reading always has its own);
// then per reading (temp code << 4 | sd code), temperature, sd. A value with
// at most 6 decimals (v == M / 10^k, |M| < 2^53) is the zigzag varint of M
// (code k); any other is XORed with the previous value of its column (0 at
// first) and its low non-zero bytes written (code 7 + count): doubles
// without decimal structure take at most 8 bytes and usually 7.
std::string EncodeBlock(std::span<const Reading> readings, int32_t month) {
  std::string out;
  out.reserve(8 + readings.size() * 8);
  AppendEncodedBlock(readings, month, out);
  return out;
}

namespace {

// Whether the block is written with one code byte for its readings after
// the first (whose XORs are against 0, so 8 bytes): when each column has one
// code there, or only XOR codes, which are widened to the column's longest
// when that costs fewer bytes than a code byte per reading (full-precision
// readings: usually 7 + 7 bytes instead of 1 + ~7.1 + 7).
bool OneCode(std::span<std::pair<Coded, Coded>> codes) {
  if (codes.size() < 2) return false;
  const auto rest = codes.subspan(1);
  size_t extra = 0;  // bytes the widening adds
  uint8_t widest[2] = {0, 0};
  for (int col = 0; col < 2; ++col) {
    auto code = [&](size_t i) { return col == 0 ? rest[i].first.code : rest[i].second.code; };
    bool same = true, all_xor = true;
    size_t sum = 0;
    uint8_t max = 0;
    for (size_t i = 0; i < rest.size(); ++i) {
      same = same && code(i) == code(0);
      all_xor = all_xor && code(i) >= kXorCode;
      max = std::max(max, code(i));
      sum += code(i);
    }
    if (!same && !all_xor) return false;
    widest[col] = max;
    extra += size_t{max} * rest.size() - sum;  // 0 when `same`
  }
  if (extra >= rest.size()) return false;
  for (auto& [t, sd] : rest) t.code = widest[0], sd.code = widest[1];
  return true;
}

// The encoding, with `scale_of(v, mantissa)` computing ScaleOf.
template <class ScaleFn>
void AppendEncoded(std::span<const Reading> readings, int32_t month, std::string& out,
                   std::vector<std::pair<Coded, Coded>>& codes, ScaleFn&& scale_of) {
  const int32_t first_day = DaysFromCivil(YearOf(month), MonthOf(month), 1);
  codes.resize(readings.size());
  uint64_t prev_t = 0, prev_s = 0;
  bool daily = true;
  int32_t last_day = first_day - 1;
  for (size_t i = 0; i < readings.size(); ++i) {
    const Reading& r = readings[i];
    daily = daily && !r.when.has_time() && !r.when.has_offset() && r.when.days > last_day;
    last_day = r.when.days;
    int64_t tm = 0, sm = 0;
    const int ts = scale_of(r.temperature, tm);
    const int ss = scale_of(r.sd, sm);
    codes[i] = {CodeValue(r.temperature, ts, tm, prev_t), CodeValue(r.sd, ss, sm, prev_s)};
  }
  const bool one_code = OneCode(codes);
  out.push_back(static_cast<char>(kVersion2));
  PutVarint(out, readings.size());
  out.push_back(static_cast<char>((daily ? 1 : 0) | (one_code ? 2 : 0)));
  // Written straight into `out`, sized for the longest encoding (10 + 1 + 4
  // + 3 + 1 + 2 * 10 bytes a reading, plus the mask and the code), then cut.
  constexpr size_t kMaxReadingBytes = 40;
  const size_t start = out.size();
  out.resize(start + 5 + readings.size() * kMaxReadingBytes);
  char* p = out.data() + start;
  if (daily) {
    uint32_t mask = 0;
    for (const Reading& r : readings) mask |= uint32_t{1} << (r.when.days - first_day);
    for (int b = 0; b < 4; ++b) *p++ = static_cast<char>(mask >> (8 * b));
  }
  if (one_code) *p++ = static_cast<char>(codes[1].first.code << 4 | codes[1].second.code);
  for (size_t i = 0; i < readings.size(); ++i) {
    const Reading& r = readings[i];
    if (!daily) {
      p = PutVarint(p, static_cast<uint64_t>(r.when.days - first_day));
      *p++ = static_cast<char>((r.when.has_time() ? 1 : 0) | (r.when.has_offset() ? 2 : 0));
      if (r.when.has_time()) p = PutVarint(p, static_cast<uint64_t>(r.when.ms_of_day));
      if (r.when.has_offset()) p = PutVarint(p, ZigZag(r.when.offset_min));
    }
    if (!one_code || i == 0)
      *p++ = static_cast<char>(codes[i].first.code << 4 | codes[i].second.code);
    p = PutCoded(p, codes[i].first);
    p = PutCoded(p, codes[i].second);
  }
  out.resize(static_cast<size_t>(p - out.data()));
}

bool DecodeV2(std::string_view in, int32_t first_day, std::vector<Reading>& out) {
  uint64_t count;
  if (!GetVarint(in, count) || in.empty()) return false;
  const auto layout = static_cast<uint8_t>(in[0]);
  in.remove_prefix(1);
  if (layout > 3) return false;
  const bool daily = layout & 1, one_code = layout & 2;
  // A reading takes at least a day byte, or else a bit of the day mask (a
  // repeated value with the XOR code takes no byte at all).
  if (daily ? count > 31 : count > in.size()) return false;
  uint32_t mask = 0;
  if (daily) {
    if (in.size() < 4) return false;
    for (int b = 0; b < 4; ++b)
      mask |= static_cast<uint32_t>(static_cast<uint8_t>(in[b])) << (8 * b);
    in.remove_prefix(4);
    if (std::popcount(mask) != static_cast<int>(count) || mask >> 31) return false;
  }
  uint8_t code = 0, shared = 0;
  if (one_code) {
    if (in.empty() || count < 2) return false;
    shared = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
  }
  out.reserve(count);
  uint64_t prev_t = 0, prev_s = 0;
  for (uint64_t i = 0; i < count; ++i) {
    Reading r;
    if (daily) {
      const int day = std::countr_zero(mask);
      mask &= mask - 1;
      r.when.days = first_day + day;
    } else {
      uint64_t day;
      if (!GetVarint(in, day) || day > 30 || in.empty()) return false;
      r.when.days = first_day + static_cast<int32_t>(day);
      const auto flags = static_cast<uint8_t>(in[0]);
      in.remove_prefix(1);
      if (!GetTime(in, flags, r.when)) return false;
    }
    if (!one_code || i == 0) {
      if (in.empty()) return false;
      code = static_cast<uint8_t>(in[0]);
      in.remove_prefix(1);
    } else {
      code = shared;
    }
    if (!GetCoded(in, code >> 4, prev_t, r.temperature) || !GetCoded(in, code & 15, prev_s, r.sd))
      return false;
    out.push_back(r);
  }
  return in.empty();
}

}  // namespace

void AppendEncodedBlock(std::span<const Reading> readings, int32_t month, std::string& out) {
  std::vector<std::pair<Coded, Coded>> codes;
  AppendEncoded(readings, month, out, codes, [](double v, int64_t& m) { return ScaleOf(v, m); });
}

BlockEncoder::BlockEncoder() : memo_(kMemoSlots) {
  // Every slot starts as the answer for 0.0, so a lookup needs no empty check.
  int64_t m = 0;
  const int scale = ScaleOf(0.0, m);
  for (Slot& slot : memo_) slot = {0, m * 16 + scale};
}

void BlockEncoder::Append(std::span<const Reading> readings, int32_t month, std::string& out) {
  AppendEncoded(readings, month, out, codes_, [this](double v, int64_t& mantissa) {
    // Full-precision values are nearly all distinct: they skip the memo.
    if (block_internal::ClearlyRaw(v)) return kRawDouble;
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    Slot& slot = memo_[(bits * 0x9E3779B97F4A7C15ULL) >> (64 - kMemoBits)];
    if (slot.bits != bits) {
      int64_t m = 0;
      const int scale = ScaleOf(v, m);
      slot = {bits, m * 16 + scale};  // |m| < 2^53: room for the 4-bit scale
    }
    mantissa = slot.packed >> 4;
    return static_cast<int>(slot.packed & 15);
  });
}

bool DecodeBlock(std::string_view in, int32_t month, std::vector<Reading>& out) {
  out.clear();
  if (in.empty()) return false;
  const auto version = static_cast<uint8_t>(in.front());
  in.remove_prefix(1);
  const int32_t first_day = DaysFromCivil(YearOf(month), MonthOf(month), 1);
  if (version == kVersion1) return DecodeV1(in, first_day, out);
  if (version == kVersion2) return DecodeV2(in, first_day, out);
  return false;
}

// Long on purpose: the hot path of every commit (bench/ingest_bench.sh)
// NOLINTNEXTLINE(readability-function-size)
bool MergeInto(std::vector<Reading>& block, std::span<const Incoming> incoming, ConflictMode mode,
               std::span<MergeDecision> decisions) {
  bool changed = false;
  // Fast path: all new readings come after the stored ones (the common
  // append of new days); nothing to interleave.
  if (block.empty() || incoming.empty() || block.back().when < incoming.front().reading.when) {
    // Room for them at once (still geometric, for blocks that grow by a few
    // readings per call).
    const size_t need = block.size() + incoming.size();
    if (block.capacity() < need) block.reserve(std::max(need, 2 * block.capacity()));
    for (size_t i = 0; i < incoming.size(); ++i) {
      const Reading& in = incoming[i].reading;
      MergeDecision& d = decisions[i];
      if (!block.empty() && block.back().when == in.when) {
        Reading& existing = block.back();
        if (existing.SameValues(in)) {
          d.decision = Decision::kDuplicate;
        } else if (mode == ConflictMode::kReject) {
          d.decision = Decision::kConflict;
          d.other = existing;
        } else {
          d.decision = Decision::kReplaced;
          d.other = existing;
          existing = in;
          changed = true;
        }
      } else {
        block.push_back(in);
        d.decision = Decision::kStored;
        changed = true;
      }
    }
    return changed;
  }
  std::vector<Reading> merged;
  merged.reserve(block.size() + incoming.size());
  size_t b = 0;
  for (size_t i = 0; i < incoming.size(); ++i) {
    const Reading& in = incoming[i].reading;
    while (b < block.size() && block[b].when < in.when) merged.push_back(block[b++]);
    // The reading already at this time: the last merged one, or the next stored one.
    Reading* existing = nullptr;
    if (!merged.empty() && merged.back().when == in.when) {
      existing = &merged.back();
    } else if (b < block.size() && block[b].when == in.when) {
      merged.push_back(block[b++]);
      existing = &merged.back();
    }
    MergeDecision& d = decisions[i];
    if (existing == nullptr) {
      merged.push_back(in);
      d.decision = Decision::kStored;
      changed = true;
    } else if (existing->SameValues(in)) {
      d.decision = Decision::kDuplicate;
    } else if (mode == ConflictMode::kReject) {
      d.decision = Decision::kConflict;
      d.other = *existing;
    } else {
      d.decision = Decision::kReplaced;
      d.other = *existing;
      *existing = in;
      changed = true;
    }
  }
  while (b < block.size()) merged.push_back(block[b++]);
  block.swap(merged);
  return changed;
}

MonthAgg Aggregate(std::span<const Reading> block) {
  MonthAgg a;
  if (block.empty()) return a;
  double sum = 0;
  a.max_temp = block[0].temperature;
  a.max_sd = block[0].sd;
  for (const Reading& r : block) {
    sum += r.temperature;
    if (r.temperature > a.max_temp) a.max_temp = r.temperature;
    if (r.sd > a.max_sd) a.max_sd = r.sd;
  }
  a.readings = static_cast<int64_t>(block.size());
  a.mean_temp = sum / static_cast<double>(a.readings);
  return a;
}

}  // namespace aquasense::core
