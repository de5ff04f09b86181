#pragma once
/// The one background thread behind fetch/watchdog and fetch/header_cap: it calls `check` on every
/// registered item once per tick (5 ms) while any is registered, and sleeps on a condition variable
/// while none is.
///
/// Registration is sharded by the registering thread (64 shards, each a mutex and a vector), so
/// the fetchers that register and unregister an item or two per request rarely meet on a lock,
/// and nothing wakes the monitor per request: a request that ends within a tick costs two
/// uncontended lock/unlock pairs per item. (The first versions kept one global lock, a std::map
/// and a condition-variable notify per request; perf counted that at ~10% of a crawl's CPU,
/// docs/architecture.md.)
///
/// `check` runs on the monitor thread under the item's shard lock, so once `unwatch` returns it is
/// not running and will never run again; it must be short and must not watch or unwatch.
/// Thread-safety: `watch` and `unwatch` may be called from any thread (`unwatch` on an item at most
/// once per `watch`).
#include <chrono>

namespace crawld::fetch {

class monitored {
 public:
  virtual ~monitored() = default;
  /// Called every tick while registered; returning true unregisters the item.
  virtual bool check(std::chrono::steady_clock::time_point now) = 0;

 private:
  friend struct monitor_access;
  int shard_ = -1;  // the shard it was registered in; -1 before `watch`
};

/// The monitor's period.
inline constexpr std::chrono::milliseconds monitor_tick{5};

/// Registers `m` (which must outlive its registration).
void watch(monitored& m);
/// Unregisters `m` if the monitor has not already (its `check` returned true).
void unwatch(monitored& m);

}  // namespace crawld::fetch
