// The header byte cap's monitor (header_cap.hpp): one thread, polling the watched sockets'
// TCP_INFO under one lock.
#include "fetch/header_cap.hpp"

#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace crawld::fetch {

std::int64_t tcp_bytes_consumed(int fd) {
  if (fd < 0) return -1;
  struct tcp_info info {};
  socklen_t len = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
      len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof info.tcpi_bytes_received)
    return -1;
  int queued = 0;
  if (::ioctl(fd, SIOCINQ, &queued) != 0) queued = 0;
  return static_cast<std::int64_t>(info.tcpi_bytes_received) - std::max(queued, 0);
}

struct header_watch::state {
  std::uint64_t cap = 0;
  std::function<void()> stop;
  std::chrono::milliseconds poll{20};
  std::atomic<int> fd{-1};
  std::atomic<std::int64_t> base{0};
  std::atomic<bool> fired{false};
};

namespace {

class monitor {
 public:
  static monitor& get() {
    static monitor* m = new monitor;  // never destroyed: fetches may run during static destruction
    return *m;
  }

  void add(const std::shared_ptr<header_watch::state>& s) {
    std::lock_guard<std::mutex> g(m_);
    watched_.push_back(s);
    if (!started_) {
      started_ = true;
      std::thread([this] { run(); }).detach();
    }
    cv_.notify_one();
  }

  void remove(const header_watch::state* s) {
    std::lock_guard<std::mutex> g(m_);
    watched_.erase(std::remove_if(watched_.begin(), watched_.end(), [s](const auto& w) { return w.get() == s; }),
                   watched_.end());
  }

 private:
  void run() {
    std::unique_lock<std::mutex> g(m_);
    for (;;) {
      cv_.wait(g, [this] { return !watched_.empty(); });
      std::chrono::milliseconds poll = watched_.front()->poll;
      for (auto it = watched_.begin(); it != watched_.end();) {
        header_watch::state& s = **it;
        poll = std::min(poll, s.poll);
        const int fd = s.fd.load(std::memory_order_acquire);
        const std::int64_t used = fd < 0 ? -1 : tcp_bytes_consumed(fd);
        if (used >= 0 && used - s.base.load(std::memory_order_relaxed) > static_cast<std::int64_t>(s.cap)) {
          s.fired.store(true);
          s.stop();
          it = watched_.erase(it);
        } else {
          ++it;
        }
      }
      cv_.wait_for(g, poll);
    }
  }

  std::mutex m_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<header_watch::state>> watched_;
  bool started_ = false;
};

}  // namespace

header_watch watch_headers(std::uint64_t cap, std::function<void()> stop, std::chrono::milliseconds poll) {
  auto s = std::make_shared<header_watch::state>();
  s->cap = cap;
  s->stop = std::move(stop);
  s->poll = std::max(poll, std::chrono::milliseconds(1));
  monitor::get().add(s);
  return header_watch(std::move(s));
}

void header_watch::set_fd(int fd, bool new_socket) {
  if (!s_) return;
  const std::int64_t used = new_socket ? 0 : tcp_bytes_consumed(fd);
  s_->base.store(std::max<std::int64_t>(used, 0), std::memory_order_relaxed);
  s_->fd.store(fd, std::memory_order_release);
}

void header_watch::release() {
  if (!s_) return;
  monitor::get().remove(s_.get());
  s_->fd.store(-1);
}

bool header_watch::fired() const { return s_ && s_->fired.load(); }

header_watch::~header_watch() { release(); }

}  // namespace crawld::fetch
