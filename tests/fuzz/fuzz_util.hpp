#pragma once
/// Helpers shared by the fuzz targets: split an input into a first line and the rest, and abort
/// with a message when a contract is broken (libFuzzer records the input as a crash).
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>

namespace crawld::fuzz {

inline std::pair<std::string_view, std::string_view> first_line(std::string_view in) {
  auto nl = in.find('\n');
  if (nl == std::string_view::npos) return {in, {}};
  return {in.substr(0, nl), in.substr(nl + 1)};
}

[[noreturn]] inline void fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "contract broken: %s [%.*s]\n", what, int(detail.size() > 300 ? 300 : detail.size()),
               detail.data());
  std::abort();
}

}  // namespace crawld::fuzz
