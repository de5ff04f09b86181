// fetch/watchdog: the deadline callback behind the session's total timeout over headers.
#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "fetch/watchdog.hpp"

namespace crawld {
namespace {

using namespace std::chrono_literals;

TEST(watchdog, fires_at_the_deadline_while_armed) {
  std::atomic<int> calls{0};
  auto t0 = std::chrono::steady_clock::now();
  std::atomic<std::chrono::steady_clock::duration::rep> at{0};
  auto g = fetch::arm_watchdog(t0 + 50ms, [&] {
    at = (std::chrono::steady_clock::now() - t0).count();
    ++calls;
  });
  for (int k = 0; k < 200 && calls.load() == 0; ++k) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(calls.load(), 1);
  EXPECT_TRUE(g.fired());
  EXPECT_GE(std::chrono::steady_clock::duration(at.load()), 50ms);
}

TEST(watchdog, never_fires_once_its_guard_is_gone) {
  std::atomic<int> calls{0};
  {
    auto g = fetch::arm_watchdog(std::chrono::steady_clock::now() + 30ms, [&] { ++calls; });
    EXPECT_FALSE(g.fired());
  }
  // A later deadline armed afterwards still fires alone: the gone one was removed.
  auto later = fetch::arm_watchdog(std::chrono::steady_clock::now() + 60ms, [&] { calls += 10; });
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(calls.load(), 10);
  EXPECT_TRUE(later.fired());
}

}  // namespace
}  // namespace crawld
