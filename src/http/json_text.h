// Small JSON text helpers for the HTTP module's hand-written bodies.
//
//   std::string out;
//   AppendJsonString(out, "a\"b");   // "a\"b" with quotes
//   AppendJsonNumber(out, 12.5);     // docs/contract.md number format
//
// Pure functions, thread-safe. The hot endpoints write their bodies by hand
// (no DOM) so a request allocates one string at most.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace aquasense::http {

// Appends `s` as a quoted JSON string (control characters and non-UTF-8
// bytes escaped as \u00XX, so the output is always valid JSON).
void AppendJsonString(std::string& out, std::string_view s);

// Appends a number as docs/contract.md prints it; `null` for an empty optional
// or a non-finite value.
void AppendJsonNumber(std::string& out, double v);
void AppendJsonNumber(std::string& out, const std::optional<double>& v);
void AppendJsonInt(std::string& out, long long v);

// {"error":code,"message":message}
std::string ErrorBody(std::string_view code, std::string_view message);

}  // namespace aquasense::http
