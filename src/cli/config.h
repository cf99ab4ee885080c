// The config file (JSON) and how its values become module options.
//
//   {"data": "...", "sensor": "s1", "limits": {"temp_min": -5, "temp_max": 45,
//    "sd_min": 0, "sd_max": 10}, "alerts": {"sd_limit": 0.5, "channels": [...]},
//    "serve": {"listen": "127.0.0.1:8080", ...}}
//
// Precedence everywhere: command-line flag > AQUASENSE_* variable > config file > default.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "pipeline/pipeline.h"

namespace aquasense::cli {

// Reads and parses `path`; kInvalidArgument with the reason when it is not valid JSON.
Result<nlohmann::json> LoadConfigFile(const std::string& path);

// Limits and alert settings for the pipeline, from the config and AQUASENSE_SD_LIMIT.
Result<pipeline::Options> PipelineOptionsFrom(const nlohmann::json& config);

}  // namespace aquasense::cli
