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

 private:
  struct prepared;
  std::unique_ptr<const prepared> base_;
};

}  // namespace crawld::parse
