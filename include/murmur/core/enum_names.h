// Name <-> value tables for the small enums that appear in configs (weight schemes, codecs).
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <utility>

#include "murmur/core/check.h"

namespace murmur {

template <typename E, size_t N>
using EnumNames = std::array<std::pair<E, std::string_view>, N>;

// The value named `name`; a ConfigError naming `key`, the `kind` and the allowed names otherwise.
template <typename E, size_t N>
E ParseEnum(const EnumNames<E, N>& table, std::string_view name, const std::string& key,
            const char* kind) {
  std::string allowed;
  for (const auto& [value, n] : table) {
    if (n == name) return value;
    allowed += (allowed.empty() ? "" : ", ") + std::string(n);
  }
  MURMUR_FAIL(ConfigError, key, ": unknown ", kind, " '", name, "'; allowed: ", allowed);
}

template <typename E, size_t N>
std::string_view EnumName(const EnumNames<E, N>& table, E value) {
  for (const auto& [v, n] : table)
    if (v == value) return n;
  return "?";
}

}  // namespace murmur
