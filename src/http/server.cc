// The Server's listener, threads, sweep and drain (server.h). One client
// connection is in connection.cc; the shared internals in server_internal.h.
#include "http/server.h"

#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <csignal>
#include <exception>

#include "common/crypto.h"
#include "http/json_text.h"
#include "http/server_internal.h"

namespace aquasense::http {

namespace {

// Runs an I/O thread's io_context until it is stopped. An exception thrown by
// a completion handler outside any connection's coroutine (each connection
// has its own catch-all) is logged, and the thread goes on serving: Asio
// allows run() to be called again without restart().
void RunIoContext(asio::io_context& ioc) {
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      LogLine(std::string("http: unexpected error on an I/O thread: ") + e.what());
    } catch (...) {
      LogLine("http: unexpected error on an I/O thread");
    }
  }
}

}  // namespace

size_t ConnectionCap(size_t requested, uint64_t open_file_limit) {
  const uint64_t reserve = std::max<uint64_t>(kReservedFiles, open_file_limit / 4);
  const uint64_t room = open_file_limit > reserve ? open_file_limit - reserve : 1;
  return static_cast<size_t>(std::max<uint64_t>(1, std::min<uint64_t>(requested, room)));
}

bool TokenMatches(std::string_view presented, std::string_view expected) {
  // Comparing digests takes the same time whatever the presented length.
  return ConstantTimeEquals(Sha256(presented), Sha256(expected));
}

Status ParseListen(const std::string& s, std::string& host, uint16_t& port) {
  size_t colon = s.rfind(':');
  if (colon == std::string::npos) {
    return InvalidArgument("--listen must be HOST:PORT (e.g. 127.0.0.1:8080), got '" + s + "'");
  }
  std::string h = s.substr(0, colon);
  std::string p = s.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  unsigned v = 0;
  auto r = std::from_chars(p.data(), p.data() + p.size(), v);
  if (p.empty() || r.ec != std::errc() || r.ptr != p.data() + p.size() || v > 65535) {
    return InvalidArgument("--listen has a bad port in '" + s + "' (0 to 65535)");
  }
  host = h.empty() ? "0.0.0.0" : h;
  port = static_cast<uint16_t>(v);
  return Status::Ok();
}

const Snapshot& IoThread::CurrentSnapshot(const SnapshotHolder& holder) {
  uint64_t v = holder.version();
  if (v != snapshot_version || !snapshot) {
    snapshot = holder.Get();
    snapshot_version = v;
  }
  return *snapshot;
}

std::string_view IoThread::Date() {
  std::time_t now = std::time(nullptr);
  if (now != date_secs || date.empty()) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[64];
    size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    date.assign(buf, n);
    date_secs = now;
  }
  return date;
}

void Server::Impl::Reject(tcp::socket& sock) {
  static const std::string kBody =
      ErrorBody("unavailable", "too many open connections; try again later");
  static const std::string kResponse =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: " +
      std::to_string(kBody.size()) + "\r\nConnection: close\r\n\r\n" + kBody;
  boost::system::error_code ec;
  sock.non_blocking(true, ec);
  sock.write_some(asio::buffer(kResponse), ec);
  sock.shutdown(tcp::socket::shutdown_both, ec);
  sock.close(ec);
  deps.metrics->ConnectionRejected();
}

asio::awaitable<void> Server::Impl::Accept() {
  for (;;) {
    IoThread& t = *threads[next_thread++ % threads.size()];
    tcp::socket sock(t.ioc);
    auto [ec] = co_await acceptor->async_accept(sock, kTuple);
    if (draining.load()) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      // e.g. out of file descriptors: back off instead of spinning, and log
      // one line per 10 s, not one per attempt.
      if (auto line =
              accept_errors.Next("http: accept failed: " + ec.message(), SteadyClock::now())) {
        LogLine(*line);
      }
      asio::steady_timer pause(threads[0]->ioc, std::chrono::milliseconds(50));
      co_await pause.async_wait(kTuple);
      continue;
    }
    if (static_cast<size_t>(active.load()) >= opt.max_connections) {
      Reject(sock);
      continue;
    }
    active.fetch_add(1, std::memory_order_acq_rel);
    auto tls_ctx = deps.tls != nullptr ? deps.tls->Current() : nullptr;
    asio::co_spawn(t.ioc, RunConn(*this, t, std::move(sock), std::move(tls_ctx)), asio::detached);
  }
}

asio::awaitable<void> Server::Impl::Sweep(IoThread& t) {
  for (;;) {
    t.sweep.expires_after(sweep_period);
    auto [ec] = co_await t.sweep.async_wait(kTuple);
    if (ec) co_return;
    const auto now = SteadyClock::now();
    for (Conn* c : t.conns) {
      if (now >= c->deadline && c->stream.socket().is_open()) {
        if (c->phase != Conn::Phase::kIdle && c->phase != Conn::Phase::kLinger) {
          deps.metrics->Timeout();
        }
        c->Close();
      }
    }
  }
}

// Signals start the drain; later ones while draining are only noted (the
// process must still finish its requests and the running ingest batch).
void Server::Impl::WaitSignal() {
  signals->async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (draining.load()) LogLine("already shutting down");
    BeginDrain();
    WaitSignal();
  });
}

// SIGHUP reloads the TLS files; new connections get the new context, and a
// failed reload keeps the current one (both logged).
void Server::Impl::WaitReload() {
  reload_signal->async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (Status st = deps.tls->Reload(); !st.ok()) {
      LogLine("SIGHUP: TLS reload failed: " + st.message());
    } else {
      LogLine("SIGHUP: TLS reloaded for new connections: " +
              DescribeCertificate(*deps.tls->Current()));
    }
    WaitReload();
  });
}

void Server::Impl::BeginDrain() {
  if (draining.exchange(true)) return;
  LogLine("shutting down: finishing in-flight requests");
  if (opt.on_shutdown) opt.on_shutdown();
  boost::system::error_code ec;
  if (acceptor) acceptor->close(ec);
  for (auto& t : threads) {
    asio::post(t->ioc, [tp = t.get()] {
      for (Conn* c : tp->conns) {
        if (c->phase == Conn::Phase::kIdle) c->Close();
      }
    });
  }
  asio::co_spawn(threads[0]->ioc, WatchDrain(SteadyClock::now() + opt.drain_timeout),
                 asio::detached);
}

asio::awaitable<void> Server::Impl::WatchDrain(SteadyClock::time_point deadline) {
  drain_timer.emplace(threads[0]->ioc);
  while (active.load(std::memory_order_acquire) > 0 && SteadyClock::now() < deadline) {
    drain_timer->expires_after(std::chrono::milliseconds(10));
    co_await drain_timer->async_wait(kTuple);
  }
  if (active.load() > 0) {
    LogLine("drain timeout: closing " + std::to_string(active.load()) + " connection(s)");
  }
  StopAll();
}

void Server::Impl::StopAll() {
  for (auto& t : threads) t->ioc.stop();
}

Server::Server(ServerOptions options, ServerDeps deps)
    : impl_(std::make_unique<Impl>(std::move(options), deps)) {
  int n = std::max(1, impl_->opt.threads);
  for (int i = 0; i < n; ++i) impl_->threads.push_back(std::make_unique<IoThread>(i));
  auto shortest = std::min({impl_->opt.header_timeout, impl_->opt.idle_timeout,
                            impl_->opt.body_timeout, impl_->opt.write_timeout});
  impl_->sweep_period = std::clamp<SteadyClock::duration>(
      shortest / 8, std::chrono::milliseconds(10), std::chrono::milliseconds(250));
}

Server::~Server() {
  for (auto& t : impl_->threads) {
    t->ioc.stop();
    if (t->thread.joinable()) t->thread.join();
  }
}

Status Server::Listen() {
  Impl& s = *impl_;
  if (s.opt.header_limit < kMinHeaderLimit || s.opt.header_limit > kMaxHeaderLimit) {
    return InvalidArgument("the header limit must be from " + std::to_string(kMinHeaderLimit) +
                           " to " + std::to_string(kMaxHeaderLimit) + " bytes");
  }
  boost::system::error_code ec;
  asio::io_context& ioc = s.threads[0]->ioc;
  tcp::resolver resolver(ioc);
  auto results = resolver.resolve(s.opt.host, std::to_string(s.opt.port),
                                  tcp::resolver::numeric_service | tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    return InvalidArgument("cannot resolve the listen address " + s.opt.host + ": " + ec.message());
  }
  tcp::endpoint ep = results.begin()->endpoint();
  s.acceptor.emplace(ioc);
  s.acceptor->open(ep.protocol(), ec);
  if (!ec) s.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor->bind(ep, ec);
  if (!ec) s.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::string where = ep.address().to_string() + ":" + std::to_string(ep.port());
    s.acceptor.reset();
    return Unavailable("cannot listen on " + where + ": " + ec.message());
  }
  // Connections beyond what the descriptors allow would make accept() fail
  // (no answer at all); below the cap they get the documented 503.
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    const size_t cap = ConnectionCap(s.opt.max_connections, rl.rlim_cur);
    if (cap < s.opt.max_connections) {
      LogLine("http: at most " + std::to_string(cap) + " connections (not " +
              std::to_string(s.opt.max_connections) + "): the open-file limit is " +
              std::to_string(rl.rlim_cur));
      s.opt.max_connections = cap;
    }
  }
  // SIGHUP is caught from here on (its default would end the process).
  if (s.deps.tls != nullptr && s.opt.handle_signals) s.reload_signal.emplace(ioc, SIGHUP);
  return Status::Ok();
}

uint16_t Server::port() const {
  boost::system::error_code ec;
  if (!impl_->acceptor) return 0;
  auto ep = impl_->acceptor->local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void Server::Shutdown() {
  Impl* s = impl_.get();
  asio::post(s->threads[0]->ioc, [s] { s->BeginDrain(); });
}

void Server::Run() {
  Impl& s = *impl_;
  if (!s.acceptor) return;
  if (s.opt.handle_signals) {
    s.signals.emplace(s.threads[0]->ioc, SIGINT, SIGTERM);
    s.WaitSignal();
  }
  if (s.reload_signal) s.WaitReload();
  for (auto& t : s.threads) asio::co_spawn(t->ioc, s.Sweep(*t), asio::detached);
  asio::co_spawn(s.threads[0]->ioc, s.Accept(), asio::detached);
  for (size_t i = 1; i < s.threads.size(); ++i) {
    IoThread* t = s.threads[i].get();
    t->thread = std::jthread([t] { RunIoContext(t->ioc); });
  }
  RunIoContext(s.threads[0]->ioc);
  for (size_t i = 1; i < s.threads.size(); ++i) {
    if (s.threads[i]->thread.joinable()) s.threads[i]->thread.join();
  }
  if (s.opt.handle_signals) {
    // The caller still finishes the running ingest batch: a repeated SIGTERM
    // must not kill the process half way (the signal_set's handler is gone
    // once it is destroyed, and destroying it restores the default action).
    s.signals.reset();
    s.reload_signal.reset();
    std::signal(SIGTERM, SIG_IGN);
    std::signal(SIGINT, SIG_IGN);
    if (s.deps.tls != nullptr) std::signal(SIGHUP, SIG_IGN);
  }
}

}  // namespace aquasense::http
