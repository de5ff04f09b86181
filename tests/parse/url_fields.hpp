#pragma once
// Test helpers: which field two URLs differ in, and the property of parse/url.hpp that the
// normalized struct is what re-parsing the normalized string gives.
#include <string>

#include "parse/url.hpp"

namespace crawld::parse::tests {

/// "" when `a == b`, else the first differing field and both values.
inline std::string url_difference(const url& a, const url& b) {
  auto field = [](const char* name, const std::string& x, const std::string& y) {
    return std::string(name) + ": '" + x + "' vs '" + y + "'";
  };
  auto flag = [](bool v) { return std::string(v ? "true" : "false"); };
  if (a.scheme != b.scheme) return field("scheme", a.scheme, b.scheme);
  if (a.username != b.username) return field("username", a.username, b.username);
  if (a.password != b.password) return field("password", a.password, b.password);
  if (a.host != b.host) return field("host", a.host, b.host);
  if (a.has_host != b.has_host) return field("has_host", flag(a.has_host), flag(b.has_host));
  if (a.port != b.port) return field("port", std::to_string(a.port), std::to_string(b.port));
  if (a.path != b.path) return field("path", a.path, b.path);
  if (a.opaque_path != b.opaque_path)
    return field("opaque_path", flag(a.opaque_path), flag(b.opaque_path));
  if (a.has_query != b.has_query) return field("has_query", flag(a.has_query), flag(b.has_query));
  if (a.query != b.query) return field("query", a.query, b.query);
  if (a.has_fragment != b.has_fragment)
    return field("has_fragment", flag(a.has_fragment), flag(b.has_fragment));
  if (a.fragment != b.fragment) return field("fragment", a.fragment, b.fragment);
  return a == b ? "" : "operator== disagrees with the fields";
}

/// "" when `parse_url(normalize(u))` is exactly `normalized(u)` and its href is `normalize(u)`.
inline std::string normalized_reparse_difference(const url& u) {
  const std::string n = normalize(u);
  const url s = normalized(u);
  if (s.href() != n) return "normalized(u).href() '" + s.href() + "' != normalize(u) '" + n + "'";
  auto again = parse_url(n);
  if (!again) return "normalize(u) '" + n + "' does not parse";
  std::string d = url_difference(s, *again);
  return d.empty() ? d : "normalized vs parse_url('" + n + "'): " + d;
}

}  // namespace crawld::parse::tests
