#pragma once
/// A byte cap on a response's status line and headers, which cpp-httplib (0.11) does not have: it
/// keeps every header line it reads (8 KiB each at most) until the blank line, so a server that
/// sends header lines forever makes it allocate as fast as the link delivers until the total
/// timeout (a soak measured 55 MiB of small allocations held at once from /endless-headers on
/// loopback, docs/hostile.md), which then stays in glibc's arenas as fragmentation.
///
/// `watch_headers` registers a check with fetch/request_monitor. From `poll` after the watch
/// starts, and every `poll` after that, the monitor reads the bytes the application has consumed
/// from the socket (TCP_INFO's bytes received minus the bytes still queued, SIOCINQ) and, past
/// `cap` bytes more than when the watch started, calls `stop` once (fetch::session passes
/// httplib::ClientImpl::stop, which shuts the socket down, as the watchdog does). A request that
/// ends within `poll` costs no system call. The socket is given by `set_fd` and may change while
/// watched (httplib reconnects); a watch with no socket yet is skipped. A new socket counts from 0;
/// an open (kept-alive) one from what it had consumed at the monitor's first reading, so a request
/// consumes at most about cap + 2 x (link rate x poll) bytes of headers.
/// `stop` runs on the monitor's thread under its lock: short, and it must not watch or unwatch.
///
/// Destroying or `release`-ing the guard ends the watch: once that returns, `stop` is not running
/// and will never run. A socket that is not TCP (getsockopt fails) is never stopped.
/// Thread-safety: the guard is used by one thread (`set_fd` also from httplib's socket-options
/// callback on that thread); the monitor is thread-safe.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace crawld::fetch {

/// Bytes the application has read from TCP socket `fd` so far; -1 when not a readable TCP socket.
std::int64_t tcp_bytes_consumed(int fd);

class header_watch {
 public:
  struct state;
  header_watch() = default;
  explicit header_watch(std::shared_ptr<state> s) : s_(std::move(s)) {}
  header_watch(header_watch&&) noexcept = default;
  header_watch& operator=(header_watch&&) = delete;
  header_watch(const header_watch&) = delete;
  ~header_watch();

  /// The socket now carrying the request (from the fetching thread, or httplib's socket-options
  /// callback when it connects; a new socket starts at 0 bytes consumed, an `fd` that was open
  /// before counts from its total at the monitor's first reading). No system call.
  void set_fd(int fd, bool new_socket);
  /// Ends the watch now (the headers are complete); idempotent.
  void release();
  /// Whether the cap was exceeded and `stop` was called.
  bool fired() const;

 private:
  std::shared_ptr<state> s_;
};

/// Starts watching (no socket yet: call set_fd).
header_watch watch_headers(std::uint64_t cap, std::function<void()> stop,
                           std::chrono::milliseconds poll = std::chrono::milliseconds(20));

}  // namespace crawld::fetch
