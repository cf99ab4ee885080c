#include "notify/sigv4.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include "common/crypto.h"

namespace aquasense::notify {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Trims and collapses runs of spaces, as SigV4 canonical headers require.
std::string CanonicalValue(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string AmzDate(int64_t epoch_ms) {
  std::time_t t = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string AwsUriEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

std::string CanonicalRequest(const SigV4Request& r, const std::vector<Header>& all_headers,
                             std::string* signed_headers) {
  std::vector<Header> canon;
  for (const auto& [name, value] : all_headers) canon.emplace_back(Lower(name), CanonicalValue(value));
  std::stable_sort(canon.begin(), canon.end(),
                   [](const Header& a, const Header& b) { return a.first < b.first; });
  std::string headers_block, names;
  for (size_t i = 0; i < canon.size(); ++i) {
    if (i > 0 && canon[i].first == canon[i - 1].first) {
      // Repeated header: values joined by commas on one line.
      headers_block.pop_back();
      headers_block += "," + canon[i].second + "\n";
      continue;
    }
    headers_block += canon[i].first + ":" + canon[i].second + "\n";
    if (!names.empty()) names += ";";
    names += canon[i].first;
  }
  if (signed_headers != nullptr) *signed_headers = names;
  return r.method + "\n" + (r.path.empty() ? "/" : r.path) + "\n" + r.query + "\n" +
         headers_block + "\n" + names + "\n" + Sha256Hex(r.body);
}

std::string StringToSign(const std::string& amz_date, const std::string& scope,
                         const std::string& canonical_request) {
  return "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + Sha256Hex(canonical_request);
}

std::vector<Header> SignV4(const SigV4Request& r, const AwsCredentials& creds,
                           const std::string& region, const std::string& service,
                           int64_t epoch_ms) {
  const std::string amz_date = AmzDate(epoch_ms);
  const std::string day = amz_date.substr(0, 8);
  std::vector<Header> headers = r.headers;
  headers.emplace_back("Host", r.host);
  headers.emplace_back("X-Amz-Date", amz_date);
  if (!creds.session_token.empty()) headers.emplace_back("X-Amz-Security-Token", creds.session_token);

  std::string signed_headers;
  const std::string canonical = CanonicalRequest(r, headers, &signed_headers);
  const std::string scope = day + "/" + region + "/" + service + "/aws4_request";
  const std::string to_sign = StringToSign(amz_date, scope, canonical);

  std::string key = HmacSha256("AWS4" + creds.secret_access_key, day);
  key = HmacSha256(key, region);
  key = HmacSha256(key, service);
  key = HmacSha256(key, "aws4_request");
  const std::string signature = HexEncode(HmacSha256(key, to_sign));

  headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=" + creds.access_key_id +
                                            "/" + scope + ", SignedHeaders=" + signed_headers +
                                            ", Signature=" + signature);
  return headers;
}

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe): read-only use
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Result<AwsCredentials> ParseCredentialsFile(std::string_view text, const std::string& profile) {
  std::istringstream in{std::string(text)};
  std::string line;
  bool in_section = false, found = false;
  AwsCredentials c;
  while (std::getline(in, line)) {
    std::string_view l = Trim(line);
    if (l.empty() || l.front() == '#' || l.front() == ';') continue;
    if (l.front() == '[') {
      std::string_view name = l.substr(1, l.find(']') == std::string_view::npos ? l.size() - 1
                                                                                : l.find(']') - 1);
      name = Trim(name);
      if (name.substr(0, 8) == "profile ") name = Trim(name.substr(8));
      in_section = (name == profile);
      found = found || in_section;
      continue;
    }
    if (!in_section) continue;
    size_t eq = l.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key = Lower(std::string(Trim(l.substr(0, eq))));
    std::string value(Trim(l.substr(eq + 1)));
    if (key == "aws_access_key_id") c.access_key_id = value;
    if (key == "aws_secret_access_key") c.secret_access_key = value;
    if (key == "aws_session_token") c.session_token = value;
  }
  if (!found) return NotFound("no profile [" + profile + "] in the AWS credentials file");
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return NotFound("profile [" + profile + "] has no aws_access_key_id/aws_secret_access_key");
  }
  return c;
}

Result<AwsCredentials> LoadAwsCredentials(const EnvLookup& env, const std::string& profile) {
  auto get = [&](const char* name) { return env(name).value_or(""); };
  AwsCredentials c{get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY"), get("AWS_SESSION_TOKEN")};
  if (!c.access_key_id.empty() && !c.secret_access_key.empty()) return c;

  std::string path = get("AWS_SHARED_CREDENTIALS_FILE");
  if (path.empty()) {
    std::string home = get("HOME");
    if (!home.empty()) path = home + "/.aws/credentials";
  }
  std::string prof = profile;
  if (prof.empty()) prof = get("AWS_PROFILE");
  if (prof.empty()) prof = "default";
  if (!path.empty()) {
    std::ifstream f(path);
    if (f) {
      std::stringstream ss;
      ss << f.rdbuf();
      auto parsed = ParseCredentialsFile(ss.str(), prof);
      if (parsed.ok()) return parsed;
      return Unavailable(parsed.status().message() + " (" + path + ")");
    }
  }
  return Unavailable(
      "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or write " +
      (path.empty() ? std::string("~/.aws/credentials") : path));
}

}  // namespace aquasense::notify
