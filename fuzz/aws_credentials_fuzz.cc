// SOURCES: src/common/aws/credentials.cc src/common/aws/curl_api.cc src/common/aws/http_client.cc src/common/aws/request_stats.cc src/common/status.cc
// FLAGS: -ldl
// libFuzzer target over the AWS shared-file parser (common/aws/credentials.h):
// arbitrary bytes as ~/.aws/credentials and ~/.aws/config, read through the
// whole profile lookup, must never crash or hang, and what the parser keeps
// must keep its invariants (lower-case keys without '=', trimmed values).
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/aws/credentials.h"

using namespace aquasense;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto ini = aws::ParseIniFile(text);
  if (ini.ok()) {
    for (const auto& [section, keys] : *ini) {
      for (const auto& [k, v] : keys) {
        if (k.find('=') != std::string::npos) std::abort();
        for (char c : k)
          if (std::isupper(static_cast<unsigned char>(c))) std::abort();
        if (!v.empty() && (std::isspace(static_cast<unsigned char>(v.front())) ||
                           std::isspace(static_cast<unsigned char>(v.back()))))
          std::abort();
      }
    }
  }
  // The same bytes as both shared files, through the chain and the settings.
  const size_t half = size / 2;
  FakeClock clock(1'893'456'000'000);
  aws::Env env;
  env.lookup = [](const std::string& name) -> std::optional<std::string> {
    if (name == "HOME") return "/h";
    if (name == "AWS_EC2_METADATA_DISABLED") return "true";
    return std::nullopt;
  };
  env.clock = &clock;
  env.read_file = [&](const std::string& path) -> std::optional<std::string> {
    if (path == "/h/.aws/credentials") return text.substr(0, half);
    if (path == "/h/.aws/config") return text.substr(half);
    return std::nullopt;
  };
  (void)aws::LoadSettings(env);
  (void)aws::NewDefaultCredentialsChain(env)->Get();
  (void)aws::ParseIso8601Ms(std::string_view(text).substr(0, 40));
  return 0;
}
