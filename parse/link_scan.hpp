#pragma once
/// Link extraction without a tree: the fast path in front of the gumbo reference (parse/links.hpp).
///
/// `scan_links` walks the bytes once as the HTML tokenizer does, with the same rules as the
/// pre-scan the gumbo path runs (parse/html_scan: comments including `<!-->` and bogus comments,
/// `<!DOCTYPE>`/`<![CDATA[` to '>', `<?...>`, the raw-text and RCDATA elements script, style,
/// title, textarea, xmp, iframe, noembed, noframes, and plaintext to the end), and reads the start
/// tags that matter to links: a, area (href, rel), base (href), link (href, rel), meta (name,
/// content). Tag and attribute names are ASCII case-insensitive, attribute quoting follows the
/// tokenizer, a duplicate attribute is ignored (the first wins), and values are decoded as gumbo
/// decodes them: CR LF and CR become LF, NUL becomes U+FFFD, character references named (the full
/// HTML table, with the legacy no-semicolon names not decoded before '=' or an alphanumeric in an
/// attribute), decimal and hex (0 and out-of-range become U+FFFD, 0x80-0x9F map as windows-1252).
///
/// The gumbo path drops every other start tag before it builds its tree, so the tree is flat and
/// `<template>`, foreign content (`<svg>`, `<math>`), tables and formatting-element recovery cannot
/// change which of these elements exist: the result is the same by construction. What the scan does
/// not model exactly it reports as "unsure" (nullopt), and the caller falls back to gumbo:
///   - an attribute value it reads holding bytes gumbo would replace (invalid UTF-8, C0/C1 control
///     characters other than tab/LF/FF/CR, Unicode noncharacters);
///   - a numeric character reference too long to be sure of gumbo's (overflowing) arithmetic.
/// Pure and thread-safe.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "parse/links.hpp"

namespace crawld::parse {

/// The raw links of `html` as gumbo would find them, or nullopt when unsure (see above).
std::optional<raw_links> scan_raw_links(std::string_view html);

/// The fast path alone: the same page_links extract_links gives, or nullopt when unsure.
std::optional<page_links> scan_links(std::string_view html, const url& page_url);

/// Which path produced a result of `extract_links_fast`.
enum class link_path { fast, gumbo_fallback, gumbo_forced };

/// The fast path first, gumbo (extract_links) when it is unsure or when `force_gumbo`. Counts
/// every call in the process-wide counters below. Thread-safe.
page_links extract_links_fast(std::string_view html, const url& page_url, bool force_gumbo = false,
                              link_path* path = nullptr);

/// Process-wide counts of extract_links_fast calls by path (relaxed atomics; for reports).
struct link_scan_counts {
  std::uint64_t fast = 0;
  std::uint64_t fallback = 0;  ///< unsure: gumbo parsed the page
  std::uint64_t forced = 0;    ///< force_gumbo
};
link_scan_counts link_scan_stats();

/// The differential check of the fast path against gumbo on one document.
struct links_comparison {
  bool unsure = false;     ///< the fast path declined (agree stays true: gumbo would be used)
  bool agree = true;       ///< same page_links, every field
  std::string difference;  ///< when !agree: the first difference, one line
};
/// Runs both paths on `html` fetched from `page_url` and compares their results. For tests and
/// fuzzers (tests/fuzz): a disagreement is a bug in the fast path. Never throws.
links_comparison links_agree(std::string_view html, const url& page_url);

}  // namespace crawld::parse
