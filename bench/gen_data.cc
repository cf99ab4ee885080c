// aq_gen_data: deterministic synthetic sensor CSV for the ingest benchmarks.
//
//   aq_gen_data --rows N --sensors K [--bad-share 0.01] [--dup-share 0.01]
//               [--conflict-share 0] [--slash-share 0.1] [--seed S]
//               [--start 2000-01-01] [--meta FILE] [--digits 2|3|full|mix]
//   aq_gen_data --week SENSOR:YYYY-MM-DD [--seed S] [--digits ...]
//
// Writes `sensor,date,temperature,sd` CSV to stdout. Rows are ordered by day,
// then sensor (every sensor's reading of a day, then the next day), so
// 10M rows over 1000 sensors cover ~27 years. Temperatures follow a seasonal
// sine between ~5 and ~30 °C plus a per-sensor offset and noise; sd is
// 0.05..0.49 with ~2% of readings 0.51..0.60 (sd alerts).
//
// --digits: how the numbers are written. `2`: two decimals (12.50, the
// shape of earlier versions of this tool, byte for byte); `3`: three
// (12.503); `full`: a double with 16-17 significant digits printed in its
// shortest round-trip form (12.549188181281455, like pandas' to_csv);
// `mix` (default): per sensor, half at two decimals, 30% at three, 20% at
// full precision. The extra digits come from a second generator, so every
// shape has the same rows, dates, bad rows and duplicates as `2`.
//
// A share of the rows is bad (--bad-share; a mix of impossible dates such as
// 2023-02-30, non-numbers, out-of-range values and a missing field), a share
// repeats an earlier row byte for byte (--dup-share: exact duplicates) and,
// optionally, a share repeats an earlier row's sensor and date with another
// temperature (--conflict-share). Some dates use the `YYYY/MM/DD` form.
//
// The output depends only on the arguments: a splitmix64 generator and
// integer arithmetic (no std:: distributions, no libm), so it is identical
// across compilers and standard libraries.
//
// --week SENSOR:DATE writes 7 valid daily readings of SENSOR from DATE on
// (the incremental-ingest benchmark).
//
// --meta FILE writes key=value lines: rows, days, first_date, last_date,
// next_date (the day after the last generated day), and the number of
// bad / duplicate / conflicting rows emitted.

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

// ---------------------------------------------------------------- PRNG ---
struct SplitMix64 {
  std::uint64_t s;
  std::uint64_t Next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform-enough integer in [0, n).
  std::uint64_t Below(std::uint64_t n) { return (Next() >> 11) % n; }
  // Integer in [lo, hi].
  std::int64_t Range(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(Below(static_cast<std::uint64_t>(hi - lo + 1)));
  }
  // True with probability threshold / 2^53.
  bool Chance(std::uint64_t threshold) { return (Next() >> 11) < threshold; }
};

std::uint64_t ShareThreshold(double share) {
  if (share <= 0) return 0;
  if (share >= 1) return 1ULL << 53;
  return static_cast<std::uint64_t>(share * 9007199254740992.0);  // 2^53
}

// --------------------------------------------------------------- dates ---
struct Date {
  int y, m, d;
};

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int DaysIn(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}
void NextDay(Date& dt) {
  if (++dt.d > DaysIn(dt.y, dt.m)) {
    dt.d = 1;
    if (++dt.m > 12) {
      dt.m = 1;
      ++dt.y;
    }
  }
}
int DayOfYear(const Date& dt) {
  int n = dt.d - 1;
  for (int m = 1; m < dt.m; ++m) n += DaysIn(dt.y, m);
  return n;  // 0-based
}
bool ParseDate(std::string_view s, Date& out) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  auto num = [&](std::size_t pos, std::size_t len, int& v) {
    v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    return true;
  };
  if (!num(0, 4, out.y) || !num(5, 2, out.m) || !num(8, 2, out.d)) return false;
  return out.m >= 1 && out.m <= 12 && out.d >= 1 && out.d <= DaysIn(out.y, out.m);
}

// ------------------------------------------------------------ seasonal ---
// sin() by range reduction and a Taylor series in plain double arithmetic:
// deterministic across libm versions (the result is rounded to 0.01 °C).
double Sin(double x) {
  const double kPi = 3.14159265358979323846;
  while (x > kPi) x -= 2 * kPi;
  while (x < -kPi) x += 2 * kPi;
  double term = x, sum = x, x2 = x * x;
  for (int k = 1; k < 12; ++k) {
    term = -term * x2 / ((2 * k) * (2 * k + 1));
    sum += term;
  }
  return sum;
}

// Seasonal temperature in centi-degrees for each day of year (0..365):
// 17.5 + 12.5 * sin(...), coldest around early January... warmest mid-July.
std::vector<int> SeasonTable() {
  std::vector<int> t(366 + 40);
  const double kTwoPi = 6.28318530717958647692;
  for (int i = 0; i < static_cast<int>(t.size()); ++i) {
    double v = 1750.0 + 1250.0 * Sin(kTwoPi * (i - 105) / 365.25);
    t[i] = static_cast<int>(v >= 0 ? v + 0.5 : v - 0.5);
  }
  return t;
}

// -------------------------------------------------------------- output ---
class Out {
 public:
  Out() : buf_(kSize) {}
  ~Out() { Flush(); }
  void Reserve(std::size_t n) {
    if (pos_ + n > kSize) Flush();
  }
  void Put(char c) { buf_[pos_++] = c; }
  void Put(std::string_view s) {
    std::memcpy(buf_.data() + pos_, s.data(), s.size());
    pos_ += s.size();
  }
  void PutDigits(int v, int width) {  // v >= 0, zero-padded to width
    char tmp[16];
    int n = 0;
    do {
      tmp[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v > 0);
    while (n < width) tmp[n++] = '0';
    while (n > 0) buf_[pos_++] = tmp[--n];
  }
  void PutCenti(int v) {  // v/100 with exactly 2 decimals
    if (v < 0) {
      Put('-');
      v = -v;
    }
    PutDigits(v / 100, 1);
    Put('.');
    PutDigits(v % 100, 2);
  }
  // v/100 plus `u` (0 <= u < 1, in 2^-53 steps) hundredths, as the shortest
  // round-trip decimal of the double (std::to_chars is exact and the same
  // in every conforming library).
  void PutFull(int v, std::uint64_t u53) {
    const double x = (static_cast<double>(v) + static_cast<double>(u53) * 0x1p-53) / 100.0;
    auto r =
        std::to_chars(buf_.data() + pos_, buf_.data() + pos_ + 40, x, std::chars_format::fixed);
    pos_ = static_cast<std::size_t>(r.ptr - buf_.data());
  }
  void PutMilli(int v) {  // v/1000 with exactly 3 decimals
    if (v < 0) {
      Put('-');
      v = -v;
    }
    PutDigits(v / 1000, 1);
    Put('.');
    PutDigits(v % 1000, 3);
  }
  void PutDate(const Date& dt, char sep) {
    PutDigits(dt.y, 4);
    Put(sep);
    PutDigits(dt.m, 2);
    Put(sep);
    PutDigits(dt.d, 2);
  }
  // The bytes written since `mark` (for the duplicate ring).
  std::size_t Mark() const { return pos_; }
  std::string_view Since(std::size_t mark) const { return {buf_.data() + mark, pos_ - mark}; }
  void Flush() {
    std::size_t off = 0;
    while (off < pos_) {
      std::size_t n = std::fwrite(buf_.data() + off, 1, pos_ - off, stdout);
      if (n == 0) {
        std::fprintf(stderr, "aq_gen_data: write failed: %s\n", std::strerror(errno));
        std::exit(2);
      }
      off += n;
    }
    pos_ = 0;
    std::fflush(stdout);
  }

 private:
  static constexpr std::size_t kSize = 4 << 20;
  std::vector<char> buf_;
  std::size_t pos_ = 0;
};

// ---------------------------------------------------------------- args ---
struct Args {
  long long rows = 1000;
  long long sensors = 10;
  double bad_share = 0.01;
  double dup_share = 0.01;
  double conflict_share = 0.0;
  double slash_share = 0.10;
  std::uint64_t seed = 42;
  Date start{2000, 1, 1};
  std::string week;  // SENSOR:DATE
  std::string meta;
  std::string digits = "mix";  // 2 | 3 | full | mix
};

// How one sensor's numbers are written (--digits).
enum class Shape { kTwo, kThree, kFull };

Shape ShapeOf(const std::string& digits, long long sensor) {
  if (digits == "2") return Shape::kTwo;
  if (digits == "3") return Shape::kThree;
  if (digits == "full") return Shape::kFull;
  const long long k = sensor * 7 % 10;  // mix: spread over the sensor ids
  return k < 5 ? Shape::kTwo : k < 8 ? Shape::kThree : Shape::kFull;
}

// Writes centi-degrees `v` in `shape`; `extra` draws the digits beyond two
// decimals (a generator of its own: the main sequence stays the same).
void PutNumber(Out& out, int v, Shape shape, SplitMix64& extra) {
  switch (shape) {
    case Shape::kTwo:
      out.PutCenti(v);
      break;
    case Shape::kThree:
      out.PutMilli(v * 10 + static_cast<int>(extra.Below(10)));
      break;
    case Shape::kFull:
      out.PutFull(v, extra.Next() >> 11);
      break;
  }
}

[[noreturn]] void Usage(const char* msg) {
  if (msg) std::fprintf(stderr, "aq_gen_data: %s\n", msg);
  std::fprintf(stderr,
               "usage: aq_gen_data --rows N --sensors K [--bad-share F] [--dup-share F]\n"
               "                   [--conflict-share F] [--slash-share F] [--seed S]\n"
               "                   [--start YYYY-MM-DD] [--meta FILE] [--digits 2|3|full|mix]\n"
               "       aq_gen_data --week SENSOR:YYYY-MM-DD [--seed S] [--digits ...]\n");
  std::exit(1);
}

long long ParseInt(const char* s, const char* what) {
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s, &end, 10);
  if (errno || end == s || *end) Usage((std::string("bad integer for ") + what).c_str());
  return v;
}
double ParseShare(const char* s, const char* what) {
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s, &end);
  if (errno || end == s || *end || !(v >= 0 && v <= 1))
    Usage((std::string("bad share (0..1) for ") + what).c_str());
  return v;
}

Args ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string_view k = argv[i];
    if (k == "-h" || k == "--help") Usage(nullptr);
    if (i + 1 >= argc) Usage(("missing value for " + std::string(k)).c_str());
    const char* v = argv[++i];
    if (k == "--rows")
      a.rows = ParseInt(v, "--rows");
    else if (k == "--sensors")
      a.sensors = ParseInt(v, "--sensors");
    else if (k == "--bad-share")
      a.bad_share = ParseShare(v, "--bad-share");
    else if (k == "--dup-share")
      a.dup_share = ParseShare(v, "--dup-share");
    else if (k == "--conflict-share")
      a.conflict_share = ParseShare(v, "--conflict-share");
    else if (k == "--slash-share")
      a.slash_share = ParseShare(v, "--slash-share");
    else if (k == "--seed")
      a.seed = static_cast<std::uint64_t>(ParseInt(v, "--seed"));
    else if (k == "--start") {
      if (!ParseDate(v, a.start)) Usage("bad --start date (YYYY-MM-DD)");
    } else if (k == "--week")
      a.week = v;
    else if (k == "--meta")
      a.meta = v;
    else if (k == "--digits")
      a.digits = v;
    else
      Usage(("unknown option " + std::string(k)).c_str());
  }
  if (a.rows < 0) Usage("--rows must be >= 0");
  if (a.digits != "2" && a.digits != "3" && a.digits != "full" && a.digits != "mix")
    Usage("--digits must be 2, 3, full or mix");
  if (a.sensors < 1 || a.sensors > 99999999) Usage("--sensors must be 1..99999999");
  return a;
}

// Sensor id `sensor-0001` (at least 4 digits).
void PutSensor(Out& out, long long idx, int width) {
  out.Put("sensor-");
  out.PutDigits(static_cast<int>(idx + 1), width);
}

int WeekMode(const Args& a) {
  auto colon = a.week.rfind(':');
  Date dt{};
  if (colon == std::string::npos || colon == 0 ||
      !ParseDate(std::string_view(a.week).substr(colon + 1), dt))
    Usage("--week wants SENSOR:YYYY-MM-DD");
  std::string sensor = a.week.substr(0, colon);
  SplitMix64 rng{a.seed ^ 0x5EEDF00DULL};
  SplitMix64 extra{a.seed ^ 0xD161751ULL};
  // The sensor's shape under mix: its index from the `sensor-NNNN` name.
  long long idx = 0;
  for (char ch : sensor) idx = ch >= '0' && ch <= '9' ? idx * 10 + (ch - '0') : 0;
  const Shape shape = ShapeOf(a.digits, idx > 0 ? idx - 1 : 0);
  std::vector<int> season = SeasonTable();
  Out out;
  out.Reserve(64);
  out.Put("sensor,date,temperature,sd\n");
  for (int i = 0; i < 7; ++i) {
    out.Reserve(128);
    int t = season[DayOfYear(dt)] + static_cast<int>(rng.Range(-150, 150));
    int sd = static_cast<int>(rng.Range(5, 49));
    out.Put(sensor);
    out.Put(',');
    out.PutDate(dt, '-');
    out.Put(',');
    PutNumber(out, t, shape, extra);
    out.Put(',');
    PutNumber(out, sd, shape, extra);
    out.Put('\n');
    NextDay(dt);
  }
  return 0;
}

struct Counts {
  long long rows = 0, bad = 0, dups = 0, conflicts = 0, days = 0;
  long long bad_kind[4] = {0, 0, 0, 0};
};

}  // namespace

int main(int argc, char** argv) {
  Args a = ParseArgs(argc, argv);
  if (!a.week.empty()) return WeekMode(a);

  SplitMix64 rng{a.seed};
  SplitMix64 extra{a.seed ^ 0xD161751ULL};
  const std::uint64_t bad_t = ShareThreshold(a.bad_share);
  const std::uint64_t dup_t = ShareThreshold(a.dup_share);
  const std::uint64_t conflict_t = ShareThreshold(a.conflict_share);
  const std::uint64_t slash_t = ShareThreshold(a.slash_share);
  const std::vector<int> season = SeasonTable();

  int width = 4;
  for (long long k = 10000; k <= a.sensors; k *= 10) ++width;

  // Per-sensor character: a constant offset and a phase shift.
  std::vector<int> offset(a.sensors), phase(a.sensors);
  std::vector<Shape> shape(a.sensors);
  for (long long s = 0; s < a.sensors; ++s) {
    offset[s] = static_cast<int>(rng.Range(-200, 200));
    phase[s] = static_cast<int>(rng.Range(0, 30));
    shape[s] = ShapeOf(a.digits, s);
  }

  // Ring of recent valid rows (text, sensor+date prefix length) for duplicates.
  constexpr int kRing = 256;
  std::vector<std::string> ring(kRing);
  std::vector<std::size_t> ring_key(kRing);  // bytes of "sensor,date,"
  int ring_n = 0, ring_next = 0;

  Out out;
  out.Reserve(64);
  out.Put("sensor,date,temperature,sd\n");

  static const char* kBadNumbers[] = {"n/a", "12.3.4", "", "abc", "1e", "--5", "NaN", "x7"};
  Counts c;
  Date day = a.start;
  Date first = day, last = day;
  long long sensor = 0;
  int doy = DayOfYear(day);
  bool day_started = false;

  while (c.rows < a.rows) {
    out.Reserve(256);
    // Exact duplicate or conflicting repeat of a recent valid row.
    if (ring_n > 0) {
      const bool dup = rng.Chance(dup_t);
      const bool conflict = !dup && conflict_t != 0 && rng.Chance(conflict_t);
      if (dup || conflict) {
        const int i = static_cast<int>(rng.Below(static_cast<std::uint64_t>(ring_n)));
        if (dup) {
          out.Put(ring[i]);
          ++c.dups;
        } else {  // same sensor and date, another temperature
          out.Put(std::string_view(ring[i]).substr(0, ring_key[i]));
          out.PutCenti(500 + static_cast<int>(rng.Below(3000)));
          out.Put(",0.33\n");
          ++c.conflicts;
        }
        ++c.rows;
        continue;
      }
    }
    if (!day_started) {
      day_started = true;
      ++c.days;
      last = day;
    }
    const long long s = sensor;
    const char sep = rng.Chance(slash_t) ? '/' : '-';
    const int temp = season[doy + phase[s]] + offset[s] + static_cast<int>(rng.Range(-100, 100)) +
                     static_cast<int>(rng.Range(-100, 100));
    int sd = rng.Below(50) == 0 ? static_cast<int>(rng.Range(51, 60))
                                : static_cast<int>(rng.Range(5, 49));

    std::size_t mark = out.Mark();
    PutSensor(out, s, width);
    out.Put(',');
    if (rng.Chance(bad_t)) {
      int kind = static_cast<int>(rng.Below(4));
      ++c.bad;
      ++c.bad_kind[kind];
      switch (kind) {
        case 0: {  // impossible calendar date
          Date bad = day;
          int v = static_cast<int>(rng.Below(3));
          if (v == 0)
            bad.m = 2, bad.d = 30;
          else if (v == 1)
            bad.m = 13;
          else
            bad.m = 4, bad.d = 31;
          out.PutDate(bad, sep);
          out.Put(',');
          PutNumber(out, temp, shape[s], extra);
          out.Put(',');
          PutNumber(out, sd, shape[s], extra);
          break;
        }
        case 1: {  // not a number (temperature or sd)
          out.PutDate(day, sep);
          out.Put(',');
          const char* junk = kBadNumbers[rng.Below(8)];
          if (rng.Below(4) == 0) {
            PutNumber(out, temp, shape[s], extra);
            out.Put(',');
            out.Put(junk);
          } else {
            out.Put(junk);
            out.Put(',');
            PutNumber(out, sd, shape[s], extra);
          }
          break;
        }
        case 2: {  // out of range: temperature 99 (or sd 12)
          out.PutDate(day, sep);
          out.Put(',');
          if (rng.Below(4) == 0) {
            PutNumber(out, temp, shape[s], extra);
            out.Put(",12.00");
          } else {
            out.PutCenti(9900 + static_cast<int>(rng.Below(100)));
            out.Put(',');
            PutNumber(out, sd, shape[s], extra);
          }
          break;
        }
        default: {  // missing field
          out.PutDate(day, sep);
          out.Put(',');
          PutNumber(out, temp, shape[s], extra);
          break;
        }
      }
      out.Put('\n');
    } else {
      out.PutDate(day, sep);
      out.Put(',');
      std::size_t key = out.Mark() - mark;
      PutNumber(out, temp, shape[s], extra);
      out.Put(',');
      PutNumber(out, sd, shape[s], extra);
      out.Put('\n');
      ring[ring_next].assign(out.Since(mark));
      ring_key[ring_next] = key;
      ring_next = (ring_next + 1) % kRing;
      if (ring_n < kRing) ++ring_n;
    }
    ++c.rows;
    if (++sensor == a.sensors) {
      sensor = 0;
      NextDay(day);
      doy = DayOfYear(day);
      day_started = false;
    }
  }
  out.Flush();

  if (!a.meta.empty()) {
    Date next = last;
    NextDay(next);
    FILE* f = std::fopen(a.meta.c_str(), "w");
    if (!f) {
      std::fprintf(stderr, "aq_gen_data: cannot write %s: %s\n", a.meta.c_str(),
                   std::strerror(errno));
      return 2;
    }
    std::fprintf(f,
                 "rows=%lld\nsensors=%lld\ndays=%lld\nfirst_date=%04d-%02d-%02d\n"
                 "last_date=%04d-%02d-%02d\nnext_date=%04d-%02d-%02d\nbad=%lld\n"
                 "bad_date=%lld\nbad_number=%lld\nout_of_range=%lld\nmissing_field=%lld\n"
                 "duplicates=%lld\nconflicts=%lld\n",
                 c.rows, a.sensors, c.days, first.y, first.m, first.d, last.y, last.m, last.d,
                 next.y, next.m, next.d, c.bad, c.bad_kind[0], c.bad_kind[1], c.bad_kind[2],
                 c.bad_kind[3], c.dups, c.conflicts);
    std::fclose(f);
  }
  return 0;
}
