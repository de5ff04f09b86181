#pragma once
/// An RFC 6265 cookie jar for one crawl job, shared by all of its fetchers (like aiohttp's strict
/// `CookieJar`).
///
/// Storing (RFC 6265 5.2 parsing, 5.3 storage model): a Set-Cookie from a response to URL `u` is
/// stored when its name is not empty and it has no control characters; `Domain` must domain-match
/// `u`'s host (else refused) and must not be a bare top-level label ("com": refused, there is no
/// public-suffix list here, so this is the one suffix rule applied); without `Domain` the cookie is
/// host-only. `Path` defaults to the directory of the request path. `Max-Age` wins over `Expires`;
/// a date in the past deletes the cookie. A `Secure` cookie is only accepted from an https response
/// (RFC 6265bis) and only sent over https. `HttpOnly` is kept (a crawler is no script: it is sent
/// like any other cookie). Cookies from IP-address hosts are refused unless `allow_ip_hosts` is on
/// (aiohttp's `unsafe=True`). The jar keeps at most `max_cookies` in all and `max_per_domain` per
/// domain; beyond that the least recently set cookie goes.
///
/// Sending (5.4): `header_for` lists the unexpired cookies whose domain and path match the URL
/// (secure ones only over https), longest path first, then oldest first: "a=1; b=2".
///
/// Thread-safety: every public member takes one internal mutex; the work under it is a scan of the
/// jar (a few hundred cookies at most), so fetchers contend only briefly.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "parse/url.hpp"

namespace crawld::fetch {

struct cookie {
  std::string name, value;
  std::string domain;          ///< lower-case, no leading dot (the host for host-only cookies)
  std::string path;            ///< starts with '/'
  bool host_only = true;
  bool secure = false;
  bool http_only = false;
  bool persistent = false;     ///< had Max-Age or Expires
  std::int64_t expires = 0;    ///< Unix seconds; meaningful when persistent
  std::int64_t created = 0;    ///< Unix microseconds (a unique, increasing order of setting)
};

class cookie_jar {
 public:
  using clock = std::chrono::system_clock;
  explicit cookie_jar(bool allow_ip_hosts = false, std::size_t max_cookies = 3000, std::size_t max_per_domain = 50);

  /// Applies one Set-Cookie header value received from `u`. Returns false when the cookie was
  /// refused (the reason in `why` when given), true when stored or deleted.
  bool set(const parse::url& u, std::string_view set_cookie, clock::time_point now = clock::now(),
           std::string* why = nullptr);
  /// As `set`, for cookies from configuration: a cookie for an IP-address host is accepted even
  /// when the jar refuses those from responses (the user asked for it).
  bool seed(const parse::url& u, std::string_view set_cookie, std::string* why = nullptr);

  /// The Cookie header value for a request to `u`, "" when no cookie applies.
  std::string header_for(const parse::url& u, clock::time_point now = clock::now()) const;

  std::size_t size() const;
  std::vector<cookie> all() const;

  /// Every unexpired cookie (session cookies too: a resumed crawl continues the same session), one
  /// per line, tab-separated; `load` reads that back and adds to the jar (an error names the line).
  std::string serialize(clock::time_point now = clock::now()) const;
  result<void> load(std::string_view text);

  /// A counter that grows whenever a cookie is stored, replaced or deleted (set, seed, load), so
  /// a saver can tell cheaply whether the jar changed since it last serialized it. Expiry alone
  /// does not count (serialize leaves expired cookies out anyway).
  std::uint64_t changes() const { return changes_.load(std::memory_order_acquire); }

 private:
  bool store(const parse::url& u, std::string_view set_cookie, clock::time_point now, bool allow_ip,
             std::string* why);
  bool allow_ip_hosts_;
  std::size_t max_cookies_, max_per_domain_;
  mutable std::mutex mu_;
  std::vector<cookie> cookies_;
  std::int64_t last_created_ = 0;
  std::atomic<std::uint64_t> changes_{0};
};

/// RFC 6265 5.1.1 cookie-date parsing: Unix seconds, false when the text is no date.
bool parse_cookie_date(std::string_view text, std::int64_t& out);
/// RFC 6265 5.1.3: `host` domain-matches `domain` (identical, or a suffix after a '.' for a name
/// that is no IP address).
bool domain_match(std::string_view host, std::string_view domain);
/// RFC 6265 5.1.4.
bool path_match(std::string_view request_path, std::string_view cookie_path);
/// An IPv4 dotted quad or a bracketed IPv6 literal.
bool is_ip_address(std::string_view host);

}  // namespace crawld::fetch
