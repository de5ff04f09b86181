#include "parse/trap_guard.hpp"

#include <algorithm>
#include <vector>

namespace crawld::parse {

const char* to_string(trap_verdict v) {
  switch (v) {
    case trap_verdict::ok: return "ok";
    case trap_verdict::url_too_long: return "url_too_long";
    case trap_verdict::too_many_segments: return "too_many_segments";
    case trap_verdict::repeated_segment: return "repeated_segment";
    case trap_verdict::too_many_params: return "too_many_params";
  }
  return "?";
}

trap_verdict check_trap(const url& u, std::string_view normalized, const trap_limits& limits) {
  if (limits.max_url_length > 0 && normalized.size() > limits.max_url_length)
    return trap_verdict::url_too_long;
  if (!u.opaque_path && (limits.max_path_segments > 0 || limits.max_segment_repeats > 0)) {
    std::vector<std::string_view> segments;
    std::string_view path = u.path;
    std::size_t start = path.empty() || path[0] != '/' ? 0 : 1;
    while (start <= path.size()) {
      auto end = path.find('/', start);
      if (end == std::string_view::npos)
        end = path.size();
      segments.push_back(path.substr(start, end - start));
      start = end + 1;
    }
    if (limits.max_path_segments > 0 && static_cast<int>(segments.size()) > limits.max_path_segments)
      return trap_verdict::too_many_segments;
    if (limits.max_segment_repeats > 0) {
      std::sort(segments.begin(), segments.end());
      int run = 0;
      for (std::size_t i = 0; i < segments.size(); ++i) {
        run = i > 0 && segments[i] == segments[i - 1] ? run + 1 : 1;
        if (!segments[i].empty() && run > limits.max_segment_repeats)
          return trap_verdict::repeated_segment;
      }
    }
  }
  if (limits.max_query_params > 0 && u.has_query && !u.query.empty()) {
    int params = 1 + static_cast<int>(std::count_if(u.query.begin(), u.query.end(),
                                                     [](char c) { return c == '&' || c == ';'; }));
    if (params > limits.max_query_params)
      return trap_verdict::too_many_params;
  }
  return trap_verdict::ok;
}

}  // namespace crawld::parse
