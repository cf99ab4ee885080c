// The config file (JSON) and how its values become module options.
//
//   {"limits": {"temp_min": -5, "temp_max": 45, "sd_min": 0, "sd_max": 10},
//    "alerts": {"sd_limit": 0.5, "channels": [...]},
//    "serve": {"listen": "127.0.0.1:8080", ...}}
//
//   auto config = LoadConfigFile("aquasense.json");    // parsed and checked
//   auto options = PipelineOptionsFrom(*config, EnvFromProcess());
//
// Precedence everywhere: command-line flag > AQUASENSE_* variable > config file > default.
// Checked strictly (review L6): malformed JSON names its line and column; an
// unknown key, a section that is not an object and a value of the wrong
// type, sign or range are kInvalidArgument naming the key ("limits.sd_min").
// The keys of "serve" are checked by `serve` itself (cli/serve_command.cc,
// which may use CheckKnownKeys). Pure apart from LoadConfigFile's read and
// the EnvLookup given; thread-safe.
#pragma once

#include <functional>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"
#include "pipeline/pipeline.h"

namespace aquasense::cli {

// The value of an environment variable, nullptr when unset.
using EnvLookup = std::function<const char*(const char*)>;
EnvLookup EnvFromProcess();

// Reads `path` and returns ParseConfig of its bytes. kInvalidArgument when it
// cannot be read (a directory, missing, unreadable) or is not valid.
Result<nlohmann::json> LoadConfigFile(const std::string& path);

// Parses config text: a JSON object with known sections and keys
// (CheckConfig). `name` (the file) is used in messages.
Result<nlohmann::json> ParseConfig(std::string_view text, const std::string& name);

// Sections are objects and every key outside "serve" is known.
Status CheckConfig(const nlohmann::json& config);

// kInvalidArgument naming the first key of `obj` not in `known`, with the
// nearest known key as a suggestion. `where` prefixes the names ("alerts").
Status CheckKnownKeys(const nlohmann::json& obj, std::string_view where,
                      std::initializer_list<std::string_view> known);
Status CheckKnownKeys(const nlohmann::json& obj, std::string_view where,
                      std::span<const std::string_view> known);

// Limits and alert settings for the pipeline, from the config and
// AQUASENSE_SD_LIMIT (checked like "sd_limit": a number >= 0).
Result<pipeline::Options> PipelineOptionsFrom(const nlohmann::json& config,
                                              const EnvLookup& env = EnvFromProcess());

}  // namespace aquasense::cli
