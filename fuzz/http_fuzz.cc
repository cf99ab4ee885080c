// SOURCES: src/http/query.cc src/http/handlers.cc src/http/json_text.cc src/http/snapshot.cc src/http/openapi.cc src/http/request_parser.cc src/core/number.cc src/core/validate.cc src/core/datetime.cc src/common/status.cc src/core/json_text.cc src/core/metrics_format.cc
// FLAGS: -DBOOST_ASIO_NO_DEPRECATED -DNDEBUG
// libFuzzer target over what the HTTP server reads from a client:
// - mode 0: a request target through SplitTarget, PercentDecode,
//   QueryParams::Parse, MatchRoute, ParseAlertsLimit and the read handlers
//   (year/month/sensor/from/to validation) over a small snapshot;
// - mode 1: raw request bytes, fed in pieces, through the hardened
//   RequestParser (header limit on the total, trailers bounded, no exception:
//   review item C1) and CheckFraming.
// Nothing may crash, throw or break the invariants checked below.
// Built with NDEBUG, like the shipped binary: Boost.Beast 1.81's debug-only
// BOOST_ASSERT(n >= 5) in parse_chunk_header fires when a final chunk with a
// trailer arrives a byte at a time (seed corpus/http/beast-final-chunk-bytewise);
// without it the parser answers need_more. Every piece is handed to the
// parser in a heap block of its exact size, so ASan sees any read past it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "http/handlers.h"
#include "http/query.h"
#include "http/request_parser.h"

using namespace aquasense;
using namespace aquasense::http;

namespace {

const Snapshot& TestSnapshot() {
  static const Snapshot* snap = [] {
    core::MonthlyMetrics m;
    m.sensor = "default";
    m.year = 2024;
    m.month = 1;
    m.mean_temp = 10.5;
    m.readings = 3;
    core::MonthlyMetrics n = m;
    n.month = 2;
    return new Snapshot({m, n}, 1, 0);
  }();
  return *snap;
}

void Check(bool ok) {
  if (!ok) std::abort();
}

void FuzzTarget(std::string_view text) {
  Target t = SplitTarget(text);
  Check(t.path.size() + t.query.size() <= text.size() || t.path == "/");
  (void)PercentDecode(t.path, false);
  (void)PercentDecode(t.query, true);
  QueryParams q;
  std::string error;
  if (QueryParams::Parse(t.query, q, error)) {
    Check(q.items().size() <= QueryParams::kMaxParams);
  } else {
    Check(!error.empty() && error.size() <= 300);
  }
  (void)MatchRoute(t.path);
  (void)ParseAlertsLimit(t.query, error);
  ReadContext ctx{TestSnapshot(), true, {}, 1000, 1000};
  Response r = Handle("GET", text, ctx);
  Check(r.status == 200 || r.status == 400 || r.status == 404 || r.status == 405 ||
        r.status == 500);
  Check(!r.body.empty());
}

// A copy of `s` in a heap block of exactly its size.
std::unique_ptr<char[]> Exact(const std::string& s) {
  auto block = std::make_unique<char[]>(s.size() + (s.empty() ? 1 : 0));
  std::memcpy(block.get(), s.data(), s.size());
  return block;
}

void FuzzRequest(std::string_view bytes, size_t piece, uint32_t header_limit) {
  RequestParser p(header_limit);
  p.body_limit(1 << 20);
  std::string pending;
  char scratch[512];
  size_t next = 0;
  while (!p.is_done()) {
    if (next < bytes.size()) {
      pending.append(bytes.substr(next, piece));
      next += piece;
    }
    boost::beast::error_code ec;
    size_t used = 0;
    if (!p.is_header_done()) {
      const std::unique_ptr<char[]> exact = Exact(pending);
      used = p.PutHeader(boost::asio::buffer(exact.get(), pending.size()), ec);
      Check(!ec || p.header_bytes() > 0 || used == 0);
      if (!ec) (void)CheckFraming(p.get(), p.chunked());
    } else {
      p.get().body().data = scratch;
      p.get().body().size = sizeof scratch;
      const std::unique_ptr<char[]> exact = Exact(pending);
      used = p.put(boost::asio::buffer(exact.get(), pending.size()), ec);
    }
    Check(used <= pending.size());
    pending.erase(0, used);
    if (ec == boost::beast::http::error::need_buffer) continue;
    if (ec == boost::beast::http::error::need_more && next < bytes.size()) continue;
    if (ec) return;
    if (used == 0 && next >= bytes.size()) return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  if (data[0] % 2 == 0) {
    FuzzTarget(rest);
  } else {
    // The second byte picks the piece size and a small header limit, so
    // short inputs reach the limits.
    FuzzRequest(rest, 1 + data[1] % 64, 64 + 16u * data[1]);
  }
  return 0;
}
