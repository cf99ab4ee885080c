// The dashboard (SPEC §10): its page, script and styles, and the charting
// library (Debian's libjs-dygraphs), embedded in the binary at build time
// (src/http/dashboard/embed.cmake), each also gzip-compressed. The browser
// needs no network: everything the page loads comes from these.
//
//   Response r = AssetResponse("/", "gzip, deflate");   // index.html, gzip
//   Response r = AssetResponse("/dashboard/app.js", "");
//
// Pure, thread-safe (the bytes are constant).
#pragma once

#include <cstddef>
#include <string_view>

#include "http/handlers.h"

namespace aquasense::http {

struct Asset {
  std::string_view name;  // "index.html", "app.js", ...
  std::string_view content_type;
  std::string_view body;
  std::string_view gzip;  // the same bytes, gzip -9
};

// "/" is index.html, "/dashboard/NAME" is NAME; nullptr for anything else.
const Asset* FindAsset(std::string_view path);

// 200 with the asset (gzip when `accept_encoding` lists it), or 404.
Response AssetResponse(std::string_view path, std::string_view accept_encoding);

// Every embedded asset (generated).
extern const Asset kDashboardAssets[];
extern const size_t kDashboardAssetCount;

}  // namespace aquasense::http
