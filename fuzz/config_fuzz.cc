// SOURCES: src/cli/config.cc src/notify/config.cc src/notify/format.cc src/notify/redact.cc src/common/crypto.cc src/core/number.cc src/common/status.cc
// FLAGS: -lnettle
// libFuzzer target over the config-file parser and checker (cli/config.h):
// arbitrary bytes as aquasense.json must never crash or hang, an error is
// always kInvalidArgument with a message, and a config that is accepted
// yields options that keep the checked invariants.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cli/config.h"

using aquasense::Code;
using aquasense::cli::ParseConfig;
using aquasense::cli::PipelineOptionsFrom;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = ParseConfig(text, "fuzz.json");
  if (!config.ok()) {
    if (config.status().code() != Code::kInvalidArgument || config.status().message().empty())
      std::abort();
    return 0;
  }
  if (!config->is_object()) std::abort();
  // No AQUASENSE_SD_LIMIT: the result depends on the bytes only.
  auto options = PipelineOptionsFrom(*config, [](const char*) -> const char* { return nullptr; });
  if (!options.ok()) {
    if (options.status().code() != Code::kInvalidArgument || options.status().message().empty())
      std::abort();
    return 0;
  }
  const auto& l = options->limits;
  if (!(l.temp_min <= l.temp_max) || !(l.sd_min <= l.sd_max) || !(l.sd_min >= 0) ||
      !(l.sd_alert >= 0)) {
    std::abort();
  }
  return 0;
}
