#pragma once
/// Link extraction from HTML with gumbo (a conforming HTML5 parser: malformed input never fails).
///
/// Extracts `a` and `area` hrefs resolved against the document's first `<base href>` (or the page
/// URL), honouring `rel=nofollow` on links and `<meta name=robots content=...nofollow/noindex>` for
/// the page, and records `<link rel=canonical>`. Only http and https links are followed.
/// Links are found as the HTML tokenizer sees them: start tags that cannot matter to links are
/// removed before gumbo builds the tree (gumbo 0.10.1 aborts on some malformed trees and is
/// quadratic in nesting depth), so tree-construction context is ignored (an `<a>` inside
/// `<select>` or `<frameset>` counts; `<style>` inside `<svg>` is raw text, as in HTML).
/// Pure and thread-safe.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parse/url.hpp"

namespace crawld::parse {

enum class skip_reason { nofollow, meta_nofollow, bad_url, unsupported_scheme };
const char* to_string(skip_reason r);

struct skipped_link {
  std::string href;  ///< the attribute value as written
  skip_reason reason;
};

struct page_links {
  /// Normalized absolute http(s) URLs to follow, in document order, without duplicates.
  std::vector<std::string> follow;
  /// Links not followed and why, in document order.
  std::vector<skipped_link> skipped;
  /// Normalized target of the first `<link rel=canonical href>`, if any and valid.
  std::optional<std::string> canonical;
  /// The base URL links were resolved against (normalized href).
  std::string base;
  bool meta_nofollow = false;
  bool meta_noindex = false;
};

/// Extracts the links of `html` fetched from `page_url`. Never throws; garbage in gives few links.
page_links extract_links(std::string_view html, const url& page_url);

}  // namespace crawld::parse
