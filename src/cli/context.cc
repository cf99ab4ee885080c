#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli/context.h"
#include "cli/config.h"

namespace aquasense::cli {

Status AppContext::Open() {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Unavailable("cannot create the data directory " + data_dir + ": " + ec.message());
  std::string path = config_path;
  if (path.empty() && std::filesystem::exists(data_dir + "/aquasense.json")) path = data_dir + "/aquasense.json";
  if (!path.empty()) {
    auto cfg = LoadConfigFile(path);
    if (!cfg.ok()) return cfg.status();
    config = std::move(*cfg);
  }
  auto options = PipelineOptionsFrom(config);
  if (!options.ok()) return options.status();

  // Objects go where --store says (SPEC §9); the tables stay in SQLite in
  // the data directory until the DynamoDB MetaStore exists (docs/cloud.md).
  if (store_url.empty()) {
    objects = storage::NewLocalObjectStore(data_dir);
  } else {
    auto o = storage::OpenObjectStore(store_url, clock);
    if (!o.ok()) return o.status();
    objects = std::move(*o);
  }
  auto m = storage::OpenSqliteMetaStore(data_dir + "/aquasense.db");
  if (!m.ok()) return m.status();
  meta = std::move(*m);
  pipeline = std::make_unique<pipeline::Pipeline>(
      pipeline::Env{objects.get(), meta.get(), &clock}, std::move(*options));
  return Status::Ok();
}

int ReportError(const Status& status, int exit_code) {
  std::fprintf(stderr, "aquasense: %s\n", status.message().c_str());
  return exit_code;
}

}  // namespace aquasense::cli
