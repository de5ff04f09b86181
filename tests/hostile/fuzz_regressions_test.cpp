// Findings of the fuzz targets (tests/fuzz/), kept as regression tests of the normal suite. The
// inputs are also in the seed corpora (tests/fuzz/corpus/<target>/).
#include <chrono>

#include <gtest/gtest.h>

#include "fetch/retry_after.hpp"

namespace crawld {
namespace {

// tests/fuzz/corpus/http/retry_after_year_5153: from_time_t of a date past 2262 overflowed
// system_clock's nanoseconds (UBSan: signed integer overflow in chrono.h).
TEST(fuzz_regressions, retry_after_date_far_in_the_future_is_clamped_to_the_cap) {
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  const auto cap = std::chrono::milliseconds(3'600'000);
  auto d = fetch::parse_retry_after("Wed, 21 Oct 5153 07:28:00 GMT", now, cap);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(*d, cap);
  auto near = fetch::parse_retry_after("Tue, 14 Nov 2023 22:13:27 GMT", now, cap);  // now + 7 s
  ASSERT_TRUE(near.has_value());
  EXPECT_EQ(*near, std::chrono::milliseconds(7'000));
}

}  // namespace
}  // namespace crawld
