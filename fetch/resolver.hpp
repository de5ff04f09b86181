#pragma once
/// Host-name resolution for the fetchers of a crawl: curl-style overrides (`--resolve
/// HOST:PORT:ADDR`), then a cache of getaddrinfo answers kept for `ttl` (getaddrinfo reports no
/// record TTL, so one configured lifetime applies to all). Failed look-ups are cached for
/// `negative_ttl` so a dead name is not asked again for every URL of its host.
///
/// `resolve` blocks in getaddrinfo on a cache miss: call it only from a fetcher's own (detached)
/// thread, never on the cooperative scheduler. Thread-safe: one mutex around the cache, not held
/// during getaddrinfo (two fetchers missing the same name at once may both ask; the later answer
/// wins). The cache holds at most `max_entries` names; beyond that it is cleared.
#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace crawld::fetch {

struct resolve_override {
  std::string host;     ///< lower-case host name (IPv6 literals in brackets)
  int port = 0;         ///< the override applies to this port only
  std::string address;  ///< numeric address to connect to (no brackets)
};

/// Parses "HOST:PORT:ADDR" (ADDR may be a bracketed IPv6 literal); the error quotes the text.
result<resolve_override> parse_resolve_override(std::string_view text);

class resolver {
 public:
  using clock = std::chrono::steady_clock;
  explicit resolver(std::vector<resolve_override> overrides = {},
                    std::chrono::milliseconds ttl = std::chrono::seconds(60),
                    std::chrono::milliseconds negative_ttl = std::chrono::seconds(5),
                    std::size_t max_entries = 10'000);

  /// The numeric address to connect to for `host` (as in a URL: IPv6 in brackets) on `port`:
  /// the override for host:port, the host itself when it is an IP literal, a cached answer, or a
  /// fresh getaddrinfo answer (the first address returned). Error: "cannot resolve 'HOST': why".
  result<std::string> resolve(const std::string& host, int port);

  /// What `resolve` would answer without calling getaddrinfo (an override, an IP literal, a live
  /// cache entry, including a cached failure); nullopt when only a look-up can tell. Never blocks
  /// beyond the cache's mutex.
  std::optional<result<std::string>> cached(const std::string& host, int port) const;

  /// getaddrinfo calls made so far (cache misses), for tests and metrics.
  std::size_t lookups() const;

 private:
  struct entry {
    std::string address;  ///< "" for a failed look-up
    std::string error;
    clock::time_point expires;
  };
  std::vector<resolve_override> overrides_;
  std::chrono::milliseconds ttl_, negative_ttl_;
  std::size_t max_entries_;
  mutable std::mutex mu_;
  std::map<std::string, entry> cache_;
  std::size_t lookups_ = 0;
};

}  // namespace crawld::fetch
