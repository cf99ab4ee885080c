#include "core/block.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace aquasense::core {

namespace {

constexpr uint8_t kVersion = 1;
constexpr int kRawDouble = 15;  // scale code: 8 raw bytes follow
constexpr double kPow10[] = {1,   1e1, 1e2, 1e3,  1e4,  1e5,  1e6, 1e7,
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
inline int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// std::nearbyint for |x| < 2^53 in the default rounding mode (to nearest,
// ties to even), inline: the baseline x86-64 target has no rounding
// instruction, and the libm call was a visible part of encoding. Adding 2^52
// leaves no fraction bits, so the FPU rounds exactly as nearbyint does.
inline double RoundToInteger(double x) {
  constexpr double kTwo52 = 4503599627370496.0;
  if (std::fabs(x) >= kTwo52) return x;  // already an integer
  return x >= 0 ? (x + kTwo52) - kTwo52 : (x - kTwo52) + kTwo52;
}

// The smallest k with v == M / 10^k exactly for an integer M (|M| < 2^53), else kRawDouble.
int ScaleOf(double v, int64_t& mantissa) {
  for (int k = 0; k < kRawDouble; ++k) {
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

char* PutValue(char* p, double v, int scale, int64_t mantissa) {
  if (scale == kRawDouble) {
    std::memcpy(p, &v, 8);
    return p + 8;
  }
  return PutVarint(p, ZigZag(mantissa));
}

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

}  // namespace

// Layout: version byte, varint count, then per reading:
//   varint day-of-month offset; byte flags (bit0 time, bit1 offset);
//   byte (temp scale << 4 | sd scale); [varint ms_of_day]; [zigzag offset];
//   temperature; sd  (zigzag varint mantissa, or 8 raw bytes for scale 15).
std::string EncodeBlock(std::span<const Reading> readings, int32_t month) {
  std::string out;
  out.reserve(2 + readings.size() * 8);
  AppendEncodedBlock(readings, month, out);
  return out;
}

namespace {

// The encoding, with `scale_of(v, mantissa)` computing ScaleOf.
template <class ScaleFn>
void AppendEncoded(std::span<const Reading> readings, int32_t month, std::string& out, ScaleFn&& scale_of) {
  const int32_t first_day = DaysFromCivil(YearOf(month), MonthOf(month), 1);
  out.push_back(static_cast<char>(kVersion));
  PutVarint(out, readings.size());
  // Written straight into `out`, sized for the longest encoding (10 + 2 + 4
  // + 3 + 2 * 10 bytes a reading), then cut to what was written.
  constexpr size_t kMaxReadingBytes = 40;
  const size_t start = out.size();
  out.resize(start + readings.size() * kMaxReadingBytes);
  char* p = out.data() + start;
  for (const Reading& r : readings) {
    p = PutVarint(p, static_cast<uint64_t>(r.when.days - first_day));
    *p++ = static_cast<char>((r.when.has_time() ? 1 : 0) | (r.when.has_offset() ? 2 : 0));
    int64_t tm = 0, sm = 0;
    const int ts = scale_of(r.temperature, tm);
    const int ss = scale_of(r.sd, sm);
    *p++ = static_cast<char>(ts << 4 | ss);
    if (r.when.has_time()) p = PutVarint(p, static_cast<uint64_t>(r.when.ms_of_day));
    if (r.when.has_offset()) p = PutVarint(p, ZigZag(r.when.offset_min));
    p = PutValue(p, r.temperature, ts, tm);
    p = PutValue(p, r.sd, ss, sm);
  }
  out.resize(static_cast<size_t>(p - out.data()));
}

}  // namespace

void AppendEncodedBlock(std::span<const Reading> readings, int32_t month, std::string& out) {
  AppendEncoded(readings, month, out, [](double v, int64_t& m) { return ScaleOf(v, m); });
}

BlockEncoder::BlockEncoder() : memo_(kMemoSlots) {
  // Every slot starts as the answer for 0.0, so a lookup needs no empty check.
  int64_t m = 0;
  const int scale = ScaleOf(0.0, m);
  for (Slot& slot : memo_) slot = {0, m * 16 + scale};
}

void BlockEncoder::Append(std::span<const Reading> readings, int32_t month, std::string& out) {
  AppendEncoded(readings, month, out, [this](double v, int64_t& mantissa) {
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
  if (in.empty() || static_cast<uint8_t>(in.front()) != kVersion) return false;
  in.remove_prefix(1);
  uint64_t count;
  if (!GetVarint(in, count) || count > in.size()) return false;
  const int32_t first_day = DaysFromCivil(YearOf(month), MonthOf(month), 1);
  out.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    Reading r;
    uint64_t day;
    if (!GetVarint(in, day) || day > 30 || in.size() < 2) return false;
    r.when.days = first_day + static_cast<int32_t>(day);
    const auto flags = static_cast<uint8_t>(in[0]);
    const auto scales = static_cast<uint8_t>(in[1]);
    in.remove_prefix(2);
    if (flags & 1) {
      uint64_t ms;
      if (!GetVarint(in, ms) || ms >= 86'400'000) return false;
      r.when.ms_of_day = static_cast<int32_t>(ms);
    }
    if (flags & 2) {
      uint64_t z;
      if (!GetVarint(in, z)) return false;
      r.when.offset_min = static_cast<int16_t>(UnZigZag(z));
    }
    if (!GetValue(in, scales >> 4, r.temperature) || !GetValue(in, scales & 15, r.sd)) return false;
    out.push_back(r);
  }
  return in.empty();
}

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
