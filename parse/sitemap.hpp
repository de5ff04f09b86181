#pragma once
/// Sitemap parsing per the sitemaps.org protocol: XML `<urlset>`, XML `<sitemapindex>`, plain-text
/// sitemaps (one URL per line) and any of them gzip-compressed.
///
/// There is no XML library: a small linear scanner reads the document tolerantly. It knows start,
/// end and empty-element tags (with attributes, quoted values may hold '>'), comments, CDATA
/// sections, processing instructions and `<!DOCTYPE ...>` (skipped; entities declared there are
/// not expanded), and the predefined entities `&amp; &lt; &gt; &quot; &apos;` plus `&#N;` and
/// `&#xH;` (other or malformed references are kept as written). Element names are matched on
/// their local part, ASCII case-insensitively, so `<sm:loc>` and `<LOC>` are `loc`; namespace
/// declarations are not checked. Malformed input never fails: whatever cannot be read is skipped.
/// Pure and thread-safe.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace crawld::parse {

enum class sitemap_kind {
  urlset,   ///< XML whose first element is `<urlset>`: `urls` are pages
  index,    ///< XML whose first element is `<sitemapindex>`: `urls` are child sitemaps
  text,     ///< not markup, and at least one line is an http(s) URL: `urls` are pages
  unknown,  ///< anything else (HTML, another XML vocabulary, empty, binary garbage): no `urls`
};
const char* to_string(sitemap_kind k);

struct sitemap_limits {
  /// Most bytes of (uncompressed) document examined. A longer body, or a gzip stream inflating to
  /// more, is cut here and the result is `truncated`; no more than this is ever held in memory.
  std::size_t max_bytes = 50u << 20;
  /// Most URLs returned (distinct ones; duplicates do not count). A further distinct URL stops
  /// parsing and makes the result `truncated`; exactly `max_urls` URLs is not truncation.
  std::size_t max_urls = 50'000;
};

struct sitemap {
  sitemap_kind kind = sitemap_kind::unknown;
  /// Normalized (parse::normalize) absolute http(s) URLs, in document order, without duplicates:
  /// pages for `urlset` and `text`, sitemaps for `index`. Not scope-checked: a sitemap may list
  /// URLs outside its own directory or host, and the crawl's scope check decides later.
  std::vector<std::string> urls;
  /// Entries that are not absolute http(s) URLs (relative, unparsable, other schemes, empty
  /// `<loc>`; for `text`, non-blank lines). 0 for `unknown`.
  std::size_t invalid = 0;
  /// A limit was hit: the document or its inflated stream exceeded `max_bytes`, `max_urls` was
  /// exceeded, or a gzip stream ended before its end (cut in transfer). What came before is kept;
  /// a final entry cut by the limit (a `<loc>` without its end tag, a last line without its
  /// newline) is dropped rather than returned half-written.
  bool truncated = false;
};

/// Parses a sitemap body as fetched. A body starting with the gzip magic bytes 1f 8b is inflated
/// first, whatever its name or content type says (concatenated gzip members are read in turn;
/// bytes after the last member that are not another member are ignored), streaming under
/// `limits.max_bytes` so a gzip bomb costs at most that much memory. A UTF-8 BOM and leading
/// whitespace are skipped; a document starting with '<' is read as XML, anything else as text.
///
/// In XML, only a `<loc>` that is a direct child of a `<url>` (urlset) or a `<sitemap>` (index)
/// counts; so extension elements such as `<image:image><image:loc>` inside `<url>` do not. A
/// `<loc>`'s value is its character data (entities decoded, CDATA taken verbatim, comments
/// skipped) up to the next tag, trimmed of whitespace; a `<loc>` still open at the end of the
/// document counts, unless the document was cut by `max_bytes`.
///
/// In text, each line (LF or CRLF) trimmed of whitespace is one URL; blank lines are ignored.
///
/// Never fails on content: garbage gives an `unknown` sitemap with no URLs. Fails only when the
/// body is gzip (magic bytes present) and the stream is corrupt (bad header, invalid deflate data,
/// CRC or length mismatch), with a one-line message. Linear time in the bytes examined.
result<sitemap> parse_sitemap(std::string_view body, sitemap_limits limits = {});

}  // namespace crawld::parse
