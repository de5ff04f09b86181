// Retry-After parsing (RFC 9110 10.2.3) and back-off delays.
#include <gtest/gtest.h>

#include "fetch/retry_after.hpp"

#include <set>

namespace crawld::fetch {
namespace {

using namespace std::chrono;

// Sun, 06 Nov 1994 08:49:37 GMT
const system_clock::time_point t0 = system_clock::from_time_t(784111777);

TEST(retry_after, rfc9110_delay_seconds) {
  EXPECT_EQ(parse_retry_after("120", t0), milliseconds(120'000));
  EXPECT_EQ(parse_retry_after(" 0 ", t0), milliseconds(0));
}

TEST(retry_after, rfc9110_imf_fixdate) {
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", t0), milliseconds(10'000));
}

TEST(retry_after, rfc9110_obsolete_date_forms) {
  EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:49:57 GMT", t0), milliseconds(20'000));
  EXPECT_EQ(parse_retry_after("Sun Nov  6 08:50:37 1994", t0), milliseconds(60'000));
}

TEST(retry_after, date_in_the_past_means_now) {
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", t0), milliseconds(0));
}

TEST(retry_after, garbage_is_nullopt) {
  EXPECT_FALSE(parse_retry_after("", t0));
  EXPECT_FALSE(parse_retry_after("soon", t0));
  EXPECT_FALSE(parse_retry_after("-5", t0));
  EXPECT_FALSE(parse_retry_after("1.5", t0));
  EXPECT_FALSE(parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT trailing", t0));
}

TEST(retry_after, huge_values_capped) {
  EXPECT_EQ(parse_retry_after("99999999999999", t0, seconds(30)), milliseconds(30'000));
  EXPECT_EQ(parse_retry_after("3600", t0, seconds(30)), milliseconds(30'000));
}

TEST(backoff, grows_exponentially_within_jitter_and_cap) {
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    for (int n = 1; n <= 10; ++n) {
      auto nominal = std::min<std::int64_t>(500LL << (n - 1), 20'000);
      auto d = backoff_delay(n, milliseconds(500), milliseconds(20'000), seed).count();
      EXPECT_GE(d, nominal / 2) << n;
      EXPECT_LT(d, nominal * 3 / 2) << n;
    }
  }
  EXPECT_EQ(backoff_delay(0, milliseconds(500), milliseconds(20'000), 1), milliseconds(0));
}

TEST(backoff, jitter_differs_between_seeds) {
  std::set<std::int64_t> values;
  for (std::uint64_t seed = 0; seed < 20; ++seed)
    values.insert(backoff_delay(3, milliseconds(1000), milliseconds(60'000), seed).count());
  EXPECT_GT(values.size(), 15u);
}

}  // namespace
}  // namespace crawld::fetch
