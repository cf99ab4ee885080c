// Internals of the Server (server.h), shared by server.cc (listener, sweep,
// drain, threads) and connection.cc (one client connection). Not a public
// interface: nothing outside those two files includes it.
//
// Ownership: Server::Impl owns the IoThreads; each IoThread owns its
// io_context, whose coroutine frames own the Conns (a Conn registers itself
// in its thread's `conns` list for the sweep and the drain).
// Thread-safety: an IoThread and its Conns are touched only from that
// thread's io_context (the drain posts to it); Impl's atomics are shared.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http/handlers.h"
#include "http/log.h"
#include "http/query.h"
#include "http/request_parser.h"
#include "http/server.h"

namespace aquasense::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

inline constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

struct Conn;

struct IoThread {
  explicit IoThread(int i) : index(i) {}
  int index;
  std::list<Conn*> conns;  // before ioc: outlives the coroutine frames ioc destroys
  asio::io_context ioc{1};
  asio::steady_timer sweep{ioc};
  std::jthread thread;  // after ioc: joined before ioc is destroyed
  std::shared_ptr<const Snapshot> snapshot;
  uint64_t snapshot_version = ~uint64_t{0};
  std::time_t date_secs = 0;
  std::string date;

  const Snapshot& CurrentSnapshot(const SnapshotHolder& holder);
  std::string_view Date();  // the Date header's value, cached per second
};

struct Server::Impl {
  Impl(ServerOptions o, ServerDeps d) : opt(std::move(o)), deps(d) {}

  ServerOptions opt;
  ServerDeps deps;
  std::atomic<bool> draining{false};
  std::atomic<int64_t> active{0};
  size_t next_thread = 0;
  SteadyClock::duration sweep_period{};
  LogThrottle accept_errors{std::chrono::seconds(10)};  // used by Accept() only
  std::vector<std::unique_ptr<IoThread>> threads;
  // Bound to threads[0]->ioc; declared after `threads` so they go first.
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::signal_set> signals;
  std::optional<asio::steady_timer> drain_timer;

  void BeginDrain();
  void WaitSignal();
  void StopAll();
  asio::awaitable<void> Accept();
  asio::awaitable<void> Sweep(IoThread& t);
  asio::awaitable<void> WatchDrain(SteadyClock::time_point deadline);
  void Reject(tcp::socket& s);
};

// One client connection: a coroutine serving requests one after another.
struct Conn {
  enum class Phase : uint8_t { kIdle, kHeader, kBody, kHandling, kWriting, kLinger };

  Conn(Server::Impl& server, IoThread& thread, tcp::socket sock);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  void SetDeadline(std::chrono::milliseconds d) { deadline = SteadyClock::now() + d; }
  void Close() {
    boost::system::error_code ec;
    socket.close(ec);
  }

  asio::awaitable<void> Serve();
  asio::awaitable<beast::error_code> ReadHeader();
  asio::awaitable<bool> Answer();
  asio::awaitable<std::optional<Response>> Handle(const RouteMatch& match, const Target& target,
                                                  std::string_view method, bool& close);
  asio::awaitable<std::optional<Response>> HandleUpload(std::string_view query, bool& close);
  asio::awaitable<bool> WriteChunks(const Response& r, bool chunked);
  asio::awaitable<bool> ReceiveBody(pipeline::LandingWriter& writer, std::optional<Response>& error,
                                    bool& close);
  asio::awaitable<int> DiscardBody();
  asio::awaitable<bool> Write(const Response& r, bool head_only, bool close);
  asio::awaitable<void> Finish(bool unread_input);
  Response Dispatch(const RouteMatch& m, std::string_view method, std::string_view path,
                    std::string_view query);
  void Log(std::string_view method, std::string_view target, Route route, int status,
           uint64_t bytes, double seconds);

  Server::Impl& s;
  IoThread& t;
  tcp::socket socket;
  beast::flat_buffer buffer;
  std::optional<RequestParser> parser;
  std::string head;
  std::string remote;
  Phase phase = Phase::kIdle;
  SteadyClock::time_point deadline = SteadyClock::time_point::max();
  std::list<Conn*>::iterator pos;
};

// The coroutine of one accepted connection. Nothing escapes it: an exception
// is logged and the connection closed.
asio::awaitable<void> RunConn(Server::Impl& s, IoThread& t, tcp::socket sock);

}  // namespace aquasense::http
