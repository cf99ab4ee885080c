#include "http/request_parser.h"

#include <exception>
#include <iterator>
#include <vector>

namespace aquasense::http {

namespace bhttp = boost::beast::http;

namespace {

constexpr size_t kFieldOverhead = 4;  // ": " and CRLF

bool IsOws(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

bool IsChunked(std::string_view coding) {
  constexpr std::string_view kChunked = "chunked";
  if (coding.size() != kChunked.size()) return false;
  for (size_t i = 0; i < coding.size(); ++i) {
    char c = coding[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kChunked[i]) return false;
  }
  return true;
}

// Every transfer coding of every Transfer-Encoding field, in order (empty
// list elements skipped, as RFC 9110 §5.6.1 allows).
std::vector<std::string_view> TransferCodings(const bhttp::request<bhttp::buffer_body>& req) {
  std::vector<std::string_view> codings;
  auto [first, last] = req.equal_range(bhttp::field::transfer_encoding);
  for (auto it = first; it != last; ++it) {
    std::string_view list(it->value().data(), it->value().size());
    while (!list.empty()) {
      const size_t comma = list.find(',');
      std::string_view item = Trim(list.substr(0, comma));
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
      if (!item.empty()) codings.push_back(item);
    }
  }
  return codings;
}

}  // namespace

RequestParser::RequestParser(uint32_t header_limit) : header_limit_(header_limit) {
  this->header_limit(header_limit);
  body_limit(boost::none);
}

size_t RequestParser::PutHeader(boost::asio::const_buffer bytes, boost::beast::error_code& ec) {
  const size_t used = put(bytes, ec);
  header_bytes_ += used;
  if (header_bytes_ > header_limit_) ec = bhttp::error::header_limit;
  return used;
}

void RequestParser::on_field_impl(bhttp::field name, boost::beast::string_view name_string,
                                  boost::beast::string_view value, boost::beast::error_code& ec) {
  const size_t bytes = name_string.size() + value.size() + kFieldOverhead;
  if (is_header_done()) {  // a trailer field of a chunked body: counted, dropped
    trailer_bytes_ += bytes;
    if (trailer_bytes_ > header_limit_) ec = bhttp::error::header_limit;
    return;
  }
  try {
    get().insert(name, name_string, value);
  } catch (const std::exception&) {  // std::length_error beyond 65,533 bytes, bad_alloc
    ec = bhttp::error::header_limit;
  }
}

std::optional<FramingError> CheckFraming(const bhttp::request<bhttp::buffer_body>& req,
                                         bool chunked) {
  const bool has_te = req.find(bhttp::field::transfer_encoding) != req.end();
  if (has_te) {
    if (req.find(bhttp::field::content_length) != req.end()) {
      return FramingError{400, "a request must not have both Transfer-Encoding and Content-Length"};
    }
    if (req.version() < 11) {
      return FramingError{400, "Transfer-Encoding is not allowed in an HTTP/1.0 request"};
    }
    const std::vector<std::string_view> codings = TransferCodings(req);
    if (codings.empty() || !IsChunked(codings.back())) {
      return FramingError{400, "the last Transfer-Encoding must be chunked"};
    }
    for (size_t i = 0; i + 1 < codings.size(); ++i) {
      if (IsChunked(codings[i])) return FramingError{400, "chunked is applied more than once"};
    }
    if (codings.size() > 1 || !chunked) {
      return FramingError{501, "only the chunked transfer coding is supported"};
    }
  }
  if (req.version() >= 11) {
    auto [first, last] = req.equal_range(bhttp::field::host);
    if (std::distance(first, last) != 1) {
      return FramingError{400, "an HTTP/1.1 request needs exactly one Host header"};
    }
  }
  return std::nullopt;
}

}  // namespace aquasense::http
