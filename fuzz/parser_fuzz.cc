// SOURCES: src/core/validate.cc src/core/datetime.cc src/core/number.cc src/core/block.cc src/core/grouping.cc
// libFuzzer target over the row parser and validator (core/validate.h),
// the block codec and the merge: arbitrary bytes, fed in arbitrary pieces,
// must never crash, hang or break the parser's invariants: among them, every
// record is accounted for (rows + invalid == data_rows, SPEC §3), and a
// split at a record boundary parses as the whole (CheckSplit).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/block.h"
#include "core/datetime.h"
#include "core/grouping.h"
#include "core/number.h"
#include "core/validate.h"

using namespace aquasense::core;

namespace {

// Parsing in parts (pipeline/file_ingest.cc, issue 11): split at a line
// start chosen by `pick`; when the first part ends at a record boundary, a
// fork parses the rest, and its rows (sensor names, lines shifted by the
// first part's) must be exactly those of one parser fed the whole text at
// once, and so must the invalid rows of `piece_fed` (the raw text kept of a
// too-long line does not depend on where the pieces end).
void CheckSplit(std::string_view text, const Limits& limits, uint8_t pick,
                const ParseOutput& piece_fed) {
  FileParser one(limits, "default");
  ParseOutput whole;
  one.Feed(text, whole);
  one.Finish(whole);
  if (piece_fed.invalid.size() != whole.invalid.size()) std::abort();
  for (size_t i = 0; i < whole.invalid.size(); ++i)
    if (piece_fed.invalid[i].raw != whole.invalid[i].raw ||
        piece_fed.invalid[i].line != whole.invalid[i].line)
      std::abort();
  size_t at = text.find('\n', text.size() * pick / 256);
  if (at == std::string_view::npos || ++at >= text.size()) return;
  FileParser a(limits, "default");
  ParseOutput first;
  a.Feed(text.substr(0, at), first);
  if (!a.configured() || !a.AtRecordBoundary()) return;
  FileParser b = a.ForkAt(at);
  ParseOutput rest;
  b.Feed(text.substr(at), rest);
  b.Finish(rest);
  const int64_t base = a.next_line() - 1;
  const std::vector<std::string>& names = one.sensors();
  if (first.rows.size() + rest.rows.size() != whole.rows.size() ||
      first.invalid.size() + rest.invalid.size() != whole.invalid.size() ||
      first.data_rows + rest.data_rows != whole.data_rows)
    std::abort();
  auto same_row = [&](const ParsedRow& x, const ParseOutput& xo, const std::string& x_name,
                      int64_t x_base, const ParsedRow& w) {
    return x_name == names[w.sensor] && x.line + x_base == w.line && x.offset == w.offset &&
           x.length == w.length && x.when == w.when && x.temperature == w.temperature &&
           x.sd == w.sd &&
           xo.normalized.compare(x.norm_offset, x.norm_length, whole.normalized, w.norm_offset,
                                 w.norm_length) == 0;
  };
  for (size_t i = 0; i < whole.rows.size(); ++i) {
    const bool in_first = i < first.rows.size();
    const ParsedRow& x = in_first ? first.rows[i] : rest.rows[i - first.rows.size()];
    const std::string& name = in_first ? a.sensors()[x.sensor] : b.sensors()[x.sensor];
    if (!same_row(x, in_first ? first : rest, name, in_first ? 0 : base, whole.rows[i]))
      std::abort();
  }
  for (size_t i = 0; i < whole.invalid.size(); ++i) {
    const bool in_first = i < first.invalid.size();
    const InvalidRow& x = in_first ? first.invalid[i] : rest.invalid[i - first.invalid.size()];
    const InvalidRow& w = whole.invalid[i];
    if (x.line + (in_first ? 0 : base) != w.line || x.reason != w.reason || x.raw != w.raw ||
        x.detail != w.detail)
      std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Limits limits;
  limits.max_line = 256;  // reach the too-long paths with small inputs
  // The first byte chooses how the input is split into Feed calls: pieces
  // of 1-64 bytes, or of up to 4 * max_line (pieces longer than max_line
  // reach the over-long-piece paths).
  const size_t piece = data[0] < 128 ? 1 + data[0] % 64 : 1 + (data[0] - 128) * 8;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  FileParser parser(limits, "default");
  ParseOutput out;
  for (size_t i = 0; i < text.size(); i += piece) {
    // Each piece in a heap block of its own size: ASan sees any read past it.
    const std::string_view part = text.substr(i, piece);
    std::unique_ptr<char[]> copy(new char[part.size()]);
    std::memcpy(copy.get(), part.data(), part.size());
    parser.Feed(std::string_view(copy.get(), part.size()), out);
  }
  parser.Finish(out);

  // Every record is a valid row or an invalid one (SPEC §3), and the lines
  // they name are in the text, in order.
  if (out.rows.size() + out.invalid.size() != static_cast<size_t>(out.data_rows)) std::abort();
  const int64_t lines = std::count(text.begin(), text.end(), '\n') + 1;
  for (const InvalidRow& r : out.invalid)
    if (r.line < 1 || r.line > lines) std::abort();
  for (size_t i = 1; i < out.rows.size(); ++i)
    if (out.rows[i].line <= out.rows[i - 1].line) std::abort();
  for (const ParsedRow& r : out.rows) {
    if (r.offset + r.length > text.size() + 3) std::abort();
    if (!(r.temperature >= limits.temp_min && r.temperature <= limits.temp_max)) std::abort();
    if (MonthIndexOf(r.when) != r.month) std::abort();
    // Normalised values parse back to themselves.
    if (ParseNumber(FormatNumber(r.temperature), false) != r.temperature) std::abort();
    auto again = ParseDateTime(FormatDateTime(r.when));
    if (!again || !(*again == r.when)) std::abort();
    // FormatScaledTo is exact while the scaled value is an exact integer in a
    // double (|v| * 10^scale < 2^53): `11.000000000000025` has scale 15 but
    // 1.1e16 scaled, beyond it. The scale is that of the printed form.
    const std::string printed = FormatNumber(r.temperature);
    const size_t point = printed.find('.');
    const int scale = point == std::string::npos ? 0 : static_cast<int>(printed.size() - point - 1);
    if (printed.find('e') == std::string::npos &&
        std::fabs(r.temperature) * std::pow(10.0, scale) < 0x1p53) {
      char buf[32];
      if (std::string_view(buf, FormatScaledTo(r.temperature, scale, buf)) != printed) std::abort();
    }
  }
  for (const InvalidRow& r : out.invalid)
    if (r.raw.size() > limits.max_line + 1024) std::abort();

  // Grouping keeps every row exactly once.
  Grouping g;
  GroupBySensorMonth(out.rows, parser.sensors().size(), g);
  if (g.incoming.size() != out.rows.size() || g.start.back() != out.rows.size()) std::abort();

  // Blocks: merge everything of the first month seen, encode, decode.
  if (!out.rows.empty()) {
    const int32_t month = out.rows[0].month;
    std::vector<Incoming> in;
    for (uint32_t i = 0; i < out.rows.size(); ++i)
      if (out.rows[i].month == month)
        in.push_back({{out.rows[i].when, out.rows[i].temperature, out.rows[i].sd}, i});
    std::stable_sort(in.begin(), in.end(),
                     [](auto& a, auto& b) { return a.reading.when < b.reading.when; });
    std::vector<Reading> block;
    std::vector<MergeDecision> d(in.size());
    MergeInto(block, in, ConflictMode::kReject, d);
    std::vector<Reading> back;
    if (!DecodeBlock(EncodeBlock(block, month), month, back) || back.size() != block.size())
      std::abort();
    for (size_t i = 0; i < back.size(); ++i)
      if (!(back[i].when == block[i].when) || back[i].temperature != block[i].temperature ||
          back[i].sd != block[i].sd)
        std::abort();
  }
  CheckSplit(text, limits, data[0], out);
  // Arbitrary bytes as a block must be rejected or decoded, never crash.
  std::vector<Reading> junk;
  (void)DecodeBlock(text, MonthIndex(2024, 1), junk);
  return 0;
}
