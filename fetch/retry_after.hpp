#pragma once
/// Retry-After (RFC 9110 10.2.3): delay-seconds or an HTTP-date. Pure and thread-safe.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace crawld::fetch {

/// How long to wait from `now`: a delay in seconds, or the time until an HTTP-date (IMF-fixdate,
/// RFC 850 or asctime form; a date in the past gives 0). nullopt for an absent or invalid value.
/// Values above `cap` are clamped to it.
std::optional<std::chrono::milliseconds> parse_retry_after(
  std::string_view value, std::chrono::system_clock::time_point now,
  std::chrono::milliseconds cap = std::chrono::hours(24));

/// Exponential back-off with jitter for the n-th consecutive failure (n >= 1):
/// min(base * 2^(n-1), max) scaled by a factor in [0.5, 1.5) derived from `jitter_seed`.
std::chrono::milliseconds backoff_delay(int n, std::chrono::milliseconds base, std::chrono::milliseconds max,
                                        std::uint64_t jitter_seed);

}  // namespace crawld::fetch
