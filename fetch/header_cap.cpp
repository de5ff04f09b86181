// The header byte cap (header_cap.hpp): a check on fetch/request_monitor's thread.
#include "fetch/header_cap.hpp"

#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <mutex>

#include "fetch/request_monitor.hpp"

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

struct header_watch::state final : monitored {
  std::uint64_t cap = 0;
  std::function<void()> stop;
  std::chrono::milliseconds poll{20};
  std::chrono::steady_clock::time_point next_check;  // monitor thread only
  std::mutex m;          // fd and base change together
  int fd = -1;
  std::int64_t base = -1;  // bytes consumed when the watch started; -1: not read yet
  std::atomic<bool> fired{false};

  bool check(std::chrono::steady_clock::time_point now) override {
    if (now < next_check) return false;
    next_check = now + poll;
    int f;
    std::int64_t b;
    {
      std::lock_guard<std::mutex> g(m);
      f = fd;
      b = base;
    }
    if (f < 0) return false;
    const std::int64_t used = tcp_bytes_consumed(f);
    if (used < 0) return false;
    if (b < 0) {
      std::lock_guard<std::mutex> g(m);
      if (fd == f && base < 0) base = used;
      return false;
    }
    if (used - b <= static_cast<std::int64_t>(cap)) return false;
    fired.store(true, std::memory_order_release);
    stop();
    return true;
  }
};

header_watch watch_headers(std::uint64_t cap, std::function<void()> stop, std::chrono::milliseconds poll) {
  auto s = std::make_shared<header_watch::state>();
  s->cap = cap;
  s->stop = std::move(stop);
  s->poll = std::max(poll, std::chrono::milliseconds(1));
  s->next_check = std::chrono::steady_clock::now() + s->poll;
  watch(*s);
  return header_watch(std::move(s));
}

void header_watch::set_fd(int fd, bool new_socket) {
  if (!s_) return;
  std::lock_guard<std::mutex> g(s_->m);
  s_->fd = fd;
  s_->base = new_socket ? 0 : -1;
}

void header_watch::release() {
  if (!s_) return;
  unwatch(*s_);
  std::lock_guard<std::mutex> g(s_->m);
  s_->fd = -1;
}

bool header_watch::fired() const { return s_ && s_->fired.load(std::memory_order_acquire); }

header_watch::~header_watch() { release(); }

}  // namespace crawld::fetch
