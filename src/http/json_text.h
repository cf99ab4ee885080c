// JSON text helpers for the HTTP module's hand-written bodies: the core
// encoders (core/json_text.h, the program's one JSON string encoder) and the
// API's error body.
//
//   std::string body = ErrorBody("not_found", "no data");  // {"error":...}
//
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/json_text.h"

namespace aquasense::http {

using core::AppendJsonInt;
using core::AppendJsonNumber;
using core::AppendJsonString;

// {"error":code,"message":message}
std::string ErrorBody(std::string_view code, std::string_view message);

}  // namespace aquasense::http
