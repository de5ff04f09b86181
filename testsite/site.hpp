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
///
/// Politeness hosts (opt-in: `site_options::politeness_hosts`; off, the web is byte-identical to
/// a site without them). Hosts `hosts`, `hosts + 1`, ... (the next addresses) get one `host_kind`
/// each, in the order of `politeness_kinds`; `host_of(kind)` gives the index (with the default
/// 4 hosts: 127.0.0.14 crawl_delay ... 127.0.0.24 dead, 127.0.0.25 silent). Each served one has
///   /                     index: links /pages/{k}.html (1 <= k < politeness_pages), /private/0.html
///                         and the host's endpoint 0 (below); /pages/{k}.html links /, the next
///                         page and endpoint k. Pages are 2-5 KB of HTML; the query is ignored.
///   /private/{k}.html     leaf (k < politeness_pages)
///   /robots.txt           "User-agent: *\nDisallow: /private/\n", except as listed per kind.
/// and per kind (k < politeness_pages, attempt = how many times the server has now seen this exact
/// target on this host, counting this request; see `server`):
///   crawl_delay           robots.txt adds "Crawl-delay: 1"
///   crawl_delay_decimal   robots.txt adds "Crawl-delay: 0.3"
///   slow_down             /slow-down/{k}.html: attempt 1 -> 429 + "Retry-After: 1"; then a 200 leaf
///   unavailable           /unavailable/{k}.html: attempt 1 -> 503 + Retry-After as an HTTP-date
///                         2 s after `now_unix` (the server passes now rounded up to the second,
///                         so the wait is 2-3 s); then a 200 leaf
///   flaky                 /flaky/{k}.html: attempts 1 and 2 -> 503 (no Retry-After); then a 200 leaf
///   robots_503            /robots.txt -> 503 for the first `robots_unavailable_requests` requests
///                         (-1: always), then the usual robots.txt
///   robots_500            /robots.txt -> 500, always
///   robots_redirect       /robots.txt -> 301 /real-robots.txt (which disallows /private/)
///   robots_redirect_chain /robots.txt -> 301 /robots-hop/1.txt -> ... -> /robots-hop/5.txt
///                         -> /real-robots.txt: 6 redirects, one more than RFC 9309's minimum 5
///   calendar              a crawler trap: the index also links /calendar/2024/01/; month page
///                         /calendar/{year}/{mm}/ (year 1..999999999, mm 01..12) links the previous
///                         and next month forever, / and day pages /calendar/{year}/{mm}/{01,15}/,
///                         which link their month. Days 01-28 are served.
///   dead                  never served: the server binds the address without listening, so a
///                         connection is refused. Linked from the normal hosts' index pages.
///   silent                only with `silent_host`: the server listens on it but never accepts nor
///                         reads, so connections sit in the backlog and every request times out.
/// When the flag is on, each normal host's index page "/" also links (absolute form, appended after
/// its usual links) the index "/" of every politeness host, including dead and silent. Nothing else
/// on the normal hosts changes, so a crawl that does not admit the politeness hosts expects the same
/// URLs as without the flag. `write_static` exports the normal hosts only.
///
/// What `expected` assumes for politeness hosts:
///   - 429/503/flaky URLs are expected once (the crawler requests them until they succeed; count
///     the repeats with `server::attempts`). Their final pages are leaves.
///   - Trap URLs (`is_trap`: /calendar/... on the calendar host) are never in the set, and the
///     oracle does not follow links from them; a test removes them from the crawl with `is_trap`.
///   - dead and silent host URLs that are linked and in scope are expected (requested, failing).
///   - With obey_robots (RFC 9309): 4xx or more than `max_robots_redirects` redirects -> allow all;
///     5xx or unreachable -> disallow all. So: robots_500, dead and silent hosts are excluded
///     entirely; robots_503 too unless `robots_unavailable_requests` >= 0 and the crawler asks
///     `robots_attempts` > that many times; robots_redirect disallows /private/ when
///     max_robots_redirects >= 1; robots_redirect_chain disallows /private/ only when
///     max_robots_redirects >= 6, else it allows all (/private/0.html is expected).
///     Crawl-delay changes timing only, never the set.
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
  /// Opt-in: appends the politeness hosts after the normal ones (see above). Off by default.
  bool politeness_hosts = false;
  int politeness_pages = 8;              ///< pages per politeness host (index included), >= 1
  /// robots_503 host: /robots.txt answers 503 to this many requests, then 200; -1: always 503.
  int robots_unavailable_requests = -1;
  /// With politeness_hosts: adds the silent host (requests to it only time out). Off by default.
  bool silent_host = false;
};

/// What a host index of the site is. `none`: not one of its hosts.
enum class host_kind {
  none, normal, crawl_delay, crawl_delay_decimal, slow_down, unavailable, flaky, robots_503,
  robots_500, robots_redirect, robots_redirect_chain, calendar, dead, silent
};

/// The politeness host kinds in address order after the normal hosts (silent only when enabled).
inline constexpr host_kind politeness_kinds[] = {
    host_kind::crawl_delay, host_kind::crawl_delay_decimal, host_kind::slow_down,
    host_kind::unavailable, host_kind::flaky, host_kind::robots_503, host_kind::robots_500,
    host_kind::robots_redirect, host_kind::robots_redirect_chain, host_kind::calendar,
    host_kind::dead, host_kind::silent};

/// "crawl_delay", ... (for listings and test messages).
const char* host_kind_name(host_kind k);

/// Redirects from /robots.txt to /real-robots.txt on the robots_redirect_chain host.
inline constexpr int robots_chain_redirects = 6;

struct http_response {
  int status = 200;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra headers (Location, ...)
  std::string body;
};

/// Links on each /wide/N page (served by every normal host, linked from nowhere): /wide/N links
/// /wide/(N*wide_links+1) .. /wide/(N*wide_links+wide_links), so a crawl from /wide/0 discovers
/// wide_links new URLs per page fetched (frontier benchmarks; `site::serve` only, not the model).
inline constexpr std::uint64_t wide_links = 1000;

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
  int retry_after = -1;            ///< seconds for a Retry-After header; -1: none
  bool retry_after_date = false;   ///< send Retry-After as the HTTP-date now + retry_after
};

struct expect_options {
  std::vector<std::string> seeds;          ///< seed URLs (normalized)
  std::vector<std::string> extra_hosts;    ///< hosts admitted besides the seeds' (like --allow-domain)
  int max_depth = -1;                      ///< -1 unlimited; redirects do not add depth
  bool obey_robots = false;                ///< when true, robots.txt-disallowed URLs are excluded
  /// robots_503 host: how many times the crawler requests /robots.txt before giving up on it.
  int robots_attempts = 1;
  /// Redirects the crawler follows for robots.txt before treating it as unavailable (allow all).
  int max_robots_redirects = 5;
};

class site {
 public:
  explicit site(site_options opts);

  const site_options& opts() const { return opts_; }
  /// "127.0.0.10" for host 0.
  std::string address(int host) const;
  /// "http://127.0.0.10:8080" for host 0 (no trailing slash).
  std::string origin(int host) const;
  /// Host index for an address (normal or politeness, served or not), -1 if not one of the site's.
  int host_index(std::string_view address) const;
  /// Number of host indices: `hosts` plus the politeness hosts when enabled.
  int host_count() const;
  /// The kind of host index `host`; `none` outside [0, host_count()).
  host_kind kind(int host) const;
  /// Index of the politeness host of `k`, -1 when the site has none.
  int host_of(host_kind k) const;
  /// True when the server answers HTTP on `host` (false for dead, silent and unknown hosts).
  bool served(int host) const;
  /// True for a crawler-trap URL (normalized absolute URL): /calendar/... on the calendar host.
  bool is_trap(std::string_view url) const;
  /// True for a robots file path a crawler fetches for robots.txt: /robots.txt, /real-robots.txt,
  /// /robots-hop/... (query ignored).
  static bool is_robots_path(std::string_view target);
  /// Changes the port after the servers bound (port 0 asks the OS for one).
  void set_port(std::uint16_t port) { opts_.port = port; }

  /// The response for GET `target` (path and query, as on the request line, percent-decoding of
  /// unreserved characters applied as a server would) on host `host`. `attempt` (>= 1) is the
  /// number of requests for this target so far, this one included; `now_unix` (seconds since the
  /// epoch) dates Retry-After HTTP-dates. Both matter only on politeness hosts.
  http_response serve(int host, std::string_view target, int attempt = 1,
                      std::int64_t now_unix = 0) const;

  /// The model of `target` (path and query, already percent-decoded as `serve` does) on `host`
  /// at request number `attempt` of that target.
  resource describe(int host, std::string_view target, int attempt = 1) const;
  /// Path of HTML page `page` (0 = "/", else "/s{page%16}/p{page}.html").
  static std::string page_path(int page);

  /// The normalized URLs a correct crawl fetches (every URL it must request exactly once).
  std::set<std::string> expected(const expect_options& e) const;

 private:
  void build_page(int host, int page, resource& res) const;
  resource describe_politeness(int host, host_kind k, std::string_view path, int attempt) const;
  static std::string robots_body(host_kind k);
  site_options opts_;
};

}  // namespace crawld::testsite
