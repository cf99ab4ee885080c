// The ends of a connection (server_internal.h): the TLS start (refuse plain
// HTTP, handshake) and the close (half-close and linger; TLS: close_notify
// first). Everything between is connection.cc, the same code for both.
#include <exception>

#include "http/json_text.h"
#include "http/server_internal.h"

// GCC 12's false positive on asio's coroutine frames (see connection.cc).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace aquasense::http {

namespace {

// The first byte of a TLS connection: a handshake record (RFC 8446 §5.1).
constexpr unsigned char kTlsHandshakeRecord = 0x16;
// How long close_notify and the peer's answer to it may take.
constexpr auto kCloseNotifyTime = std::chrono::seconds(2);
// After a half-close: how long and how much input is drained at most.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kLingerBytes = 1 << 20;

}  // namespace

// The header timeout bounds the wait for the first byte and the handshake (a
// stalled handshake is a slow request header). Failures are logged at most one
// line per 10 s per I/O thread.
asio::awaitable<bool> Conn::StartTls() {
  phase = Phase::kHeader;
  SetDeadline(s.opt.header_timeout);
  tcp::socket& sock = stream.socket();
  auto [wec] = co_await sock.async_wait(tcp::socket::wait_read, kTuple);
  if (wec) co_return false;
  unsigned char first = 0;
  boost::system::error_code ec;
  const size_t n = sock.receive(asio::buffer(&first, 1), tcp::socket::message_peek, ec);
  if (ec || n == 0) co_return false;  // closed or reset before the first byte
  if (first != kTlsHandshakeRecord) {
    co_await RefusePlainHttp();
    co_return false;
  }
  auto [hec] = co_await stream.tls()->async_handshake(asio::ssl::stream_base::server, kTuple);
  if (hec) {
    const bool timed_out = !sock.is_open();
    const std::string why = timed_out ? "timed out" : hec.message();
    if (auto line = t.tls_errors.Next("http: TLS handshake failed: " + why, SteadyClock::now())) {
      LogLine(*line);
    }
    Close();
    co_return false;
  }
  co_return true;
}

// A plain HTTP request on the TLS port: a plain 400 that says so, then the
// usual close (half-close, drain what the client still sends, close).
asio::awaitable<void> Conn::RefusePlainHttp() {
  if (auto line =
          t.tls_errors.Next("http: plain HTTP on the TLS port: answered 400", SteadyClock::now())) {
    LogLine(*line);
  }
  stream.DropTls();
  s.deps.metrics->RecordRequest(t.index, Route::kUnknown, 400, 0);
  co_await Write(ErrorResponse(400, "this port speaks TLS: use https://"), false, true);
  co_await Finish(true);
}

// close_notify, then the peer's (or its EOF). When the peer still sends (an
// unread body) the TLS shutdown ends in an error: then half-close the TCP
// connection and drain as for plain HTTP.
asio::awaitable<void> Conn::FinishTls(bool unread_input) {
  phase = Phase::kLinger;
  deadline = SteadyClock::now() + kCloseNotifyTime;
  auto [ec] = co_await stream.tls()->async_shutdown(kTuple);
  if (ec && unread_input && stream.socket().is_open()) {
    boost::system::error_code sec;
    stream.socket().shutdown(tcp::socket::shutdown_send, sec);
    if (!sec) co_await Linger();
  }
  Close();
}

// Closes after a response. When the client may still be sending (an unread
// body), half-close and drain for a moment first, so the kernel does not
// reset the connection and destroy the response before the client reads it.
// TLS: close_notify first (FinishTls).
asio::awaitable<void> Conn::Finish(bool unread_input) {
  if (stream.tls() != nullptr) {
    co_await FinishTls(unread_input);
    co_return;
  }
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (unread_input && !ec) co_await Linger();
  Close();
}

// Reads and drops what the client still sends, for at most kLingerTime and
// kLingerBytes, after this side's half-close.
asio::awaitable<void> Conn::Linger() {
  phase = Phase::kLinger;
  deadline = SteadyClock::now() + kLingerTime;
  size_t total = 0;
  char scratch[4096];
  while (total < kLingerBytes) {
    auto [rec, n] = co_await stream.socket().async_read_some(asio::buffer(scratch), kTuple);
    if (rec) break;
    total += n;
  }
}

}  // namespace aquasense::http
