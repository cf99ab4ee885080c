// OpenObjectStore: the backend each store URL names (see object_store.h).
#include <memory>
#include <string>

#include "common/aws/credentials.h"
#include "storage/object_store.h"
#include "storage/s3_object_store.h"

namespace aquasense::storage {

Result<std::unique_ptr<ObjectStore>> OpenObjectStore(std::string_view url, const Clock& clock) {
  if (url.empty()) return InvalidArgument("empty object store URL");
  if (url.starts_with("s3://")) {
    auto loc = ParseS3Url(url);
    if (!loc.ok()) return loc.status();
    auto http = std::make_shared<aws::HttpClient>();
    aws::Env env{aws::ProcessEnv(), http.get(), &clock};
    auto options = S3OptionsFromEnvironment(env, http);
    if (!options.ok()) return options.status();
    return NewS3ObjectStore(std::move(*loc), std::move(*options));
  }
  const size_t scheme = url.find("://");
  if (scheme != std::string_view::npos && url.substr(0, scheme) != "file")
    return InvalidArgument("unsupported store URL \"" + std::string(url) +
                           "\": use a directory or s3://BUCKET[/PREFIX]");
  std::string dir(scheme == std::string_view::npos ? url : url.substr(scheme + 3));
  return NewLocalObjectStore(std::move(dir));
}

}  // namespace aquasense::storage
