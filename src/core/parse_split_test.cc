// Issue 11: a file parsed in parts (pipeline/file_ingest.cc) gives exactly
// the rows of one parser reading it whole. Checked here at the parser's
// level for every line start of each input as the split point.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/datetime.h"
#include "core/validate.h"

namespace aquasense::core {
namespace {

// One text per row and invalid row: every field the pipeline uses, with the
// sensor as its name (ids are per parser).
std::vector<std::string> Render(const ParseOutput& out, const std::vector<std::string>& names) {
  std::vector<std::string> r;
  for (const ParsedRow& row : out.rows) {
    r.push_back(names[row.sensor] + "|" + std::to_string(row.month) + "|" +
                FormatDateTime(row.when) + "|" + std::to_string(row.temperature) + "|" +
                std::to_string(row.sd) + "|" + std::to_string(row.line) + "|" +
                std::to_string(row.offset) + "|" + std::to_string(row.length) + "|" +
                out.normalized.substr(row.norm_offset, row.norm_length));
  }
  for (const InvalidRow& i : out.invalid) {
    r.push_back("invalid|" + std::to_string(i.line) + "|" + std::string(ReasonName(i.reason)) +
                "|" + i.detail + "|" + i.raw);
  }
  r.push_back("data_rows|" + std::to_string(out.data_rows));
  return r;
}

std::vector<std::string> Whole(std::string_view text, const Limits& limits) {
  FileParser p(limits, "default");
  ParseOutput out;
  p.Feed(text, out);
  p.Finish(out);
  auto r = Render(out, p.sensors());
  r.push_back("sensors|" + std::to_string(p.sensors().size()));
  return r;
}

// What the pipeline does with a split at `at` (a line start): the first
// part's parser, then a fork when it ended at a record boundary (its ids
// and lines mapped to the file's), else the first parser reads on alone.
std::vector<std::string> Split(std::string_view text, size_t at, const Limits& limits,
                               bool* forked) {
  FileParser a(limits, "default");
  ParseOutput out;
  a.Feed(text.substr(0, at), out);
  *forked = a.configured() && a.AtRecordBoundary();
  if (!*forked) {
    a.Feed(text.substr(at), out);
    a.Finish(out);
    auto r = Render(out, a.sensors());
    r.push_back("sensors|" + std::to_string(a.sensors().size()));
    return r;
  }
  FileParser b = a.ForkAt(at);
  ParseOutput rest;
  b.Feed(text.substr(at), rest);
  b.Finish(rest);
  std::vector<std::string> names = a.sensors();
  std::unordered_map<std::string, uint32_t> ids;
  for (uint32_t i = 0; i < names.size(); ++i) ids[names[i]] = i;
  std::vector<uint32_t> map;
  for (const std::string& n : b.sensors()) {
    auto [it, added] = ids.try_emplace(n, static_cast<uint32_t>(names.size()));
    if (added) names.push_back(n);
    map.push_back(it->second);
  }
  const int64_t base = a.next_line() - 1;
  ParseOutput merged = out;
  const auto norm_base = static_cast<uint32_t>(merged.normalized.size());
  merged.normalized += rest.normalized;
  for (ParsedRow r : rest.rows) {
    r.sensor = map[r.sensor];
    r.line += base;
    r.norm_offset += norm_base;
    merged.rows.push_back(r);
  }
  for (InvalidRow i : rest.invalid) {
    i.line += base;
    merged.invalid.push_back(i);
  }
  merged.data_rows += rest.data_rows;
  // Invalid rows of both parts come after all rows in Render: order them as one parser would.
  std::stable_sort(merged.invalid.begin(), merged.invalid.end(),
                   [](const InvalidRow& x, const InvalidRow& y) { return x.line < y.line; });
  auto r = Render(merged, names);
  r.push_back("sensors|" + std::to_string(names.size()));
  return r;
}

void ExpectEverySplitMatches(std::string_view text, const Limits& limits, int min_forks) {
  const auto whole = Whole(text, limits);
  int forks = 0;
  for (size_t at = 1; at < text.size(); ++at) {
    if (text[at - 1] != '\n') continue;
    bool forked = false;
    EXPECT_EQ(Split(text, at, limits, &forked), whole) << "split at " << at << " of:\n" << text;
    forks += forked;
  }
  EXPECT_GE(forks, min_forks) << text;
}

TEST(ParseSplit, I11_SplitInsideQuotesFallsBackAndMatches) {
  ExpectEverySplitMatches(
      "sensor,date,temperature,sd\n"
      "a,2024-01-01,1.5,0.1\n"
      "\"b\nstill b\",2024-01-02,2,0.2\n"  // a newline inside a quoted sensor
      "\"c\",\"2024-01-03\",\"3.25\",\"0.3\"\n"
      "a,2024-01-04,4,0.4\n"
      "\"d,2024-01-05,5,0.5\n"  // a quote never closed
      "a,2024-01-06,6,0.6\n",
      {}, 3);
}

TEST(ParseSplit, I11_CrlfAndLastLineWithoutNewline) {
  ExpectEverySplitMatches(
      "date;temperature;sd\r\n2024/01/01;1,5;0,1\r\n\r\n2024/01/02;2,25;0,2\r\n"
      "2024/01/03;x;0,3\r\n2024/01/04;4;0,4",
      {}, 4);
}

TEST(ParseSplit, I11_TooLongLinesAndBadQuotesAcrossTheSplit) {
  Limits small;
  small.max_line = 40;
  ExpectEverySplitMatches(
      "s1,2024-01-01,1,0.1\n"
      "s2,2024-01-01,1,0.1,xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"  // too long
      "s3,\"2024-01-01\n,1,0.1\n"  // a quote running past max_line over lines
      "s4,2024-01-01,2,0.2\n"
      "s5,2024-01-01,3,0.3\n"
      "s6,\"x\nyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\n"
      "s1,2024-01-02,4,0.4\n",
      small, 3);
}

TEST(ParseSplit, I11_OnlyBadRowsAfterTheSplitAndBlankStart) {
  ExpectEverySplitMatches(
      "\n\n  \n\xEF\xBB\xBF"
      "2024-01-01,1,0.1\n"  // blank lines, then data (no BOM: not at byte 0)
      "2024-01-01,1,0.1\n"
      "bad\nbad,bad\n2024-13-01,1,0.1\n2024-01-02,99,0.1\n2024-01-02,1,-1\n",
      {}, 5);
  ExpectEverySplitMatches("\xEF\xBB\xBFsensor,date,temperature,sd\nx,2024-01-01,1,0.1\n", {}, 1);
}

TEST(ParseSplit, I11_NewSensorsInLaterPartsKeepFirstAppearanceOrder) {
  std::string text;
  for (int i = 0; i < 30; ++i) {
    text += "s" + std::to_string((i * 7) % 11) + ",2024-01-" + std::to_string(1 + i % 28) +
            ",12.549188181281455,0.3736595668933671\n";
  }
  ExpectEverySplitMatches(text, {}, 29);
}

// Parses `text` whole, then fed in pieces of each size in `pieces`: every
// piece-fed output must render as the whole one. Returns the whole output.
ParseOutput ExpectPiecesParseAsWhole(const std::string& text, const Limits& limits,
                                     std::initializer_list<size_t> pieces) {
  FileParser one(limits, "default");
  ParseOutput whole;
  one.Feed(text, whole);
  one.Finish(whole);
  for (size_t piece : pieces) {
    FileParser p(limits, "default");
    ParseOutput out;
    for (size_t i = 0; i < text.size(); i += piece)
      p.Feed(std::string_view(text).substr(i, piece), out);
    p.Finish(out);
    EXPECT_EQ(Render(out, p.sensors()), Render(whole, one.sensors())) << "pieces of " << piece;
  }
  return whole;
}

// The raw text kept of a too-long line (up to 1 KiB) was cut at the end of
// the piece the line started in: parts move the read boundaries, so it
// must not depend on them.
TEST(ParseSplit, I11_TooLongLineRawDoesNotDependOnPieces) {
  Limits small;
  small.max_line = 100;
  const std::string line = "s1,2024-01-01," + std::string(1500, '7') + ",0.1";
  const std::string text = "s1,2024-01-01,1,0.1\n" + line + "\r\ns1,2024-01-02,2,0.2\n" + line;
  const ParseOutput whole = ExpectPiecesParseAsWhole(text, small, {1, 7, 30, 64, 101, 999, 1100});
  ASSERT_EQ(whole.invalid.size(), 2u);
  EXPECT_EQ(whole.invalid[0].raw, line.substr(0, 1024));
}

// CI fuzz finding (parser target, 2026-12-05): a too-long line shorter than
// the 1 KiB kept, ending in CRLF, kept its '\r' when it was fed in pieces
// and not when fed whole. The kept text never has the line end.
TEST(ParseSplit, I11_ShortTooLongCrlfLineKeepsNoCarriageReturn) {
  Limits small;
  small.max_line = 100;
  for (size_t size : {101, 500, 1023, 1024, 1025}) {
    const std::string line = "s1,2024-01-01," + std::string(size - 18, '7') + ",0.1";
    const std::string text = line + "\r\ns1,2024-01-02,2,0.2\n" + line + "\r";
    SCOPED_TRACE("line of " + std::to_string(size));
    const ParseOutput whole = ExpectPiecesParseAsWhole(text, small, {1, 7, 8, 64, 101, 999, 1100});
    ASSERT_EQ(whole.invalid.size(), 2u);
    EXPECT_EQ(whole.invalid[0].raw, line.substr(0, 1024)) << size;
  }
}

// CI fuzz finding (parser target, 2026-12-05): a byte-order mark was only
// recognised when the first Feed held all three of its bytes; fed in 1- or
// 2-byte pieces it stayed in the header's raw text. Now a mark split over
// calls is skipped, and bytes that only start like one are data.
TEST(ParseSplit, I11_ByteOrderMarkSplitOverPiecesIsSkipped) {
  const Limits limits;
  const std::string bom = "\xEF\xBB\xBF";
  const ParseOutput marked = ExpectPiecesParseAsWhole(
      bom + "sensor,date,temperature,sd\ns1,2024-01-01,1.5,0.1\nbad row\n", limits, {1, 2, 3, 4});
  ASSERT_EQ(marked.rows.size(), 1u);
  EXPECT_EQ(marked.rows[0].offset, bom.size() + 27);  // offsets count the mark
  ASSERT_EQ(marked.invalid.size(), 1u);
  EXPECT_EQ(marked.invalid[0].raw, "bad row");
  // Only the start of a mark: data (an invalid header here), the same in any pieces.
  for (const std::string& text :
       {std::string("\xEF\xBBsensor,date\n"), std::string("\xEF"), std::string("\xEF\xBB"), bom}) {
    const ParseOutput whole = ExpectPiecesParseAsWhole(text, limits, {1, 2, 3});
    EXPECT_EQ(whole.rows.size(), 0u);
  }
}

}  // namespace
}  // namespace aquasense::core
