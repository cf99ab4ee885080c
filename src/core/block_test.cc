#include "core/block.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "core/datetime.h"

namespace aquasense::core {
namespace {

Reading R(const char* when, double t, double sd) { return {*ParseDateTime(when), t, sd}; }

TEST(Block, RoundTripsExactly) {
  const int32_t month = MonthIndex(2024, 2);
  std::vector<Reading> in = {
      R("2024-02-01", 12.5, 0.2), R("2024-02-01T10:00:00.250+02:00", -0.3, 0.07),
      R("2024-02-29", 0.1 + 0.2, 1e-300), R("2024-02-29T23:59Z", 44.999999999999, 10)};
  std::vector<Reading> out;
  ASSERT_TRUE(DecodeBlock(EncodeBlock(in, month), month, out));
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].when, in[i].when);
    EXPECT_EQ(out[i].temperature, in[i].temperature);
    EXPECT_EQ(out[i].sd, in[i].sd);
  }
  EXPECT_LE(EncodeBlock(std::vector<Reading>(30, R("2024-02-03", 12.53, 0.21)), month).size(),
            30u * 7 + 2);
}

TEST(Block, AppendEncodedBlockAppendsTheSameBytes) {
  const int32_t month = MonthIndex(2024, 3);
  std::vector<Reading> block{{DateTime{DaysFromCivil(2024, 3, 1)}, 12.5, 0.25},
                             {DateTime{DaysFromCivil(2024, 3, 2)}, -0.1, 1e-3}};
  std::string out = "xy";
  AppendEncodedBlock(block, month, out);
  EXPECT_EQ(out, "xy" + EncodeBlock(block, month));
  std::vector<Reading> back;
  ASSERT_TRUE(DecodeBlock(std::string_view(out).substr(2), month, back));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].temperature, -0.1);
}

std::string Hex(std::string_view b) {
  std::string h;
  for (unsigned char c : b) h += "0123456789abcdef"[c >> 4], h += "0123456789abcdef"[c & 15];
  return h;
}

std::string Unhex(std::string_view h) {
  std::string b;
  for (size_t i = 0; i + 1 < h.size(); i += 2)
    b += static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16));
  return b;
}

std::vector<Reading> StableInput() {
  return {R("2024-02-01", 12.5, 0.2),
          R("2024-02-01T10:00:00.250+02:00", -0.3, 0.07),
          R("2024-02-03", 2.5, 1.5),
          R("2024-02-04", -2.5, 0.125),
          R("2024-02-29", 0.1 + 0.2, 1e-300),
          R("2024-02-29T23:59Z", 44.999999999999, 10),
          R("2024-02-29T23:59:59", 4503599627370497.0, 0)};
}

void ExpectSameReadings(const std::vector<Reading>& a, const std::vector<Reading>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].when, b[i].when) << i;
    EXPECT_EQ(std::bit_cast<uint64_t>(a[i].temperature), std::bit_cast<uint64_t>(b[i].temperature))
        << i;
    EXPECT_EQ(std::bit_cast<uint64_t>(a[i].sd), std::bit_cast<uint64_t>(b[i].sd)) << i;
  }
}

TEST(Block, EncodingIsStable) {
  // The stored format: these bytes must not change (blocks written by this
  // version are decoded as they are by every later one).
  const int32_t month = MonthIndex(2024, 2);
  const std::string v2 =
      "020700000011fa01040003faa39511f00112050e020011321e03001331fa011c00ff343333333333d7ff59f3f8c2"
      "1f"
      "6e653e1c03a0e3952900f047cccccccc4c957f141c0198b0992900828080808080801000";
  EXPECT_EQ(Hex(EncodeBlock(StableInput(), month)), v2);
  std::vector<Reading> out;
  ASSERT_TRUE(DecodeBlock(Unhex(v2), month, out));
  ExpectSameReadings(out, StableInput());
}

TEST(Block, I11_DecodesVersion1Blocks) {
  // The bytes version 1 wrote for StableInput(): stores written before
  // issue 11 are read unchanged.
  const int32_t month = MonthIndex(2024, 2);
  const std::string v1 = Unhex(
      "0107000011fa0104000312faa39511f001050e020011321e03001331fa011c00ff343333333333d33f59f3f8c2"
      "1f6ea5011c03c0a0e3952900febf9e90acbb14141c010098b09929828080808080801000");
  std::vector<Reading> out;
  ASSERT_TRUE(DecodeBlock(v1, month, out));
  ExpectSameReadings(out, StableInput());
}

TEST(Block, I11_FullPrecisionDoublesRoundTripInAtMost16BytesAReading) {
  // Daily full-precision readings (no decimal structure): the XOR path.
  const int32_t month = MonthIndex(2024, 1);
  std::mt19937_64 rng(11);
  std::vector<Reading> in;
  for (int d = 1; d <= 31; ++d) {
    const double t =
        (1200 + static_cast<double>(rng() % 1800) + static_cast<double>(rng() >> 11) * 0x1p-53) /
        100;
    const double sd =
        (5 + static_cast<double>(rng() % 45) + static_cast<double>(rng() >> 11) * 0x1p-53) / 100;
    in.push_back({DateTime{DaysFromCivil(2024, 1, d)}, t, sd});
  }
  const std::string bytes = EncodeBlock(in, month);
  std::vector<Reading> out;
  ASSERT_TRUE(DecodeBlock(bytes, month, out));
  ExpectSameReadings(out, in);
  EXPECT_LE(bytes.size(), 31u * 16) << bytes.size();  // v1: 31 * 19 + 2
  // Two decimals: about 4 bytes a reading (v1: 6).
  std::vector<Reading> two;
  for (int d = 1; d <= 31; ++d)
    two.push_back({DateTime{DaysFromCivil(2024, 1, d)}, 12.34 + d, 0.21});
  EXPECT_LE(EncodeBlock(two, month).size(), 31u * 4 + 8);
}

TEST(Block, I11_RepeatedFullPrecisionValuesTakeNoBytes) {
  // A stuck sensor: the same full-precision reading every day. After the
  // first, each value is an XOR of 0 bytes, so the block is shorter than its
  // count (the decoder once rejected such a block as corrupt).
  const int32_t month = MonthIndex(2024, 1);
  std::vector<Reading> in;
  for (int d = 1; d <= 31; ++d)
    in.push_back({DateTime{DaysFromCivil(2024, 1, d)}, 12.549188181281455, 0.3736595668933671});
  const std::string bytes = EncodeBlock(in, month);
  EXPECT_LT(bytes.size(), 31u);
  std::vector<Reading> out;
  ASSERT_TRUE(DecodeBlock(bytes, month, out));
  ExpectSameReadings(out, in);
}

TEST(Block, I11_EdgeDoublesAndMixedBlocksRoundTripBitForBit) {
  const int32_t month = MonthIndex(2024, 2);
  const double edge[] = {0.0,
                         -0.0,
                         5e-324,
                         -5e-324,
                         2.2250738585072009e-308,
                         2.2250738585072014e-308,
                         1e-300,
                         1.7976931348623157e308,
                         -1.7976931348623157e308,
                         1e16,
                         4503599627370497.0,
                         9007199254740993.0,
                         0.1 + 0.2,
                         12.549188181281455,
                         0.3736595668933671,
                         1e-6,
                         1.5e-6,
                         123456.123456,
                         1234567.1234567,
                         12.5,
                         -12.25,
                         1,
                         0.05};
  std::mt19937_64 rng(7);
  BlockEncoder encoder;
  for (int round = 0; round < 2000; ++round) {
    std::vector<Reading> in;
    const bool with_times = round % 3 == 0;
    int day = 1;
    for (int i = 0; i < 29 && day <= 29; ++i) {
      Reading r;
      r.when = DateTime{DaysFromCivil(2024, 2, day)};
      if (with_times && rng() % 2) {
        r.when.ms_of_day = static_cast<int32_t>(rng() % 86'400'000);
        r.when.offset_min = static_cast<int16_t>(static_cast<int>(rng() % 1681) - 840);
      }
      day += with_times ? static_cast<int>(rng() % 2) : 1;
      auto pick = [&] {
        switch (rng() % 3) {
          case 0:
            return edge[rng() % std::size(edge)];
          case 1:
            return static_cast<double>(static_cast<int64_t>(rng() % 100000) - 50000) / 1000;
          default: {
            uint64_t bits = rng();
            if (((bits >> 52) & 0x7FF) == 0x7FF) bits ^= uint64_t{1} << 62;  // no NaN or infinity
            return std::bit_cast<double>(bits);
          }
        }
      };
      r.temperature = pick();
      r.sd = pick();
      in.push_back(r);
    }
    std::sort(in.begin(), in.end(),
              [](const Reading& a, const Reading& b) { return a.when < b.when; });
    const std::string bytes = EncodeBlock(in, month);
    std::string memo = "x";
    encoder.Append(in, month, memo);
    ASSERT_EQ("x" + bytes, memo) << round;
    std::vector<Reading> out;
    ASSERT_TRUE(DecodeBlock(bytes, month, out)) << round;
    ExpectSameReadings(out, in);
    for (size_t cut = 0; cut < bytes.size(); cut += 7)
      EXPECT_FALSE(DecodeBlock(bytes.substr(0, cut), month, out));
  }
}

TEST(Block, BlockEncoderWritesTheSameBytes) {
  // Many distinct values, so the encoder's memo both hits and evicts.
  std::mt19937_64 rng(9);
  BlockEncoder encoder;
  const int32_t month = MonthIndex(2024, 2);
  for (int b = 0; b < 3000; ++b) {
    std::vector<Reading> block;
    for (int i = 0; i < 29; ++i) {
      const int kind = static_cast<int>(rng() % 4);
      double v = static_cast<double>(static_cast<int64_t>(rng() % 10000) - 5000) / 100;
      if (kind == 1)
        v = std::ldexp(static_cast<double>(rng() >> 11), -static_cast<int>(rng() % 60));
      if (kind == 2) v = static_cast<double>(rng() % 100) + 0.5;
      if (kind == 3) v = -v / 3;
      block.push_back({DateTime{DaysFromCivil(2024, 2, 1 + i)}, v, v == 0 ? 0 : 1 / v});
    }
    std::string a = "x", b2 = "x";
    AppendEncodedBlock(block, month, a);
    encoder.Append(block, month, b2);
    ASSERT_EQ(a, b2) << b;
  }
}

// The definition ScaleOf's cheap tests must agree with: the smallest k <= 6
// with v == round(v * 10^k) / 10^k (|M| < 2^53), else 15 (raw).
int ScaleByLoop(double v) {
  if (v == 0 && std::signbit(v)) return 15;
  for (int k = 0; k <= 6; ++k) {
    const double scaled = v * std::pow(10.0, k);
    if (std::fabs(scaled) >= 9007199254740992.0) break;
    if (std::nearbyint(scaled) / std::pow(10.0, k) == v) return k;
  }
  return 15;
}

// Issue 11: ClearlyRaw skips the decimal-scale search (and the encoder's
// memo) for full-precision values; it must never call a decimal value raw,
// or the stored bytes would change.
TEST(Block, I11_ClearlyRawOnlyForValuesWithoutDecimalStructure) {
  std::mt19937_64 rng(11);
  int clearly = 0, raw = 0;
  auto check = [&](double v) {
    int64_t m = 0;
    const int want = ScaleByLoop(v);
    ASSERT_EQ(block_internal::ScaleOf(v, m), want) << v;
    if (block_internal::ClearlyRaw(v)) {
      ASSERT_EQ(want, 15) << v;
      ++clearly;
    }
    raw += want == 15;
  };
  for (int i = 0; i < 400000; ++i) {
    const int k = static_cast<int>(rng() % 7);
    const auto mant = static_cast<int64_t>(rng() >> (11 + rng() % 52));
    const double dec = static_cast<double>(rng() % 2 ? mant : -mant) / std::pow(10.0, k);
    check(dec);
    check(std::nextafter(dec, 1e300));  // one ulp off: raw unless tiny
    check(std::ldexp(static_cast<double>(rng() >> 11), -static_cast<int>(rng() % 80)));
    char text[32];  // 1-17 significant digits, as CSV text has them
    std::snprintf(text, sizeof text, "%.*g", static_cast<int>(1 + rng() % 17),
                  static_cast<double>(rng() % 4000000) / 1000 + static_cast<double>(rng()) / 1e19);
    check(std::strtod(text, nullptr));
    uint64_t bits = rng();
    if (((bits >> 52) & 0x7FF) == 0x7FF) bits ^= uint64_t{1} << 62;  // no NaN or infinity
    check(std::bit_cast<double>(bits));
  }
  for (double v : {0.0, -0.0, 5e-324, 1e-6, 5e-7, 4e-7, 1125899906.842624, 1125899906.842625,
                   9007199254.740992, 12.549188181281455, 0.3736595668933671})
    check(v);
  // Full-precision readings (the seed's numbers): nearly all take the cheap test.
  int full = 0, full_clearly = 0;
  std::uniform_real_distribution<double> temp(0, 35);
  for (int i = 0; i < 100000; ++i, ++full) full_clearly += block_internal::ClearlyRaw(temp(rng));
  EXPECT_GT(full_clearly, full * 99 / 100);
  EXPECT_GT(clearly, raw / 2);
}

TEST(Block, RejectsCorruptBytes) {
  const int32_t month = MonthIndex(2024, 2);
  std::vector<Reading> out;
  std::string good = EncodeBlock(std::vector<Reading>{R("2024-02-01", 12.5, 0.2)}, month);
  EXPECT_FALSE(DecodeBlock("", month, out));
  EXPECT_FALSE(DecodeBlock(good.substr(0, good.size() - 1), month, out));
  EXPECT_FALSE(DecodeBlock(good + "x", month, out));
}

TEST(Merge, DuplicatesConflictsAndReplace) {
  std::vector<Reading> block = {R("2024-01-03", 12.5, 0.2)};
  std::vector<Incoming> in = {{R("2024-01-03", 12.50, 0.2), 0},
                              {R("2024-01-03", 13, 0.2), 1},
                              {R("2024-01-04", 1, 0.1), 2},
                              {R("2024-01-04", 1, 0.1), 3}};
  std::vector<MergeDecision> d(in.size());
  EXPECT_TRUE(MergeInto(block, in, ConflictMode::kReject, d));
  EXPECT_EQ(d[0].decision, Decision::kDuplicate);
  EXPECT_EQ(d[1].decision, Decision::kConflict);
  EXPECT_EQ(d[1].other.temperature, 12.5);
  EXPECT_EQ(d[2].decision, Decision::kStored);
  EXPECT_EQ(d[3].decision, Decision::kDuplicate);
  ASSERT_EQ(block.size(), 2u);
  EXPECT_EQ(block[0].temperature, 12.5);

  std::vector<Incoming> rep = {{R("2024-01-03", 14, 0.2), 0}};
  std::vector<MergeDecision> d2(1);
  EXPECT_TRUE(MergeInto(block, rep, ConflictMode::kReplace, d2));
  EXPECT_EQ(d2[0].decision, Decision::kReplaced);
  EXPECT_EQ(d2[0].other.temperature, 12.5);
  EXPECT_EQ(block[0].temperature, 14);

  std::vector<MergeDecision> d3(1);
  EXPECT_FALSE(MergeInto(block, rep, ConflictMode::kReject, d3));
  EXPECT_EQ(d3[0].decision, Decision::kDuplicate);
}

TEST(Merge, InterleavesAndKeepsTimeOrder) {
  std::mt19937 rng(3);
  std::vector<Reading> block;
  for (int day = 1; day <= 28; day += 2)
    block.push_back({DateTime{DaysFromCivil(2024, 3, day)}, 1.0 * day, 0.1});
  std::vector<Incoming> in;
  for (int day = 2; day <= 28; day += 2)
    in.push_back(
        {{DateTime{DaysFromCivil(2024, 3, day)}, 2.0 * day, 0.1}, static_cast<uint32_t>(day)});
  std::vector<MergeDecision> d(in.size());
  EXPECT_TRUE(MergeInto(block, in, ConflictMode::kReject, d));
  ASSERT_EQ(block.size(), 28u);
  for (size_t i = 1; i < block.size(); ++i) EXPECT_LT(block[i - 1].when, block[i].when);
}

TEST(Aggregate, MeanMaxAndCount) {
  std::vector<Reading> b = {R("2024-01-01", 12.1, 0.2), R("2024-01-02", 12.2, 0.6),
                            R("2024-01-03", 11, 0.1)};
  MonthAgg a = Aggregate(b);
  EXPECT_EQ(a.readings, 3);
  EXPECT_EQ(a.max_temp, 12.2);
  EXPECT_EQ(a.max_sd, 0.6);
  EXPECT_EQ(a.mean_temp, (12.1 + 12.2 + 11) / 3);
}

}  // namespace
}  // namespace aquasense::core
