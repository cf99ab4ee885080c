// HexEncode: bytes as lowercase hexadecimal (digests, signatures).
//   HexEncode("\x01\xab") == "01ab"
// Pure, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace aquasense {

inline std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

}  // namespace aquasense
