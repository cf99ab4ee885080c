#include "storage/file_reader.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace aquasense::storage {

FileReader::~FileReader() { ::close(fd_); }

Result<size_t> FileReader::Read(char* buf, size_t n) {
  while (true) {
    const ssize_t r = ::read(fd_, buf, n);
    if (r >= 0) return static_cast<size_t>(r);
    if (errno != EINTR) return Unavailable(std::string("read failed: ") + std::strerror(errno));
  }
}

Result<size_t> FileReader::ReadAt(uint64_t offset, char* buf, size_t n) {
  while (true) {
    const ssize_t r = ::pread(fd_, buf, n, static_cast<off_t>(offset));
    if (r >= 0) return static_cast<size_t>(r);
    if (errno != EINTR) return Unavailable(std::string("read failed: ") + std::strerror(errno));
  }
}

}  // namespace aquasense::storage
