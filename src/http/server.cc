#include "http/server.h"


#include <algorithm>
#include <array>
#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <csignal>
#include <ctime>
#include <list>
#include <thread>
#include <vector>

#include "common/crypto.h"
#include "http/dashboard_assets.h"
#include "http/handlers.h"
#include "http/json_text.h"
#include "http/log.h"
#include "http/query.h"
#include "http/readings.h"

namespace aquasense::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kReadChunk = 8192;
constexpr size_t kBodyChunk = 64 * 1024;
constexpr size_t kMaxDiscardedBody = 64 * 1024;  // a body sent to a read endpoint
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kLingerBytes = 1 << 20;

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Internal Server Error";
  }
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// 0 when the Authorization header carries the token, else 401 or 403.
int CheckBearer(std::string_view header, const std::string& token) {
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  if (header.size() < 7 || !EqualsIgnoreCase(header.substr(0, 6), "bearer") || header[6] != ' ') {
    return 401;
  }
  std::string_view presented = header.substr(7);
  while (!presented.empty() && presented.front() == ' ') presented.remove_prefix(1);
  while (!presented.empty() && presented.back() == ' ') presented.remove_suffix(1);
  return TokenMatches(presented, token) ? 0 : 403;
}

Response AuthError(int code) {
  if (code == 401) {
    Response r = ErrorResponse(401, "this endpoint needs an Authorization: Bearer <token> header");
    r.www_authenticate = true;
    return r;
  }
  return ErrorResponse(403, "the token is not valid");
}

bool IsParseError(const boost::system::error_code& ec) {
  if (ec.category() != bhttp::make_error_code(bhttp::error::bad_method).category()) return false;
  return ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
}

}  // namespace

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

struct Conn;

struct IoThread {
  explicit IoThread(int i) : index(i) {}
  int index;
  std::list<Conn*> conns;  // before ioc: outlives the coroutine frames ioc destroys
  asio::io_context ioc{1};
  asio::steady_timer sweep{ioc};
  std::thread thread;
  std::shared_ptr<const Snapshot> snapshot;
  uint64_t snapshot_version = ~uint64_t{0};
  std::time_t date_secs = 0;
  std::string date;

  const Snapshot& CurrentSnapshot(const SnapshotHolder& holder) {
    uint64_t v = holder.version();
    if (v != snapshot_version || !snapshot) {
      snapshot = holder.Get();
      snapshot_version = v;
    }
    return *snapshot;
  }

  std::string_view Date() {
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
};

struct Server::Impl {
  Impl(ServerOptions o, ServerDeps d) : opt(std::move(o)), deps(d) {}

  ServerOptions opt;
  ServerDeps deps;
  std::atomic<bool> draining{false};
  std::atomic<int64_t> active{0};
  size_t next_thread = 0;
  SteadyClock::duration sweep_period{};
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
  using Parser = bhttp::request_parser<bhttp::buffer_body>;
  enum class Phase : uint8_t { kIdle, kHeader, kBody, kHandling, kWriting, kLinger };

  Conn(Server::Impl& server, IoThread& thread, tcp::socket sock)
      : s(server),
        t(thread),
        socket(std::move(sock)),
        buffer(server.opt.header_limit + kBodyChunk) {
    pos = t.conns.insert(t.conns.end(), this);
    s.deps.metrics->ConnectionOpened();
  }
  ~Conn() {
    t.conns.erase(pos);
    s.deps.metrics->ConnectionClosed();
    s.active.fetch_sub(1, std::memory_order_acq_rel);
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  void SetDeadline(std::chrono::milliseconds d) { deadline = SteadyClock::now() + d; }
  void Close() {
    boost::system::error_code ec;
    socket.close(ec);
  }

  asio::awaitable<void> Serve();
  asio::awaitable<std::optional<Response>> HandleUpload(std::string_view query, bool& close);
  asio::awaitable<int> DiscardBody();
  asio::awaitable<bool> Write(const Response& r, bool head_only, bool close);
  asio::awaitable<bool> WriteChunks(const Response& r, bool chunked);
  asio::awaitable<void> Finish(bool unread_input);
  Response Dispatch(const RouteMatch& m, std::string_view method, std::string_view path,
                    std::string_view query);
  void Log(std::string_view method, std::string_view target, Route route, int status,
           uint64_t bytes, double seconds);

  Server::Impl& s;
  IoThread& t;
  tcp::socket socket;
  beast::flat_buffer buffer;
  std::optional<Parser> parser;
  std::string head;
  std::string remote;
  Phase phase = Phase::kIdle;
  SteadyClock::time_point deadline = SteadyClock::time_point::max();
  std::list<Conn*>::iterator pos;
};

// GCC 12 reports the coroutine frames of the awaitables inlined here (asio's
// aligned_new with its matching operator delete) as -Wmismatched-new-delete:
// a known false positive (GCC bug 109224), silenced for this function only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
asio::awaitable<void> Conn::Serve() {
  const ServerOptions& opt = s.opt;
  if (s.deps.access_log != nullptr) {
    boost::system::error_code ec;
    auto ep = socket.remote_endpoint(ec);
    if (!ec) remote = ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  for (;;) {
    if (buffer.size() == 0) {
      if (s.draining.load(std::memory_order_acquire)) co_return;
      phase = Phase::kIdle;
      SetDeadline(opt.idle_timeout);
      auto [ec, n] = co_await socket.async_read_some(buffer.prepare(kReadChunk), kTuple);
      if (ec) co_return;
      buffer.commit(n);
    }
    phase = Phase::kHeader;
    SetDeadline(opt.header_timeout);
    parser.emplace();
    parser->header_limit(opt.header_limit);
    parser->body_limit(boost::none);
    auto [ec, n] = co_await bhttp::async_read_header(socket, buffer, *parser, kTuple);
    (void)n;
    if (ec) {
      int status = 0;
      if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
        status = 431;
      } else if (IsParseError(ec)) {
        status = 400;
      }
      if (status != 0) {
        s.deps.metrics->RecordRequest(t.index, Route::kUnknown, status, 0);
        co_await Write(ErrorResponse(status, status == 431 ? "the request header is too large"
                                                           : "malformed HTTP request"),
                       false, true);
        co_await Finish(true);
      }
      co_return;  // timeouts, resets and EOF: nothing to answer
    }
    const auto start = SteadyClock::now();
    phase = Phase::kHandling;
    auto& req = parser->get();
    const std::string method(req.method_string());
    const std::string target(req.target());
    const Target tgt = SplitTarget(target);
    const RouteMatch match = MatchRoute(tgt.path);
    bool close = !parser->keep_alive();
    std::optional<Response> resp;
    try {
      if (match.route == Route::kIngest && method == "POST") {
        resp = co_await HandleUpload(tgt.query, close);
      } else {
        if (!parser->is_done()) {
          const int discard = co_await DiscardBody();
          if (discard < 0) co_return;  // the client went away or timed out
          if (discard > 0) {
            resp = ErrorResponse(discard, discard == 400 ? std::string("malformed request body")
                                                         : "this endpoint takes no request body");
            close = true;
          }
        }
        if (!resp) resp = Dispatch(match, method, tgt.path, tgt.query);
      }
    } catch (const std::exception& e) {
      LogLine("http: " + method + " " + target.substr(0, 200) + " failed: " + e.what());
      resp = ErrorResponse(500, "internal error");
      close = true;
    }
    if (!resp) co_return;  // the connection failed while reading the body
    if (resp->close) close = true;
    if (resp->stream && req.version() == 10) close = true;  // the body ends with the connection
    if (s.draining.load(std::memory_order_acquire)) close = true;
    const bool unread = !parser->is_done();
    if (unread) close = true;
    bool ok = co_await Write(*resp, method == "HEAD", close);
    const double secs = std::chrono::duration<double>(SteadyClock::now() - start).count();
    s.deps.metrics->RecordRequest(t.index, match.route, resp->status, secs);
    if (s.deps.access_log != nullptr) {
      Log(method, target, match.route, resp->status, resp->body.size(), secs);
    }
    if (!ok) co_return;
    if (close) {
      co_await Finish(unread || buffer.size() > 0);
      co_return;
    }
  }
}

#pragma GCC diagnostic pop

Response Conn::Dispatch(const RouteMatch& m, std::string_view method, std::string_view path,
                        std::string_view query) {
  if (m.route == Route::kUnknown) return NotFoundRoute(path);
  if (method == "OPTIONS" && !s.opt.cors_origin.empty() && m.route != Route::kIngest) {
    return CorsPreflight();
  }
  if (!MethodAllowed(m.route, method)) return MethodNotAllowed(m.route);
  if (s.opt.auth_reads && s.opt.token && m.route != Route::kHealth) {
    auto& req = parser->get();
    int code = CheckBearer(req[bhttp::field::authorization], *s.opt.token);
    if (code != 0) return AuthError(code);
  }
  const int64_t now_ms = s.deps.clock->NowMs();
  if (m.route == Route::kMetrics) {
    Response r;
    r.body = s.deps.metrics->Render(*s.deps.snapshots, now_ms);
    r.content_type = kPrometheusType;
    return r;
  }
  if (m.route == Route::kAlerts) {
    if (!s.deps.alerts) return NotFoundRoute(path);
    std::string error;
    auto limit = ParseAlertsLimit(query, error);
    if (!limit) return ErrorResponse(400, error);
    auto body = s.deps.alerts(*limit);
    if (!body.ok()) return ErrorResponse(body.status());
    Response r;
    r.body = std::move(*body);
    return r;
  }
  const SnapshotHolder& holder = *s.deps.snapshots;
  const Snapshot& snap = t.CurrentSnapshot(holder);
  if (m.route == Route::kDashboard) {
    return AssetResponse(path, parser->get()[bhttp::field::accept_encoding]);
  }
  if (m.route == Route::kReadings) {
    return ReadingsResponse(m.sensor_segment, query, snap, s.deps.meta);
  }
  if (m.route == Route::kFileInvalid) {
    return InvalidRowsResponse(m.file_segment, query, s.deps.objects);
  }
  ReadContext ctx{snap, true, {}, now_ms, holder.last_check_ms()};
  std::string error;
  if (m.route == Route::kHealth && !holder.healthy()) {
    error = holder.last_error();
    ctx.store_ok = false;
    ctx.store_error = error;
  }
  return HandleRead(m, query, ctx);
}

// Reads and drops a (small) body sent to a read endpoint. Returns 0 when done,
// 400/413 for a malformed/too large body, -1 when the connection failed.
asio::awaitable<int> Conn::DiscardBody() {
  phase = Phase::kBody;
  char scratch[4096];
  size_t total = 0;
  while (!parser->is_done()) {
    SetDeadline(s.opt.body_timeout);
    parser->get().body().data = scratch;
    parser->get().body().size = sizeof scratch;
    auto [ec, n] = co_await bhttp::async_read_some(socket, buffer, *parser, kTuple);
    (void)n;
    total += sizeof scratch - parser->get().body().size;
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) {
      if (IsParseError(ec)) co_return 400;
      Close();
      co_return -1;
    }
    if (total > kMaxDiscardedBody) co_return 413;
  }
  co_return 0;
}

namespace {

using IngestResult = Result<pipeline::IngestSummary>;

// An upload handed to the IngestWorker. Kept on the heap and passed by
// shared_ptr so that no string crosses the coroutine boundary by value (GCC 12
// has miscompiled by-value captures inside co_await expressions).
struct UploadJob {
  std::shared_ptr<pipeline::LandingWriter> writer;
  pipeline::IngestRequest request;
};

// Initiation of the "run this upload on the worker" operation: the handler
// (the suspended coroutine) is resumed on its own executor with the result.
struct IngestInitiation {
  IngestWorker* worker;
  std::shared_ptr<UploadJob> job;

  template <typename Handler>
  void operator()(Handler&& handler) const {
    auto h = std::make_shared<std::decay_t<Handler>>(std::forward<Handler>(handler));
    auto ex = asio::get_associated_executor(*h);
    worker->SubmitUpload(job->writer, job->request, [h, ex](IngestResult r) {
      auto result = std::make_shared<IngestResult>(std::move(r));
      asio::post(ex, [h, result]() { std::move (*h)(result); });
    });
  }
};

auto AwaitIngest(IngestWorker* worker, std::shared_ptr<UploadJob> job) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::shared_ptr<IngestResult>)>(
      IngestInitiation{worker, std::move(job)}, asio::use_awaitable);
}

}  // namespace

asio::awaitable<std::optional<Response>> Conn::HandleUpload(std::string_view query, bool& close) {
  const ServerOptions& opt = s.opt;
  auto& req = parser->get();
  if (!opt.token) {
    co_return ErrorResponse(
        403, "uploads are disabled: no token is configured (AQUASENSE_TOKEN or --token-file)");
  }
  if (int code = CheckBearer(req[bhttp::field::authorization], *opt.token); code != 0) {
    co_return AuthError(code);
  }
  QueryParams q;
  std::string error;
  if (!QueryParams::Parse(query, q, error)) co_return ErrorResponse(400, error);
  pipeline::IngestRequest ireq;
  if (const std::string* sensor = q.Get("sensor")) ireq.default_sensor = *sensor;
  if (!IsValidSensorId(ireq.default_sensor)) {
    co_return ErrorResponse(400, "sensor must be 1 to 64 characters from A-Z a-z 0-9 . _ -");
  }
  if (const std::string* c = q.Get("on_conflict")) {
    if (*c == "replace") {
      ireq.on_conflict = storage::OnConflict::kReplace;
    } else if (*c != "reject") {
      co_return ErrorResponse(400, "on_conflict must be reject or replace");
    }
  }
  std::string name = "upload";
  if (const std::string* n = q.Get("name")) name = *n;
  if (!IsValidSensorId(name)) {
    co_return ErrorResponse(400, "name must be 1 to 64 characters from A-Z a-z 0-9 . _ -");
  }
  if (auto len = parser->content_length(); len && *len > opt.max_upload) {
    co_return ErrorResponse(
        413, "the upload is larger than the limit of " + std::to_string(opt.max_upload) + " bytes");
  }
  if (s.deps.worker == nullptr || s.deps.pipeline == nullptr) {
    co_return ErrorResponse(503, "uploads are not available");
  }
  auto writer = s.deps.pipeline->NewLandingWriter(ireq.default_sensor, name);
  if (!writer.ok()) co_return ErrorResponse(writer.status());

  if (EqualsIgnoreCase(req[bhttp::field::expect], "100-continue") && !parser->is_done()) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    phase = Phase::kWriting;
    SetDeadline(opt.write_timeout);
    auto [ec, n] = co_await asio::async_write(socket, asio::buffer(kContinue), kTuple);
    (void)n;
    if (ec) co_return std::nullopt;
  }
  // Stream the body into landing/ without holding it in memory.
  phase = Phase::kBody;
  parser->body_limit(opt.max_upload);
  std::unique_ptr<char[]> chunk(new char[kBodyChunk]);
  uint64_t total = 0;
  while (!parser->is_done()) {
    SetDeadline(opt.body_timeout);
    parser->get().body().data = chunk.get();
    parser->get().body().size = kBodyChunk;
    auto [ec, n] = co_await bhttp::async_read_some(socket, buffer, *parser, kTuple);
    (void)n;
    const size_t got = kBodyChunk - parser->get().body().size;
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec == bhttp::error::body_limit || total + got > opt.max_upload) {
      close = true;
      co_return ErrorResponse(413, "the upload is larger than the limit of " +
                                       std::to_string(opt.max_upload) + " bytes");
    }
    if (ec) {
      if (IsParseError(ec)) {
        close = true;
        co_return ErrorResponse(400, "malformed request body");
      }
      co_return std::nullopt;  // the client went away or timed out
    }
    total += got;
    if (got > 0) {
      Status st = (*writer)->Append(std::string_view(chunk.get(), got));
      if (!st.ok()) {
        close = true;
        co_return ErrorResponse(st);
      }
    }
  }
  chunk.reset();
  phase = Phase::kHandling;
  deadline = SteadyClock::time_point::max();  // the batch may take a while
  auto job = std::make_shared<UploadJob>();
  job->writer = std::shared_ptr<pipeline::LandingWriter>(std::move(*writer));
  job->request = ireq;
  std::shared_ptr<IngestResult> result = co_await AwaitIngest(s.deps.worker, job);
  const IngestResult& summary = *result;
  if (!summary.ok()) {
    LogLine("http: upload ingest failed: " + summary.status().message());
    co_return ErrorResponse(summary.status());
  }
  Response r;
  r.body = pipeline::SummaryJson(*summary);
  co_return r;
}

asio::awaitable<bool> Conn::Write(const Response& r, bool head_only, bool close) {
  head.clear();
  head.append("HTTP/1.1 ");
  char num[24];
  auto e = std::to_chars(num, num + sizeof num, r.status);
  head.append(num, e.ptr).append(" ").append(ReasonPhrase(r.status));
  head.append("\r\nServer: aquasense\r\nDate: ").append(t.Date());
  head.append("\r\nContent-Type: ").append(r.content_type);
  const bool http10 = parser && parser->get().version() == 10;
  if (r.stream) {
    head.append(http10 ? "\r\n" : "\r\nTransfer-Encoding: chunked\r\n");
  } else if (r.status == 204) {
    head.append("\r\n");
  } else {
    e = std::to_chars(num, num + sizeof num, r.body.size());
    head.append("\r\nContent-Length: ").append(num, e.ptr).append("\r\n");
  }
  if (!r.content_encoding.empty()) {
    head.append("Content-Encoding: ")
        .append(r.content_encoding)
        .append("\r\nVary: Accept-Encoding\r\n");
  }
  if (!r.cache_control.empty()) {
    head.append("Cache-Control: ").append(r.cache_control).append("\r\n");
  }
  if (!s.opt.cors_origin.empty()) AppendCorsHeaders(head, s.opt.cors_origin, r.status == 204);
  if (!r.allow.empty()) head.append("Allow: ").append(r.allow).append("\r\n");
  if (r.www_authenticate) head.append("WWW-Authenticate: Bearer realm=\"aquasense\"\r\n");
  if (close) {
    head.append("Connection: close\r\n");
  } else if (parser && parser->get().version() == 10) {
    head.append("Connection: keep-alive\r\n");
  }
  head.append("\r\n");
  phase = Phase::kWriting;
  SetDeadline(s.opt.write_timeout);
  std::array<asio::const_buffer, 2> bufs = {
      asio::buffer(head), head_only || r.stream ? asio::const_buffer() : asio::buffer(r.body)};
  auto [ec, n] = co_await asio::async_write(socket, bufs, kTuple);
  (void)n;
  if (ec) co_return false;
  if (r.stream && !head_only) co_return co_await WriteChunks(r, !http10);
  co_return true;
}

// The body of a streamed response, one chunk per piece (HTTP/1.0: the bare
// pieces, and the connection closes after them); the write deadline applies
// to each chunk. An error from the producer ends the response without its
// last chunk, so the client sees it incomplete.
asio::awaitable<bool> Conn::WriteChunks(const Response& r, bool chunked) {
  std::string piece;
  for (bool more = true; more;) {
    piece.clear();
    auto next = r.stream(piece);
    if (!next.ok()) {
      LogLine("http: streamed response failed: " + next.status().message());
      co_return false;
    }
    more = *next;
    if (piece.empty() && more) continue;
    char size_line[24];
    auto e = std::to_chars(size_line, size_line + 16, piece.size(), 16);
    *e.ptr++ = '\r';
    *e.ptr++ = '\n';
    std::string_view end = more ? "\r\n" : "\r\n0\r\n\r\n";
    std::array<asio::const_buffer, 3> bufs = {
        asio::buffer(size_line, static_cast<size_t>(e.ptr - size_line)), asio::buffer(piece),
        asio::buffer(end.data(), end.size())};
    if (!chunked) bufs[0] = bufs[2] = asio::const_buffer();
    if (piece.empty() && !chunked) break;
    if (piece.empty()) {  // the end: only the last chunk
      bufs[0] = bufs[1] = asio::const_buffer();
      bufs[2] = asio::buffer(end.substr(2).data(), end.size() - 2);
    }
    SetDeadline(s.opt.write_timeout);
    auto [ec, n] = co_await asio::async_write(socket, bufs, kTuple);
    (void)n;
    if (ec) co_return false;
  }
  co_return true;
}

// Closes after a response. When the client may still be sending (an unread
// body), half-close and drain for a moment first, so the kernel does not
// reset the connection and destroy the response before the client reads it.
asio::awaitable<void> Conn::Finish(bool unread_input) {
  boost::system::error_code ec;
  socket.shutdown(tcp::socket::shutdown_send, ec);
  if (unread_input && !ec) {
    phase = Phase::kLinger;
    deadline = SteadyClock::now() + kLingerTime;
    size_t total = 0;
    char scratch[4096];
    while (total < kLingerBytes) {
      auto [rec, n] = co_await socket.async_read_some(asio::buffer(scratch), kTuple);
      if (rec) break;
      total += n;
    }
  }
  Close();
}

void Conn::Log(std::string_view method, std::string_view target, Route route, int status,
               uint64_t bytes, double seconds) {
  AccessRecord rec;
  rec.time_ms = s.deps.clock->NowMs();
  rec.remote = remote;
  rec.method = method;
  rec.target = target;
  rec.route = RouteName(route);
  rec.status = status;
  rec.bytes = bytes;
  rec.seconds = seconds;
  s.deps.access_log->Write(rec);
}

namespace {

asio::awaitable<void> RunConn(Server::Impl& s, IoThread& t, tcp::socket sock) {
  try {
    Conn c(s, t, std::move(sock));
    boost::system::error_code ec;
    c.socket.set_option(tcp::no_delay(true), ec);
    co_await c.Serve();
  } catch (const std::exception& e) {
    LogLine(std::string("http: connection failed: ") + e.what());
  }
}

}  // namespace

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
      // e.g. out of file descriptors: back off instead of spinning.
      LogLine("http: accept failed: " + ec.message());
      asio::steady_timer pause(threads[0]->ioc, std::chrono::milliseconds(50));
      co_await pause.async_wait(kTuple);
      continue;
    }
    if (static_cast<size_t>(active.load()) >= opt.max_connections) {
      Reject(sock);
      continue;
    }
    active.fetch_add(1, std::memory_order_acq_rel);
    asio::co_spawn(t.ioc, RunConn(*this, t, std::move(sock)), asio::detached);
  }
}

asio::awaitable<void> Server::Impl::Sweep(IoThread& t) {
  for (;;) {
    t.sweep.expires_after(sweep_period);
    auto [ec] = co_await t.sweep.async_wait(kTuple);
    if (ec) co_return;
    const auto now = SteadyClock::now();
    for (Conn* c : t.conns) {
      if (now >= c->deadline && c->socket.is_open()) {
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
  for (auto& t : s.threads) asio::co_spawn(t->ioc, s.Sweep(*t), asio::detached);
  asio::co_spawn(s.threads[0]->ioc, s.Accept(), asio::detached);
  for (size_t i = 1; i < s.threads.size(); ++i) {
    IoThread* t = s.threads[i].get();
    t->thread = std::thread([t] { t->ioc.run(); });
  }
  s.threads[0]->ioc.run();
  for (size_t i = 1; i < s.threads.size(); ++i) {
    if (s.threads[i]->thread.joinable()) s.threads[i]->thread.join();
  }
  if (s.opt.handle_signals) {
    // The caller still finishes the running ingest batch: a repeated SIGTERM
    // must not kill the process half way (the signal_set's handler is gone
    // once it is destroyed, and destroying it restores the default action).
    s.signals.reset();
    std::signal(SIGTERM, SIG_IGN);
    std::signal(SIGINT, SIG_IGN);
  }
}

}  // namespace aquasense::http
