// RequestParser: the parser of one HTTP/1.1 request (Boost.Beast's request
// parser with a buffer_body), hardened for hostile input, plus the framing
// checks the server applies once the header is in (RFC 9112).
//
//   RequestParser p(opt.header_limit);
//   size_t used = p.PutHeader(buffer.data(), ec);   // repeat until is_header_done() or ec
//   if (auto bad = CheckFraming(p.get(), p.chunked())) answer bad->status and close;
//
// Guarantees (docs/http.md, "Limits"):
// - Nothing here throws on input. Beast's fields throw std::length_error for a
//   name or value over 65,533 bytes; such a field becomes error::header_limit.
// - The request line and the header fields are limited to `header_limit`
//   bytes in total (Beast alone applies the limit to each read window only).
// - Trailer fields of a chunked body are counted against the same limit and
//   dropped: they are never stored in the message.
// Not thread-safe: one parser per request, used by one connection.
#pragma once

#include <boost/beast/http.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace aquasense::http {

class RequestParser final
    : public boost::beast::http::request_parser<boost::beast::http::buffer_body> {
 public:
  explicit RequestParser(uint32_t header_limit);

  // Feeds header bytes (Beast's put(), not eager: stops at the end of the
  // header). Returns the bytes used; `ec` is need_more while the header is
  // incomplete, header_limit once the total passes the limit.
  size_t PutHeader(boost::asio::const_buffer bytes, boost::beast::error_code& ec);

  // Bytes used by the request line and header fields so far.
  size_t header_bytes() const { return header_bytes_; }

 private:
  void on_field_impl(boost::beast::http::field name, boost::beast::string_view name_string,
                     boost::beast::string_view value, boost::beast::error_code& ec) override;

  uint32_t header_limit_;
  size_t header_bytes_ = 0;
  size_t trailer_bytes_ = 0;
};

struct FramingError {
  int status;                // 400 or 501
  std::string_view message;  // the one sentence of the error body
};

// Checks a complete request header for what Beast lets through but RFC 9112
// refuses: Transfer-Encoding with Content-Length, a Transfer-Encoding other
// than exactly `chunked` (400 when the last coding is not chunked, 501 when
// it is but others come first), Transfer-Encoding in HTTP/1.0, and an
// HTTP/1.1 request without exactly one Host header. `chunked` is the parser's
// chunked(). The connection must be closed after such an answer: its body is
// never read.
std::optional<FramingError> CheckFraming(
    const boost::beast::http::request<boost::beast::http::buffer_body>& req, bool chunked);

}  // namespace aquasense::http
