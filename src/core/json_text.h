// JSON text pieces for the hand-written bodies of the CLI and the HTTP API:
// the one JSON string encoder of the program, and numbers as
// docs/contract.md prints them.
//
//   std::string out;
//   AppendJsonString(out, "a\"b");   // "a\"b" with quotes
//   AppendJsonNumber(out, 12.5);     // 12.5
//
// Pure functions, thread-safe. The hot endpoints write their bodies by hand
// (no DOM) so a request allocates one string at most.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace aquasense::core {

// Appends `s` as a quoted JSON string (RFC 8259): '"' and '\' escaped with a
// backslash, control characters (< 0x20) and DEL as \u00XX, valid UTF-8
// copied as is, and each byte of an invalid UTF-8 sequence as \u00XX (its
// Latin-1 code point), so the output is always valid JSON.
void AppendJsonString(std::string& out, std::string_view s);

// Appends a number as docs/contract.md prints it; `null` for an empty optional
// or a non-finite value.
void AppendJsonNumber(std::string& out, double v);
void AppendJsonNumber(std::string& out, const std::optional<double>& v);
void AppendJsonInt(std::string& out, long long v);

}  // namespace aquasense::core
