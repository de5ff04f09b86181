#pragma once
/// A process-wide deadline watchdog: `arm` schedules a callback at a deadline, and the returned
/// guard cancels it when destroyed. Used by fetch::session to enforce the total timeout while
/// cpp-httplib reads a status line and headers (its own timeouts are per read, so a server that
/// drips one header byte per second, or sends header lines forever, would hold a fetcher for
/// ever): the callback shuts the client's socket down (httplib::ClientImpl::stop).
///
/// The deadline is checked every tick of fetch/request_monitor (5 ms), so the callback runs at most
/// a tick late. It runs under the monitor's lock, so once a guard's destructor returns its
/// callback is not running and will never run; callbacks must be short and must not arm or
/// disarm. Thread-safe; a guard is used by one thread.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace crawld::fetch {

class watchdog_guard {
 public:
  struct entry;
  watchdog_guard() = default;
  explicit watchdog_guard(std::unique_ptr<entry> e);
  watchdog_guard(watchdog_guard&& o) noexcept;
  watchdog_guard& operator=(watchdog_guard&&) = delete;
  watchdog_guard(const watchdog_guard&) = delete;
  ~watchdog_guard();
  /// Whether the callback ran (the deadline passed while armed).
  bool fired() const;

 private:
  std::unique_ptr<entry> e_;
};

/// Runs `fn` at `deadline` unless the returned guard is destroyed first.
watchdog_guard arm_watchdog(std::chrono::steady_clock::time_point deadline, std::function<void()> fn);

}  // namespace crawld::fetch
