// FileReader: an ObjectReader over an open file descriptor (owned, closed by
// the reader). The local object store's objects and the pipeline's input
// files are both read through it.
//
//   FileReader r(::open(path, O_RDONLY | O_CLOEXEC), size);
//   auto n = r.Read(buf, sizeof buf);   // 0 at the end
//
// Thread-compatible: one thread at a time (Read moves the file offset;
// ReadAt uses pread and does not).
#pragma once

#include <cstdint>

#include "storage/object_store.h"

namespace aquasense::storage {

class FileReader final : public ObjectReader {
 public:
  // Takes ownership of `fd` (open for reading); `size` is what size()
  // reports (the caller's fstat), not a limit on what Read returns.
  FileReader(int fd, uint64_t size) : fd_(fd), size_(size) {}
  ~FileReader() override;  // closes the descriptor
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;
  // read(2), retried on EINTR: up to n bytes, 0 at end of file.
  // kUnavailable with the errno text on any other error.
  Result<size_t> Read(char* buf, size_t n) override;
  // pread(2) at `offset`, retried on EINTR; errors as Read.
  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) override;
  uint64_t size() const override { return size_; }

 private:
  int fd_;
  uint64_t size_;
};

}  // namespace aquasense::storage
