#include "core/validate.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/datetime.h"
#include "core/number.h"

namespace aquasense::core {
namespace {

struct Parsed {
  ParseOutput out;
  std::vector<std::string> sensors;
};

// Parses `text` fed in pieces of `piece` bytes (0 = all at once).
Parsed Parse(std::string_view text, size_t piece = 0, Limits limits = {}) {
  FileParser p(limits, "default");
  Parsed r;
  if (piece == 0) piece = text.size() + 1;
  for (size_t i = 0; i < text.size(); i += piece) p.Feed(text.substr(i, piece), r.out);
  p.Finish(r.out);
  r.sensors = p.sensors();
  return r;
}

// `text` parses to exactly one reading, of `temperature` and `sd`.
void ExpectOneReading(std::string_view text, double temperature, double sd) {
  auto p = Parse(text);
  ASSERT_EQ(p.out.rows.size(), 1u) << text;
  EXPECT_EQ(p.out.rows[0].temperature, temperature) << text;
  EXPECT_EQ(p.out.rows[0].sd, sd) << text;
}

std::vector<std::string> Reasons(const Parsed& p) {
  std::vector<std::string> out;
  for (const auto& i : p.out.invalid)
    out.push_back(std::to_string(i.line) + ":" + std::string(ReasonName(i.reason)));
  return out;
}

TEST(FileParser, InterleavedSensorsKeepTheirIdsWhenTheOrderChanges) {
  // a,b,c repeated (the next sensor is predicted), then another order, a
  // repeat of one sensor, and a new sensor in the middle.
  auto p = Parse(
      "sensor,date,temp,sd\n"
      "a,2024-01-01,1,0\nb,2024-01-01,2,0\nc,2024-01-01,3,0\n"
      "a,2024-01-02,1,0\nb,2024-01-02,2,0\nc,2024-01-02,3,0\n"
      "c,2024-01-03,3,0\na,2024-01-03,1,0\nd,2024-01-03,4,0\nb,2024-01-03,2,0\n"
      "b,2024-01-04,2,0\nc,2024-01-04,3,0\n");
  ASSERT_EQ(p.out.rows.size(), 12u);
  EXPECT_EQ(p.sensors, (std::vector<std::string>{"a", "b", "c", "d"}));
  std::string got;
  for (const auto& r : p.out.rows) got += p.sensors[r.sensor];
  EXPECT_EQ(got, "abcabccadbbc");
  for (const auto& r : p.out.rows) EXPECT_EQ(r.temperature, r.sensor + 1);
}

TEST(FileParser, HeaderlessThreeColumns) {
  auto p = Parse("2024/01/03,12.5,0.2\n2024/01/04,13,0.3\n");
  ASSERT_EQ(p.out.rows.size(), 2u);
  EXPECT_EQ(p.out.data_rows, 2);
  EXPECT_EQ(p.sensors[p.out.rows[0].sensor], "default");
  EXPECT_EQ(FormatDateTime(p.out.rows[1].when), "2024-01-04");
  EXPECT_EQ(p.out.rows[1].temperature, 13);
  EXPECT_EQ(p.out.rows[1].line, 2);
}

TEST(FileParser, HeaderInAnyOrderAndSpanishNames) {
  auto p = Parse("Temperatura,FECHA,desviacion\n12.5,2024-01-03,0.2\n");
  ASSERT_EQ(p.out.rows.size(), 1u);
  EXPECT_EQ(p.out.data_rows, 1);
  EXPECT_EQ(p.out.rows[0].temperature, 12.5);
  EXPECT_EQ(p.out.rows[0].sd, 0.2);
  EXPECT_EQ(p.out.rows[0].line, 2);
}

TEST(FileParser, SensorColumnWithoutHeader) {
  auto p = Parse("s1,2024-01-03,12.5,0.2\ns2,2024-01-03,11,0.1\nbad id,2024-01-03,1,1\n");
  ASSERT_EQ(p.out.rows.size(), 2u);
  EXPECT_EQ(p.sensors[p.out.rows[1].sensor], "s2");
  EXPECT_EQ(Reasons(p), std::vector<std::string>{"3:bad_sensor"});
}

// L3: ids that would collide with the data directory's layout are refused
// by the one rule, so a sensor column holding them gives bad_sensor.
TEST(SensorId, L3DotIdsAreRefused) {
  for (const char* bad : {".", "..", ".tmp", ".hidden", "", "a/b", "a b"})
    EXPECT_FALSE(IsValidSensorId(bad)) << bad;
  for (const char* good : {"a.", "a..b", "-x", "landing", "aquasense.db", "A-b_c.9"})
    EXPECT_TRUE(IsValidSensorId(good)) << good;
  EXPECT_TRUE(IsValidSensorId(std::string(64, 'x')));
  EXPECT_FALSE(IsValidSensorId(std::string(65, 'x')));
  auto p = Parse("s1,2024-01-03,12.5,0.2\n..,2024-01-03,11,0.1\n.tmp,2024-01-03,1,1\n");
  EXPECT_EQ(p.out.rows.size(), 1u);
  EXPECT_EQ(Reasons(p), (std::vector<std::string>{"2:bad_sensor", "3:bad_sensor"}));
}

// L13: the message quotes a long id only in part.
TEST(SensorId, L13ErrorTruncatesLongIds) {
  EXPECT_EQ(SensorIdError(".."),
            "sensor id \"..\" is not allowed: use 1-64 of A-Z a-z 0-9 . _ -, not starting with .");
  const std::string msg = SensorIdError(std::string(10000, 'y'));
  EXPECT_LT(msg.size(), 200u);
  EXPECT_NE(msg.find(std::string(64, 'y') + "\u2026\""), std::string::npos);
}

TEST(FileParser, SemicolonsWithDecimalCommas) {
  ExpectOneReading("fecha;temperatura;desviacion\r\n2024/01/03;12,5;0,25\r\n", 12.5, 0.25);
}

TEST(FileParser, BomCrlfBlankLinesQuotesAndWhitespace) {
  auto p = Parse(
      "\xEF\xBB\xBF"
      "date,temp,sd\r\n\r\n  2024-01-03 , \"12.5\" ,0.2\r\n\n\"2024-01-04\",\"1\"\"2\",0.1\n");
  ASSERT_EQ(p.out.rows.size(), 1u);
  EXPECT_EQ(p.out.rows[0].line, 3);
  EXPECT_EQ(Reasons(p), std::vector<std::string>{"5:bad_number"});
}

TEST(FileParser, EveryReason) {
  std::string text =
      "2024-01-01,12.5,0.2\n"                                // 1 ok
      "2024-01-02,12.5\n"                                    // 2 bad_field_count
      "2023-02-29,12.5,0.2\n"                                // 3 bad_date
      "08/11/2024,12.5,0.2\n"                                // 4 bad_date (day-first)
      "2024-01-05,NaN,0.2\n"                                 // 5 bad_number
      "2024-01-06,0x10,0.2\n"                                // 6 bad_number
      "2024-01-07,99,0.2\n"                                  // 7 temp_out_of_range
      "2024-01-08,12,11\n"                                   // 8 sd_out_of_range
      "2024-01-09,12,\xff\n"                                 // 9 bad_encoding
      "2024-01-10,,0.2\n";                                   // 10 bad_number
  text += "2024-01-11,1," + std::string(70000, '1') + "\n";  // 11 line_too_long
  text += "2024-01-12,12,0.1";                               // 12 ok, no final newline
  for (size_t piece : {size_t{0}, size_t{1}, size_t{7}, size_t{4096}}) {
    auto p = Parse(text, piece);
    EXPECT_EQ(p.out.rows.size(), 2u) << piece;
    EXPECT_EQ(p.out.data_rows, 12) << piece;
    EXPECT_EQ(Reasons(p), (std::vector<std::string>{
                              "2:bad_field_count", "3:bad_date", "4:bad_date", "5:bad_number",
                              "6:bad_number", "7:temp_out_of_range", "8:sd_out_of_range",
                              "9:bad_encoding", "10:bad_number", "11:line_too_long"}))
        << piece;
    ASSERT_EQ(p.out.rows.size(), 2u);
    EXPECT_EQ(p.out.rows[1].line, 12);
  }
}

TEST(FileParser, HugeLineWithoutNewlineUsesBoundedMemory) {
  FileParser p({}, "default");
  ParseOutput out;
  std::string piece(1 << 20, 'x');
  for (int i = 0; i < 64; ++i) p.Feed(piece, out);  // 64 MiB, no newline
  p.Feed("\n2024-01-01,1,0.1\n", out);
  p.Finish(out);
  ASSERT_EQ(out.invalid.size(), 1u);
  EXPECT_EQ(out.invalid[0].reason, Reason::kLineTooLong);
  EXPECT_LE(out.invalid[0].raw.size(), 1024u);
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_EQ(out.rows[0].line, 2);
}

TEST(FileParser, QuotedNewlinesBelongToTheRecord) {
  auto p = Parse("date,temp,sd\n\"2024-01-01\",\"1\n2\",0.1\n2024-01-02,3,0.1\n");
  EXPECT_EQ(Reasons(p), std::vector<std::string>{"2:bad_number"});
  ASSERT_EQ(p.out.rows.size(), 1u);
  EXPECT_EQ(p.out.rows[0].line, 4);
}

TEST(FileParser, RowOffsetsPointAtTheRecord) {
  const std::string text =
      "\xEF\xBB\xBF"
      "2024-01-01,1,0.1\r\n2024-01-02,2,0.2\n";
  auto p = Parse(text, 5);
  ASSERT_EQ(p.out.rows.size(), 2u);
  EXPECT_EQ(text.substr(p.out.rows[0].offset, p.out.rows[0].length), "2024-01-01,1,0.1");
  EXPECT_EQ(text.substr(p.out.rows[1].offset, p.out.rows[1].length), "2024-01-02,2,0.2");
}

TEST(FileParser, EmptyAndHeaderOnlyFiles) {
  EXPECT_EQ(Parse("").out.data_rows, 0);
  EXPECT_EQ(Parse("date,temperature,sd\n").out.data_rows, 0);
  EXPECT_EQ(Parse("\n\n  \n").out.data_rows, 0);
}

std::vector<std::string> Lines(const Parsed& p) {
  std::vector<std::string> out;
  for (const auto& r : p.out.rows)
    out.push_back(p.out.normalized.substr(r.norm_offset, r.norm_length));
  return out;
}

// The line as the parser renders it from the parsed values (no text copied).
std::string Rendered(const Parsed& p, const ParsedRow& r) {
  return p.sensors[r.sensor] + "," + FormatDateTime(r.when) + "," + FormatNumber(r.temperature) +
         "," + FormatNumber(r.sd) + "\n";
}

TEST(FileParser, CanonicalRecordsAreCopiedAsWritten) {
  auto p = Parse(
      "sensor,date,temperature,sd\n"
      "a,2024-01-03,12.5,0.2\n"
      "a,2024-01-04,-0.25,7\n"
      "a,2024-01-05T10:20:30,0.00001,10\n");
  EXPECT_EQ(Lines(p), (std::vector<std::string>{"a,2024-01-03,12.5,0.2\n", "a,2024-01-04,-0.25,7\n",
                                                "a,2024-01-05T10:20:30,0.00001,10\n"}));
  auto q = Parse("2024-01-03,12.5,0.2\n2024-01-03,13,0.3\n");
  EXPECT_EQ(Lines(q), (std::vector<std::string>{"default,2024-01-03,12.5,0.2\n",
                                                "default,2024-01-03,13,0.3\n"}));
}

TEST(FileParser, I11_SwarFieldSplitAtEveryOffset) {
  // SplitFields finds delimiters 8 bytes at a time (issue 11): fields of
  // every length put each delimiter at every offset of an 8-byte word, and
  // the last 0-7 bytes of the record go byte by byte. Each row must keep
  // its four fields exactly (the normalised line is the record itself).
  std::string text = "sensor,date,temperature,sd\n";
  std::vector<std::string> want;
  for (int a = 1; a <= 9; ++a) {
    for (int t = 1; t <= 16; ++t) {  // up to 16 digits: canonical text
      std::string sensor(static_cast<size_t>(a), 's');
      std::string temp = "1" + (t > 1 ? "." + std::string(static_cast<size_t>(t - 1), '5') : "");
      std::string line = sensor + ",2024-01-" + (t < 10 ? "0" : "") + std::to_string(t) + "," +
                         temp + ",0." + std::string(static_cast<size_t>(1 + a % 8), '3') + "\n";
      text += line;
      want.push_back(line);
    }
  }
  for (size_t piece : {size_t{0}, size_t{7}}) {
    auto p = Parse(text, piece);
    ASSERT_TRUE(p.out.invalid.empty()) << Reasons(p).front();
    EXPECT_EQ(Lines(p), want);
  }
  ExpectOneReading("sensor;date;temperature;sd\nsensor-0001;2024-01-03;12,549188181281455;0,37\n",
                   12.549188181281455, 0.37);
}

TEST(FileParser, NonCanonicalFieldsAreNormalised) {
  // Every field form that must not be copied as written, alone in a line
  // otherwise canonical, and the same date repeated (the parser's date memo).
  auto p = Parse(
      "sensor,date,temperature,sd\n"
      "a,2024-01-03,-0,0.2\n"              // -0
      "a,2024-01-03,+12,0.2\n"             // sign
      "a,2024-01-03,1e1,0.2\n"             // exponent
      "a,2024-01-03,.5,0.2\n"              // no integer digit
      "a,2024-01-03,5.,0.2\n"              // no fraction digit
      "a,2024-01-03,12.50,0.2\n"           // trailing zero
      "a,2024-01-03,012.5,0.2\n"           // leading zero
      "a,2024-01-03,0.000001,0.2\n"        // below 1e-5
      "a,2024-01-03,12.5,0.20\n"           // sd trailing zero
      "a,2024-01-03,12.5,0\n"              // zero
      "a,2024-1-03,12.5,0.2\n"             // one-digit month
      "a,2024-01-3,12.5,0.2\n"             // one-digit day
      "a,2024/01/03,12.5,0.2\n"            // slashes
      "a,2024-01-03 10:00:00,12.5,0.2\n"   // space before the time
      "a,2024-01-03T10:00,12.5,0.2\n"      // no seconds
      "a,2024-01-03T10:00:00Z,12.5,0.2\n"  // offset
      "a,2024-01-03T10:00:00.000,12.5,0.2\n"
      "a,2024-01-03T10:00:00.5,12.5,0.2\n"
      "a, 2024-01-04 ,12.5,0.2\n"  // spaces around fields
      "a,2024-01-04,12.5 ,0.2\n"
      "\"a\",2024-01-04,12.5,0.2\n"  // quotes
      "a,\"2024-01-04\",12.5,0.2\r\n"
      "a,2024-01-04,12.345678901234567,0.2\n");  // more than 15 digits
  ASSERT_EQ(p.out.rows.size(), 23u);
  for (const auto& r : p.out.rows)
    EXPECT_EQ(Lines(p)[&r - p.out.rows.data()], Rendered(p, r)) << r.line;
  EXPECT_EQ(Lines(p)[0], "a,2024-01-03,0,0.2\n");
  EXPECT_EQ(Lines(p)[5], "a,2024-01-03,12.5,0.2\n");
  EXPECT_EQ(Lines(p)[15], "a,2024-01-03T10:00:00Z,12.5,0.2\n");
  EXPECT_EQ(Lines(p)[17], "a,2024-01-03T10:00:00.500,12.5,0.2\n");
  EXPECT_EQ(Lines(p)[20], "a,2024-01-04,12.5,0.2\n");
}

TEST(FileParser, CanonicalFieldsOutOfOutputOrder) {
  // A header in another order or ';' as delimiter: fields are copied one by one.
  auto p = Parse("sd,temperature,date,sensor\n0.2,12.5,2024-01-03,a\n");
  EXPECT_EQ(Lines(p), std::vector<std::string>{"a,2024-01-03,12.5,0.2\n"});
  auto q = Parse("sensor;date;temperature;sd\na;2024-01-03;12.5;0.2\na;2024-01-03;12,5;0,20\n");
  EXPECT_EQ(Lines(q),
            (std::vector<std::string>{"a,2024-01-03,12.5,0.2\n", "a,2024-01-03,12.5,0.2\n"}));
}

TEST(FileParser, RepeatedDatesStillValidated) {
  // The date memo only holds valid dates: an empty or bad date after a good one is bad.
  auto p = Parse(
      "date,temp,sd\n2024-01-03,1,0.1\n,1,0.1\n2024-01-03,2,0.1\n2023-02-29,1,0.1\n"
      "2024-01-03,3,0.1\n");
  EXPECT_EQ(Reasons(p), (std::vector<std::string>{"3:bad_date", "5:bad_date"}));
  ASSERT_EQ(p.out.rows.size(), 3u);
  EXPECT_EQ(p.out.rows[2].temperature, 3);
  EXPECT_EQ(FormatDateTime(p.out.rows[2].when), "2024-01-03");
}

TEST(FileParser, RememberedNumbersAreExact) {
  // Enough rows for the number memo, with texts that differ in one byte or
  // in length only, and invalid texts after valid look-alikes.
  std::string text = "date,temp,sd\n";
  std::vector<std::string> temps;
  for (int i = 0; i < 12000; ++i) {
    static const char* const kForms[] = {"12.5",    "12.50", "12,5", "1.25", "12.5x",
                                         "-1.5",    "-1.50", "0.0",  "1e1",  "12.3456",
                                         "12.345G", "+12.5", "12.5 "};
    temps.push_back(kForms[i % 13]);
    text += "2024-01-" + std::to_string(1 + i % 28) + "," + temps.back() + ",0.1\n";
  }
  auto p = Parse(text);
  size_t row = 0;
  for (size_t i = 0; i < temps.size(); ++i) {
    const auto expect = ParseNumber(temps[i].substr(0, temps[i].find_last_not_of(' ') + 1), false);
    if (!expect) continue;
    ASSERT_LT(row, p.out.rows.size());
    ASSERT_EQ(p.out.rows[row].line, static_cast<int64_t>(i) + 2);
    ASSERT_EQ(p.out.rows[row].temperature, *expect) << temps[i];
    ++row;
  }
  EXPECT_EQ(row, p.out.rows.size());
  EXPECT_EQ(p.out.invalid.size(), temps.size() - row);
}

TEST(FileParser, CountsManyFields) {
  std::string many = "2024-01-02";
  for (int i = 0; i < 19; ++i) many += ",1";
  auto p = Parse("2024-01-01,1,0.1\n" + many + "\n2024-01-03, 2 ,0.1\n");
  ASSERT_EQ(p.out.invalid.size(), 1u);
  EXPECT_EQ(p.out.invalid[0].detail, "expected 3 fields, got 20");
  ASSERT_EQ(p.out.rows.size(), 2u);
  EXPECT_EQ(p.out.rows[1].temperature, 2);
}

// rows + invalid == data_rows, and each invalid row's line is within the text.
void ExpectAccounted(const Parsed& p, std::string_view text, const std::string& what) {
  EXPECT_EQ(static_cast<int64_t>(p.out.rows.size() + p.out.invalid.size()), p.out.data_rows)
      << what;
  const int64_t lines = std::count(text.begin(), text.end(), '\n') + 1;
  for (const auto& i : p.out.invalid) EXPECT_LE(i.line, lines) << what;
}

// `p` (parsed in pieces of `piece`) has `rows` readings, lines 3 to
// `last_line`, and one invalid line: line 2, a quote left open, `detail`.
void ExpectStrayQuoteOnLine2(const Parsed& p, size_t rows, int64_t last_line,
                             std::string_view detail, size_t piece) {
  EXPECT_EQ(p.out.rows.size(), rows) << piece;
  EXPECT_EQ(Reasons(p), std::vector<std::string>{"2:bad_quote"}) << piece;
  ASSERT_EQ(p.out.invalid.size(), 1u);
  EXPECT_EQ(p.out.invalid[0].raw, "2020-01-01,\"10,0.1");
  EXPECT_EQ(p.out.invalid[0].detail, detail);
  ASSERT_FALSE(p.out.rows.empty());
  EXPECT_EQ(p.out.rows[0].line, 3) << piece;
  EXPECT_EQ(p.out.rows.back().line, last_line) << piece;
}

TEST(FileParser, M2StrayQuoteCostsItsOwnRowOnly) {
  // SPEC §3 bad_quote: a quote not closed before the end of the file makes
  // the line that opens it invalid; parsing resumes on the next line.
  std::string text = "date,temperature,sd\n2020-01-01,\"10,0.1\n";
  for (int i = 0; i < 1000; ++i) text += "2020-02-" + std::to_string(1 + i % 28) + ",10,0.1\n";
  for (size_t piece : {size_t{0}, size_t{1}, size_t{7}, size_t{4096}}) {
    auto p = Parse(text, piece);
    ASSERT_NO_FATAL_FAILURE(ExpectStrayQuoteOnLine2(
        p, 1000, 1002, "quote not closed before the end of the file", piece));
    // Offsets still point at the records parsed again.
    EXPECT_EQ(text.substr(p.out.rows[0].offset, p.out.rows[0].length), "2020-02-1,10,0.1") << piece;
    ExpectAccounted(p, text, "piece " + std::to_string(piece));
  }
}

TEST(FileParser, M2StrayQuoteBeyondMaxLineResumesOnTheNextLine) {
  // 10,000 rows after the stray quote: far more than max_line (64 KiB).
  std::string text = "date,temperature,sd\n2020-01-01,\"10,0.1\r\n";
  for (int i = 0; i < 10000; ++i) text += "2020-02-" + std::to_string(1 + i % 28) + ",10,0.1\r\n";
  for (size_t piece : {size_t{0}, size_t{3}, size_t{1000}, size_t{65536}, size_t{1 << 20}}) {
    auto p = Parse(text, piece);
    ASSERT_NO_FATAL_FAILURE(
        ExpectStrayQuoteOnLine2(p, 10000, 10002, "quote not closed within 65536 bytes", piece));
    for (size_t k : {size_t{0}, size_t{5000}, size_t{9999}}) {
      const auto& r = p.out.rows[k];
      EXPECT_EQ(text.substr(r.offset, r.length),
                "2020-02-" + std::to_string(1 + k % 28) + ",10,0.1")
          << piece << " row " << k;
    }
    ExpectAccounted(p, text, "piece " + std::to_string(piece));
  }
}

TEST(FileParser, M2ClosedQuotesStillSpanLines) {
  // RFC 4180: a quote closed within max_line keeps its newlines in one record.
  const std::string text = "date,temp,sd\n2024-01-01,\"1\n2\",0.1\n2024-01-02,\"3\",0.1\n";
  for (size_t piece : {size_t{0}, size_t{1}, size_t{5}}) {
    auto p = Parse(text, piece);
    EXPECT_EQ(Reasons(p), std::vector<std::string>{"2:bad_number"}) << piece;
    ASSERT_EQ(p.out.rows.size(), 1u);
    EXPECT_EQ(p.out.rows[0].line, 4);
  }
}

TEST(FileParser, M2SeveralStrayQuotesAtSmallMaxLine) {
  Limits small;
  small.max_line = 64;
  // Line 2's quote closes on line 3 (one record); line 5's never closes.
  std::string text =
      "2024-01-01,1,0.1\n2024-01-02,\"1\n2\",0.1\n2024-01-03,1,0.1\n2024-01-04,\"x\n";
  for (int i = 0; i < 20; ++i) text += "2024-02-" + std::to_string(1 + i) + ",1,0.1\n";
  for (size_t piece : {size_t{0}, size_t{1}, size_t{13}, size_t{64}, size_t{65}, size_t{200}}) {
    auto p = Parse(text, piece, small);
    EXPECT_EQ(Reasons(p), (std::vector<std::string>{"2:bad_number", "5:bad_quote"})) << piece;
    EXPECT_EQ(p.out.rows.size(), 22u) << piece;
    ExpectAccounted(p, text, "piece " + std::to_string(piece));
  }
}

TEST(FileParser, M2QuoteOpenOnTheLastLine) {
  for (std::string text : {"2024-01-01,1,0.1\n2024-01-02,\"1,0.1",
                           "2024-01-01,1,0.1\n2024-01-02,\"1,0.1\n", "\"\n2024-01-01,1,0.1\n"}) {
    auto p = Parse(text);
    ASSERT_EQ(p.out.invalid.size(), 1u) << text;
    EXPECT_EQ(p.out.invalid[0].reason, Reason::kBadQuote) << text;
    EXPECT_EQ(p.out.rows.size(), 1u) << text;
    ExpectAccounted(p, text, text);
  }
}

TEST(FileParser, M2TooLongLineWithAQuoteCostsOneLine) {
  // A line over max_line is line_too_long whatever quotes it holds; the
  // next line is read on its own.
  std::string text = "2024-01-01,\"" + std::string(70000, '1') + "\n2024-01-02,1,0.1\n";
  for (size_t piece : {size_t{0}, size_t{1000}, size_t{65536}}) {
    auto p = Parse(text, piece);
    EXPECT_EQ(Reasons(p), std::vector<std::string>{"1:line_too_long"}) << piece;
    ASSERT_EQ(p.out.rows.size(), 1u) << piece;
    EXPECT_EQ(p.out.rows[0].line, 2);
    EXPECT_LE(p.out.invalid[0].raw.size(), 1024u);
  }
}

TEST(FileParser, ReviewOddInputsAreAccountedFor) {
  // The review's odd inputs: binary bytes, NUL bytes, 64 KiB lines (LF and
  // CRLF, and one more byte), a quoted newline, a stray quote.
  std::vector<std::string> texts;
  std::string binary;
  for (int i = 0; i < 20000; ++i) binary += static_cast<char>((i * 7919 + i / 13) & 0xFF);
  texts.push_back(binary);
  texts.push_back(std::string("2024-01-01,1\0,0.1\n2024-01-02\0,1,0.1\n2024-01-03,1,0.1\0\n", 53));
  const std::string fill(65536 - 17, '0');
  texts.push_back("2024-01-01,1,0.1" + fill + "\n2024-01-01,1,0.1" + fill + "\r\n2024-01-01,1,0.1" +
                  fill + "0\n2024-01-02,1,0.1\n");
  texts.push_back("date,temp,sd\n\"2024-01-01\",\"1\n2\",0.1\n2024-01-02,3,0.1\n");
  texts.push_back("date,temp,sd\n2024-01-01,\"1,0.1\n2024-01-02,3,0.1\n\"\n\"\"\"\n,,\"\n");
  for (size_t t = 0; t < texts.size(); ++t) {
    for (size_t piece : {size_t{0}, size_t{1}, size_t{100}, size_t{65536}}) {
      auto p = Parse(texts[t], piece);
      ExpectAccounted(p, texts[t], "text " + std::to_string(t) + " piece " + std::to_string(piece));
    }
  }
}

TEST(FileParser, OverlongPieceBelowOneKibDoesNotOverRead) {
  // Code review 3.10.1: an unterminated piece longer than max_line but
  // shorter than 1 KiB kept 1 KiB of raw text, read past the buffer (ASan).
  Limits small;
  small.max_line = 256;
  const std::string text(300, 'a');
  auto p = Parse(text, 0, small);
  ASSERT_EQ(p.out.invalid.size(), 1u);
  EXPECT_EQ(p.out.invalid[0].reason, Reason::kLineTooLong);
  EXPECT_EQ(p.out.invalid[0].raw, text);
}

TEST(FileParser, L11UnderflowIsBadNumber) {
  auto p = Parse(
      "date,temp,sd\n2024-01-01,1e-400,0.1\n2024-01-02,1,1e-400\n2024-01-03,0.0e5,-0\n"
      "2024-01-04,1e-310,0.1\n");
  EXPECT_EQ(Reasons(p), (std::vector<std::string>{"2:bad_number", "3:bad_number", "5:bad_number"}));
  ASSERT_EQ(p.out.rows.size(), 1u);
  EXPECT_EQ(p.out.rows[0].temperature, 0);
}

TEST(Utf8, Validation) {
  EXPECT_TRUE(IsValidUtf8("señal €"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // surrogate
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));      // overlong
}

}  // namespace
}  // namespace aquasense::core
