// Server log lines: "aquasense: <message>" on stderr, one line each.
//
//   LogLine("listening on http://127.0.0.1:8080");
//   LogThrottle accept_errors(std::chrono::seconds(10));
//   if (auto line = accept_errors.Next("http: accept failed: ...", now)) LogLine(*line);
//
// LogLine is thread-safe (one fwrite per line, stderr is unbuffered). A
// LogThrottle is not: keep one per logging thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace aquasense::http {

inline void LogLine(std::string_view message) {
  std::string line = "aquasense: ";
  line.append(message);
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stderr);
}

// Lets a repeated message through at most once per `period`, so a fault that
// repeats many times a second (accept failing with EMFILE, a store that
// cannot be read) logs a line every period, not a flood.
class LogThrottle {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  explicit LogThrottle(std::chrono::steady_clock::duration period) : period_(period) {}

  // The line to log for `message` at `now`, or nothing while the last one is
  // younger than the period. A line after suppressed ones says how many.
  std::optional<std::string> Next(std::string_view message, TimePoint now) {
    if (logged_ && now - last_ < period_) {
      ++suppressed_;
      return std::nullopt;
    }
    std::string line(message);
    if (suppressed_ > 0) {
      line += " (and " + std::to_string(suppressed_) + " more since the last such line)";
    }
    logged_ = true;
    last_ = now;
    suppressed_ = 0;
    return line;
  }

 private:
  std::chrono::steady_clock::duration period_;
  bool logged_ = false;
  TimePoint last_{};
  uint64_t suppressed_ = 0;
};

}  // namespace aquasense::http
