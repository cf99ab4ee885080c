// Hashes and MACs for the notify module (OpenSSL underneath): SHA-256 for
// SigV4 and idempotency keys, HMAC-SHA256 for webhook signatures and SigV4.
//
//   std::string hex = Sha256Hex("abc");
//   std::string mac = HexEncode(HmacSha256(secret, body));
//
// Pure functions, thread-safe. No errors: OpenSSL's one-shot digests cannot
// fail on valid inputs (an impossible failure aborts).
#pragma once

#include "common/hex.h"  // HexEncode

#include <string>
#include <string_view>

namespace aquasense::notify {


// SHA-256 of `data`, raw 32 bytes / lower-case hex.
std::string Sha256(std::string_view data);
std::string Sha256Hex(std::string_view data);

// HMAC-SHA256 of `data` under `key`, raw 32 bytes.
std::string HmacSha256(std::string_view key, std::string_view data);

}  // namespace aquasense::notify
