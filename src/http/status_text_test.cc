// Issue 12 "one source of truth": the HTTP status texts (status line and JSON
// error code) come from one table, the route names from one table.
#include "http/status_text.h"

#include <gtest/gtest.h>

#include <set>
#include <string_view>

#include "http/handlers.h"

namespace aquasense::http {
namespace {

TEST(StatusText, ReasonPhraseAndErrorCodeComeFromOneRow) {
  EXPECT_EQ(ReasonPhrase(404), "Not Found");
  EXPECT_EQ(ErrorCodeFor(404), "not_found");
  EXPECT_EQ(ReasonPhrase(413), "Content Too Large");
  EXPECT_EQ(ErrorCodeFor(413), "payload_too_large");
  EXPECT_EQ(ReasonPhrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(ErrorCodeFor(431), "header_too_large");
  EXPECT_EQ(ReasonPhrase(503), "Service Unavailable");
  EXPECT_EQ(ErrorCodeFor(503), "unavailable");
  EXPECT_EQ(ReasonPhrase(204), "No Content");
}

TEST(StatusText, AnUnknownStatusReadsAs500AndASuccessHasNoErrorCode) {
  EXPECT_EQ(ReasonPhrase(418), "Internal Server Error");
  EXPECT_EQ(ErrorCodeFor(418), "internal");
  EXPECT_EQ(ErrorCodeFor(500), "internal");
  EXPECT_EQ(ErrorCodeFor(200), "internal");
}

TEST(StatusText, EveryErrorRowHasAnErrorCodeAndNoStatusIsListedTwice) {
  for (size_t i = 0; i + 1 < kStatusTexts.size(); ++i) {
    const StatusText& t = kStatusTexts[i];
    EXPECT_FALSE(t.reason.empty()) << t.status;
    EXPECT_EQ(t.status >= 400, !t.error_code.empty()) << t.status;
    for (size_t j = i + 1; j + 1 < kStatusTexts.size(); ++j) {
      EXPECT_NE(t.status, kStatusTexts[j].status);
    }
  }
}

TEST(RouteNames, EveryRouteHasItsOwnNameAndUnknownIsUnknown) {
  EXPECT_EQ(RouteName(Route::kHealth), "health");
  EXPECT_EQ(RouteName(Route::kSensorMonths), "sensor_months");
  EXPECT_EQ(RouteName(Route::kDashboard), "dashboard");
  EXPECT_EQ(RouteName(Route::kUnknown), "unknown");
  std::set<std::string_view> names;
  for (int r = 0; r < kRouteCount; ++r) names.insert(RouteName(static_cast<Route>(r)));
  EXPECT_EQ(names.size(), static_cast<size_t>(kRouteCount));
  EXPECT_EQ(names.count(""), 0u);
}

}  // namespace
}  // namespace aquasense::http
