// InboxWatcher: `serve --watch`. Ingests every file dropped into DIR/inbox/,
// like the original's S3 upload trigger (SPEC §7; docs/http.md, `--watch`).
//
//   InboxWatcher w(data_dir / "inbox", &pipeline, &worker, {});
//   w.Start();   ...   w.Stop();   // Stop() lets a running batch finish
//
// Layout: inbox/FILE belongs to sensor `default`, inbox/SENSOR/FILE to SENSOR
// (a folder whose name is not a valid sensor id is skipped with a warning;
// deeper folders are ignored). Names starting with '.' or ending in ".part"
// are ignored: a writer creates `.name.part` and renames it into place.
//
// Contracts:
// - Nothing outside the inbox is read or deleted. Symlinks (to files or
//   folders) are never followed and never deleted: each is skipped with one
//   warning. Files are opened with O_NOFOLLOW and must be regular files (fstat);
//   a file with more than one hard link is skipped too. The inbox folder itself
//   must not be a symlink (Start() refuses it).
// - A file is taken once its identity, size and mtime have not changed for
//   `settle` (and over two scans at least). Its bytes are staged into landing/;
//   the files of one sensor found in one scan are ingested as one batch (on the
//   IngestWorker).
// - A file leaves the inbox only after its batch committed, and only if it is
//   still the file that was read (same dev+ino, size and mtime). A file that
//   changed or was replaced stays and is taken again, as new bytes, once it
//   settles. After a crash in between, the same bytes are ingested again on
//   restart (a no-op) and the file is then removed.
// - A warning about one inbox entry is logged once, not at every scan (again
//   only if the entry went away and came back).
// - An exception thrown during a scan is logged and the watcher keeps polling.
// Thread-safety: Start/Stop from one thread; RequestStop from any thread; the
// scan runs on the watcher's own thread (or the caller's, for ScanOnce).
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "http/ingest_worker.h"
#include "pipeline/pipeline.h"

namespace aquasense::http {

struct WatchOptions {
  // Poll period of the scan (`--watch-interval`).
  std::chrono::milliseconds interval{250};
  // How long a file's size and mtime must stay unchanged before it is taken
  // (`--watch-settle`). It is always seen by two scans first.
  std::chrono::milliseconds settle{2000};
  // Tests only: runs after a sensor's files were read, before their batch.
  std::function<void()> after_stage;
};

class InboxWatcher {
 public:
  InboxWatcher(std::filesystem::path inbox, pipeline::Pipeline* pipeline, IngestWorker* worker,
               WatchOptions options);
  ~InboxWatcher();  // Stop()

  // Creates the inbox folder and starts polling. Errors: kUnavailable when
  // the folder cannot be created, kFailedPrecondition when it is a symlink.
  Status Start();
  // Stops polling; a batch in progress finishes first.
  void Stop();
  // Asks the watcher to stop after the current batch, without waiting.
  void RequestStop();
  // One scan; returns the number of files taken out of the inbox (for tests).
  // May throw what the pipeline throws; the polling thread catches it.
  int ScanOnce();

 private:
  struct Stamp {  // a file's identity and state, from lstat/fstat
    uint64_t dev = 0;
    uint64_t ino = 0;
    int64_t size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const Stamp&) const = default;
  };
  struct Seen {
    Stamp stamp;
    std::chrono::steady_clock::time_point since;  // unchanged since then
    bool ingested = false;                        // ingested, but could not be removed
  };
  struct Candidate {
    std::string folder;  // "" for the inbox itself, else the sensor folder
    std::string name;    // file name inside it
    std::string sensor;
    Stamp stamp;  // as observed; Stage() checks the bytes read match it
  };
  class Fd;

  static Stamp StampOf(const struct stat& st);

  void Loop(std::stop_token stop);
  void ScanGuarded();
  Result<Fd> OpenFolder(const std::string& folder) const;
  void ListFolder(const Fd& dir, const std::string& folder, std::vector<Candidate>& ready);
  void Observe(const std::string& folder, const std::string& name, const struct stat& st,
               std::vector<Candidate>& ready);
  int IngestSensor(const std::string& sensor, const std::vector<Candidate>& cands);
  Result<pipeline::StagedFile> Stage(const Candidate& c);
  bool RemoveIfUnchanged(const Candidate& c);
  void Warn(const std::string& key, const std::string& message);

  std::filesystem::path inbox_;
  pipeline::Pipeline* pipeline_;
  IngestWorker* worker_;
  WatchOptions options_;
  // Scan state, used by the scanning thread only.
  std::chrono::steady_clock::time_point now_;
  std::map<std::string, Seen> seen_;  // "folder/name" -> last observation
  std::map<std::string, Seen> next_;  // being built by the current scan
  std::set<std::string> warned_;      // warnings given (kept while still true)
  std::set<std::string> warned_next_;

  std::stop_source stop_;
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::jthread thread_;
};

}  // namespace aquasense::http
