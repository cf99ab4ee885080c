// InboxWatcher: `serve --watch`. Ingests every file dropped into DIR/inbox/,
// like the original's S3 upload trigger (SPEC §7).
//
//   InboxWatcher w(data_dir / "inbox", &pipeline, &worker, {});
//   w.Start();   ...   w.Stop();   // Stop() lets a running batch finish
//
// Layout: inbox/FILE belongs to sensor `default`, inbox/SENSOR/FILE to SENSOR
// (a folder whose name is not a valid sensor id is skipped with a warning).
// Names starting with '.' are ignored, so a writer can create `.name.tmp` and
// rename it into place. A file is taken once its size and mtime have not
// changed for one poll interval; its bytes are staged into landing/, the files
// of one sensor found in one scan are ingested as one batch (on the
// IngestWorker), and only after that batch committed is the file deleted from
// the inbox. After a crash in between, the file is ingested again on restart,
// which is a no-op (same bytes), and then deleted. Thread-safety: Start/Stop
// from one thread; the scan runs on the watcher's own thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "http/ingest_worker.h"
#include "pipeline/pipeline.h"

namespace aquasense::http {

struct WatchOptions {
  std::chrono::milliseconds interval{250};  // poll period; also the settle time
};

class InboxWatcher {
 public:
  InboxWatcher(std::filesystem::path inbox, pipeline::Pipeline* pipeline, IngestWorker* worker,
               WatchOptions options);
  ~InboxWatcher();  // Stop()

  // Creates the inbox folder and starts polling.
  Status Start();
  // Stops polling; a batch in progress finishes first.
  void Stop();
  // Asks the watcher to stop after the current scan, without waiting.
  void RequestStop();
  // One scan; returns the number of files taken out of the inbox (for tests).
  int ScanOnce();

 private:
  struct Seen {
    uintmax_t size = 0;
    std::filesystem::file_time_type mtime;
    std::chrono::steady_clock::time_point since;
    bool ingested = false;  // ingested, but could not be removed
  };
  struct Candidate {
    std::filesystem::path path;
    std::string sensor;
    Seen seen;
  };
  void Loop();
  void Observe(const std::filesystem::path& p, const std::string& sensor,
               std::chrono::steady_clock::time_point now, std::map<std::string, Seen>& next,
               std::vector<Candidate>& ready);
  Result<pipeline::StagedFile> Stage(const Candidate& c);
  void WarnOnce(const std::string& key, const std::string& message);

  std::filesystem::path inbox_;
  pipeline::Pipeline* pipeline_;
  IngestWorker* worker_;
  WatchOptions options_;
  std::map<std::string, Seen> seen_;  // path -> last observation
  std::set<std::string> warned_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace aquasense::http
