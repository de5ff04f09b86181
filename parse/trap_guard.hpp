#pragma once
/// Spider-trap guards: cheap structural limits on a URL that stop infinite URL spaces (session
/// ids growing the path, relative-link loops repeating segments, faceted search piling up query
/// parameters). A limit of 0 disables that check. Pure and thread-safe.
///
/// Calendars and other infinite *sequences* keep every URL small and are not caught here; they
/// are bounded by the crawl's depth limit and its pages-per-host limit.
#include <cstddef>
#include <string_view>

#include "parse/url.hpp"

namespace crawld::parse {

struct trap_limits {
  std::size_t max_url_length = 2048;  ///< octets of the normalized URL
  int max_path_segments = 64;
  int max_segment_repeats = 3;        ///< occurrences of one non-empty segment value in a path
  int max_query_params = 32;          ///< '&'- or ';'-separated parameters
};

enum class trap_verdict { ok, url_too_long, too_many_segments, repeated_segment, too_many_params };
const char* to_string(trap_verdict v);

/// `normalized` is `normalize(u)` (passed in because callers already have it).
trap_verdict check_trap(const url& u, std::string_view normalized, const trap_limits& limits);

}  // namespace crawld::parse
