#pragma once
/// Many references parsed against one base URL (link resolution in parse/links.cpp): the base is
/// brought into the parser's working form once, where `parse_url(input, &base)` does it per call.
/// For use inside parse/; elsewhere parse_url is the interface. Thread-safe once built (const).
#include <memory>
#include <optional>
#include <string_view>

#include "parse/url.hpp"

namespace crawld::parse {

class url_resolver {
 public:
  explicit url_resolver(const url& base);
  ~url_resolver();
  url_resolver(url_resolver&&) noexcept;
  url_resolver& operator=(url_resolver&&) noexcept;

  /// Exactly `parse_url(input, &base)`.
  std::optional<url> resolve(std::string_view input) const;
  /// Exactly `normalized(*parse_url(input, &base))`, nullopt when that does not parse: what link
  /// extraction wants. Plain references take `resolve_plain`; the rest the full parse.
  std::optional<url> resolve_normalized(std::string_view input) const;
  /// The fast path of `resolve_normalized`, for an http(s) base without userinfo and the common
  /// shapes of a reference: a relative or absolute path, a query, "" or a fragment, and
  /// "//host[:port]..." or "http(s)://host[:port]..." with a lower-case host name or dotted IPv4
  /// address; in base and reference only characters the parser keeps as they are (escapes are
  /// then normalized; no spaces, controls, quotes or backslashes). nullopt means "not such a
  /// reference" (take the full parse), never "not a URL". About 5x cheaper than the full parse.
  std::optional<url> resolve_plain(std::string_view input) const;

 private:
  struct prepared;
  std::unique_ptr<const prepared> base_;
};

}  // namespace crawld::parse
