// Server log lines: "aquasense: <message>" on stderr, one line each.
//
//   LogLine("listening on http://127.0.0.1:8080");
//
// Thread-safe (one fwrite per line, stderr is unbuffered).
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace aquasense::http {

inline void LogLine(std::string_view message) {
  std::string line = "aquasense: ";
  line.append(message);
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace aquasense::http
