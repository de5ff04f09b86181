#pragma once
/// Mirrors a crawl store to a directory tree that a browser can open offline (like `wget -k -E`).
///
/// File names (`mirror_path`), relative to the output directory:
///   `http://a.test/x/p.html`            -> `a.test/x/p.html`
///   `http://a.test:8080/x/`             -> `a.test_8080/x/index.html`   (port only when not default)
///   `http://a.test/p.html?a=1&b=2`      -> `a.test/p@a=1&b=2.html`      (query before the extension)
///   `http://a.test/page` (HTML)         -> `a.test/page.html`           (".html" added to HTML)
///   `http://a.test/s.php?x=1` (HTML)    -> `a.test/s.php@x=1.html`
/// Within a segment, escapes of unreserved characters are decoded; every other escape stays as
/// the literal text `%XX`, and bytes that are unsafe in a file name on Linux or Windows (controls,
/// DEL, non-ASCII, `\ : * ? " < > |`, and `@`, which marks the query) are written as `%XX`. A
/// segment that is `.` or `..` becomes `%2E` / `%2E%2E`, an empty one (`a//b`) becomes `@`, and
/// a file name longer than 200 bytes keeps 160 bytes, then `~` and 16 hex digits of a hash of the
/// whole name, then the extension. So a path never leaves the output directory, and distinct
/// normalized URLs give distinct names except where they differ only by an escape of a character
/// that is written as is (`a%21` vs `a!`), by http vs https, or `dir/` vs `dir/index.html`; such
/// collisions are detected by `write_mirror` (the first URL in key order wins).
///
/// Pure functions are thread-safe; `write_mirror` only reads the store.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "storage/store.hpp"

namespace crawld::storage {

/// The relative file path of `normalized_url` in a mirror (see above); `html` adds ".html" to a
/// name that does not end in ".html"/".htm". "" when the URL is not an absolute http(s) URL.
std::string mirror_path(std::string_view normalized_url, bool html = false);

/// The relative URL (percent-encoded, '/'-separated) that leads from the mirrored file `from` to
/// the mirrored file `to`, both as returned by `mirror_path`: e.g. "../s3/p45.html".
std::string relative_link(std::string_view from, std::string_view to);

struct mirror_options {
  std::string out_dir;        ///< created if absent
  bool convert_links = false; ///< rewrite links in HTML pages to the mirrored files (wget -k)
};

struct mirror_summary {
  std::uint64_t files = 0;        ///< files written
  std::uint64_t bytes = 0;        ///< bytes written (after link conversion)
  std::uint64_t redirects = 0;    ///< 3xx records with a location, followed by converted links
  std::uint64_t links_converted = 0;  ///< attribute values rewritten to a relative file path
  std::uint64_t links_absolute = 0;   ///< relative values made absolute (target not mirrored)
  /// Pages not written, by reason: "redirect" (3xx with a location), "status" (other non-200),
  /// "no_body", "bad_url" (not http(s)), "path_collision" (another URL maps to the same file),
  /// "write_error" (see `errors`).
  std::map<std::string, std::uint64_t> skipped;
  /// One line per file that could not be written ("cannot write 'a.test/x': Not a directory").
  std::vector<std::string> errors;
};

/// Writes every stored page with status 200 and a body to `o.out_dir`/`mirror_path(url, html)`,
/// creating directories, never writing through a symlink (a symlinked directory or file on the
/// way is a per-file error). With `convert_links`, in HTML pages the values of `href`/`src`
/// (a, area, link, img, script, iframe, frame, embed, source, audio, video, track, input) and
/// form `action` are rewritten: a target that was mirrored (directly or through stored
/// redirects) becomes a relative path to its file, fragment kept; a relative target that was not
/// becomes absolute; and the first `<base>`'s href attribute is removed so relative links work
/// offline. Only those attribute values (and the base href) change; every other byte is kept.
/// Per-file errors are collected in the summary; the result is an error only when the store
/// cannot be read or the output directory cannot be created.
result<mirror_summary> write_mirror(const store& st, const mirror_options& o);

/// The link conversion of `write_mirror` on one document: `page_url` is its normalized URL,
/// `self` its mirror path, `target_path` maps a normalized URL to its mirror path ("" when not
/// mirrored). Counts go to `converted` / `absolutized` when given.
std::string convert_links(std::string_view html, std::string_view page_url, std::string_view self,
                          const std::function<std::string(const std::string&)>& target_path,
                          std::uint64_t* converted = nullptr, std::uint64_t* absolutized = nullptr);

}  // namespace crawld::storage
