// The HTTP API's routes and its pure read handlers (SPEC §8).
//
//   RouteMatch m = MatchRoute("/temp");
//   ReadContext ctx{*snapshot, /*store_ok=*/true, "", now_ms, last_check_ms};
//   Response r = Handle("GET", "/temp?year=2024&month=1", ctx);   // 200 + JSON
//
// No I/O here: a handler reads a Snapshot and returns status and body, so
// everything below is unit-tested without a server. The server (server.h)
// adds /metrics and the streaming upload POST /v1/ingest, which need I/O.
// Thread-safety: pure functions. Error bodies are always
// {"error":<code>,"message":<one sentence>}; Status codes map onto HTTP
// statuses in HttpStatusFor(), the only place that does it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "http/snapshot.h"

namespace aquasense::http {

inline constexpr std::string_view kJsonType = "application/json";
inline constexpr std::string_view kPrometheusType = "text/plain; version=0.0.4; charset=utf-8";

enum class Route : uint8_t {
  kHealth,
  kTemp,
  kSd,
  kMaxDiff,
  kSensors,
  kSensorMonths,
  kIngest,
  kMetrics,
  kOpenApi,
  kAlerts,
  kReadings,     // GET /v1/sensors/{id}/readings (readings.h), streamed
  kFileInvalid,  // GET /v1/files/{sha256}/invalid?sensor=S: a file's invalid rows (CSV)
  kDashboard,    // GET / and /dashboard/*: the embedded page (dashboard_assets.h)
  kUnknown,
};
inline constexpr int kRouteCount = 14;
std::string_view RouteName(Route r);

struct RouteMatch {
  Route route = Route::kUnknown;
  std::string_view sensor_segment;  // raw {id} of /v1/sensors/{id}/months|readings
  std::string_view file_segment;    // raw {sha256} of /v1/files/{sha256}/invalid
};

// `limit` of GET /v1/alerts: absent -> 50; 1..1000 digits only, else nothing
// and `error` (the 400 message).
std::optional<size_t> ParseAlertsLimit(std::string_view query, std::string& error);

// Matches a (raw, undecoded) path.
RouteMatch MatchRoute(std::string_view path);
// "GET, HEAD" for read routes, "POST" for kIngest.
std::string_view AllowedMethods(Route r);
bool MethodAllowed(Route r, std::string_view method);

struct Response {
  int status = 200;
  std::string body;
  std::string_view content_type = kJsonType;
  std::string_view allow;             // Allow header (405)
  bool www_authenticate = false;      // WWW-Authenticate: Bearer (401)
  bool close = false;                 // close the connection after this response
  std::string_view content_encoding;  // e.g. "gzip" (an embedded asset)
  std::string_view cache_control;
  // When set, the body is produced piece by piece and sent chunked (`body` is
  // unused): each call appends the next piece and returns true while more
  // follows. An error ends the response without its last chunk.
  std::function<Result<bool>(std::string&)> stream;
};

// Everything a read handler may look at.
struct ReadContext {
  const Snapshot& snapshot;
  bool store_ok = true;
  std::string_view store_error;
  int64_t now_ms = 0;
  int64_t last_check_ms = 0;  // when the snapshot was last confirmed current
};

Response ErrorResponse(int status, std::string_view message);
int HttpStatusFor(Code code);
Response ErrorResponse(const Status& status);
Response NotFoundRoute(std::string_view path);
Response MethodNotAllowed(Route r);
// 204 answer to an OPTIONS preflight (CORS headers are added by the server).
Response CorsPreflight();
// Access-Control-Allow-Origin (+ Vary: Origin unless "*"); with `preflight`
// also the allowed methods and headers. Appends header lines ending in CRLF.
void AppendCorsHeaders(std::string& head, std::string_view origin, bool preflight);

// Answers a request for a read route (kHealth ... kSensorMonths, kOpenApi);
// the method has been checked already.
Response HandleRead(const RouteMatch& match, std::string_view query, const ReadContext& ctx);

// Matching + method check + HandleRead, for tests and simple callers. kMetrics
// and kIngest are not handled here (500).
Response Handle(std::string_view method, std::string_view target, const ReadContext& ctx);

// The static OpenAPI 3 document (openapi.cc).
const std::string& OpenApiJson();

}  // namespace aquasense::http
