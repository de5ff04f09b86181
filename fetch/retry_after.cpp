#include "fetch/retry_after.hpp"

#include <cstdint>
#include <ctime>
#include <string>

namespace crawld::fetch {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<std::time_t> parse_http_date(std::string_view v) {
  // IMF-fixdate, RFC 850, asctime (RFC 9110 5.6.7).
  static const char* formats[] = {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
                                  "%a %b %e %H:%M:%S %Y"};
  std::string s(v);
  for (const char* f : formats) {
    std::tm tm{};
    const char* end = strptime(s.c_str(), f, &tm);
    if (end != nullptr && *end == '\0')
      return timegm(&tm);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now,
                                                           std::chrono::milliseconds cap) {
  value = trim(value);
  if (value.empty())
    return std::nullopt;
  if (value.find_first_not_of("0123456789") == std::string_view::npos) {
    if (value.size() > 9)
      return cap;
    auto ms = std::chrono::milliseconds(std::stoll(std::string(value)) * 1000);
    return std::min(ms, cap);
  }
  auto t = parse_http_date(value);
  if (!t)
    return std::nullopt;
  // Compared in seconds: from_time_t of a date after 2262 overflows system_clock's nanoseconds
  // (found by tests/fuzz/http_fuzz.cpp).
  auto now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (*t <= now_s)
    return std::chrono::milliseconds(0);
  auto cap_s = std::chrono::duration_cast<std::chrono::seconds>(cap).count() + 1;
  if (std::int64_t(*t) - now_s >= cap_s)
    return cap;
  return std::min(std::chrono::milliseconds((std::int64_t(*t) - now_s) * 1000), cap);
}

std::chrono::milliseconds backoff_delay(int n, std::chrono::milliseconds base, std::chrono::milliseconds max,
                                        std::uint64_t jitter_seed) {
  if (n < 1)
    return std::chrono::milliseconds(0);
  auto d = base;
  for (int i = 1; i < n && d < max; ++i)
    d *= 2;
  d = std::min(d, max);
  // splitmix64 of the seed -> a factor in [0.5, 1.5)
  std::uint64_t z = jitter_seed + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  double factor = 0.5 + static_cast<double>(z >> 11) / static_cast<double>(1ull << 53);
  return std::chrono::milliseconds(static_cast<std::int64_t>(d.count() * factor));
}

}  // namespace crawld::fetch
