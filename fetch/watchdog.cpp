#include "fetch/watchdog.hpp"

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace crawld::fetch {

namespace {

struct watchdog {
  std::mutex mu;
  std::condition_variable cv;
  std::uint64_t next_id = 1;
  std::map<std::pair<std::chrono::steady_clock::time_point, std::uint64_t>, std::function<void()>> due;
  std::map<std::uint64_t, std::chrono::steady_clock::time_point> deadline_of;
  std::set<std::uint64_t> fired;

  watchdog() { std::thread([this] { run(); }).detach(); }

  void run() {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      if (due.empty()) {
        cv.wait(lock);
        continue;
      }
      auto first = due.begin();
      // A copy: wait_until reads its deadline again after waking, and a guard may have erased
      // the entry meanwhile (a use-after-free ASan found in test_hostile).
      const auto deadline = first->first.first;
      if (std::chrono::steady_clock::now() < deadline) {
        cv.wait_until(lock, deadline);
        continue;
      }
      auto id = first->first.second;
      auto fn = std::move(first->second);
      due.erase(first);
      deadline_of.erase(id);
      fired.insert(id);
      fn();  // under the lock: a guard being destroyed waits for it
    }
  }
};

watchdog& instance() {
  static watchdog* w = new watchdog;  // never destroyed: its thread outlives static destruction
  return *w;
}

}  // namespace

watchdog_guard arm_watchdog(std::chrono::steady_clock::time_point deadline, std::function<void()> fn) {
  auto& w = instance();
  std::lock_guard<std::mutex> lock(w.mu);
  auto id = w.next_id++;
  const bool first = w.due.empty() || deadline < w.due.begin()->first.first;
  w.due.emplace(std::make_pair(deadline, id), std::move(fn));
  w.deadline_of.emplace(id, deadline);
  if (first) w.cv.notify_one();
  return watchdog_guard(id);
}

bool watchdog_guard::fired() const {
  if (id_ == 0) return false;
  auto& w = instance();
  std::lock_guard<std::mutex> lock(w.mu);
  return w.fired.count(id_) > 0;
}

watchdog_guard::~watchdog_guard() {
  if (id_ == 0) return;
  auto& w = instance();
  std::lock_guard<std::mutex> lock(w.mu);
  auto it = w.deadline_of.find(id_);
  if (it != w.deadline_of.end()) {
    w.due.erase(std::make_pair(it->second, id_));
    w.deadline_of.erase(it);
  }
  w.fired.erase(id_);
}

}  // namespace crawld::fetch
