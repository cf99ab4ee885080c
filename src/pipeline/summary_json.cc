#include <nlohmann/json.hpp>

#include "pipeline/pipeline.h"

namespace aquasense::pipeline {

std::string SummaryJson(const IngestSummary& s) {
  nlohmann::json per_file = nlohmann::json::array();
  int64_t already = 0;
  int64_t unreadable = 0;
  for (const auto& f : s.per_file) {
    nlohmann::json j = {{"source", f.source_name}, {"status", f.status}};
    if (!f.hash.empty()) j["sha256"] = f.hash;
    if (f.status == "ingested") {
      j["rows"] = f.rows;
      j["valid"] = f.valid;
      j["invalid"] = f.invalid;
      j["duplicates"] = f.duplicates;
      j["alerts"] = f.alerts;
    }
    if (!f.error.empty()) j["error"] = f.error;
    if (f.status == "already_ingested") ++already;
    if (f.status == "unreadable") ++unreadable;
    per_file.push_back(std::move(j));
  }
  nlohmann::json j = {{"files", s.files},
                      {"already_ingested", already},
                      {"unreadable", unreadable},
                      {"rows", s.rows},
                      {"valid", s.valid},
                      {"invalid", s.invalid},
                      {"duplicates", s.duplicates},
                      {"alerts", s.alerts},
                      {"months_updated", s.months_updated},
                      {"seconds", s.seconds},
                      {"per_file", per_file}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace aquasense::pipeline
