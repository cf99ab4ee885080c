#include "http/handlers.h"

#include <array>
#include <cstdio>
#include <utility>

#include "common/enum_names.h"
#include "core/datetime.h"
#include "core/metrics_format.h"
#include "http/json_text.h"
#include "http/query.h"
#include "http/status_text.h"

namespace aquasense::http {
namespace {

using core::AppendYearMonth;

// The full monthly record, in the shape of `export --format json`.
void AppendRecord(std::string& out, std::string_view sensor, const MonthRecord& r) {
  core::AppendMetricsJson(
      out, {.sensor = sensor,
            .year = core::YearOf(r.month),
            .month = core::MonthOf(r.month),
            .mean_temp = r.mean_temp,
            .max_temp = r.max_temp,
            .max_sd = r.max_sd,
            .max_temp_diff = r.has_diff ? std::optional<double>(r.max_temp_diff) : std::nullopt,
            .readings = r.readings});
}

Response Json(std::string body) {
  Response r;
  r.body = std::move(body);
  return r;
}

Response HandleHealth(const ReadContext& ctx) {
  if (!ctx.store_ok) {
    std::string body = "{\"status\":\"unavailable\",\"error\":\"unavailable\",\"message\":";
    AppendJsonString(body, ctx.store_error.empty()
                               ? "the store cannot be read"
                               : "the store cannot be read: " + std::string(ctx.store_error));
    body.push_back('}');
    Response r = Json(std::move(body));
    r.status = 503;
    return r;
  }
  std::string body = "{\"status\":\"ok\",\"generation\":";
  AppendJsonInt(body, ctx.snapshot.generation());
  body.append(",\"sensors\":");
  AppendJsonInt(body, static_cast<long long>(ctx.snapshot.sensors().size()));
  body.append(",\"records\":");
  AppendJsonInt(body, static_cast<long long>(ctx.snapshot.record_count()));
  body.append(",\"snapshot_age_seconds\":");
  double age =
      ctx.last_check_ms > 0 ? static_cast<double>(ctx.now_ms - ctx.last_check_ms) / 1000 : 0.0;
  AppendJsonNumber(body, age < 0 ? 0.0 : age);
  body.push_back('}');
  return Json(std::move(body));
}

// The `year` (alias `ano`) or `month` (alias `mes`) parameter; null with
// `error` set when it is missing or given under both names.
const std::string* AliasedParam(const QueryParams& q, const char* name, const char* alias,
                                std::string& error) {
  const std::string* v = q.Get(name);
  if (v != nullptr && q.Get(alias) != nullptr) {
    error = std::string("give ") + name + " or " + alias + ", not both";
    return nullptr;
  }
  if (v == nullptr) v = q.Get(alias);
  if (v == nullptr) error = std::string("the ") + name + " parameter is required";
  return v;
}

// {"sensor":..,"year":..,"month":..,"<the route's field>":..}
std::string MonthValueBody(Route route, std::string_view sensor, int32_t year, int32_t month,
                           const MonthRecord& r) {
  std::string body;
  body.reserve(96 + sensor.size());
  body.append("{\"sensor\":");
  AppendJsonString(body, sensor);
  body.append(",\"year\":");
  AppendJsonInt(body, year);
  body.append(",\"month\":");
  AppendJsonInt(body, month);
  switch (route) {
    case Route::kTemp:
      body.append(",\"mean_temp\":");
      AppendJsonNumber(body, r.mean_temp);
      break;
    case Route::kSd:
      body.append(",\"max_sd\":");
      AppendJsonNumber(body, r.max_sd);
      break;
    default:
      body.append(",\"max_temp_diff\":");
      if (r.has_diff) {
        AppendJsonNumber(body, r.max_temp_diff);
      } else {
        body.append("null");
      }
      break;
  }
  body.push_back('}');
  return body;
}

// /temp, /sd, /maxdiff: year, month, optional sensor.
Response HandleMonthValue(Route route, std::string_view query, const ReadContext& ctx) {
  QueryParams q;
  std::string error;
  if (!QueryParams::Parse(query, q, error)) return ErrorResponse(400, error);
  // `ano` and `mes` are the original's column names, accepted as aliases.
  const std::string* year_s = AliasedParam(q, "year", "ano", error);
  if (year_s == nullptr) return ErrorResponse(400, error);
  const std::string* month_s = AliasedParam(q, "month", "mes", error);
  if (month_s == nullptr) return ErrorResponse(400, error);
  auto year = ParseYear(*year_s, error);
  if (!year) return ErrorResponse(400, error);
  auto month = ParseMonth(*month_s, error);
  if (!month) return ErrorResponse(400, error);
  std::string_view sensor = "default";
  if (const std::string* s = q.Get("sensor")) sensor = *s;
  if (!IsValidSensorId(sensor)) {
    return ErrorResponse(400, "sensor must be 1 to 64 characters from A-Z a-z 0-9 . _ -");
  }
  const MonthRecord* r = ctx.snapshot.Find(sensor, core::MonthIndex(*year, *month));
  if (r == nullptr) {
    std::string msg = "no data for sensor " + std::string(sensor) + " in ";
    AppendYearMonth(msg, core::MonthIndex(*year, *month));
    return ErrorResponse(404, msg);
  }
  return Json(MonthValueBody(route, sensor, *year, *month, *r));
}

Response HandleSensors(const ReadContext& ctx) {
  const Snapshot& s = ctx.snapshot;
  std::string body = "{\"sensors\":[";
  bool first = true;
  for (const SensorEntry& e : s.sensors()) {
    if (!first) body.push_back(',');
    first = false;
    auto months = s.Months(e, INT32_MIN, INT32_MAX);
    body.append("{\"sensor\":");
    AppendJsonString(body, e.id);
    body.append(",\"months\":");
    AppendJsonInt(body, static_cast<long long>(months.size()));
    body.append(",\"from\":\"");
    AppendYearMonth(body, months.front().month);
    body.append("\",\"to\":\"");
    AppendYearMonth(body, months.back().month);
    body.append("\",\"readings\":");
    AppendJsonInt(body, e.readings);
    body.push_back('}');
  }
  body.append("]}");
  return Json(std::move(body));
}

Response HandleSensorMonths(std::string_view segment, std::string_view query,
                            const ReadContext& ctx) {
  auto sensor = PercentDecode(segment, false);
  if (!sensor || !IsValidSensorId(*sensor)) {
    return ErrorResponse(400, "sensor must be 1 to 64 characters from A-Z a-z 0-9 . _ -");
  }
  QueryParams q;
  std::string error;
  if (!QueryParams::Parse(query, q, error)) return ErrorResponse(400, error);
  int32_t from = INT32_MIN;
  int32_t to = INT32_MAX;
  if (const std::string* f = q.Get("from")) {
    auto v = ParseYearMonth(*f, "from", error);
    if (!v) return ErrorResponse(400, error);
    from = *v;
  }
  if (const std::string* t = q.Get("to")) {
    auto v = ParseYearMonth(*t, "to", error);
    if (!v) return ErrorResponse(400, error);
    to = *v;
  }
  if (from > to) return ErrorResponse(400, "from must not be after to");
  const SensorEntry* e = ctx.snapshot.FindSensor(*sensor);
  if (e == nullptr) return ErrorResponse(404, "no data for sensor " + *sensor);
  auto months = ctx.snapshot.Months(*e, from, to);
  std::string body;
  body.reserve(32 + months.size() * 150);
  body.append("{\"sensor\":");
  AppendJsonString(body, *sensor);
  body.append(",\"months\":[");
  for (size_t i = 0; i < months.size(); ++i) {
    if (i > 0) body.push_back(',');
    AppendRecord(body, *sensor, months[i]);
  }
  body.append("]}");
  return Json(std::move(body));
}

// The one non-empty segment between `prefix` and `suffix`, if `path` is that.
std::optional<std::string_view> Segment(std::string_view path, std::string_view prefix,
                                        std::string_view suffix) {
  if (path.size() <= prefix.size() + suffix.size() || !path.starts_with(prefix) ||
      !path.ends_with(suffix)) {
    return std::nullopt;
  }
  std::string_view seg = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
  if (seg.find('/') != std::string_view::npos) return std::nullopt;
  return seg;
}

}  // namespace

std::string_view RouteName(Route r) {
  // Indexed by Route, kUnknown (the last) excluded: keep in the order of the enum.
  static constexpr std::array<std::string_view, kRouteCount - 1> kNames = {
      "health",  "temp",    "sd",     "maxdiff",  "sensors",      "sensor_months", "ingest",
      "metrics", "openapi", "alerts", "readings", "file_invalid", "dashboard"};
  return EnumName(r, kNames, "unknown");
}

RouteMatch MatchRoute(std::string_view path) {
  // The fixed paths; then the dashboard and the routes with a path segment.
  static constexpr std::pair<std::string_view, Route> kExact[] = {
      {"/temp", Route::kTemp},          {"/sd", Route::kSd},
      {"/maxdiff", Route::kMaxDiff},    {"/health", Route::kHealth},
      {"/metrics", Route::kMetrics},    {"/openapi.json", Route::kOpenApi},
      {"/v1/sensors", Route::kSensors}, {"/v1/ingest", Route::kIngest},
      {"/v1/alerts", Route::kAlerts},
  };
  RouteMatch m;
  for (const auto& [p, route] : kExact) {
    if (path == p) {
      m.route = route;
      return m;
    }
  }
  if (path == "/" || path.starts_with("/dashboard/")) {
    m.route = Route::kDashboard;
  } else if (auto seg = Segment(path, "/v1/sensors/", "/months")) {
    m.route = Route::kSensorMonths;
    m.sensor_segment = *seg;
  } else if (auto rseg = Segment(path, "/v1/sensors/", "/readings")) {
    m.route = Route::kReadings;
    m.sensor_segment = *rseg;
  } else if (auto fseg = Segment(path, "/v1/files/", "/invalid")) {
    m.route = Route::kFileInvalid;
    m.file_segment = *fseg;
  }
  return m;
}

std::optional<size_t> ParseAlertsLimit(std::string_view query, std::string& error) {
  QueryParams q;
  if (!QueryParams::Parse(query, q, error)) return std::nullopt;
  const std::string* v = q.Get("limit");
  if (v == nullptr) return size_t{50};
  size_t n = 0;
  const bool digits =
      !v->empty() && v->size() <= 4 && v->find_first_not_of("0123456789") == std::string::npos;
  if (digits) n = static_cast<size_t>(std::stoul(*v));
  if (!digits || n < 1 || n > 1000) {
    error = "limit must be a whole number from 1 to 1000";
    return std::nullopt;
  }
  return n;
}

std::string_view AllowedMethods(Route r) {
  return r == Route::kIngest ? std::string_view("POST") : std::string_view("GET, HEAD");
}

bool MethodAllowed(Route r, std::string_view method) {
  if (r == Route::kIngest) return method == "POST";
  return method == "GET" || method == "HEAD";
}

Response ErrorResponse(int status, std::string_view message) {
  Response r;
  r.status = status;
  r.body = ErrorBody(ErrorCodeFor(status), message);
  return r;
}

int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kInvalidArgument:
      return 400;
    case Code::kNotFound:
      return 404;
    case Code::kAlreadyExists:
      return 409;
    case Code::kFailedPrecondition:
      return 403;
    case Code::kUnavailable:
    case Code::kAborted:  // a conflict that outlived the retries: try again
      return 503;
    case Code::kInternal:
      break;
  }
  return 500;
}

Response ErrorResponse(const Status& status) {
  return ErrorResponse(HttpStatusFor(status.code()), status.message());
}

Response NotFoundRoute(std::string_view path) {
  std::string msg = "no such endpoint: ";
  msg.append(path.substr(0, 200));
  return ErrorResponse(404, msg);
}

Response MethodNotAllowed(Route r) {
  Response resp =
      ErrorResponse(405, "this endpoint accepts only " + std::string(AllowedMethods(r)));
  resp.allow = AllowedMethods(r);
  return resp;
}

Response CorsPreflight() {
  Response r;
  r.status = 204;
  return r;
}

void AppendCorsHeaders(std::string& head, std::string_view origin, bool preflight) {
  head.append("Access-Control-Allow-Origin: ").append(origin).append("\r\n");
  if (origin != "*") head.append("Vary: Origin\r\n");
  if (preflight) {
    head.append(
        "Access-Control-Allow-Methods: GET, HEAD, OPTIONS\r\n"
        "Access-Control-Allow-Headers: Authorization, Content-Type\r\n"
        "Access-Control-Max-Age: 600\r\n");
  }
}

Response HandleRead(const RouteMatch& match, std::string_view query, const ReadContext& ctx) {
  switch (match.route) {
    case Route::kHealth:
      return HandleHealth(ctx);
    case Route::kTemp:
    case Route::kSd:
    case Route::kMaxDiff:
      return HandleMonthValue(match.route, query, ctx);
    case Route::kSensors:
      return HandleSensors(ctx);
    case Route::kSensorMonths:
      return HandleSensorMonths(match.sensor_segment, query, ctx);
    case Route::kOpenApi:
      return Json(OpenApiJson());
    default:
      break;
  }
  return ErrorResponse(500, "this endpoint is not served here");
}

Response Handle(std::string_view method, std::string_view target, const ReadContext& ctx) {
  Target t = SplitTarget(target);
  RouteMatch m = MatchRoute(t.path);
  if (m.route == Route::kUnknown) return NotFoundRoute(t.path);
  if (!MethodAllowed(m.route, method)) return MethodNotAllowed(m.route);
  return HandleRead(m, t.query, ctx);
}

}  // namespace aquasense::http
