#pragma once
/// A deterministic synthetic multi-host web, and the exact set of URLs a correct crawl fetches.
///
/// Host i (0-based) is http://<first_address + i>:<port>/ (127.0.0.10, 127.0.0.11, ...). Every
/// page is a function of (seed, host, path): the same options always give the same web. Pages are
/// 5-30 KB of HTML and link with relative, "../", fragment, absolute, cross-host, percent-encoded
/// and upper-case-host forms; some pages carry `<base href>`, `rel=nofollow` links,
/// `<meta name=robots content=nofollow>`, `rel=canonical`; links lead to 404s, 301/302 redirects
/// (including a chain and one leaving the site), non-HTML files, a robots.txt-disallowed area, and
/// an out-of-site loopback host that is never served. Each host serves /robots.txt and
/// /sitemap.xml.
///
/// URL layout of each host (k is a page index in [0, pages)):
///   /                      page 0 (index); page k links to pages 2k+1 and 2k+2 (a tree, so every
///   /s{k%16}/p{k}.html     page is reachable from the index) plus random pages and other hosts
///   /s{..}/p{k}.html?q=..  a distinct small leaf page (any query)
///   /missing/{k}.html      404                  /files/doc{k}.pdf   application/pdf, no links
///   /img/{k}.png           image/png            /private/{k}.html   leaf, disallowed by robots
///   /r/301/{k}, /r/302/{k} redirect to page k   /r/out/{k}          302 to the off-site host
///   /r/chain/3/{k} -> /r/chain/2/{k} -> /r/chain/1/{k} -> page k
///   /hidden/{k}.html       leaf, linked only with rel=nofollow
///   /meta-hidden/{k}.html  leaf, linked only from <meta name=robots content=nofollow> pages
///   /robots.txt, /sitemap.xml (not linked: not in `expected`); anything else is a 404.
/// `serve` and `describe` ignore the query except on pages.
///
/// The model knows every link's target in normalized form by construction (it never parses its
/// own HTML), so `expected` is an independent oracle for crawl tests. Pure and thread-safe.
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crawld::testsite {

struct site_options {
  int hosts = 4;
  int pages = 500;                       ///< HTML pages per host (besides the special endpoints)
  std::string first_address = "127.0.0.10";
  std::uint16_t port = 8080;             ///< the same port on every host address
  std::uint64_t seed = 1;
};

struct http_response {
  int status = 200;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra headers (Location, ...)
  std::string body;
};

/// The loopback address the site links to but never serves (out of scope unless admitted).
inline constexpr const char* off_site_address = "127.0.0.250";

/// Flags of a link in the model.
enum link_flag : unsigned {
  link_nofollow = 1u,   ///< carries rel="nofollow"
  link_via_base = 2u,   ///< relative href resolved against the page's <base href>
  link_not_http = 4u,   ///< mailto: / javascript: (no target)
};

/// One `<a href>` of a page, as the model built it.
struct page_link {
  std::string href;    ///< attribute value as a parser sees it (before HTML escaping)
  std::string target;  ///< normalized absolute URL; "" when link_not_http
  unsigned flags = 0;
};

/// What the model knows about one request target on one host (the basis of `serve`).
struct resource {
  int status = 404;
  std::string content_type = "text/html; charset=utf-8";
  std::string location;            ///< redirects: Location header as sent
  std::string location_target;     ///< redirects: normalized absolute target
  bool html = false;               ///< a 200 HTML page (links apply)
  bool meta_nofollow = false;      ///< page carries <meta name=robots content=nofollow>
  std::string base_href;           ///< page's <base href>, "" when none
  std::string canonical;           ///< normalized <link rel=canonical> target, "" when none
  std::vector<page_link> links;    ///< `<a>` links in document order
};

struct expect_options {
  std::vector<std::string> seeds;          ///< seed URLs (normalized)
  std::vector<std::string> extra_hosts;    ///< hosts admitted besides the seeds' (like --allow-domain)
  int max_depth = -1;                      ///< -1 unlimited; redirects do not add depth
  bool obey_robots = false;                ///< when true, robots.txt-disallowed URLs are excluded
};

class site {
 public:
  explicit site(site_options opts);

  const site_options& opts() const { return opts_; }
  /// "127.0.0.10" for host 0.
  std::string address(int host) const;
  /// "http://127.0.0.10:8080" for host 0 (no trailing slash).
  std::string origin(int host) const;
  /// Host index for an address, -1 if not one of the site's.
  int host_index(std::string_view address) const;
  /// Changes the port after the servers bound (port 0 asks the OS for one).
  void set_port(std::uint16_t port) { opts_.port = port; }

  /// The response for GET `target` (path and query, as on the request line, percent-decoding of
  /// unreserved characters applied as a server would) on host `host`.
  http_response serve(int host, std::string_view target) const;

  /// The model of `target` (path and query, already percent-decoded as `serve` does) on `host`.
  resource describe(int host, std::string_view target) const;
  /// Path of HTML page `page` (0 = "/", else "/s{page%16}/p{page}.html").
  static std::string page_path(int page);

  /// The normalized URLs a correct crawl fetches (every URL it must request exactly once).
  std::set<std::string> expected(const expect_options& e) const;

 private:
  void build_page(int host, int page, resource& res) const;
  site_options opts_;
};

}  // namespace crawld::testsite
