// The texts of the HTTP statuses the server sends, in one table: the reason
// phrase of the status line and the `error.code` of a JSON error body.
//
//   ReasonPhrase(404) == "Not Found";   ErrorCodeFor(404) == "not_found"
//
// A status outside the table reads as 500's texts. Pure, thread-safe.
#pragma once

#include <array>
#include <string_view>

namespace aquasense::http {

struct StatusText {
  int status;
  std::string_view reason;      // status line
  std::string_view error_code;  // JSON error body; empty for a success status
};

inline constexpr std::array<StatusText, 16> kStatusTexts = {{
    {100, "Continue", ""},
    {200, "OK", ""},
    {204, "No Content", ""},
    {400, "Bad Request", "bad_request"},
    {401, "Unauthorized", "unauthorized"},
    {403, "Forbidden", "forbidden"},
    {404, "Not Found", "not_found"},
    {405, "Method Not Allowed", "method_not_allowed"},
    {408, "Request Timeout", "request_timeout"},
    {409, "Conflict", "conflict"},
    {413, "Content Too Large", "payload_too_large"},
    {431, "Request Header Fields Too Large", "header_too_large"},
    {500, "Internal Server Error", "internal"},
    {501, "Not Implemented", "not_implemented"},
    {503, "Service Unavailable", "unavailable"},
    {0, "Internal Server Error", "internal"},  // any other status: the last row
}};

// The row of `status`, or the last row.
constexpr const StatusText& TextOf(int status) {
  for (const StatusText& t : kStatusTexts) {
    if (t.status == status) return t;
  }
  return kStatusTexts.back();
}

constexpr std::string_view ReasonPhrase(int status) { return TextOf(status).reason; }

// "internal" for a status that is no error.
constexpr std::string_view ErrorCodeFor(int status) {
  std::string_view code = TextOf(status).error_code;
  return code.empty() ? "internal" : code;
}

}  // namespace aquasense::http
