// FileReader: an ObjectReader over an open file descriptor (owned, closed by
// the reader). The local object store's objects and the pipeline's input
// files are both read through it.
#pragma once

#include <cstdint>

#include "storage/object_store.h"

namespace aquasense::storage {

class FileReader final : public ObjectReader {
 public:
  FileReader(int fd, uint64_t size) : fd_(fd), size_(size) {}
  ~FileReader() override;
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;
  Result<size_t> Read(char* buf, size_t n) override;
  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) override;
  uint64_t size() const override { return size_; }

 private:
  int fd_;
  uint64_t size_;
};

}  // namespace aquasense::storage
