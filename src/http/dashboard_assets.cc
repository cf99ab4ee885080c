#include "http/dashboard_assets.h"

namespace aquasense::http {

const Asset* FindAsset(std::string_view path) {
  std::string_view name;
  if (path == "/") {
    name = "index.html";
  } else if (path.starts_with("/dashboard/")) {
    name = path.substr(11);
  } else {
    return nullptr;
  }
  for (size_t i = 0; i < kDashboardAssetCount; ++i) {
    if (kDashboardAssets[i].name == name) return &kDashboardAssets[i];
  }
  return nullptr;
}

Response AssetResponse(std::string_view path, std::string_view accept_encoding) {
  const Asset* a = FindAsset(path);
  if (a == nullptr) return NotFoundRoute(path);
  Response r;
  r.content_type = a->content_type;
  // The page is small and changes with the binary: revalidate it; the rest
  // is named by the page and may be cached for a while.
  r.cache_control = a->name == "index.html" ? "no-cache" : "max-age=3600";
  if (accept_encoding.find("gzip") != std::string_view::npos) {
    r.body.assign(a->gzip);
    r.content_encoding = "gzip";
  } else {
    r.body.assign(a->body);
  }
  return r;
}

}  // namespace aquasense::http
