// EnumName: the text of an enum value, looked up in a table indexed by the value.
// One helper for every enum-to-text mapping (status codes, reject reasons, routes,
// channel types), so each mapping is a table that reads in one place.
//
//   constexpr std::array<std::string_view, 2> kNames = {"log", "webhook"};
//   EnumName(ChannelType::kWebhook, kNames, "?") == "webhook"
//
// A value outside the table (a cast from a stray integer) gives `fallback`.
// Pure, constexpr, thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <type_traits>

namespace aquasense {

template <typename Enum, typename Text, std::size_t N>
constexpr Text EnumName(Enum value, const std::array<Text, N>& names,
                        std::type_identity_t<Text> fallback) {
  const auto i = static_cast<std::size_t>(value);
  return i < N ? names[i] : fallback;
}

}  // namespace aquasense
