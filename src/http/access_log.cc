#include "http/access_log.h"

#include <cerrno>
#include <cstring>
#include <ctime>

#include "http/json_text.h"

namespace aquasense::http {

std::string FormatAccessRecord(const AccessRecord& r) {
  std::string out;
  out.reserve(160 + r.target.size());
  std::time_t secs = static_cast<std::time_t>(r.time_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[96];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(r.time_ms % 1000));
  out.append("{\"ts\":\"").append(ts).append("\",\"remote\":");
  AppendJsonString(out, r.remote);
  out.append(",\"method\":");
  AppendJsonString(out, r.method.substr(0, 32));
  out.append(",\"target\":");
  AppendJsonString(out, r.target.substr(0, 2048));
  out.append(",\"route\":");
  AppendJsonString(out, r.route);
  out.append(",\"status\":");
  AppendJsonInt(out, r.status);
  out.append(",\"bytes\":");
  AppendJsonInt(out, static_cast<long long>(r.bytes));
  out.append(",\"ms\":");
  AppendJsonNumber(out, static_cast<double>(static_cast<int64_t>(r.seconds * 1e6)) / 1000);
  out.append("}\n");
  return out;
}

Result<std::unique_ptr<AccessLog>> AccessLog::Open(const std::string& path) {
  if (path == "-") return std::unique_ptr<AccessLog>(new AccessLog(stderr, false));
  std::FILE* f = std::fopen(path.c_str(), "ae");
  if (f == nullptr) {
    return Unavailable("cannot open the access log " + path + ": " + std::strerror(errno));
  }
  return std::unique_ptr<AccessLog>(new AccessLog(f, true));
}

AccessLog::~AccessLog() {
  if (owned_) std::fclose(file_);
}

void AccessLog::Write(const AccessRecord& r) {
  std::string line = FormatAccessRecord(r);
  std::lock_guard lock(mu_);
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

}  // namespace aquasense::http
