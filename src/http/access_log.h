// AccessLog: one JSON line per HTTP request (off unless --access-log is given).
//
//   auto log = AccessLog::Open("-");            // stderr; or a file, appended to
//   log->Write({.method = "GET", .target = "/temp?...", .status = 200, ...});
//
// Each line: {"ts":"2024-01-02T03:04:05.678Z","remote":"127.0.0.1:5123",
// "method":"GET","target":"/temp?year=2024&month=1","route":"temp",
// "status":200,"bytes":63,"ms":0.08}. Thread-safe: lines are written whole
// under a mutex. Errors: Open() returns kUnavailable when the file cannot be
// opened; a failed write is ignored (logging never fails a request).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/status.h"

namespace aquasense::http {

struct AccessRecord {
  int64_t time_ms = 0;
  std::string_view remote;
  std::string_view method;
  std::string_view target;
  std::string_view route;
  int status = 0;
  uint64_t bytes = 0;
  double seconds = 0;
};

// The JSON line for a record (with a trailing newline); pure.
std::string FormatAccessRecord(const AccessRecord& r);

class AccessLog {
 public:
  // `path` "-" means stderr.
  static Result<std::unique_ptr<AccessLog>> Open(const std::string& path);
  ~AccessLog();
  void Write(const AccessRecord& r);

 private:
  AccessLog(std::FILE* f, bool owned) : file_(f), owned_(owned) {}
  std::mutex mu_;
  std::FILE* file_;
  bool owned_;
};

}  // namespace aquasense::http
