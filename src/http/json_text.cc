#include "http/json_text.h"

namespace aquasense::http {

std::string ErrorBody(std::string_view code, std::string_view message) {
  std::string out;
  out.reserve(32 + code.size() + message.size());
  out.append("{\"error\":");
  AppendJsonString(out, code);
  out.append(",\"message\":");
  AppendJsonString(out, message);
  out.push_back('}');
  return out;
}

}  // namespace aquasense::http
