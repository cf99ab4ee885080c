// Internals of the Server (server.h), shared by server.cc (listener, sweep,
// drain, threads) and connection.cc (one client connection). Not a public
// interface: nothing outside those two files includes it.
//
// Ownership: Server::Impl owns the IoThreads; each IoThread owns its
// io_context, whose coroutine frames own the Conns (a Conn registers itself
// in its thread's `conns` list for the sweep and the drain).
// Thread-safety: an IoThread and its Conns are touched only from that
// thread's io_context (the drain posts to it); Impl's atomics are shared.
// TLS: a Conn reads and writes through a ConnStream, plain TCP or TLS over
// it (--tls-cert); everything above the stream is the same code for both.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <variant>
#include <vector>

#include "http/handlers.h"
#include "http/log.h"
#include "http/query.h"
#include "http/request_parser.h"
#include "http/server.h"
#include "http/tls.h"

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
  LogThrottle tls_errors{std::chrono::seconds(10)};  // failed TLS handshakes

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
  std::optional<asio::signal_set> reload_signal;  // SIGHUP, with TLS: Listen() to Run()
  std::optional<asio::steady_timer> drain_timer;

  void BeginDrain();
  void WaitSignal();
  void WaitReload();
  void StopAll();
  asio::awaitable<void> Accept();
  asio::awaitable<void> Sweep(IoThread& t);
  asio::awaitable<void> WatchDrain(SteadyClock::time_point deadline);
  void Reject(tcp::socket& s);
};

// The byte stream of a connection: plain TCP, or TLS over TCP. Each
// operation forwards to the one or the other; both complete with the same
// (error_code, bytes) tuple, so the Conn awaits them the same way.
class ConnStream {
 public:
  using Plain = tcp::socket;
  using Tls = beast::ssl_stream<tcp::socket>;
  using IoResult = asio::awaitable<std::tuple<boost::system::error_code, size_t>>;

  explicit ConnStream(tcp::socket s) : v_(std::in_place_type<Plain>, std::move(s)) {}
  ConnStream(tcp::socket s, asio::ssl::context& ctx)
      : v_(std::in_place_type<Tls>, std::move(s), ctx) {}

  tcp::socket& socket() {
    if (Tls* t = tls()) return beast::get_lowest_layer(*t);
    return std::get<Plain>(v_);
  }
  Tls* tls() { return std::get_if<Tls>(&v_); }
  // Goes on in plain TCP over the same socket (to refuse a plain request on
  // the TLS port); nothing was read through TLS yet.
  void DropTls() {
    if (Tls* t = tls()) {
      tcp::socket raw = std::move(beast::get_lowest_layer(*t));
      v_.emplace<Plain>(std::move(raw));
    }
  }

  template <typename MutableBuffers>
  IoResult ReadSome(const MutableBuffers& b) {
    if (Tls* t = tls()) return t->async_read_some(b, kTuple);
    return std::get<Plain>(v_).async_read_some(b, kTuple);
  }
  template <typename ConstBuffers>
  IoResult WriteAll(const ConstBuffers& b) {
    if (Tls* t = tls()) return asio::async_write(*t, b, kTuple);
    return asio::async_write(std::get<Plain>(v_), b, kTuple);
  }
  template <typename Parser>
  IoResult ReadHttp(beast::flat_buffer& buffer, Parser& parser) {
    if (Tls* t = tls()) return bhttp::async_read_some(*t, buffer, parser, kTuple);
    return bhttp::async_read_some(std::get<Plain>(v_), buffer, parser, kTuple);
  }

 private:
  std::variant<Plain, Tls> v_;
};

// One client connection: a coroutine serving requests one after another.
struct Conn {
  enum class Phase : uint8_t { kIdle, kHeader, kBody, kHandling, kWriting, kLinger };

  Conn(Server::Impl& server, IoThread& thread, ConnStream stream);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  void SetDeadline(std::chrono::milliseconds d) { deadline = SteadyClock::now() + d; }
  void Close() {
    boost::system::error_code ec;
    stream.socket().close(ec);
  }

  // TLS: refuses a plain HTTP request with a 400, else does the handshake.
  // True once the connection speaks TLS.
  asio::awaitable<bool> StartTls();
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
  asio::awaitable<void> FinishTls(bool unread_input);
  asio::awaitable<void> RefusePlainHttp();
  asio::awaitable<void> Linger();
  Response Dispatch(const RouteMatch& m, std::string_view method, std::string_view path,
                    std::string_view query);
  void Log(std::string_view method, std::string_view target, Route route, int status,
           uint64_t bytes, double seconds);

  Server::Impl& s;
  IoThread& t;
  ConnStream stream;
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
// `tls`: the context of a TLS connection (kept alive by it), null for plain.
asio::awaitable<void> RunConn(Server::Impl& s, IoThread& t, tcp::socket sock,
                              std::shared_ptr<asio::ssl::context> tls);

}  // namespace aquasense::http
