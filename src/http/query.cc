#include "http/query.h"

#include "core/datetime.h"
#include "core/reading.h"

namespace aquasense::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int32_t DigitsValue(std::string_view s) {  // s: AllDigits, at most 9 digits
  int32_t v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

// `target` after a leading "http://" or "https://" (any case), else all of it.
std::string_view WithoutScheme(std::string_view target) {
  for (std::string_view scheme : {std::string_view("http://"), std::string_view("https://")}) {
    if (target.size() < scheme.size()) continue;
    bool same = true;
    for (size_t i = 0; i < scheme.size() && same; ++i) {
      char c = target[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      same = c == scheme[i];
    }
    if (same) return target.substr(scheme.size());
  }
  return target;
}

}  // namespace

Target SplitTarget(std::string_view target) {
  if (size_t hash = target.find('#'); hash != std::string_view::npos) {
    target = target.substr(0, hash);
  }
  if (std::string_view rest = WithoutScheme(target); rest.size() != target.size()) {
    // Absolute form: drop the authority; an empty path is "/".
    const size_t end = rest.find_first_of("/?");
    target = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    if (target.empty() || target.front() == '?') {
      Target t = SplitTarget(target);
      t.path = "/";
      return t;
    }
  }
  Target t;
  size_t q = target.find('?');
  if (q == std::string_view::npos) {
    t.path = target;
  } else {
    t.path = target.substr(0, q);
    t.query = target.substr(q + 1);
  }
  return t;
}

std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = HexValue(s[i + 1]);
      int lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      char d = static_cast<char>(hi * 16 + lo);
      if (d == '\0') return std::nullopt;
      out.push_back(d);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

const std::string* QueryParams::Get(std::string_view name) const {
  for (const auto& [k, v] : items_) {
    if (k == name) return &v;
  }
  return nullptr;
}

bool QueryParams::Parse(std::string_view query, QueryParams& out, std::string& error) {
  out.items_.clear();
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;  // "a=1&&b=2"
    size_t eq = part.find('=');
    std::string_view raw_name = part.substr(0, eq);
    std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    auto name = PercentDecode(raw_name, true);
    auto value = PercentDecode(raw_value, true);
    if (!name || !value) {
      error = "malformed percent-encoding in the query string";
      return false;
    }
    if (out.Get(*name) != nullptr) {
      error = "parameter '" + *name + "' is given more than once";
      if (error.size() > 200) error = "a parameter is given more than once";
      return false;
    }
    if (out.items_.size() == kMaxParams) {
      error = "too many query parameters";
      return false;
    }
    out.items_.emplace_back(std::move(*name), std::move(*value));
  }
  return true;
}

std::optional<int32_t> ParseYear(std::string_view s, std::string& error) {
  if (s.empty()) {
    error = "year must not be empty";
    return std::nullopt;
  }
  if (!AllDigits(s) || s.size() > 4) {
    error = "year must be a whole number from 0 to 9999";
    return std::nullopt;
  }
  return DigitsValue(s);
}

std::optional<int32_t> ParseMonth(std::string_view s, std::string& error) {
  if (s.empty()) {
    error = "month must not be empty";
    return std::nullopt;
  }
  if (!AllDigits(s) || s.size() > 2 || DigitsValue(s) < 1 || DigitsValue(s) > 12) {
    error = "month must be a whole number from 1 to 12";
    return std::nullopt;
  }
  return DigitsValue(s);
}

std::optional<int32_t> ParseYearMonth(std::string_view s, std::string_view name,
                                      std::string& error) {
  auto month = core::ParseYearMonth(s);
  if (!month) error = std::string(name) + " must be a month written YYYY-MM (e.g. 2024-01)";
  return month;
}

}  // namespace aquasense::http
