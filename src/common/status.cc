#include "common/status.h"

#include <array>
#include <cstddef>

#include "common/enum_names.h"

namespace aquasense {

namespace {

// Indexed by Code: keep in the order of the enum.
constexpr std::array<const char*, 8> kCodeNames = {
    "ok",          "invalid_argument", "not_found", "already_exists", "failed_precondition",
    "unavailable", "internal",         "aborted"};
static_assert(kCodeNames.size() == static_cast<std::size_t>(Code::kAborted) + 1);

}  // namespace

const char* CodeName(Code code) { return EnumName(code, kCodeNames, "unknown"); }

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(CodeName(code_)) + ": " + message_;
}

}  // namespace aquasense
