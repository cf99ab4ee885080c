#include "http/request_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace aquasense::http {
namespace {

namespace bhttp = boost::beast::http;
using boost::beast::error_code;

// Feeds `wire` to the parser `piece` bytes at a time, as a connection would:
// the header with PutHeader, then the body into a scratch buffer. Returns
// the first error other than need_more/need_buffer (none when complete).
error_code Feed(RequestParser& p, const std::string& wire, size_t piece = 8192) {
  std::string pending;
  size_t next = 0;
  char scratch[4096];
  while (!p.is_done()) {
    if (next < wire.size()) {
      pending.append(wire, next, piece);
      next += piece;
    } else if (pending.empty()) {
      return bhttp::error::need_more;
    }
    error_code ec;
    size_t used = 0;
    if (!p.is_header_done()) {
      used = p.PutHeader(boost::asio::buffer(pending), ec);
    } else {
      p.get().body().data = scratch;
      p.get().body().size = sizeof scratch;
      used = p.put(boost::asio::buffer(pending), ec);
    }
    pending.erase(0, used);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec == bhttp::error::need_more) {
      if (next >= wire.size()) return ec;
      continue;
    }
    if (ec) return ec;
  }
  return {};
}

std::string ChunkedWithTrailer(const std::string& trailer_value) {
  return "GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
         "5\r\nhello\r\n0\r\nX-T: " +
         trailer_value + "\r\n\r\n";
}

TEST(RequestParser, C1_TrailerFieldOver64KiBIsHeaderLimitNotAnException) {
  RequestParser p(16 * 1024);
  error_code ec;
  EXPECT_NO_THROW(ec = Feed(p, ChunkedWithTrailer(std::string(70000, 'a')), 100000));
  EXPECT_EQ(ec, bhttp::error::header_limit);
}

TEST(RequestParser, C1_TrailerSectionIsBoundedByTheHeaderLimit) {
  std::string many;
  for (int i = 0; i < 200; ++i)
    many += "X-T" + std::to_string(i) + ": " + std::string(1000, 'b') + "\r\n";
  RequestParser p(16 * 1024);
  std::string wire =
      "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + many + "\r\n";
  EXPECT_EQ(Feed(p, wire, 300000), bhttp::error::header_limit);
  // A small trailer is fine and is not stored in the message.
  RequestParser ok(16 * 1024);
  EXPECT_FALSE(Feed(ok, ChunkedWithTrailer("small")));
  EXPECT_TRUE(ok.is_done());
  EXPECT_EQ(ok.get().find("X-T"), ok.get().end());
}

TEST(RequestParser, H3_FieldBeyondWhatBeastStoresIsHeaderLimitNotAnException) {
  // Even a limit above kMaxHeaderLimit (refused at start-up) never throws.
  RequestParser p(200000);
  std::string wire =
      "GET /health HTTP/1.1\r\nHost: x\r\nCookie: " + std::string(70000, 'c') + "\r\n\r\n";
  error_code ec;
  EXPECT_NO_THROW(ec = Feed(p, wire, 200000));
  EXPECT_EQ(ec, bhttp::error::header_limit);
}

TEST(RequestParser, L1_LimitAppliesToTheTotalOfManySmallHeaders) {
  std::string wire = "GET /health HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 3000; ++i) wire += "X-A" + std::to_string(i) + ": b\r\n";  // ~32 KB
  wire += "\r\n";
  RequestParser p(16 * 1024);
  EXPECT_EQ(Feed(p, wire), bhttp::error::header_limit);
  // Just under the limit passes, and header_bytes() is exact.
  std::string small = "GET /health HTTP/1.1\r\nHost: x\r\n";
  while (small.size() < 16 * 1024 - 40) small += "X-B: cccccccccc\r\n";
  small += "\r\n";
  RequestParser q(16 * 1024);
  EXPECT_FALSE(Feed(q, small, 1000));
  EXPECT_EQ(q.header_bytes(), small.size());
}

// The status the server answers a request header with ("" when accepted):
// Beast's own parse errors are 400, as are most framing errors.
std::string Framing(const std::string& head) {
  RequestParser p(16 * 1024);
  error_code ec;
  p.PutHeader(boost::asio::buffer(head + "\r\n"), ec);
  if (ec) return ec == bhttp::error::header_limit ? "431" : "400";
  auto bad = CheckFraming(p.get(), p.chunked());
  return bad ? std::to_string(bad->status) : "";
}

TEST(CheckFraming, M1_TransferEncodingOtherThanFinalChunkedIsRefused) {
  const std::string post = "POST /health HTTP/1.1\r\nHost: x\r\n";
  EXPECT_EQ(Framing(post + "Transfer-Encoding: chunked\r\n"), "");
  EXPECT_EQ(Framing(post + "Transfer-Encoding: Chunked\r\n"), "");
  for (const char* te : {"xchunked", "gzip", "identity", "chunked, identity", "chunked;x=1", ""}) {
    EXPECT_EQ(Framing(post + "Transfer-Encoding: " + te + "\r\n"), "400") << te;
  }
  EXPECT_EQ(Framing(post + "Transfer-Encoding: gzip, chunked\r\n"), "501");
  EXPECT_EQ(Framing(post + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"), "501");
  EXPECT_EQ(Framing(post + "Transfer-Encoding: chunked, chunked\r\n"), "400");
}

TEST(CheckFraming, M1_TransferEncodingWithContentLengthIsRefused) {
  const std::string post = "POST /health HTTP/1.1\r\nHost: x\r\n";
  EXPECT_EQ(Framing(post + "Transfer-Encoding: xchunked\r\nContent-Length: 5\r\n"), "400");
  EXPECT_EQ(Framing(post + "Content-Length: 5\r\nTransfer-Encoding: gzip\r\n"), "400");
  EXPECT_EQ(Framing(post + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), "400");
  EXPECT_EQ(Framing(post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), "400");
  EXPECT_EQ(Framing("POST /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n"), "400");
  EXPECT_EQ(Framing(post + "Content-Length: 5\r\n"), "");
}

TEST(CheckFraming, L2_Http11NeedsExactlyOneHost) {
  EXPECT_EQ(Framing("GET /health HTTP/1.1\r\n"), "400");
  EXPECT_EQ(Framing("GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n"), "400");
  EXPECT_EQ(Framing("GET /health HTTP/1.1\r\nHost: a\r\n"), "");
  EXPECT_EQ(Framing("GET /health HTTP/1.1\r\nHost:\r\n"), "");
  EXPECT_EQ(Framing("GET /health HTTP/1.0\r\n"), "");
}

}  // namespace
}  // namespace aquasense::http
