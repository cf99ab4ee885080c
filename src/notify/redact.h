// Redaction of what the outside world wrote into delivery errors, so stored
// errors, logs, `aquasense alerts` and GET /v1/alerts never show a secret.
// Channel URLs often are secrets themselves (Slack-style webhook paths,
// user:password@, ?token=): only their scheme, host and port are shown. A
// receiver's answer is reduced to a short excerpt of printable ASCII.
//
//   RedactUrl("http://u:p@h:8/hooks/T0?k=v")      // "http://h:8/…"
//   RedactUrls("POST http://u:p@h/x failed")       // "POST http://h/… failed"
//   ResponseExcerpt("oops\r\n<secret...>")         // "oops <secret..." (<= 64 chars)
//
// Pure functions; thread-safe; never fail.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace aquasense::notify {

// Bytes of a receiver's answer kept in an error message.
constexpr size_t kResponseExcerptChars = 64;

// `url` with its userinfo dropped and its path, query and fragment replaced
// by "/…": "scheme://host[:port]" (+ "/…" when something followed). Text
// without "://" is returned as "…" unless it is empty.
std::string RedactUrl(std::string_view url);

// Every URL ("scheme://...") in `text` redacted as by RedactUrl; the rest of
// the text is kept.
std::string RedactUrls(std::string_view text);

// At most `max_chars` printable ASCII characters of `body`: control
// characters and non-ASCII bytes dropped, runs of whitespace made one space,
// URLs redacted; "..." appended when something was cut.
std::string ResponseExcerpt(std::string_view body, size_t max_chars = kResponseExcerptChars);

// A stored or produced delivery error made safe to show: URLs redacted,
// control characters dropped, cut at 300 characters.
std::string SafeError(std::string_view error);

}  // namespace aquasense::notify
