#pragma once
/// Everything one crawl job is configured with, whatever set it (CLI flags now, job files later),
/// and its validation. Plain data; `validate` is pure.
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/result.hpp"

namespace crawld::conf {

struct crawl_options {
  std::vector<std::string> seeds;           ///< absolute http(s) URLs
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
  bool progress = true;                     ///< progress line (only on a terminal)
  bool verbose = false;                     ///< one line per finished URL
};

/// Checks ranges and URLs; the error names the option and the bad value.
result<void> validate(const crawl_options& o);

}  // namespace crawld::conf
