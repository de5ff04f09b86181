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
  /// `follow` parsed, index for index: `follow_urls[i]` is exactly `*parse_url(follow[i])`
  /// (`normalized` of the resolved link), so callers need not parse the strings again.
  std::vector<url> follow_urls;
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
/// This is the gumbo path, the reference; parse/link_scan.hpp has a faster scan that agrees with it.
page_links extract_links(std::string_view html, const url& page_url);

/// What link extraction reads from a document before any URL is resolved: attribute values as the
/// HTML tokenizer decodes them (character references, CR/LF, NUL). Both the gumbo path and the
/// fast scan (parse/link_scan.hpp) fill this, and `resolve_links` turns it into `page_links`.
struct raw_link {
  std::string href;
  std::optional<std::string> rel;
};
struct raw_links {
  std::vector<raw_link> anchors;                ///< `a`/`area` with href, document order
  std::optional<std::string> base_href;         ///< href of the first `<base href>`
  std::optional<std::string> canonical_href;    ///< href of the first `<link rel=canonical href>`
  bool meta_nofollow = false;                   ///< a `<meta name=robots>` says nofollow or none
  bool meta_noindex = false;                    ///< ... noindex or none
};

/// Applies `content` of a `<meta name=... content=...>` to `raw` (only name "robots" matters).
void apply_meta(raw_links& raw, std::string_view name, std::string_view content);
/// True when the rel list `rel` holds "canonical" (ASCII case-insensitive).
bool rel_is_canonical(std::string_view rel);
/// Resolves `raw` against `page_url` (and its base href): the result extract_links returns.
page_links resolve_links(raw_links raw, const url& page_url);

}  // namespace crawld::parse
