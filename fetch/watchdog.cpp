#include "fetch/watchdog.hpp"

#include <atomic>

#include "fetch/request_monitor.hpp"

namespace crawld::fetch {

struct watchdog_guard::entry final : monitored {
  std::chrono::steady_clock::time_point deadline;
  std::function<void()> fn;
  std::atomic<bool> fired{false};

  bool check(std::chrono::steady_clock::time_point now) override {
    if (now < deadline) return false;
    fired.store(true, std::memory_order_release);
    fn();
    return true;
  }
};

watchdog_guard::watchdog_guard(std::unique_ptr<entry> e) : e_(std::move(e)) {}
watchdog_guard::watchdog_guard(watchdog_guard&& o) noexcept = default;

watchdog_guard arm_watchdog(std::chrono::steady_clock::time_point deadline, std::function<void()> fn) {
  auto e = std::make_unique<watchdog_guard::entry>();
  e->deadline = deadline;
  e->fn = std::move(fn);
  watch(*e);
  return watchdog_guard(std::move(e));
}

bool watchdog_guard::fired() const { return e_ && e_->fired.load(std::memory_order_acquire); }

watchdog_guard::~watchdog_guard() {
  if (e_) unwatch(*e_);
}

}  // namespace crawld::fetch
