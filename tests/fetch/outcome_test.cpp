// Outcome classification and counters.
#include <gtest/gtest.h>

#include "fetch/outcome.hpp"
#include "fetch/session.hpp"

namespace crawld::fetch {
namespace {

response with_status(int s) {
  response r;
  r.status = s;
  return r;
}

TEST(outcome, statuses_map_to_outcomes) {
  EXPECT_EQ(classify(with_status(200)), outcome::ok);
  EXPECT_EQ(classify(with_status(204)), outcome::ok);
  EXPECT_EQ(classify(with_status(301)), outcome::redirect);
  EXPECT_EQ(classify(with_status(308)), outcome::redirect);
  EXPECT_EQ(classify(with_status(404)), outcome::not_found);
  EXPECT_EQ(classify(with_status(410)), outcome::not_found);
  EXPECT_EQ(classify(with_status(403)), outcome::client_error);
  EXPECT_EQ(classify(with_status(503)), outcome::server_error);
  EXPECT_EQ(classify(with_status(100)), outcome::network_error);
}

TEST(outcome, transport_errors_win_over_status) {
  auto r = with_status(200);
  r.error = fetch_error::too_large;
  EXPECT_EQ(classify(r), outcome::too_large);
  r.error = fetch_error::timeout;
  EXPECT_EQ(classify(r), outcome::timeout);
  r.error = fetch_error::connect;
  EXPECT_EQ(classify(r), outcome::network_error);
}

TEST(outcome, names_round_trip) {
  for (std::size_t i = 0; i < outcome_count; ++i) {
    auto o = static_cast<outcome>(i);
    outcome back{};
    ASSERT_TRUE(from_string(to_string(o), back));
    EXPECT_EQ(back, o);
  }
  outcome x{};
  EXPECT_FALSE(from_string("nonsense", x));
}

TEST(outcome_counts, count_total_failures_and_summary) {
  outcome_counts c;
  EXPECT_EQ(c.summary(), "none");
  c.add(outcome::ok, 3);
  c.add(outcome::redirect);
  c.add(outcome::not_found, 2);
  c.add(outcome::timeout);
  EXPECT_EQ(c.total(), 7u);
  EXPECT_EQ(c.failures(), 3u);
  EXPECT_EQ(c.summary(), "ok 3, redirect 1, not_found 2, timeout 1");
  outcome_counts d;
  d.add(outcome::ok);
  d += c;
  EXPECT_EQ(d[outcome::ok], 4u);
}

}  // namespace
}  // namespace crawld::fetch
