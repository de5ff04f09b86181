#include "testsite/site.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <deque>
#include <iterator>
#include <map>
#include <optional>

namespace crawld::testsite {
namespace {

/// splitmix64: tiny, fast and identical on every platform (std distributions are not).
struct rng {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  /// Uniform-enough integer in [0, n).
  int below(int n) { return n <= 0 ? 0 : static_cast<int>(next() % static_cast<std::uint64_t>(n)); }
};

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

/// A generator that depends only on (seed, host, key, salt).
rng make_rng(std::uint64_t seed, int host, std::string_view key, std::uint64_t salt) {
  rng r{seed};
  r.state = r.next() ^ static_cast<std::uint64_t>(host);
  r.state = r.next() ^ fnv1a(key);
  r.state = r.next() ^ salt;
  return r;
}

/// Strict decimal: digits only, no leading zero (except "0"), below 10^9.
std::optional<int> parse_num(std::string_view s) {
  if (s.empty() || s.size() > 9 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

bool consume(std::string_view& s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) != prefix) return false;
  s.remove_prefix(prefix.size());
  return true;
}

bool consume_suffix(std::string_view& s, std::string_view suffix) {
  if (s.size() < suffix.size() || s.substr(s.size() - suffix.size()) != suffix) return false;
  s.remove_suffix(suffix.size());
  return true;
}

/// "/<prefix><k><suffix>" with k a page index of the site; nullopt otherwise.
std::optional<int> match_indexed(std::string_view path, std::string_view prefix,
                                 std::string_view suffix, int pages) {
  if (!consume(path, prefix) || !consume_suffix(path, suffix)) return std::nullopt;
  auto k = parse_num(path);
  if (!k || *k >= pages) return std::nullopt;
  return k;
}

bool unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Decodes %XX escapes of unreserved characters; leaves every other escape as is.
std::string decode_unreserved(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0 && unreserved(static_cast<char>(hi * 16 + lo))) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<std::string_view> split_segments(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start < s.size()) {
    std::size_t end = s.find('/', start);
    if (end == std::string_view::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

/// The shortest relative reference from directory `from_dir` ("/", "/s3/") to absolute `path`.
std::string relative_href(std::string_view from_dir, std::string_view path) {
  auto slash = path.rfind('/');
  auto from = split_segments(from_dir);
  auto to = split_segments(path.substr(0, slash + 1));
  std::string_view file = path.substr(slash + 1);
  std::size_t common = 0;
  while (common < from.size() && common < to.size() && from[common] == to[common]) ++common;
  std::string out;
  for (std::size_t i = common; i < from.size(); ++i) out += "../";
  for (std::size_t i = common; i < to.size(); ++i) {
    out += to[i];
    out += '/';
  }
  out += file;
  return out.empty() ? "./" : out;
}

/// `path` with the alphanumerics of its last segment (before any '.') percent-encoded.
std::string percent_encode_last(std::string_view path, bool lower_hex) {
  const char* digits = lower_hex ? "0123456789abcdef" : "0123456789ABCDEF";
  auto slash = path.rfind('/');
  std::string out(path.substr(0, slash + 1));
  bool before_dot = true;
  for (char c : path.substr(slash + 1)) {
    if (c == '.') before_dot = false;
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (before_dot && alnum) {
      auto u = static_cast<unsigned char>(c);
      out += '%';
      out += digits[u >> 4];
      out += digits[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

enum class form {
  absolute,
  upper_scheme,
  scheme_relative,
  root_relative,
  relative,
  dot_relative,
  percent,
  count
};

std::string dir_of(std::string_view path) { return std::string(path.substr(0, path.rfind('/') + 1)); }

/// A normalized absolute URL split into parts (no parsing of HTML: only of the model's URLs).
struct url_parts {
  std::string scheme, host;
  int port = -1;
  std::string target;  ///< path and query
};

std::optional<url_parts> split_url(std::string_view u) {
  auto sep = u.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  url_parts p;
  for (char c : u.substr(0, sep)) p.scheme += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  if (p.scheme != "http" && p.scheme != "https") return std::nullopt;
  std::string_view rest = u.substr(sep + 3);
  std::size_t end = rest.find_first_of(":/?#");
  if (end == std::string_view::npos) end = rest.size();
  for (char c : rest.substr(0, end)) p.host += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  rest.remove_prefix(end);
  p.port = p.scheme == "http" ? 80 : 443;
  if (!rest.empty() && rest[0] == ':') {
    std::size_t pe = rest.find_first_of("/?#");
    if (pe == std::string_view::npos) pe = rest.size();
    if (pe > 1) {
      auto n = parse_num(rest.substr(1, pe - 1));
      if (!n) return std::nullopt;
      p.port = *n;
    }
    rest.remove_prefix(pe);
  }
  rest = rest.substr(0, rest.find('#'));
  p.target = (rest.empty() || rest[0] != '/') ? "/" + std::string(rest) : std::string(rest);
  return p;
}

/// The normalized spelling of split parts (default port dropped).
std::string join_url(const url_parts& p) {
  bool default_port = p.port == (p.scheme == "http" ? 80 : 443);
  return p.scheme + "://" + p.host + (default_port ? "" : ":" + std::to_string(p.port)) + p.target;
}

const std::array<const char*, 32> words = {
    "lorem",   "ipsum",    "crawler", "frontier", "politeness", "robots",  "anchor",  "sitemap",
    "latency", "fetch",    "queue",   "depth",    "canonical",  "redirect", "host",   "scope",
    "parser",  "document", "token",   "stream",   "buffer",     "actor",   "message", "storage",
    "index",   "segment",  "border",  "harbor",   "lantern",    "meadow",  "orbit",   "quartz"};

void append_words(std::string& out, rng& r, int n) {
  for (int i = 0; i < n; ++i) {
    if (i) out += ' ';
    out += words[static_cast<std::size_t>(r.below(static_cast<int>(words.size())))];
  }
}

/// RFC 9110 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") of `t` seconds since the epoch.
std::string http_date(std::int64_t t) {
  static const char* const days[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
  static const char* const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::int64_t day = t >= 0 ? t / 86400 : (t - 86399) / 86400;
  std::int64_t secs = t - day * 86400;
  // Civil date from a day count (Howard Hinnant's days_from_civil, inverted).
  std::int64_t z = day + 719468;
  std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  std::int64_t doe = z - era * 146097;
  std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  std::int64_t mp = (5 * doy + 2) / 153;
  std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  std::int64_t y = yoe + era * 400 + (m <= 2);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04lld %02d:%02d:%02d GMT",
                days[((day % 7) + 7) % 7], static_cast<int>(d), months[m - 1],
                static_cast<long long>(y), static_cast<int>(secs / 3600),
                static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60));
  return buf;
}

/// HTML for page `res` of `host` at `decoded`: head, one paragraph per link, then filler drawn
/// from `r` up to `size` bytes.
std::string render_html(int host, const std::string& decoded, const resource& res, std::size_t size,
                        rng& r) {
  std::string b;
  b = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>testsite host " +
      std::to_string(host) + " " + html_escape(decoded) + "</title>\n";
  if (!res.base_href.empty()) b += "<base href=\"" + html_escape(res.base_href) + "\">\n";
  if (res.meta_nofollow) b += "<meta name=\"robots\" content=\"nofollow\">\n";
  if (!res.canonical.empty()) b += "<link rel=\"canonical\" href=\"" + html_escape(res.canonical) + "\">\n";
  b += "</head>\n<body>\n<h1 id=\"top\">Page " + html_escape(decoded) + "</h1>\n";
  for (std::size_t i = 0; i < res.links.size(); ++i) {
    const page_link& l = res.links[i];
    b += "<p>";
    append_words(b, r, 4 + r.below(12));
    b += (l.flags & link_nofollow) ? " <a rel=\"nofollow\" href=\"" : " <a href=\"";
    b += html_escape(l.href) + "\">link " + std::to_string(i) + "</a> ";
    append_words(b, r, 2 + r.below(8));
    b += ".</p>\n";
  }
  const std::string tail = "</body>\n</html>\n";
  for (int sec = 0; b.size() + tail.size() < size; ++sec) {
    if (sec < 4) b += "<h2 id=\"sec" + std::to_string(sec) + "\">Section " + std::to_string(sec) + "</h2>\n";
    b += "<p>";
    for (int w = 0; w < 120 && b.size() + tail.size() + 5 < size; ++w) {
      if (w) b += ' ';
      append_words(b, r, 1);
    }
    b += "</p>\n";
  }
  b += tail;
  return b;
}

/// Request number the oracle uses for attempt-dependent resources: their settled state.
constexpr int settled_attempt = 1 << 20;
constexpr int max_year = 999999999;

/// Two-digit month or day "01".."max"; nullopt otherwise.
std::optional<int> parse_two_digits(std::string_view s, int max) {
  if (s.size() != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9') return std::nullopt;
  int v = (s[0] - '0') * 10 + (s[1] - '0');
  if (v < 1 || v > max) return std::nullopt;
  return v;
}

std::string two_digits(int v) {
  return std::string(1, static_cast<char>('0' + v / 10)) + static_cast<char>('0' + v % 10);
}

std::string month_path(int year, int month) {
  return "/calendar/" + std::to_string(year) + "/" + two_digits(month) + "/";
}

}  // namespace

const char* host_kind_name(host_kind k) {
  switch (k) {
    case host_kind::none: return "none";
    case host_kind::normal: return "normal";
    case host_kind::crawl_delay: return "crawl_delay";
    case host_kind::crawl_delay_decimal: return "crawl_delay_decimal";
    case host_kind::slow_down: return "slow_down";
    case host_kind::unavailable: return "unavailable";
    case host_kind::flaky: return "flaky";
    case host_kind::robots_503: return "robots_503";
    case host_kind::robots_500: return "robots_500";
    case host_kind::robots_redirect: return "robots_redirect";
    case host_kind::robots_redirect_chain: return "robots_redirect_chain";
    case host_kind::calendar: return "calendar";
    case host_kind::dead: return "dead";
    case host_kind::silent: return "silent";
  }
  return "none";
}

site::site(site_options opts) : opts_(std::move(opts)) {}

int site::host_count() const {
  if (!opts_.politeness_hosts) return opts_.hosts;
  int n = static_cast<int>(std::size(politeness_kinds));
  return opts_.hosts + (opts_.silent_host ? n : n - 1);
}

host_kind site::kind(int host) const {
  if (host < 0 || host >= host_count()) return host_kind::none;
  if (host < opts_.hosts) return host_kind::normal;
  return politeness_kinds[host - opts_.hosts];
}

int site::host_of(host_kind k) const {
  for (int h = opts_.hosts; h < host_count(); ++h)
    if (kind(h) == k) return h;
  return -1;
}

bool site::served(int host) const {
  host_kind k = kind(host);
  return k != host_kind::none && k != host_kind::dead && k != host_kind::silent;
}

bool site::is_trap(std::string_view url) const {
  auto p = split_url(url);
  if (!p || p->scheme != "http" || p->port != opts_.port) return false;
  int h = host_index(p->host);
  return h >= 0 && kind(h) == host_kind::calendar && p->target.compare(0, 10, "/calendar/") == 0;
}

bool site::is_robots_path(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  return path == "/robots.txt" || path == "/real-robots.txt" ||
         path.substr(0, 12) == "/robots-hop/";
}

std::string site::address(int host) const {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (std::sscanf(opts_.first_address.c_str(), "%u.%u.%u.%u", &a, &b, &c, &d) != 4) return {};
  std::uint32_t v = (a << 24) | (b << 16) | (c << 8) | d;
  v += static_cast<std::uint32_t>(host);
  return std::to_string(v >> 24) + "." + std::to_string((v >> 16) & 255) + "." +
         std::to_string((v >> 8) & 255) + "." + std::to_string(v & 255);
}

std::string site::origin(int host) const {
  std::string o = "http://" + address(host);
  if (opts_.port != 80) o += ":" + std::to_string(opts_.port);
  return o;
}

int site::host_index(std::string_view address) const {
  for (int i = 0, n = host_count(); i < n; ++i)
    if (this->address(i) == address) return i;
  return -1;
}

std::string site::page_path(int page) {
  if (page == 0) return "/";
  return "/s" + std::to_string(page % 16) + "/p" + std::to_string(page) + ".html";
}

resource site::describe(int host, std::string_view target, int attempt) const {
  resource res;
  if (!target.empty() && target[0] == '/' && host >= opts_.hosts && served(host))
    return describe_politeness(host, kind(host), target.substr(0, target.find('?')), attempt);
  if (host < 0 || host >= opts_.hosts || target.empty() || target[0] != '/') return res;
  const int pages = opts_.pages;
  std::string_view path = target.substr(0, target.find('?'));
  bool has_query = path.size() < target.size();
  const std::string port_part = opts_.port == 80 ? "" : ":" + std::to_string(opts_.port);

  auto ok = [&](const char* type) {
    res.status = 200;
    res.content_type = type;
  };
  auto leaf_html = [&] {
    ok("text/html; charset=utf-8");
    res.html = true;
  };
  auto redirect = [&](int status, std::string location, std::string location_target) {
    res.status = status;
    res.content_type = "text/html; charset=utf-8";
    res.location = std::move(location);
    res.location_target = std::move(location_target);
  };

  // HTML pages: "/" and /s{k%16}/p{k}.html.
  std::optional<int> page;
  if (path == "/") {
    page = 0;
  } else {
    std::string_view p = path;
    if (consume(p, "/s")) {
      auto slash = p.find('/');
      auto dir = parse_num(p.substr(0, slash));
      std::string_view rest = slash == std::string_view::npos ? "" : p.substr(slash);
      auto k = match_indexed(rest, "/p", ".html", pages);
      if (dir && k && *k > 0 && *k % 16 == *dir) page = k;
    }
  }
  if (page) {
    leaf_html();
    if (!has_query) build_page(host, *page, res);
    return res;
  }

  if (path == "/robots.txt") {
    ok("text/plain");
  } else if (path == "/sitemap.xml") {
    ok("application/xml");
  } else if (match_indexed(path, "/hidden/", ".html", pages) ||
             match_indexed(path, "/meta-hidden/", ".html", pages) ||
             match_indexed(path, "/private/", ".html", pages)) {
    leaf_html();
  } else if (match_indexed(path, "/files/doc", ".pdf", pages)) {
    ok("application/pdf");
  } else if (match_indexed(path, "/img/", ".png", pages)) {
    ok("image/png");
  } else if (auto k = match_indexed(path, "/r/301/", "", pages)) {
    redirect(301, origin(host) + page_path(*k), origin(host) + page_path(*k));
  } else if (auto k = match_indexed(path, "/r/302/", "", pages)) {
    redirect(302, page_path(*k), origin(host) + page_path(*k));
  } else if (auto k = match_indexed(path, "/r/out/", "", pages)) {
    std::string off = "http://" + std::string(off_site_address) + port_part + "/landing/" +
                      std::to_string(*k) + ".html";
    redirect(302, off, off);
  } else {
    std::string_view p = path;
    if (consume(p, "/r/chain/") && p.size() > 2 && p[1] == '/' && p[0] >= '1' && p[0] <= '3') {
      int hop = p[0] - '0';
      if (auto k = match_indexed(p.substr(1), "/", "", pages)) {
        std::string next = hop == 1 ? page_path(*k)
                                    : "/r/chain/" + std::to_string(hop - 1) + "/" + std::to_string(*k);
        redirect(hop == 1 ? 301 : 302, next, origin(host) + next);
      }
    }
  }
  return res;  // anything else (including /missing/{k}.html) is a 404
}

void site::build_page(int host, int k, resource& res) const {
  const int pages = opts_.pages;
  const std::string self_path = page_path(k);
  const std::string self = origin(host) + self_path;
  const std::string port_part = opts_.port == 80 ? "" : ":" + std::to_string(opts_.port);
  rng r = make_rng(opts_.seed, host, self_path, 1);

  const bool leaf = 2 * k + 1 >= pages;
  res.meta_nofollow = k > 0 && leaf && k % 5 == 1;
  if (!res.meta_nofollow && k % 9 == 4) res.base_href = "/s" + std::to_string((k + 7) % 16) + "/";
  if (k % 4 == 0) res.canonical = self;
  const std::string rel_dir = res.base_href.empty() ? dir_of(self_path) : res.base_href;

  // Adds a link to `path_query` on host `to` written in form `f` (coerced to one that fits).
  auto add = [&](int to, const std::string& path_query, form f, unsigned flags = 0,
                 bool fragment = false) {
    std::string path = path_query.substr(0, path_query.find('?'));
    std::string query = path_query.substr(path.size());
    if (to != host && f != form::absolute && f != form::upper_scheme) f = form::scheme_relative;
    if (f == form::percent && path == "/") f = form::root_relative;
    std::string href;
    switch (f) {
      case form::absolute: href = origin(to) + path_query; break;
      case form::upper_scheme: href = "HTTP://" + address(to) + port_part + path_query; break;
      case form::scheme_relative: href = "//" + address(to) + port_part + path_query; break;
      case form::root_relative: href = path_query; break;
      case form::percent: href = percent_encode_last(path, r.below(2) == 0) + query; break;
      case form::relative:
      case form::dot_relative: {
        std::string rel = relative_href(rel_dir, path);
        if (f == form::dot_relative && rel.compare(0, 2, "./") != 0 && rel.compare(0, 3, "../") != 0)
          rel = "./" + rel;
        href = rel + query;
        if (!res.base_href.empty()) flags |= link_via_base;
        break;
      }
      case form::count: break;
    }
    if (fragment) href += "#sec" + std::to_string(r.below(4));
    res.links.push_back({href, origin(to) + path_query, flags});
  };
  auto any_form = [&] { return static_cast<form>(r.below(static_cast<int>(form::count))); };
  auto random_page = [&] { return r.below(pages); };
  auto sometimes_fragment = [&] { return r.below(6) == 0; };

  if (res.meta_nofollow) {
    // Nothing on this page is followed: its own target is only reachable from here.
    add(host, "/", any_form());
    add(host, page_path(random_page()), any_form());
    add(host, page_path(random_page()), any_form());
    add(host, "/meta-hidden/" + std::to_string(k) + ".html", any_form());
    return;
  }

  if (k > 0) add(host, "/", any_form());
  if (res.base_href.empty()) res.links.push_back({"#top", self, 0});
  for (int child : {2 * k + 1, 2 * k + 2})
    if (child < pages) add(host, page_path(child), any_form(), 0, sometimes_fragment());
  for (int i = 0, n = 2 + r.below(4); i < n; ++i)
    add(host, page_path(random_page()), any_form(), 0, sometimes_fragment());
  if (opts_.hosts > 1)
    for (int i = 0, n = 1 + r.below(2); i < n; ++i) {
      int other = (host + 1 + r.below(opts_.hosts - 1)) % opts_.hosts;
      add(other, page_path(random_page()), any_form());
    }

  const std::string ks = std::to_string(k);
  if (k % 12 == 3) add(host, page_path(random_page()) + "?q=" + ks + "&a=2", any_form());
  if (k % 10 == 3) add(host, "/missing/" + ks + ".html", any_form());
  if (k % 10 == 4) add(host, "/r/301/" + std::to_string(random_page()), any_form());
  if (k % 10 == 5) add(host, "/r/302/" + std::to_string(random_page()), any_form());
  if (k % 20 == 6) add(host, "/r/chain/3/" + std::to_string(random_page()), any_form());
  if (k % 50 == 7) add(host, "/r/out/" + ks, any_form());
  if (k % 6 == 1) add(host, "/files/doc" + ks + ".pdf", any_form());
  if (k % 8 == 2) add(host, "/img/" + ks + ".png", any_form());
  if (k % 7 == 2) add(host, "/hidden/" + ks + ".html", any_form(), link_nofollow);
  if (k % 11 == 6) add(host, "/private/" + ks + ".html", any_form());
  if (k % 9 == 0) {
    std::string off = "http://" + std::string(off_site_address) + port_part + "/x" + ks + ".html";
    res.links.push_back({off, off, 0});
  }
  if (k % 13 == 4) res.links.push_back({"mailto:webmaster@example.invalid", "", link_not_http});
  if (k % 13 == 5) res.links.push_back({"javascript:void(0)", "", link_not_http});
  if (k == 0)  // after every other link and without drawing from `r`: the rest stays as it was
    for (int h = opts_.hosts; h < host_count(); ++h) res.links.push_back({origin(h) + "/", origin(h) + "/", 0});
}

resource site::describe_politeness(int host, host_kind kind, std::string_view path, int attempt) const {
  resource res;
  const int n = std::max(opts_.politeness_pages, 1);
  const std::string self = origin(host);
  auto ok = [&](const char* type) {
    res.status = 200;
    res.content_type = type;
  };
  auto leaf_html = [&] {
    ok("text/html; charset=utf-8");
    res.html = true;
  };
  auto fail = [&](int status, int retry_after, bool as_date) {
    res.status = status;
    res.content_type = "text/plain";
    res.retry_after = retry_after;
    res.retry_after_date = as_date;
  };
  auto redirect = [&](std::string location) {
    res.status = 301;
    res.location_target = self + location;
    res.location = std::move(location);
  };
  auto link = [&](const std::string& p) { res.links.push_back({p, self + p, 0}); };
  // This host's endpoint k ("" for kinds without one).
  auto endpoint = [&](int k) -> std::string {
    std::string ks = std::to_string(k);
    switch (kind) {
      case host_kind::slow_down: return "/slow-down/" + ks + ".html";
      case host_kind::unavailable: return "/unavailable/" + ks + ".html";
      case host_kind::flaky: return "/flaky/" + ks + ".html";
      default: return "";
    }
  };
  auto is_endpoint = [&](std::string_view prefix, host_kind k) {
    return kind == k && match_indexed(path, prefix, ".html", n).has_value();
  };

  if (path == "/robots.txt") {
    if (kind == host_kind::robots_503 &&
        (opts_.robots_unavailable_requests < 0 || attempt <= opts_.robots_unavailable_requests))
      fail(503, -1, false);
    else if (kind == host_kind::robots_500)
      fail(500, -1, false);
    else if (kind == host_kind::robots_redirect)
      redirect("/real-robots.txt");
    else if (kind == host_kind::robots_redirect_chain)
      redirect("/robots-hop/1.txt");
    else
      ok("text/plain");
  } else if (path == "/real-robots.txt" &&
             (kind == host_kind::robots_redirect || kind == host_kind::robots_redirect_chain)) {
    ok("text/plain");
  } else if (auto hop = match_indexed(path, "/robots-hop/", ".txt", robots_chain_redirects);
             hop && *hop >= 1 && kind == host_kind::robots_redirect_chain) {
    redirect(*hop + 1 < robots_chain_redirects ? "/robots-hop/" + std::to_string(*hop + 1) + ".txt"
                                              : "/real-robots.txt");
  } else if (path == "/") {
    leaf_html();
    for (int k = 1; k < n; ++k) link("/pages/" + std::to_string(k) + ".html");
    link("/private/0.html");
    if (!endpoint(0).empty()) link(endpoint(0));
    if (kind == host_kind::calendar) link(month_path(2024, 1));
  } else if (auto k = match_indexed(path, "/pages/", ".html", n); k && *k >= 1) {
    leaf_html();
    link("/");
    if (*k + 1 < n) link("/pages/" + std::to_string(*k + 1) + ".html");
    if (!endpoint(*k).empty()) link(endpoint(*k));
  } else if (match_indexed(path, "/private/", ".html", n)) {
    leaf_html();
  } else if (is_endpoint("/slow-down/", host_kind::slow_down)) {
    if (attempt <= 1) fail(429, 1, false);
    else leaf_html();
  } else if (is_endpoint("/unavailable/", host_kind::unavailable)) {
    if (attempt <= 1) fail(503, 2, true);
    else leaf_html();
  } else if (is_endpoint("/flaky/", host_kind::flaky)) {
    if (attempt <= 2) fail(503, -1, false);
    else leaf_html();
  } else if (std::string_view p = path; kind == host_kind::calendar && consume(p, "/calendar/") &&
                                        consume_suffix(p, "/")) {
    auto seg = split_segments(p);
    std::optional<int> year = seg.size() >= 2 ? parse_num(seg[0]) : std::nullopt;
    std::optional<int> month = seg.size() >= 2 ? parse_two_digits(seg[1], 12) : std::nullopt;
    // Canonical spelling only (no empty segments, no extra ones).
    bool valid = year && *year >= 1 && *year <= max_year && month && seg.size() <= 3 &&
                 path == month_path(*year, *month) + (seg.size() == 3 ? std::string(seg[2]) + "/" : "");
    if (valid && seg.size() == 2) {
      leaf_html();
      int y = *year, m = *month;
      if (y > 1 || m > 1) link(m > 1 ? month_path(y, m - 1) : month_path(y - 1, 12));
      if (y < max_year || m < 12) link(m < 12 ? month_path(y, m + 1) : month_path(y + 1, 1));
      link("/");
      for (int d : {1, 15}) link(month_path(y, m) + two_digits(d) + "/");
    } else if (valid && seg.size() == 3 && parse_two_digits(seg[2], 28)) {
      leaf_html();
      link(month_path(*year, *month));
    }
  }
  return res;  // anything else is a 404
}

std::string site::robots_body(host_kind kind) {
  std::string delay;
  if (kind == host_kind::crawl_delay) delay = "Crawl-delay: 1\n";
  if (kind == host_kind::crawl_delay_decimal) delay = "Crawl-delay: 0.3\n";
  return "User-agent: *\n" + delay + "Disallow: /private/\n";
}

http_response site::serve(int host, std::string_view target, int attempt, std::int64_t now_unix) const {
  std::string_view raw_path = target.substr(0, target.find('?'));
  std::string decoded = decode_unreserved(raw_path) + std::string(target.substr(raw_path.size()));
  resource res = describe(host, decoded, attempt);
  http_response out;
  out.status = res.status;
  out.content_type = res.content_type;
  std::string_view path = std::string_view(decoded).substr(0, decoded.find('?'));

  // /wide/N: generated on the fly, never linked from the site (the model does not know it):
  // 1,000 links to /wide/(N*1000+1 .. N*1000+1000), for frontier benchmarks.
  if (host >= 0 && host < opts_.hosts && path.rfind("/wide/", 0) == 0) {
    std::string_view num = path.substr(6);
    std::uint64_t n = 0;
    bool digits = !num.empty() && num.size() <= 12;
    for (char c : num) {
      digits = digits && c >= '0' && c <= '9';
      n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (digits) {
      out.status = 200;
      out.content_type = "text/html; charset=utf-8";
      out.body.reserve(wide_links * 32 + 128);
      out.body = "<!DOCTYPE html>\n<html><head><title>wide " + std::string(num) + "</title></head><body>\n";
      for (std::uint64_t i = 1; i <= wide_links; ++i)
        out.body += "<a href=\"/wide/" + std::to_string(n * wide_links + i) + "\">" + std::to_string(i) + "</a>\n";
      out.body += "</body></html>\n";
      return out;
    }
  }

  if (res.status == 404) {
    out.body =
        "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>"
        "<body><h1>Not Found</h1></body></html>\n";
    return out;
  }
  if (!res.location.empty()) {
    out.headers.emplace_back("Location", res.location);
    out.body = "<!DOCTYPE html>\n<html><head><title>Moved</title></head><body>Moved</body></html>\n";
    return out;
  }
  if (host >= opts_.hosts) {  // politeness hosts
    if (res.retry_after >= 0)
      out.headers.emplace_back("Retry-After", res.retry_after_date ? http_date(now_unix + res.retry_after)
                                                                   : std::to_string(res.retry_after));
    if (res.status != 200)
      out.body = "error " + std::to_string(res.status) + " (attempt " + std::to_string(attempt) + ")\n";
    else if (!res.html)
      out.body = robots_body(kind(host));
    else {
      rng r = make_rng(opts_.seed, host, decoded, 2);
      const std::size_t size = 2 * 1024 + static_cast<std::size_t>(r.below(3 * 1024));
      out.body = render_html(host, decoded, res, size, r);
    }
    return out;
  }
  if (path == "/robots.txt") {
    out.body = "User-agent: *\nDisallow: /private/\nSitemap: " + origin(host) + "/sitemap.xml\n";
    return out;
  }
  if (path == "/sitemap.xml") {
    out.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n";
    for (int k = 0; k < opts_.pages && k < 20; ++k)
      out.body += "  <url><loc>" + origin(host) + page_path(k) + "</loc></url>\n";
    out.body += "</urlset>\n";
    return out;
  }
  if (!res.html) {
    // Non-HTML files: small bodies that are not markup.
    if (res.content_type == "application/pdf")
      out.body = "%PDF-1.4\n% crawld testsite document " + std::string(path) + "\n%%EOF\n";
    else
      out.body = std::string("\x89PNG\r\n\x1a\n", 8) + "crawld testsite image " + std::string(path);
    return out;
  }

  // HTML: head, one paragraph per link, then deterministic filler up to a 5-30 KB size.
  rng r = make_rng(opts_.seed, host, decoded, 2);
  const std::size_t size = 5 * 1024 + static_cast<std::size_t>(r.below(24 * 1024));
  out.body = render_html(host, decoded, res, size, r);
  return out;
}

std::set<std::string> site::expected(const expect_options& e) const {
  // Scope: the seeds' hosts plus extra hosts (an IP admits itself; a name also its subdomains).
  std::vector<std::string> scope_hosts;
  for (const auto& s : e.seeds)
    if (auto p = split_url(s)) scope_hosts.push_back(p->host);
  for (const auto& h : e.extra_hosts) {
    if (auto p = split_url(h)) scope_hosts.push_back(p->host);
    else scope_hosts.push_back(h);
  }
  auto is_subdomain = [](const std::string& host, const std::string& domain) {
    bool ip = !domain.empty() && domain.back() >= '0' && domain.back() <= '9';
    return !ip && host.size() > domain.size() + 1 &&
           host.compare(host.size() - domain.size(), domain.size(), domain) == 0 &&
           host[host.size() - domain.size() - 1] == '.';
  };
  auto in_scope = [&](const url_parts& p) {
    for (const auto& h : scope_hosts)
      if (p.host == h || is_subdomain(p.host, h)) return true;
    return false;
  };
  // Host index when the URL is one of this site's hosts (served or not), else -1.
  auto index_of = [&](const url_parts& p) {
    return p.scheme == "http" && p.port == opts_.port ? host_index(p.host) : -1;
  };
  // Host index when the URL is served by this site, else -1.
  auto served_by = [&](const url_parts& p) {
    int h = index_of(p);
    return h >= 0 && served(h) ? h : -1;
  };
  // What a robots.txt-obeying crawler concludes for a host (see the header).
  auto robots_allow = [&](int host, const std::string& target) {
    bool disallow_all = false, allow_all = false;
    switch (kind(host)) {
      case host_kind::robots_503:
        disallow_all = opts_.robots_unavailable_requests < 0 ||
                       e.robots_attempts <= opts_.robots_unavailable_requests;
        break;
      case host_kind::robots_500:
      case host_kind::dead:
      case host_kind::silent: disallow_all = true; break;
      case host_kind::robots_redirect: allow_all = e.max_robots_redirects < 1; break;
      case host_kind::robots_redirect_chain:
        allow_all = e.max_robots_redirects < robots_chain_redirects;
        break;
      default: break;
    }
    if (disallow_all) return false;
    return allow_all || target.compare(0, 9, "/private/") != 0;
  };
  auto admitted = [&](const url_parts& p) {
    if (!in_scope(p)) return false;
    int h = index_of(p);
    if (e.obey_robots && h >= 0 && !robots_allow(h, p.target)) return false;
    if (h >= 0 && kind(h) == host_kind::calendar && p.target.compare(0, 10, "/calendar/") == 0)
      return false;  // a trap (is_trap)
    return true;
  };

  // 0-1 BFS: a followed link costs 1, a redirect hop 0; keep the minimum depth of each URL.
  std::map<std::string, int> depth;
  std::deque<std::pair<std::string, int>> queue;
  auto relax = [&](const std::string& url, int d, bool front) {
    auto p = split_url(url);
    if (!p || !admitted(*p)) return;
    if (e.max_depth >= 0 && d > e.max_depth) return;
    auto it = depth.find(url);
    if (it != depth.end() && it->second <= d) return;
    depth[url] = d;
    if (front) queue.emplace_front(url, d);
    else queue.emplace_back(url, d);
  };
  for (const auto& s : e.seeds)
    if (auto p = split_url(s)) relax(join_url(*p), 0, false);
  while (!queue.empty()) {
    auto [url, d] = queue.front();
    queue.pop_front();
    if (depth[url] < d) continue;
    auto p = split_url(url);
    int host = served_by(*p);
    if (host < 0) continue;  // never served: no outlinks
    resource res = describe(host, p->target, settled_attempt);
    if (!res.location_target.empty()) {
      relax(res.location_target, d, true);
    } else if (res.html && !res.meta_nofollow) {
      for (const auto& l : res.links)
        if (!l.target.empty() && !(l.flags & link_nofollow)) relax(l.target, d + 1, false);
    }
  }
  std::set<std::string> out;
  for (const auto& [url, d] : depth) out.insert(url);
  return out;
}

}  // namespace crawld::testsite
