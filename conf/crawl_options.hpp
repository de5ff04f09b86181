#pragma once
/// Everything one crawl job is configured with, whatever set it (CLI flags now, job files later),
/// and its validation. Plain data; `validate` is pure.
#include <chrono>
#include <optional>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/request.hpp"
#include "base/result.hpp"
#include "parse/trap_guard.hpp"

namespace crawld::conf {

/// Politeness override for hosts matching a glob ('*' any run, '?' one character; matched against
/// the host name, case-insensitively), like Colly's LimitRule or Scrapy's download slots.
struct domain_rule {
  std::string glob;
  std::optional<std::chrono::milliseconds> delay;
  std::optional<int> per_host;
  // HTTP session settings for matching hosts (job files: [[domain]] headers / proxy).
  std::vector<std::pair<std::string, std::string>> headers{};  ///< replace job headers of the same name
  std::string proxy{};  ///< "" = the job's proxy; "direct" = none; else http://[user:pass@]host:port
};

/// A seed sent with a method, headers and a body (job files' [[seed]], `crawl --data/--json/
/// --request`). Its URL counts as a seed for the scope; the links of its response are crawled
/// as plain GETs.
struct seed_request {
  std::string url;        ///< absolute http(s) URL
  request_spec request;   ///< method upper-case; body and content type already serialised
};

struct crawl_options {
  std::vector<std::string> seeds;           ///< absolute http(s) URLs
  std::vector<seed_request> seed_requests;  ///< seeds with a method/headers/body (docs/job-file.md)
  int max_depth = -1;                       ///< -1: unlimited; seeds are depth 0
  std::uint64_t max_pages = 0;              ///< 0: unlimited; caps URLs admitted (so fetched)
  int concurrency = 32;                     ///< requests in flight in total (fetchers, permits)
  int per_host = 4;                         ///< requests in flight per host (scheme://host:port)
  std::chrono::milliseconds delay{0};       ///< minimum gap between request starts per host
  std::string db;                           ///< store directory ("" = a crawl without a store)
  std::vector<std::string> allow_domains;   ///< admitted besides the seeds' hosts
  std::vector<std::string> include, exclude;  ///< regexes on the normalized URL
  std::string user_agent;                   ///< "" = crawld/<version>
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds connect_timeout{10'000}, read_timeout{30'000}, total_timeout{60'000};
  std::size_t max_body_bytes = 16u << 20;
  bool keep_non_html_body = false;
  int max_redirects = 10;                   ///< hops followed from one URL
  int parsers = 0;                          ///< parser actors; 0 = one per core

  // Politeness (robots.txt, back-off, retries).
  bool obey_robots = true;
  std::chrono::milliseconds robots_ttl{24 * 3600 * 1000};   ///< refetch robots.txt after this
  std::chrono::milliseconds max_crawl_delay{30'000};        ///< hosts asking for more are parked
  int robots_attempts = 3;              ///< robots.txt fetches before a 5xx/unreachable host is given up
  int max_retries = 2;                  ///< extra attempts for a retryable failure (5xx, 429, timeout, network)
  int park_after = 10;                  ///< consecutive failures after which a host is parked
  std::chrono::milliseconds backoff_base{1000}, backoff_max{60'000};
  std::vector<domain_rule> domain_rules;  ///< first matching rule wins
  /// What shares one politeness budget (delay, in-flight limit, Crawl-delay): "host"
  /// (scheme://host:port) or "ip" (hosts whose names resolve to one address share it).
  std::string politeness_key = "host";

  // Spider-trap guards.
  parse::trap_limits traps;
  std::uint64_t max_pages_per_host = 0;  ///< 0: unlimited

  int store_max_open_files = 256;  ///< RocksDB table files kept open (part of the fd budget)

  bool sitemaps = false;        ///< follow Sitemap: lines of robots.txt
  bool sitemap_probe = false;   ///< also try /sitemap.xml of every host
  bool progress = true;                     ///< progress line (only on a terminal)
  bool verbose = false;                     ///< one line per finished URL

  // WARC output (docs/storage.md).
  std::string warc;                              ///< --warc: "" none; files PREFIX-00000.warc.gz, ...
  std::uint64_t warc_max_size = std::uint64_t(1) << 30;  ///< rotate before a file exceeds this
  bool warc_dedup = false;                       ///< revisit records for payloads already archived

  // Resume (set by app/main.cpp; saved in the store's meta so `crawld resume --db DIR` can re-run it).
  std::vector<std::string> command_line;    ///< argv of the crawl command ("" when not from a CLI)
  std::string command_cwd;                  ///< working directory it ran in

  // HTTP session: identity, cookies, proxy, DNS, TLS (docs/cli.md "HTTP session").
  std::string contact;                      ///< URL in the default User-Agent "crawld/V (+URL)"
  bool cookies = true;                      ///< one RFC 6265 cookie jar per job
  bool unsafe_cookies = false;              ///< accept cookies from IP-address hosts
  std::vector<std::string> seed_cookies;    ///< "URL NAME=VALUE[; attributes]": as if URL set it
  std::string proxy;                        ///< http://[user:pass@]host:port ("" = direct)
  std::vector<std::string> resolve;         ///< "HOST:PORT:ADDR" overrides, like curl --resolve
  std::chrono::milliseconds dns_ttl{60'000};  ///< how long a resolved name is reused
  std::string ca_file;                      ///< PEM CA bundle instead of the system store
  bool insecure = false;                    ///< skip TLS certificate and host-name verification
  std::size_t max_ratio = 200;              ///< decoded/wire bytes cap past 1 MiB (0: none)
  std::chrono::milliseconds idle_timeout{30'000};  ///< idle keep-alive connections closed after
  /// Every fetch blocks in a fetcher thread of its own (cpp-httplib), as for https: no epoll
  /// client for plain http (fetch/event_client.hpp). For comparison and as a fallback.
  bool blocking_fetch = false;
};

/// A byte size: digits with an optional binary suffix K, M, G or T (KiB ...; also KB, KiB, ...).
result<std::uint64_t> parse_size(std::string_view text);

/// "crawld/VERSION", or "crawld/VERSION (+CONTACT)" when a contact URL is configured.
std::string default_user_agent(std::string_view version, std::string_view contact);
/// A proxy URL with user and password replaced by "***" (for messages).
std::string redact_proxy_url(std::string_view proxy);

/// The first rule whose glob matches `host` (case-insensitive), or null.
const domain_rule* match_rule(const std::vector<domain_rule>& rules, std::string_view host);
/// Glob match: '*' matches any run of characters, '?' one; case-insensitive ASCII.
bool glob_match(std::string_view pattern, std::string_view text);

/// Checks one seed request: http(s) URL, a known method (GET POST PUT PATCH DELETE), no body with
/// GET or DELETE, a content type with a body, header names and values that fit in a header line.
result<void> validate_seed_request(const seed_request& s);

/// Checks ranges and URLs; the error names the option and the bad value.
result<void> validate(const crawl_options& o);

}  // namespace crawld::conf
