// aq_scaling_bench: do concurrent ingesters scale when the store is remote?
// (issue 13 §1 "Must show": 3 workers ingest 30 files of 30 sensors in at
// most 0.45x the time of 1.)
//
// The stores are the in-memory backends behind the fault-injecting wrapper
// set to add a fixed latency to every call (20 ms by default, a network
// store's round trip without its limits). Each worker is a thread with its
// own Pipeline (a process stand-in) taking the next file from a shared list;
// files of different sensors commit in parallel under the per-sensor
// contract (storage/meta_store.h). Prints the wall time of each worker count,
// the ratio, the store calls, and checks that every run ends with the same
// metrics.
//   aq_scaling_bench [--files 30] [--rows 200] [--delay-ms 20] [--workers 1,3]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "core/metrics_format.h"
#include "pipeline/pipeline.h"
#include "storage/fault_injection.h"
#include "storage/memory_meta_store.h"
#include "storage/memory_object_store.h"

namespace {

using aquasense::SystemClock;
namespace storage = aquasense::storage;
namespace pipeline = aquasense::pipeline;

struct Args {
  int files = 30;
  int rows = 200;
  int delay_ms = 20;
  std::vector<int> workers = {1, 3};
};

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--files")
      a.files = std::atoi(v.c_str());
    else if (k == "--rows")
      a.rows = std::atoi(v.c_str());
    else if (k == "--delay-ms")
      a.delay_ms = std::atoi(v.c_str());
    else if (k == "--workers") {
      a.workers.clear();
      for (size_t p = 0; p < v.size();) {
        const size_t comma = v.find(',', p);
        a.workers.push_back(std::atoi(v.substr(p, comma - p).c_str()));
        p = comma == std::string::npos ? v.size() : comma + 1;
      }
    }
  }
  return a;
}

// File i: `rows` daily readings of sensor "s<i>" (one sensor per file).
std::vector<std::string> WriteFiles(const std::string& dir, const Args& a) {
  std::vector<std::string> paths;
  for (int i = 0; i < a.files; ++i) {
    paths.push_back(dir + "/f" + std::to_string(i) + ".csv");
    std::ofstream out(paths.back());
    out << "sensor,date,temperature,sd\n";
    for (int r = 0; r < a.rows; ++r) {
      const int y = 2020 + r / 336, m = 1 + (r / 28) % 12, d = 1 + r % 28;
      char line[96];
      std::snprintf(line, sizeof line, "s%02d,%04d-%02d-%02d,%.1f,0.%d\n", i, y, m, d,
                    10 + (r * 7 + i) % 150 / 10.0, 1 + r % 4);
      out << line;
    }
  }
  return paths;
}

struct RunResult {
  double seconds = 0;
  int64_t calls = 0;
  int64_t aborted = 0;
  int failed = 0;
  std::string metrics;
};

RunResult Run(const std::vector<std::string>& paths, int workers, const Args& a) {
  SystemClock clock;
  auto meta = storage::NewMemoryMetaStore(&clock);
  auto objects = storage::NewMemoryObjectStore(&clock);
  storage::FaultInjector latency;
  latency.SetDelay(std::chrono::milliseconds(a.delay_ms));
  auto rmeta = storage::WrapMetaStore(*meta, latency);
  auto robjects = storage::WrapObjectStore(*objects, latency);
  std::atomic<size_t> next{0};
  std::atomic<int> failed{0};
  const auto t0 = std::chrono::steady_clock::now();
  {
    std::vector<std::jthread> threads;
    for (int w = 0; w < workers; ++w) {
      threads.emplace_back([&] {
        pipeline::Options o;
        o.alert_channels = {"log"};
        pipeline::Pipeline p(pipeline::Env{robjects.get(), rmeta.get(), &clock}, o);
        for (size_t i = next++; i < paths.size(); i = next++) {
          auto s = p.IngestPaths({paths[i]}, pipeline::IngestRequest{});
          if (!s.ok() || s->files != 1) {
            std::fprintf(stderr, "file %zu: %s\n", i,
                         s.ok() ? "not ingested" : s.status().ToString().c_str());
            failed++;
          }
        }
      });
    }
  }
  RunResult r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.calls = latency.calls();
  r.aborted = latency.aborted();
  r.failed = failed;
  r.metrics = aquasense::core::MetricsCsv(*meta->ListMetrics({}));
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = Parse(argc, argv);
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("aq-scaling-" + std::to_string(::getpid())))
          .string();
  std::filesystem::create_directories(dir);
  const auto paths = WriteFiles(dir, a);
  std::printf("%d files x %d rows, one sensor each; %d ms per store call\n", a.files, a.rows,
              a.delay_ms);
  std::vector<RunResult> results;
  for (int w : a.workers) {
    results.push_back(Run(paths, w, a));
    const RunResult& r = results.back();
    std::printf("workers %d: %.3f s, %lld store calls (%.1f per file), %lld conflicts, %d failed\n",
                w, r.seconds, static_cast<long long>(r.calls),
                static_cast<double>(r.calls) / a.files, static_cast<long long>(r.aborted),
                r.failed);
  }
  std::filesystem::remove_all(dir);
  int rc = 0;
  for (size_t i = 1; i < results.size(); ++i) {
    std::printf("workers %d / workers %d: %.3f\n", a.workers[i], a.workers[0],
                results[i].seconds / results[0].seconds);
    if (results[i].metrics != results[0].metrics) {
      std::printf("MISMATCH: metrics of %d workers differ from %d\n", a.workers[i], a.workers[0]);
      rc = 1;
    }
  }
  for (const RunResult& r : results) rc |= r.failed > 0;
  return rc;
}
