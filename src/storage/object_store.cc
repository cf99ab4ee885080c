#include "storage/object_store.h"

namespace aquasense::storage {

bool ValidObjectKey(std::string_view key) {
  if (key.empty() || key.front() == '/' || key.back() == '/') return false;
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    const std::string_view part = key.substr(start, end - start);
    if (part.empty() || part == "." || part == ".." || part == ".tmp") return false;
    start = end + 1;
  }
  return key.find('\0') == std::string_view::npos;
}

Result<std::string> ObjectStore::ReadAll(std::string_view key) {
  auto reader = Open(key);
  if (!reader.ok()) return reader.status();
  std::string out;
  out.resize((*reader)->size());
  size_t done = 0;
  while (true) {
    if (done == out.size()) out.resize(out.size() * 2 + 4096);
    auto n = (*reader)->Read(out.data() + done, out.size() - done);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    done += *n;
  }
  out.resize(done);
  return out;
}

Status ObjectStore::WriteAll(std::string_view key, std::string_view bytes) {
  auto writer = NewWriter(key);
  if (!writer.ok()) return writer.status();
  AQ_RETURN_IF_ERROR((*writer)->Append(bytes));
  return (*writer)->Commit();
}

Status ObjectStore::CommitAll(std::span<ObjectWriter* const> writers, bool) {
  for (ObjectWriter* w : writers) AQ_RETURN_IF_ERROR(w->Commit());
  return Status::Ok();
}

}  // namespace aquasense::storage
