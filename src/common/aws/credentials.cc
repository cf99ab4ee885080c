#include "common/aws/credentials.h"

#include <cctype>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

namespace aquasense::aws {
namespace {

constexpr size_t kMaxIniBytes = 4u << 20;
constexpr size_t kMaxIniLine = 64u << 10;
constexpr int64_t kRefreshBeforeMs = 5 * 60 * 1000;  // the SDKs' window

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Var(const EnvLookup& env, const char* name) { return env(name).value_or(""); }

bool IsTrue(const std::string& v) { return Lower(v) == "true"; }

std::optional<std::string> ReadWholeFile(const Env& env, const std::string& path) {
  if (env.read_file) return env.read_file(path);
  std::ifstream f(path, std::ios::binary);
  if (!f) return std::nullopt;
  std::string out;
  char buf[65536];
  while (f.read(buf, sizeof buf) || f.gcount() > 0) {
    out.append(buf, static_cast<size_t>(f.gcount()));
    if (out.size() > kMaxIniBytes) break;  // ParseIniFile refuses it
  }
  return out;
}

// The shared files of `env`, each {} when absent. Errors: a file that does
// not parse.
Status LoadSharedFiles(const Env& env, IniFile* credentials, IniFile* config, std::string* where) {
  const std::string home = Var(env.lookup, "HOME");
  std::string cred_path = Var(env.lookup, "AWS_SHARED_CREDENTIALS_FILE");
  std::string conf_path = Var(env.lookup, "AWS_CONFIG_FILE");
  if (cred_path.empty() && !home.empty()) cred_path = home + "/.aws/credentials";
  if (conf_path.empty() && !home.empty()) conf_path = home + "/.aws/config";
  *where = cred_path + " and " + conf_path;
  for (auto [path, out] : {std::pair{&cred_path, credentials}, std::pair{&conf_path, config}}) {
    if (path->empty()) continue;
    auto text = ReadWholeFile(env, *path);
    if (!text) continue;
    auto parsed = ParseIniFile(*text);
    if (!parsed.ok()) return InvalidArgument(*path + ": " + parsed.status().message());
    *out = std::move(*parsed);
  }
  return Status::Ok();
}

std::string ProfileName(const EnvLookup& env) {
  std::string p = Var(env, "AWS_PROFILE");
  if (p.empty()) p = Var(env, "AWS_DEFAULT_PROFILE");
  return p.empty() ? "default" : p;
}

// The JSON both ECS and IMDS answer with.
Result<Credentials> ParseCredentialsJson(std::string_view body, std::string_view source) {
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  auto str = [&](const char* k) {
    return j.is_object() && j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : "";
  };
  Credentials c{str("AccessKeyId"), str("SecretAccessKey"), str("Token"), 0};
  if (c.access_key_id.empty() || c.secret_access_key.empty())
    return InvalidArgument(std::string(source) + " answered without AccessKeyId/SecretAccessKey");
  if (const std::string exp = str("Expiration"); !exp.empty()) {
    auto ms = ParseIso8601Ms(exp);
    if (!ms) return InvalidArgument(std::string(source) + " answered a bad Expiration: " + exp);
    c.expires_ms = *ms;
  }
  return c;
}

// http on these hosts is allowed for a full ECS URI (as the SDKs allow).
bool TrustedHttpHost(std::string_view url) {
  if (!url.starts_with("http://")) return false;
  std::string_view host = url.substr(7);
  host = host.substr(0, host.find_first_of("/?#"));
  if (host.starts_with("[")) return host.starts_with("[::1]");
  host = host.substr(0, host.find(':'));
  return host == "localhost" || host.starts_with("127.") || host == "169.254.170.2" ||
         host == "169.254.170.23";
}

Result<Credentials> FromEcs(const Env& env, bool* tried) {
  const std::string rel = Var(env.lookup, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  const std::string full = Var(env.lookup, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (rel.empty() && full.empty()) return NotFound("no ECS container credentials variables");
  *tried = true;
  HttpRequest req;
  req.url = !rel.empty() ? env.ecs_base + rel : full;
  if (rel.empty() && !full.starts_with("https://") && !TrustedHttpHost(full))
    return InvalidArgument("AWS_CONTAINER_CREDENTIALS_FULL_URI must be https or a loopback host: " +
                           full);
  std::string token = Var(env.lookup, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
  if (const std::string file = Var(env.lookup, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
      !file.empty()) {
    auto t = ReadWholeFile(env, file);
    if (!t) return Unavailable("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " + file);
    token = std::string(Trim(*t));
  }
  if (!token.empty()) req.headers.emplace_back("Authorization", token);
  req.timeout_ms = env.metadata_timeout_ms * 2;
  req.connect_timeout_ms = env.metadata_timeout_ms;
  req.max_body = 64 << 10;
  auto resp = env.http->Send(req);
  if (!resp.ok()) return Unavailable("ECS container credentials: " + resp.status().message());
  if (resp->status != 200)
    return Unavailable("ECS container credentials: HTTP " + std::to_string(resp->status));
  return ParseCredentialsJson(resp->body, "the ECS credentials endpoint");
}

Result<Credentials> FromImds(const Env& env) {
  HttpRequest token_req{.method = "PUT", .url = env.imds_base + "/latest/api/token"};
  token_req.headers = {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}};
  token_req.timeout_ms = token_req.connect_timeout_ms = env.metadata_timeout_ms;
  token_req.max_body = 64 << 10;
  auto token = env.http->Send(token_req);
  if (!token.ok()) return Unavailable("EC2 instance metadata: " + token.status().message());
  if (token->status != 200)
    return Unavailable("EC2 instance metadata token: HTTP " + std::to_string(token->status));
  auto get = [&](const std::string& path) -> Result<std::string> {
    HttpRequest r{.url = env.imds_base + path};
    r.headers = {{"X-aws-ec2-metadata-token", std::string(Trim(token->body))}};
    r.timeout_ms = r.connect_timeout_ms = env.metadata_timeout_ms;
    r.max_body = 64 << 10;
    auto resp = env.http->Send(r);
    if (!resp.ok()) return Unavailable("EC2 instance metadata: " + resp.status().message());
    if (resp->status != 200)
      return Unavailable("EC2 instance metadata " + path + ": HTTP " +
                         std::to_string(resp->status));
    return resp->body;
  };
  const std::string base = "/latest/meta-data/iam/security-credentials/";
  auto roles = get(base);
  if (!roles.ok()) return roles.status();
  const std::string role(Trim(std::string_view(*roles).substr(0, roles->find('\n'))));
  if (role.empty()) return Unavailable("EC2 instance metadata: no IAM role attached");
  auto body = get(base + role);
  if (!body.ok()) return body.status();
  return ParseCredentialsJson(*body, "EC2 instance metadata");
}

Result<Credentials> FromProfile(const Env& env, bool* explicit_profile) {
  IniFile credentials, config;
  std::string where;
  AQ_RETURN_IF_ERROR(LoadSharedFiles(env, &credentials, &config, &where));
  const std::string profile = ProfileName(env.lookup);
  *explicit_profile = !Var(env.lookup, "AWS_PROFILE").empty();
  auto settings = ProfileSettings(credentials, config, profile);
  if (!settings) {
    if (*explicit_profile)
      return InvalidArgument("AWS_PROFILE=" + profile + ": no such profile in " + where);
    return NotFound("no profile [" + profile + "] in " + where);
  }
  auto at = [&](const char* k) { return settings->count(k) ? settings->at(k) : std::string(); };
  Credentials c{at("aws_access_key_id"), at("aws_secret_access_key"), at("aws_session_token"), 0};
  if (!c.access_key_id.empty() && !c.secret_access_key.empty()) return c;
  for (const char* k : {"role_arn", "credential_process", "sso_session", "sso_start_url",
                        "web_identity_token_file"})
    if (settings->count(k))
      return InvalidArgument("profile [" + profile + "] uses " + k +
                             ", which AquaSense does not support yet");
  return NotFound("profile [" + profile + "] has no aws_access_key_id/aws_secret_access_key");
}

// The chain, caching what it found until 5 minutes before it expires.
class ChainProvider final : public CredentialsProvider {
 public:
  explicit ChainProvider(Env env) : env_(std::move(env)) {}

  Result<Credentials> Get() override {
    std::lock_guard lock(mu_);
    const int64_t now = env_.clock->NowMs();
    if (cached_ && (cached_->expires_ms == 0 || cached_->expires_ms - now > kRefreshBeforeMs))
      return *cached_;
    auto c = Resolve();
    if (!c.ok()) {
      // A refresh that fails keeps credentials that have not expired yet.
      if (cached_ && cached_->expires_ms > now) return *cached_;
      return c.status();
    }
    cached_ = *c;
    return c;
  }

 private:
  Result<Credentials> Resolve() {
    Credentials c{Var(env_.lookup, "AWS_ACCESS_KEY_ID"), Var(env_.lookup, "AWS_SECRET_ACCESS_KEY"),
                  Var(env_.lookup, "AWS_SESSION_TOKEN"), 0};
    if (!c.access_key_id.empty() && !c.secret_access_key.empty()) return c;
    bool explicit_profile = false;
    auto p = FromProfile(env_, &explicit_profile);
    if (p.ok() || p.status().code() == Code::kInvalidArgument) return p;
    std::string tried = "environment, " + p.status().message();
    if (env_.http == nullptr) return Unavailable("no AWS credentials (tried " + tried + ")");
    bool ecs = false;
    auto e = FromEcs(env_, &ecs);
    if (ecs) return e;
    if (IsTrue(Var(env_.lookup, "AWS_EC2_METADATA_DISABLED")))
      return Unavailable("no AWS credentials (tried " + tried + "; EC2 metadata disabled)");
    auto i = FromImds(env_);
    if (i.ok()) return i;
    return Unavailable("no AWS credentials (tried " + tried + ", " + i.status().message() + ")");
  }

  Env env_;
  std::mutex mu_;
  std::optional<Credentials> cached_;
};

class StaticProvider final : public CredentialsProvider {
 public:
  explicit StaticProvider(Credentials c) : c_(std::move(c)) {}
  Result<Credentials> Get() override { return c_; }

 private:
  Credentials c_;
};

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe): read-only use
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Result<IniFile> ParseIniFile(std::string_view text) {
  if (text.size() > kMaxIniBytes) return InvalidArgument("file over 4 MiB");
  IniFile out;
  std::string section;
  bool in_section = false;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (raw.size() > kMaxIniLine) return InvalidArgument("line over 64 KiB");
    const bool indented = !raw.empty() && (raw.front() == ' ' || raw.front() == '\t');
    std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      const size_t close = line.find(']');
      if (close == std::string_view::npos)
        return InvalidArgument("unclosed section: " + std::string(line.substr(0, 80)));
      section = std::string(Trim(line.substr(1, close - 1)));
      in_section = true;
      out[section];
      continue;
    }
    if (!in_section || indented) continue;  // sub-settings ("s3 =\n  x = y") are not ours
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string value(Trim(line.substr(eq + 1)));
    // An inline comment needs whitespace before its '#' or ';'.
    for (size_t i = 1; i < value.size(); ++i) {
      if ((value[i] == '#' || value[i] == ';') &&
          std::isspace(static_cast<unsigned char>(value[i - 1]))) {
        value = std::string(Trim(std::string_view(value).substr(0, i)));
        break;
      }
    }
    out[section][Lower(Trim(line.substr(0, eq)))] = std::move(value);
  }
  return out;
}

std::optional<std::map<std::string, std::string>> ProfileSettings(const IniFile& credentials,
                                                                  const IniFile& config,
                                                                  const std::string& profile) {
  std::optional<std::map<std::string, std::string>> out;
  auto merge = [&](const IniFile& f, const std::string& name) {
    auto it = f.find(name);
    if (it == f.end()) return;
    if (!out) out.emplace();
    for (const auto& [k, v] : it->second) out->emplace(k, v);  // earlier files win
  };
  merge(credentials, profile);
  merge(config, "profile " + profile);
  if (profile == "default") merge(config, "default");
  return out;
}

Result<Settings> LoadSettings(const Env& env) {
  Settings s;
  s.profile = ProfileName(env.lookup);
  IniFile credentials, config;
  std::string where;
  AQ_RETURN_IF_ERROR(LoadSharedFiles(env, &credentials, &config, &where));
  auto profile = ProfileSettings(credentials, config, s.profile);
  auto from_profile = [&](const char* k) {
    return profile && profile->count(k) ? profile->at(k) : std::string();
  };
  std::string region = Var(env.lookup, "AWS_REGION");
  if (region.empty()) region = Var(env.lookup, "AWS_DEFAULT_REGION");
  if (region.empty()) region = from_profile("region");
  if (!region.empty()) s.region = region;
  std::string attempts = Var(env.lookup, "AWS_MAX_ATTEMPTS");
  if (attempts.empty()) attempts = from_profile("max_attempts");
  if (!attempts.empty()) {
    char* end = nullptr;
    const long n = std::strtol(attempts.c_str(), &end, 10);
    if (*end != '\0' || n < 1 || n > 100)
      return InvalidArgument("AWS_MAX_ATTEMPTS must be 1..100, got " + attempts);
    s.max_attempts = static_cast<int>(n);
  }
  return s;
}

std::string ResolveEndpoint(const EnvLookup& env, std::string_view service,
                            const std::string& region, bool* custom) {
  auto strip = [](std::string u) {
    while (!u.empty() && u.back() == '/') u.pop_back();
    return u;
  };
  if (!IsTrue(Var(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"))) {
    std::string var = "AWS_ENDPOINT_URL_";
    for (char c : service) var += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (const std::string& name : {var, std::string("AWS_ENDPOINT_URL")}) {
      if (std::string v = Var(env, name.c_str()); !v.empty()) {
        if (custom != nullptr) *custom = true;
        return strip(v);
      }
    }
  }
  if (custom != nullptr) *custom = false;
  return "https://" + std::string(service) + "." + region + ".amazonaws.com";
}

std::optional<int64_t> ParseIso8601Ms(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fff][Z|+00:00]
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
      s[13] != ':' || s[16] != ':')
    return std::nullopt;
  auto num = [&](size_t at, size_t n) -> int {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  std::tm tm{};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(5, 2) - 1;
  tm.tm_mday = num(8, 2);
  tm.tm_hour = num(11, 2);
  tm.tm_min = num(14, 2);
  tm.tm_sec = num(17, 2);
  if (tm.tm_year < 0 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
      tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0 ||
      tm.tm_sec > 60)
    return std::nullopt;
  int64_t ms = 0;
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    int64_t scale = 100;
    for (++i; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i, scale /= 10)
      ms += (s[i] - '0') * scale;
  }
  const std::string_view zone = s.substr(i);
  if (!zone.empty() && zone != "Z" && zone != "+00:00") return std::nullopt;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

std::shared_ptr<CredentialsProvider> NewStaticCredentials(Credentials c) {
  return std::make_shared<StaticProvider>(std::move(c));
}

std::shared_ptr<CredentialsProvider> NewDefaultCredentialsChain(Env env) {
  return std::make_shared<ChainProvider>(std::move(env));
}

}  // namespace aquasense::aws
