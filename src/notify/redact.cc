#include "notify/redact.h"

#include <cctype>

namespace aquasense::notify {
namespace {

constexpr size_t kMaxErrorChars = 300;
constexpr std::string_view kElided = "/\u2026";  // "/…"

bool IsSchemeChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' || c == '.';
}

// Where a URL that starts at `from` ends in free text: at whitespace, a
// quote or an angle bracket.
size_t UrlEnd(std::string_view text, size_t from) {
  size_t i = from;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c <= 0x20 || c == 0x7f || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`') break;
    ++i;
  }
  // Punctuation after a URL ends the sentence, not the URL: "http://h/x: error".
  while (i > from && std::string_view(":,.;)]").find(text[i - 1]) != std::string_view::npos) --i;
  return i;
}

// "scheme://authority/rest" -> "scheme://host[:port]" + ("/…" if rest).
std::string RedactOne(std::string_view scheme, std::string_view after) {
  const size_t auth_end = after.find_first_of("/?#");
  std::string_view authority = after.substr(0, auth_end);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos)
    authority = authority.substr(at + 1);
  std::string out = std::string(scheme) + "://" + std::string(authority);
  if (auth_end != std::string_view::npos && auth_end + 1 < after.size()) out += kElided;
  return out;
}

}  // namespace

std::string RedactUrl(std::string_view url) {
  const size_t sep = url.find("://");
  if (sep == std::string_view::npos) return url.empty() ? "" : "\u2026";
  return RedactOne(url.substr(0, sep), url.substr(sep + 3));
}

std::string RedactUrls(std::string_view text) {
  std::string out;
  size_t done = 0;  // text[0, done) is in `out`
  size_t pos = 0;
  while ((pos = text.find("://", pos)) != std::string_view::npos) {
    size_t start = pos;
    while (start > done && IsSchemeChar(text[start - 1])) --start;
    const size_t end = UrlEnd(text, pos + 3);
    out.append(text.substr(done, start - done));
    out += RedactOne(text.substr(start, pos - start), text.substr(pos + 3, end - pos - 3));
    done = pos = end;
  }
  out.append(text.substr(done));
  return out;
}

std::string ResponseExcerpt(std::string_view body, size_t max_chars) {
  std::string clean;
  bool space = false;
  for (char ch : body) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = !clean.empty();
      continue;
    }
    if (c < 0x20 || c >= 0x7f) continue;
    if (space) clean += ' ';
    space = false;
    clean += ch;
  }
  // Redacted before the cut, so a URL cut short cannot show its userinfo.
  std::string out = RedactUrls(clean);
  if (out.size() > max_chars) out = out.substr(0, max_chars) + "...";
  return out;
}

std::string SafeError(std::string_view error) {
  std::string out;
  for (char ch : RedactUrls(error)) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      if (c == '\n' || c == '\r' || c == '\t') out += ' ';
      continue;
    }
    out += ch;
  }
  if (out.size() > kMaxErrorChars) {
    size_t cut = kMaxErrorChars;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out = out.substr(0, cut) + "...";
  }
  return out;
}

}  // namespace aquasense::notify
