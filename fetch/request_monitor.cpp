#include "fetch/request_monitor.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace crawld::fetch {

/// The shard an item was registered in. Whether it still is: whether the shard's vector holds it.
struct monitor_access {
  static int& shard(monitored& m) { return m.shard_; }
};

namespace {

constexpr std::size_t shard_count = 64;

struct shard {
  std::mutex m;
  std::vector<monitored*> items;
};

class monitor {
 public:
  static monitor& get() {
    static monitor* m = new monitor;  // never destroyed: fetches may run during static destruction
    return *m;
  }

  std::array<shard, shard_count> shards;

  /// One more registered item; wakes the thread when it was asleep for lack of items.
  void added() {
    if (active_.fetch_add(1, std::memory_order_acq_rel) == 0) {
      std::lock_guard<std::mutex> g(m_);
      cv_.notify_one();
    }
  }
  void removed() { active_.fetch_sub(1, std::memory_order_acq_rel); }

 private:
  monitor() { std::thread([this] { run(); }).detach(); }

  void run() {
    for (;;) {
      {
        std::unique_lock<std::mutex> g(m_);
        cv_.wait(g, [this] { return active_.load(std::memory_order_acquire) > 0; });
      }
      std::this_thread::sleep_for(monitor_tick);
      const auto now = std::chrono::steady_clock::now();
      for (auto& s : shards) {
        std::lock_guard<std::mutex> g(s.m);
        for (std::size_t i = 0; i < s.items.size();) {
          monitored* item = s.items[i];
          if (!item->check(now)) {
            ++i;
            continue;
          }
          s.items[i] = s.items.back();
          s.items.pop_back();
          removed();
        }
      }
    }
  }

  std::mutex m_;
  std::condition_variable cv_;
  std::atomic<long> active_{0};
};

}  // namespace

void watch(monitored& m) {
  auto& mon = monitor::get();
  int& index = monitor_access::shard(m);
  index = static_cast<int>(std::hash<std::thread::id>{}(std::this_thread::get_id()) % shard_count);
  {
    auto& s = mon.shards[static_cast<std::size_t>(index)];
    std::lock_guard<std::mutex> g(s.m);
    s.items.push_back(&m);
  }
  mon.added();
}

void unwatch(monitored& m) {
  const int index = monitor_access::shard(m);
  if (index < 0) return;
  auto& mon = monitor::get();
  auto& s = mon.shards[static_cast<std::size_t>(index)];
  std::lock_guard<std::mutex> g(s.m);
  auto it = std::find(s.items.begin(), s.items.end(), &m);
  if (it == s.items.end()) return;  // its check already returned true, or unwatched before
  *it = s.items.back();
  s.items.pop_back();
  mon.removed();
}

}  // namespace crawld::fetch
