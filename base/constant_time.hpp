#pragma once
/// Comparison of secrets (bearer tokens, the cluster secret, member tokens) whose running time
/// depends only on the two lengths, never on where they first differ. Thread-safe.
#include <algorithm>
#include <cstddef>
#include <string_view>

namespace crawld {

inline bool constant_time_equal(std::string_view a, std::string_view b) {
  const std::size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const auto y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

}  // namespace crawld
