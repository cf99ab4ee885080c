// One client connection of the Server (server_internal.h): read a request
// header (with every limit of request_parser.h), check its framing, answer,
// repeat while keep-alive allows.
#include <algorithm>
#include <array>
#include <charconv>
#include <exception>

#include "http/dashboard_assets.h"
#include "http/json_text.h"
#include "http/query.h"
#include "http/readings.h"
#include "http/server_internal.h"
#include "http/status_text.h"

// GCC 12 reports the coroutine frames of the awaitables inlined here (asio's
// aligned_new with its matching operator delete) as -Wmismatched-new-delete:
// a known false positive (GCC bug 109224), silenced for this file only.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace aquasense::http {

namespace {

constexpr size_t kReadChunk = 8192;
constexpr size_t kBodyChunk = 64 * 1024;
constexpr size_t kMaxDiscardedBody = 64 * 1024;  // a body sent to a read endpoint

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

bool IsParseError(const beast::error_code& ec) {
  if (ec.category() != bhttp::make_error_code(bhttp::error::bad_method).category()) return false;
  return ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
}

bool IsTooLarge(const beast::error_code& ec) {
  return ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow;
}

// The answer to a failed header read: 431, 400, or 0 (nothing to answer:
// timeouts, resets and EOF).
int HeaderErrorStatus(const beast::error_code& ec) {
  if (IsTooLarge(ec)) return 431;
  return IsParseError(ec) ? 400 : 0;
}

// The answer to a failed body read (the trailer of a chunked body is read
// with it): 431, 413, 400, or 0 (the client went away or timed out).
int BodyErrorStatus(const beast::error_code& ec) {
  if (IsTooLarge(ec)) return 431;
  if (ec == bhttp::error::body_limit) return 413;
  return IsParseError(ec) ? 400 : 0;
}

std::string_view BodyErrorMessage(int status) {
  if (status == 431) return "the request trailer is too large";
  if (status == 413) return "this endpoint takes no request body";
  return "malformed request body";
}

}  // namespace

Conn::Conn(Server::Impl& server, IoThread& thread, ConnStream st)
    : s(server), t(thread), stream(std::move(st)), buffer(server.opt.header_limit + kBodyChunk) {
  pos = t.conns.insert(t.conns.end(), this);
  s.deps.metrics->ConnectionOpened();
}

Conn::~Conn() {
  t.conns.erase(pos);
  s.deps.metrics->ConnectionClosed();
  s.active.fetch_sub(1, std::memory_order_acq_rel);
}

asio::awaitable<void> Conn::Serve() {
  const ServerOptions& opt = s.opt;
  if (s.deps.access_log != nullptr) {
    boost::system::error_code ec;
    auto ep = stream.socket().remote_endpoint(ec);
    if (!ec) remote = ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  for (;;) {
    if (buffer.size() == 0) {
      if (s.draining.load(std::memory_order_acquire)) co_return;
      phase = Phase::kIdle;
      SetDeadline(opt.idle_timeout);
      auto [ec, n] = co_await stream.ReadSome(buffer.prepare(kReadChunk));
      if (ec) co_return;
      buffer.commit(n);
    }
    phase = Phase::kHeader;
    SetDeadline(opt.header_timeout);
    parser.emplace(opt.header_limit);
    const beast::error_code ec = co_await ReadHeader();
    if (ec) {
      if (const int status = HeaderErrorStatus(ec); status != 0) {
        s.deps.metrics->RecordRequest(t.index, Route::kUnknown, status, 0);
        co_await Write(ErrorResponse(status, status == 431 ? "the request header is too large"
                                                           : "malformed HTTP request"),
                       false, true);
        co_await Finish(true);
      }
      co_return;
    }
    if (!co_await Answer()) co_return;
  }
}

// Feeds the parser from the buffer, reading more as needed, until the header
// is complete. The parser enforces the header limit on the total.
asio::awaitable<beast::error_code> Conn::ReadHeader() {
  for (;;) {
    beast::error_code ec;
    if (buffer.size() > 0) {
      buffer.consume(parser->PutHeader(buffer.data(), ec));
      if (ec != bhttp::error::need_more) co_return ec;
    }
    const size_t room = buffer.max_size() - buffer.size();
    if (room == 0) co_return bhttp::error::header_limit;
    auto [rec, n] = co_await stream.ReadSome(buffer.prepare(std::min(room, kReadChunk)));
    if (rec == asio::error::eof) {
      co_return parser->got_some() ? bhttp::error::partial_message : bhttp::error::end_of_stream;
    }
    if (rec) co_return rec;
    buffer.commit(n);
  }
}

// Answers the request whose header is in `parser`. Returns false once the
// connection is done with (closed, failed or to be closed).
asio::awaitable<bool> Conn::Answer() {
  const auto start = SteadyClock::now();
  phase = Phase::kHandling;
  auto& req = parser->get();
  const std::string method(req.method_string());
  const std::string target(req.target());
  const Target tgt = SplitTarget(target);
  const RouteMatch match = MatchRoute(tgt.path);
  bool close = !parser->keep_alive();
  std::optional<Response> resp;
  if (auto bad = CheckFraming(req, parser->chunked())) {
    resp = ErrorResponse(bad->status, bad->message);  // the body is never read
    close = true;
  } else {
    try {
      resp = co_await Handle(match, tgt, method, close);
    } catch (const std::exception& e) {
      LogLine("http: " + method + " " + target.substr(0, 200) + " failed: " + e.what());
      resp = ErrorResponse(500, "internal error");
      close = true;
    } catch (...) {
      LogLine("http: " + method + " " + target.substr(0, 200) + " failed: unknown exception");
      resp = ErrorResponse(500, "internal error");
      close = true;
    }
  }
  if (!resp) co_return false;  // the connection failed while reading the body
  if (resp->close || s.draining.load(std::memory_order_acquire)) close = true;
  if (resp->stream && req.version() == 10) close = true;  // the body ends with the connection
  const bool unread = !parser->is_done();
  if (unread) close = true;
  const bool ok = co_await Write(*resp, method == "HEAD", close);
  const double secs = std::chrono::duration<double>(SteadyClock::now() - start).count();
  s.deps.metrics->RecordRequest(t.index, match.route, resp->status, secs);
  if (s.deps.access_log != nullptr) {
    Log(method, target, match.route, resp->status, resp->body.size(), secs);
  }
  if (!ok) co_return false;
  if (close) {
    co_await Finish(unread || buffer.size() > 0);
    co_return false;
  }
  co_return true;
}

// Nothing (the connection failed) or the response to a request whose framing
// is valid.
asio::awaitable<std::optional<Response>> Conn::Handle(const RouteMatch& match, const Target& tgt,
                                                      std::string_view method, bool& close) {
  if (match.route == Route::kIngest && method == "POST") {
    co_return co_await HandleUpload(tgt.query, close);
  }
  if (!parser->is_done()) {
    const int discard = co_await DiscardBody();
    if (discard < 0) co_return std::nullopt;  // the client went away or timed out
    if (discard > 0) {
      close = true;
      co_return ErrorResponse(discard, BodyErrorMessage(discard));
    }
  }
  co_return Dispatch(match, method, tgt.path, tgt.query);
}

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
// 400/413/431 for a malformed/too large body or trailer, -1 when the
// connection failed.
asio::awaitable<int> Conn::DiscardBody() {
  phase = Phase::kBody;
  char scratch[4096];
  size_t total = 0;
  while (!parser->is_done()) {
    SetDeadline(s.opt.body_timeout);
    parser->get().body().data = scratch;
    parser->get().body().size = sizeof scratch;
    auto [ec, n] = co_await stream.ReadHttp(buffer, *parser);
    (void)n;
    total += sizeof scratch - parser->get().body().size;
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) {
      if (const int status = BodyErrorStatus(ec); status != 0) co_return status;
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

// The upload's parameters from its query string, or the 400 answer.
std::optional<Response> UploadRequest(std::string_view query, pipeline::IngestRequest& ireq,
                                      std::string& name) {
  QueryParams q;
  std::string error;
  if (!QueryParams::Parse(query, q, error)) return ErrorResponse(400, error);
  if (const std::string* sensor = q.Get("sensor")) ireq.default_sensor = *sensor;
  if (!IsValidSensorId(ireq.default_sensor)) {
    return ErrorResponse(400, "sensor must be 1 to 64 characters from A-Z a-z 0-9 . _ -");
  }
  if (const std::string* c = q.Get("on_conflict")) {
    if (*c == "replace") {
      ireq.on_conflict = storage::OnConflict::kReplace;
    } else if (*c != "reject") {
      return ErrorResponse(400, "on_conflict must be reject or replace");
    }
  }
  name = "upload";
  if (const std::string* n = q.Get("name")) name = *n;
  if (!IsValidSensorId(name)) {
    return ErrorResponse(400, "name must be 1 to 64 characters from A-Z a-z 0-9 . _ -");
  }
  return std::nullopt;
}

Response TooLarge(uint64_t limit) {
  return ErrorResponse(
      413, "the upload is larger than the limit of " + std::to_string(limit) + " bytes");
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
  pipeline::IngestRequest ireq;
  std::string name;
  if (auto bad = UploadRequest(query, ireq, name)) co_return bad;
  if (auto len = parser->content_length(); len && *len > opt.max_upload) {
    co_return TooLarge(opt.max_upload);
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
    auto [ec, n] = co_await stream.WriteAll(asio::buffer(kContinue));
    (void)n;
    if (ec) co_return std::nullopt;
  }
  std::optional<Response> error;
  if (!co_await ReceiveBody(**writer, error, close)) co_return error;
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

// Streams the body into landing/ without holding it in memory. Returns true
// once all of it is written; else `error` is the answer (nothing when the
// client went away or timed out).
asio::awaitable<bool> Conn::ReceiveBody(pipeline::LandingWriter& writer,
                                        std::optional<Response>& error, bool& close) {
  const uint64_t limit = s.opt.max_upload;
  phase = Phase::kBody;
  parser->body_limit(limit);
  std::unique_ptr<char[]> chunk(new char[kBodyChunk]);
  uint64_t total = 0;
  while (!parser->is_done()) {
    SetDeadline(s.opt.body_timeout);
    parser->get().body().data = chunk.get();
    parser->get().body().size = kBodyChunk;
    auto [ec, n] = co_await stream.ReadHttp(buffer, *parser);
    (void)n;
    const size_t got = kBodyChunk - parser->get().body().size;
    if (ec == bhttp::error::need_buffer) ec = {};
    if (!ec && total + got > limit) ec = bhttp::error::body_limit;
    if (ec) {
      const int status = BodyErrorStatus(ec);
      if (status != 0) {
        close = true;
        error = status == 413 ? TooLarge(limit) : ErrorResponse(status, BodyErrorMessage(status));
      }
      co_return false;
    }
    total += got;
    if (got > 0) {
      Status st = writer.Append(std::string_view(chunk.get(), got));
      if (!st.ok()) {
        close = true;
        error = ErrorResponse(st);
        co_return false;
      }
    }
  }
  co_return true;
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
  auto [ec, n] = co_await stream.WriteAll(bufs);
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
    auto [ec, n] = co_await stream.WriteAll(bufs);
    (void)n;
    if (ec) co_return false;
  }
  co_return true;
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

asio::awaitable<void> RunConn(Server::Impl& s, IoThread& t, tcp::socket sock,
                              std::shared_ptr<asio::ssl::context> tls) {
  try {
    boost::system::error_code ec;
    sock.set_option(tcp::no_delay(true), ec);
    Conn c(s, t, tls ? ConnStream(std::move(sock), *tls) : ConnStream(std::move(sock)));
    if (tls && !co_await c.StartTls()) co_return;
    co_await c.Serve();
  } catch (const std::exception& e) {
    LogLine(std::string("http: connection failed: ") + e.what());
  } catch (...) {
    LogLine("http: connection failed: unknown exception");
  }
}

}  // namespace aquasense::http
