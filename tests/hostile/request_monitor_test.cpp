// fetch/request_monitor: the sharded tick monitor under the watchdog and the header cap.
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "fetch/request_monitor.hpp"

namespace crawld {
namespace {

using namespace std::chrono_literals;

/// Counts its checks; asks to be dropped after `until` of them (0: never).
struct counting final : fetch::monitored {
  std::atomic<int> checks{0};
  std::atomic<bool> gone{false};  // set after unwatch: a check after it is a bug
  std::atomic<int> late{0};
  int until = 0;
  bool check(std::chrono::steady_clock::time_point) override {
    if (gone.load()) ++late;
    return ++checks == until;
  }
};

TEST(request_monitor, checks_every_tick_until_the_item_asks_to_go) {
  counting c;
  c.until = 3;
  fetch::watch(c);
  for (int i = 0; i < 200 && c.checks.load() < 3; ++i) std::this_thread::sleep_for(5ms);
  std::this_thread::sleep_for(10 * fetch::monitor_tick);
  EXPECT_EQ(c.checks.load(), 3) << "checked again after returning true";
  fetch::unwatch(c);  // already dropped by the monitor: a no-op
  EXPECT_EQ(c.checks.load(), 3);
}

TEST(request_monitor, no_check_runs_after_unwatch_returns_under_concurrent_registration) {
  constexpr int threads = 8, rounds = 300;
  std::atomic<int> late{0}, checked{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      for (int r = 0; r < rounds; ++r) {
        counting c;
        fetch::watch(c);
        if ((r + t) % 50 == 0) std::this_thread::sleep_for(2 * fetch::monitor_tick);  // some are checked
        fetch::unwatch(c);
        c.gone = true;
        late += c.late.load();
        checked += c.checks.load() > 0;
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(late.load(), 0);
  EXPECT_GT(checked.load(), 0) << "the monitor never checked an item held two ticks";
}

}  // namespace
}  // namespace crawld
