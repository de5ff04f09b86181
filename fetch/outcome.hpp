#pragma once
/// The outcome of one fetched URL, and counters of outcomes (the seeds' Counter of
/// ok / not_found / error, but finer). Plain data; not thread-safe.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace crawld::fetch {

struct response;

enum class outcome : std::uint8_t {
  ok,             ///< 2xx
  redirect,       ///< 3xx (the target is admitted as a new URL)
  not_found,      ///< 404, 410
  client_error,   ///< other 4xx
  server_error,   ///< 5xx
  timeout,        ///< connect, read or total timeout
  network_error,  ///< refused, reset, malformed response
  too_large,      ///< body cut at the size cap
  robots_denied,  ///< disallowed by robots.txt (or robots.txt unavailable), never requested
  host_parked,    ///< never requested: its host failed too often or asked for too long a crawl-delay
  proxy_auth,     ///< the proxy refused the configured credentials (407)
  dns_error,      ///< the host name did not resolve
  tls_error,      ///< TLS handshake, certificate or host-name verification failed
};
inline constexpr std::size_t outcome_count = 13;

const char* to_string(outcome o);
/// Inverse of to_string; false if `name` is none.
bool from_string(std::string_view name, outcome& out);
/// The outcome of a response. Errors win over the status (a cut 200 is too_large).
outcome classify(const response& r);
/// Whether an outcome counts as a failure in summaries and exit codes.
bool is_failure(outcome o);

class outcome_counts {
 public:
  void add(outcome o, std::uint64_t n = 1) { n_[static_cast<std::size_t>(o)] += n; }
  std::uint64_t operator[](outcome o) const { return n_[static_cast<std::size_t>(o)]; }
  std::uint64_t total() const;
  std::uint64_t failures() const;
  /// "ok 10, redirect 2, not_found 1" (zero counts left out; "none" when all are zero).
  std::string summary() const;
  outcome_counts& operator+=(const outcome_counts& other);

 private:
  std::array<std::uint64_t, outcome_count> n_{};
};

}  // namespace crawld::fetch
