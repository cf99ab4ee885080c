// Hashes, MACs and encodings (GNU Nettle underneath, which uses the CPU's
// SHA instructions): SHA-256 for content addresses (landing/ keys), SigV4,
// idempotency keys and token checks; HMAC-SHA256 for webhook signatures and
// SigV4; base64 for mail headers.
//
//   Sha256Hasher h;  h.Update(p, n);  std::string hex = h.Hex();
//   std::string hex = Sha256Hex("abc");
//   std::string mac = HexEncode(HmacSha256(secret, body));
//
// Nettle rather than OpenSSL: it needs no initialisation and is one small
// library, which keeps process start short (a small ingest is a few ms).
// Pure functions, thread-safe; a Sha256Hasher belongs to one thread. No errors.
#pragma once

#include <nettle/sha2.h>

#include <string>
#include <string_view>

#include "common/hex.h"  // HexEncode

namespace aquasense {

// Incremental SHA-256.
class Sha256Hasher {
 public:
  Sha256Hasher() { sha256_init(&ctx_); }
  void Update(const char* p, size_t n) {
    sha256_update(&ctx_, n, reinterpret_cast<const uint8_t*>(p));
  }
  std::string Digest();  // raw 32 bytes; once, at the end
  std::string Hex() { return HexEncode(Digest()); }

 private:
  sha256_ctx ctx_;
};

// SHA-256 of `data`, raw 32 bytes / lower-case hex.
std::string Sha256(std::string_view data);
std::string Sha256Hex(std::string_view data);

// HMAC-SHA256 of `data` under `key`, raw 32 bytes.
std::string HmacSha256(std::string_view key, std::string_view data);

// Equality of two byte strings of the same length in time independent of
// their contents (false when the lengths differ).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Standard base64 with padding.
std::string Base64(std::string_view data);

}  // namespace aquasense
