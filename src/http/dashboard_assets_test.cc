#include "http/dashboard_assets.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "http/readings.h"
#include "storage/test_dir.h"

namespace aquasense::http {
namespace {

TEST(DashboardAssets, PageScriptStylesAndChartLibraryAreEmbedded) {
  for (const char* path : {"/", "/dashboard/app.js", "/dashboard/style.css",
                           "/dashboard/dygraph.min.js", "/dashboard/dygraph.min.css"}) {
    const Asset* a = FindAsset(path);
    ASSERT_NE(a, nullptr) << path;
    EXPECT_FALSE(a->body.empty()) << path;
    // gzip magic, and smaller than the original for anything worth compressing.
    ASSERT_GE(a->gzip.size(), 2u);
    EXPECT_EQ(static_cast<unsigned char>(a->gzip[0]), 0x1f);
    EXPECT_EQ(static_cast<unsigned char>(a->gzip[1]), 0x8b);
    EXPECT_EQ(a->body.find("sourceMappingURL"), std::string_view::npos) << path;
  }
  EXPECT_NE(FindAsset("/")->body.find("<html"), std::string_view::npos);
  EXPECT_EQ(FindAsset("/dashboard/../aquasense.db"), nullptr);
  EXPECT_EQ(FindAsset("/dashboard/"), nullptr);
}

TEST(DashboardAssets, PageWeightUnder150KiBCompressed) {
  size_t total = 0;
  for (size_t i = 0; i < kDashboardAssetCount; ++i) total += kDashboardAssets[i].gzip.size();
  EXPECT_LT(total, 150u * 1024);
}

TEST(DashboardAssets, GzipOnlyWhenAccepted) {
  Response gz = AssetResponse("/", "gzip, deflate, br");
  EXPECT_EQ(gz.status, 200);
  EXPECT_EQ(gz.content_encoding, "gzip");
  EXPECT_EQ(gz.content_type, "text/html; charset=utf-8");
  Response plain = AssetResponse("/", "");
  EXPECT_TRUE(plain.content_encoding.empty());
  EXPECT_EQ(plain.body, FindAsset("/")->body);
  EXPECT_EQ(AssetResponse("/dashboard/nope.js", "gzip").status, 404);
}

TEST(InvalidRows, ReadsTheFilesInvalidCsvBounded) {
  testing::TempDir dir;
  const std::string sha(64, 'a');
  std::filesystem::create_directories(dir.path() + "/filtered/s1");
  {
    std::ofstream f(dir.path() + "/filtered/s1/" + sha + ".invalid.csv");
    f << "source,line,reason,detail,raw\nup.csv,3,bad_date,,\"2024/13/01,1,1\"\n";
  }
  auto store = storage::NewLocalObjectStore(dir.path());
  Response r = InvalidRowsResponse(sha, "sensor=s1", store.get());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, kCsvType);
  EXPECT_EQ(r.body, "source,line,reason,detail,raw\nup.csv,3,bad_date,,\"2024/13/01,1,1\"\n");
  EXPECT_EQ(InvalidRowsResponse(std::string(64, 'b'), "sensor=s1", store.get()).status, 404);
  EXPECT_EQ(InvalidRowsResponse(sha, "sensor=..", store.get()).status, 400);
  EXPECT_EQ(InvalidRowsResponse(sha, "sensor=a/b", store.get()).status, 400);
  EXPECT_EQ(InvalidRowsResponse(sha, "", store.get()).status, 400);
  EXPECT_EQ(InvalidRowsResponse("../../aquasense.db", "sensor=s1", store.get()).status, 400);
  EXPECT_EQ(InvalidRowsResponse(std::string(64, 'A'), "sensor=s1", store.get()).status, 400);

  // Larger than the bound: the first kMaxInvalidBytes, cut after a whole line.
  {
    std::ofstream f(dir.path() + "/filtered/s1/" + sha + ".invalid.csv");
    for (int i = 0; i < 20000; ++i) f << "up.csv," << i << ",bad_number,,\"x\"\n";
  }
  Response big = InvalidRowsResponse(sha, "sensor=s1", store.get());
  EXPECT_EQ(big.status, 200);
  EXPECT_LE(big.body.size(), kMaxInvalidBytes);
  EXPECT_GT(big.body.size(), kMaxInvalidBytes - 64);
  EXPECT_EQ(big.body.back(), '\n');
}

}  // namespace
}  // namespace aquasense::http
