#include "http/server.h"

#include <gtest/gtest.h>

#include "http/log.h"

namespace aquasense::http {
namespace {

TEST(ConnectionCap, L7_CappedByTheOpenFileLimitLessAReserve) {
  EXPECT_EQ(ConnectionCap(10000, 128), 96u);    // 32 kept
  EXPECT_EQ(ConnectionCap(10000, 1024), 768u);  // a quarter kept
  EXPECT_EQ(ConnectionCap(10000, 1u << 20), 10000u);
  EXPECT_EQ(ConnectionCap(50, 1024), 50u);
  EXPECT_EQ(ConnectionCap(10000, 16), 1u);  // never 0
}

TEST(LogThrottle, L7_RepeatedFailuresLogOneLinePerPeriod) {
  LogThrottle t(std::chrono::seconds(10));
  const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  ASSERT_TRUE(t.Next("accept failed", t0));
  int logged = 0;
  // 20 failures a second for 25 s.
  for (int i = 1; i <= 500; ++i) {
    if (auto line = t.Next("accept failed", t0 + std::chrono::milliseconds(50 * i))) {
      ++logged;
      if (logged == 1) {
        EXPECT_EQ(*line, "accept failed (and 199 more since the last such line)");
      }
    }
  }
  EXPECT_EQ(logged, 2);  // at 10 s and 20 s
}

TEST(ServerOptions, H3_HeaderLimitBeyondWhatTheParserHoldsIsRefused) {
  for (uint32_t limit : {kMaxHeaderLimit + 1, 100000u, 512u}) {
    ServerOptions o;
    o.port = 0;
    o.header_limit = limit;
    Server s(o, {});
    Status st = s.Listen();
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << limit;
  }
}

}  // namespace
}  // namespace aquasense::http
