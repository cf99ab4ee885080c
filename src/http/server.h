// Server: the HTTP/1.1 front of AquaSense (SPEC §8), Boost.Beast on Asio.
//
//   Server server(options, {&snapshots, &metrics, &worker, &pipeline, log, &clock});
//   AQ_RETURN_IF_ERROR(server.Listen());       // binds; port() is known from here
//   server.Run();                              // until SIGTERM/SIGINT or Shutdown()
//
// Shape: `threads` I/O threads, each with its own io_context; one acceptor
// hands connections out round-robin. A connection is a C++20 coroutine:
// wait for a request (idle timeout), read its header (header timeout, header
// size limit), answer, repeat (keep-alive). Read handlers are pure functions
// over the current immutable Snapshot (handlers.h), so they never wait on
// SQLite or on an ingest. Deadlines are enforced by one sweep timer per
// thread (no timer per operation): a connection past its deadline is closed.
// Uploads (POST /v1/ingest) are checked (token in constant time, size limit ->
// 413 before the body is read), streamed chunk by chunk into landing/, then
// ingested on the IngestWorker; the response is sent once the batch is
// committed and visible to reads.
// Hostile input (docs/http.md, "Limits"): no request ends the process; an
// exception in a connection closes that connection only.
// Shutdown (SIGTERM, SIGINT or Shutdown()): stop accepting, close idle
// connections, let in-flight requests finish (up to drain_timeout), return.
// TLS (ServerDeps::tls): the same server over TLS; a plain HTTP request on the
// port gets a 400 and is closed; SIGHUP reloads the certificate and key.
// Thread-safety: Listen/Run from one thread; Shutdown() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "http/access_log.h"
#include "http/ingest_worker.h"
#include "http/metrics.h"
#include "http/snapshot.h"
#include "pipeline/pipeline.h"

namespace aquasense::http {

class TlsContexts;

// Bounds of ServerOptions::header_limit. Boost.Beast stores a header field in
// at most 65,535 bytes (and throws beyond), so a larger limit would promise
// fields it cannot hold; Listen() refuses a limit outside these bounds.
inline constexpr uint32_t kMinHeaderLimit = 1024;
inline constexpr uint32_t kMaxHeaderLimit = 64 * 1024;

// Descriptors kept out of the connection budget (store, logs, uploads'
// landing files, the accept of a connection that is refused with 503).
inline constexpr uint64_t kReservedFiles = 32;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;               // 0: any free port (see Server::port())
  int threads = 2;                    // I/O threads
  size_t max_connections = 10000;     // beyond: 503 and close (see ConnectionCap)
  uint32_t header_limit = 16 * 1024;  // request line + all header fields, bytes (431 beyond);
                                      // each chunked trailer section has the same limit
  std::chrono::milliseconds header_timeout{10'000};  // first byte -> complete header
  std::chrono::milliseconds idle_timeout{30'000};    // keep-alive wait for the next request
  std::chrono::milliseconds body_timeout{30'000};    // longest pause while reading a body
  std::chrono::milliseconds write_timeout{30'000};   // to write one response
  std::chrono::milliseconds drain_timeout{20'000};   // shutdown: wait for in-flight requests
  uint64_t max_upload = 256ull << 20;                // bytes; 413 beyond
  std::optional<std::string> token;                  // uploads are off without a token
  bool auth_reads = false;                           // reads (except /health) need the token too
  bool handle_signals = true;                        // SIGTERM/SIGINT start a graceful shutdown
  std::function<void()> on_shutdown;                 // called once when the shutdown starts
  // When set, every response carries Access-Control-Allow-Origin: this value,
  // and OPTIONS on a read route answers a CORS preflight (204). Off by default.
  std::string cors_origin;
};

struct ServerDeps {
  SnapshotHolder* snapshots = nullptr;
  ServerMetrics* metrics = nullptr;  // needs at least `threads` shards
  IngestWorker* worker = nullptr;    // null: uploads answer 503
  pipeline::Pipeline* pipeline = nullptr;
  AccessLog* access_log = nullptr;  // null: off
  const Clock* clock = nullptr;
  // Body of GET /v1/alerts for the newest `limit` alerts (null: 404). Reads the
  // store's outbox (a short read, off the snapshot: alerts change without a
  // new generation when they are delivered).
  std::function<Result<std::string>(size_t limit)> alerts;
  // Reading blocks for GET /v1/sensors/{id}/readings (null: 404), and
  // filtered/ for GET /v1/files/{sha}/invalid (null: 404).
  storage::MetaStore* meta = nullptr;
  storage::ObjectStore* objects = nullptr;
  // TLS (tls.h): every connection speaks TLS with tls->Current() as it is
  // accepted, and SIGHUP (with handle_signals) reloads the files. Null: plain HTTP.
  TlsContexts* tls = nullptr;
};

class Server {
 public:
  Server(ServerOptions options, ServerDeps deps);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Resolves and binds the listening socket, and caps max_connections by the
  // open-file limit (ConnectionCap, logged when it applies). Errors:
  // kInvalidArgument (bad host, header_limit out of bounds), kUnavailable
  // (cannot bind).
  Status Listen();
  uint16_t port() const;
  // Serves until shut down and drained.
  void Run();
  // Starts the graceful shutdown; safe from any thread (and a signal handler's thread).
  void Shutdown();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Parses "HOST:PORT", "[V6]:PORT" or ":PORT" (all interfaces).
Status ParseListen(const std::string& s, std::string& host, uint16_t& port);

// Constant-time comparison of a presented token with the configured one: the
// SHA-256 digests of both are compared with Nettle's nettle_memeql_sec, so the
// time depends on neither the content nor the length of either.
bool TokenMatches(std::string_view presented, std::string_view expected);

// The connection limit actually applied: `requested`, but at most the
// open-file limit less a reserve of max(kReservedFiles, a quarter of it), and
// at least 1.
size_t ConnectionCap(size_t requested, uint64_t open_file_limit);

}  // namespace aquasense::http
