// ProgressBar: a one-line progress bar on stderr for large inputs, drawn at
// most 10 times a second and only when enabled (stderr is a terminal).
// Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>

namespace aquasense::cli {

class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled) {}
  void Update(uint64_t done, uint64_t total) {
    if (!enabled_ || total < kMinBytes) return;
    const auto now = std::chrono::steady_clock::now();
    if (drawn_ && now - last_ < std::chrono::milliseconds(100) && done < total) return;
    last_ = now;
    drawn_ = true;
    const int pct = static_cast<int>(done * 100 / total);
    char bar[41];
    for (int i = 0; i < 40; ++i) bar[i] = i < pct * 40 / 100 ? '=' : ' ';
    bar[40] = '\0';
    std::fprintf(stderr, "\r[%s] %3d%% %7.1f MB", bar, pct, static_cast<double>(done) / 1e6);
    std::fflush(stderr);
  }
  void Done() {
    if (drawn_) std::fprintf(stderr, "\r%70s\r", "");
    drawn_ = false;
  }

 private:
  static constexpr uint64_t kMinBytes = 4 << 20;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace aquasense::cli
