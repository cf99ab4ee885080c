#include "common/aws/sigv4.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "common/crypto.h"

namespace aquasense::aws {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trims and collapses runs of blanks, as SigV4 canonical headers require.
std::string CanonicalValue(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

// RFC 3986 §5.2.4 dot-segment removal, and empty segments dropped (AWS
// services other than S3 require both), as botocore's normalize_url_path.
std::string NormalizePath(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view seg = path.substr(start, end - start);
    if (seg == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!seg.empty() && seg != ".") {
      parts.push_back(seg);
    }
    start = end + 1;
  }
  std::string out = path.front() == '/' ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += '/';
    out += parts[i];
  }
  if (path.back() == '/' && !parts.empty()) out += '/';
  return out.empty() ? "/" : out;
}

bool IsS3(const Scope& scope) { return scope.service == "s3"; }

}  // namespace

std::string AmzDate(int64_t epoch_ms) {
  const std::time_t t = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string UriEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

std::string UriEncodePath(std::string_view key) { return "/" + UriEncode(key, true); }

std::string CanonicalQuery(const std::vector<QueryParam>& query) {
  std::vector<QueryParam> enc;
  enc.reserve(query.size());
  for (const auto& [k, v] : query) enc.emplace_back(UriEncode(k), UriEncode(v));
  std::sort(enc.begin(), enc.end());
  std::string out;
  for (const auto& [k, v] : enc) {
    if (!out.empty()) out += '&';
    out += k + "=" + v;
  }
  return out;
}

std::string CanonicalUri(std::string_view wire_path, bool s3) {
  if (s3) return wire_path.empty() ? "/" : std::string(wire_path);
  return UriEncode(NormalizePath(wire_path), /*keep_slash=*/true);
}

std::string CanonicalRequest(const SignRequest& r, const std::vector<Header>& all_headers, bool s3,
                             std::string* signed_headers) {
  std::vector<Header> canon;
  canon.reserve(all_headers.size());
  for (const auto& [name, value] : all_headers)
    canon.emplace_back(Lower(name), CanonicalValue(value));
  std::stable_sort(canon.begin(), canon.end(),
                   [](const Header& a, const Header& b) { return a.first < b.first; });
  std::string block, names;
  for (size_t i = 0; i < canon.size(); ++i) {
    if (i > 0 && canon[i].first == canon[i - 1].first) {  // repeated: values joined by ','
      block.pop_back();
      block += "," + canon[i].second + "\n";
      continue;
    }
    block += canon[i].first + ":" + canon[i].second + "\n";
    if (!names.empty()) names += ";";
    names += canon[i].first;
  }
  if (signed_headers != nullptr) *signed_headers = names;
  return r.method + "\n" + CanonicalUri(r.path, s3) + "\n" + CanonicalQuery(r.query) + "\n" +
         block + "\n" + names + "\n" + r.payload_sha256;
}

std::vector<Header> Sign(const SignRequest& r, const Credentials& creds, const Scope& scope,
                         int64_t epoch_ms) {
  const std::string amz_date = AmzDate(epoch_ms);
  const std::string day = amz_date.substr(0, 8);
  std::vector<Header> headers = r.headers;
  headers.emplace_back("Host", r.host);
  headers.emplace_back("X-Amz-Date", amz_date);
  if (IsS3(scope)) headers.emplace_back("x-amz-content-sha256", r.payload_sha256);
  if (!creds.session_token.empty())
    headers.emplace_back("X-Amz-Security-Token", creds.session_token);

  std::string signed_headers;
  const std::string canonical = CanonicalRequest(r, headers, IsS3(scope), &signed_headers);
  const std::string credential_scope =
      day + "/" + scope.region + "/" + scope.service + "/aws4_request";
  const std::string to_sign =
      "AWS4-HMAC-SHA256\n" + amz_date + "\n" + credential_scope + "\n" + Sha256Hex(canonical);

  std::string key = HmacSha256("AWS4" + creds.secret_access_key, day);
  key = HmacSha256(key, scope.region);
  key = HmacSha256(key, scope.service);
  key = HmacSha256(key, "aws4_request");
  const std::string signature = HexEncode(HmacSha256(key, to_sign));
  headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=" + creds.access_key_id + "/" +
                                            credential_scope + ", SignedHeaders=" + signed_headers +
                                            ", Signature=" + signature);
  return headers;
}

}  // namespace aquasense::aws
