#pragma once
/// A process-wide deadline watchdog: `arm` schedules a callback at a deadline, and the returned
/// guard cancels it when destroyed. Used by fetch::session to enforce the total timeout while
/// cpp-httplib reads a status line and headers (its own timeouts are per read, so a server that
/// drips one header byte per second, or sends header lines forever, would hold a fetcher for
/// ever): the callback shuts the client's socket down (httplib::ClientImpl::stop).
///
/// One background thread (started on first use, never joined) runs due callbacks in deadline
/// order. A callback runs under the watchdog's lock, so once a guard's destructor returns its
/// callback is not running and will never run; callbacks must be short and must not arm or
/// disarm. Thread-safe.
#include <chrono>
#include <cstdint>
#include <functional>

namespace crawld::fetch {

class watchdog_guard {
 public:
  watchdog_guard() = default;
  explicit watchdog_guard(std::uint64_t id) : id_(id) {}
  watchdog_guard(watchdog_guard&& o) noexcept : id_(o.id_) { o.id_ = 0; }
  watchdog_guard& operator=(watchdog_guard&&) = delete;
  watchdog_guard(const watchdog_guard&) = delete;
  ~watchdog_guard();
  /// Whether the callback ran (the deadline passed while armed).
  bool fired() const;

 private:
  std::uint64_t id_ = 0;
};

/// Runs `fn` at `deadline` unless the returned guard is destroyed first.
watchdog_guard arm_watchdog(std::chrono::steady_clock::time_point deadline, std::function<void()> fn);

}  // namespace crawld::fetch
