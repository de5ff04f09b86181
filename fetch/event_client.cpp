#include "fetch/event_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <list>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/ascii.hpp"
#include "fetch/http1_parser.hpp"
#include "fetch/response_reader.hpp"

namespace crawld::fetch {
namespace {

using steady = std::chrono::steady_clock;

constexpr std::size_t read_buffer_bytes = 64 * 1024;
constexpr auto scan_interval = std::chrono::milliseconds(10);  // shortest gap between deadline scans

/// One GET from `get` to its callback. Heap-allocated and never moved: the reader refers to it.
struct exchange {
  parse::url u;
  std::string address;
  event_client::callback done;
  steady::time_point started;
  response r;
  std::unique_ptr<response_reader> reader;
  std::string out;  // the request bytes
  std::size_t sent = 0;
  bool retried = false;
  bool stopped = false;  // a reader callback returned false
  steady::time_point attempt_started;
};

enum class phase { connecting, writing, reading, idle };

struct conn {
  int fd = -1;
  std::string key;  // host_key + ' ' + address: connections are shared by URL host and address
  phase ph = phase::connecting;
  http1_parser parser;
  std::unique_ptr<exchange> ex;
  bool reused = false;    // the current exchange is not the connection's first
  bool readable = false;  // input arrived while the request was still being written
  steady::time_point since;  // connect start, or idle since
  steady::time_point last_io;
  std::list<conn*>::iterator lru;
  explicit conn(std::size_t max_head) : parser(max_head) {}
};

std::string errno_text(int e) {
  char buf[128];
  return std::string(strerror_r(e, buf, sizeof buf));
}

}  // namespace

struct event_client::loop {
  const options o;
  std::atomic<std::size_t> opened{0};
  std::atomic<std::size_t> idle_count{0};
  pool_limits limits;
  int ep = -1;
  int wake = -1;
  std::mutex mu;
  std::vector<std::unique_ptr<exchange>> inbox;  // guarded by mu
  bool stopping = false;                         // guarded by mu
  std::unordered_map<conn*, std::unique_ptr<conn>> conns;
  std::unordered_map<std::string, std::vector<conn*>> idle_by_key;  // most recent last
  std::list<conn*> idle_lru;                                        // most recent first
  std::vector<std::unique_ptr<conn>> closed;  // freed after the current batch of events
  std::vector<conn*> pending_reads;           // still readable after a turn of reads
  std::vector<char> buf = std::vector<char>(read_buffer_bytes);
  steady::time_point next_scan = steady::time_point::max();  // when to look for expired deadlines
  std::thread thread;

  loop(options opts, pool_limits l) : o(std::move(opts)), limits(l) {
    ep = ::epoll_create1(EPOLL_CLOEXEC);
    wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ep < 0 || wake < 0) {
      const int e = errno;
      if (ep >= 0) ::close(ep);
      if (wake >= 0) ::close(wake);
      throw std::runtime_error("event_client: " + errno_text(e));
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, wake, &ev);
  }

  /// Starts the thread, which holds `self` until it ends.
  static void start_thread(const std::shared_ptr<loop>& self) {
    self->thread = std::thread([keep = self] { keep->run(); });
  }

  /// Ends the thread: joined, or (when called from one of its own callbacks) left to finish.
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stopping = true;
    }
    notify();
    if (thread.get_id() == std::this_thread::get_id()) thread.detach();
    else if (thread.joinable()) thread.join();
  }

  ~loop() {
    if (thread.joinable()) thread.detach();  // cannot happen after stop(); never terminate()
    ::close(wake);
    ::close(ep);
  }

  void notify() {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake, &one, sizeof one);
  }

  void submit(std::unique_ptr<exchange> ex) {
    bool was_empty;
    {
      std::lock_guard<std::mutex> lock(mu);
      was_empty = inbox.empty();
      inbox.push_back(std::move(ex));
    }
    if (was_empty) notify();  // else the loop has a wake-up pending for this batch already
  }

  // ---- completion ----

  void complete(std::unique_ptr<exchange> ex) {
    auto& r = ex->r;
    if (!o.keep_non_html_body && !r.is_html()) r.body.clear();
    r.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - ex->started);
    try {
      ex->done(std::move(r));
    } catch (...) {  // a callback's exception must not stop the loop
    }
  }

  void fail(std::unique_ptr<exchange> ex, fetch_error e, std::string message) {
    ex->r.error = e;
    ex->r.error_message = std::move(message);
    complete(std::move(ex));
  }

  // ---- connections ----

  void close_conn(conn* c) {
    if (c->ph == phase::idle) {
      auto& v = idle_by_key[c->key];
      v.erase(std::remove(v.begin(), v.end(), c), v.end());
      if (v.empty()) idle_by_key.erase(c->key);
      idle_lru.erase(c->lru);
      idle_count.store(idle_lru.size(), std::memory_order_relaxed);
    }
    if (c->fd >= 0) ::close(c->fd);
    c->fd = -1;
    auto it = conns.find(c);
    if (it != conns.end()) {
      closed.push_back(std::move(it->second));
      conns.erase(it);
    }
  }

  void make_idle(conn* c) {
    c->ph = phase::idle;
    c->since = steady::now();
    next_scan = std::min(next_scan, c->since + limits.idle_timeout);
    auto& v = idle_by_key[c->key];
    v.push_back(c);
    idle_lru.push_front(c);
    c->lru = idle_lru.begin();
    if (v.size() > limits.max_idle_per_host) close_conn(v.front());
    while (idle_lru.size() > limits.max_idle_total) close_conn(idle_lru.back());
    idle_count.store(idle_lru.size(), std::memory_order_relaxed);
  }

  conn* take_idle(const std::string& key) {
    auto it = idle_by_key.find(key);
    while (it != idle_by_key.end() && !it->second.empty()) {
      conn* c = it->second.back();
      if (steady::now() - c->since >= limits.idle_timeout) {
        close_conn(c);
        it = idle_by_key.find(key);
        continue;
      }
      it->second.pop_back();
      idle_lru.erase(c->lru);
      if (it->second.empty()) idle_by_key.erase(it);
      idle_count.store(idle_lru.size(), std::memory_order_relaxed);
      c->reused = true;
      return c;
    }
    return nullptr;
  }

  /// A new non-blocking connection to the exchange's address; null (and the exchange failed)
  /// when the socket cannot even be started.
  conn* open(std::unique_ptr<exchange>& ex, const std::string& key) {
    const int port = ex->u.effective_port();
    sockaddr_storage ss{};
    socklen_t len = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (::inet_pton(AF_INET, ex->address.c_str(), &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      v4->sin_port = htons(static_cast<std::uint16_t>(port));
      len = sizeof *v4;
    } else if (::inet_pton(AF_INET6, ex->address.c_str(), &v6->sin6_addr) == 1) {
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons(static_cast<std::uint16_t>(port));
      len = sizeof *v6;
    } else {
      auto why = "cannot connect to " + ex->u.host_key() + " (bad address '" + ex->address + "')";
      fail(std::move(ex), fetch_error::connect, std::move(why));
      return nullptr;
    }
    const int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      auto why = "cannot connect to " + ex->u.host_key() + " (" + errno_text(errno) + ")";
      fail(std::move(ex), fetch_error::connect, std::move(why));
      return nullptr;
    }
    const int yes = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    auto owned = std::make_unique<conn>(o.max_header_bytes);
    conn* c = owned.get();
    c->fd = fd;
    c->key = key;
    c->since = steady::now();
    c->last_io = c->since;
    const int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&ss), len);
    if (rc != 0 && errno != EINPROGRESS) {
      const int e = errno;
      ::close(fd);
      auto why = "cannot connect to " + ex->u.host_key() + " (Could not establish connection: " + errno_text(e) + ")";
      fail(std::move(ex), fetch_error::connect, std::move(why));
      return nullptr;
    }
    c->ph = rc == 0 ? phase::writing : phase::connecting;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = c;
    if (::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
      const int e = errno;
      ::close(fd);
      auto why = "cannot connect to " + ex->u.host_key() + " (" + errno_text(e) + ")";
      fail(std::move(ex), fetch_error::connect, std::move(why));
      return nullptr;
    }
    conns.emplace(c, std::move(owned));
    opened.fetch_add(1, std::memory_order_relaxed);
    return c;
  }

  /// Builds the request and puts the exchange on a kept-alive connection for its key, or a new one.
  void start(std::unique_ptr<exchange> ex, bool fresh) {
    if (ex->out.empty()) {
      host_settings hs = o.for_host ? o.for_host(ex->u.host) : host_settings{};
      header_list h = request_fields(o, hs, ex->u);
      if (!has_header(h, "Accept")) h.emplace_back("Accept", "*/*");
      std::stable_sort(h.begin(), h.end(), [](const auto& a, const auto& b) { return iless(a.first, b.first); });
      ex->out = "GET " + ex->u.request_target() + " HTTP/1.1\r\n";
      for (const auto& [k, v] : h) ex->out += k + ": " + v + "\r\n";
      ex->out += "\r\n";
    }
    ex->sent = 0;
    ex->stopped = false;
    ex->r = response{};
    ex->reader = std::make_unique<response_reader>(o, ex->u, ex->started, ex->r);
    ex->attempt_started = steady::now();
    // The new exchange's first deadline (the scan that finds it is at most scan_interval late).
    const steady::duration first = std::min<steady::duration>(
      {o.connect_timeout, o.read_timeout, ex->started + o.total_timeout - ex->attempt_started});
    next_scan = std::min(next_scan, ex->attempt_started + first);
    const std::string key = ex->u.host_key() + ' ' + ex->address;
    conn* c = fresh ? nullptr : take_idle(key);
    if (!c) {
      c = open(ex, key);
      if (!c) return;
      c->reused = false;
    }
    c->parser.reset();
    c->readable = false;
    c->last_io = steady::now();
    c->ex = std::move(ex);
    if (c->ph == phase::idle) c->ph = phase::writing;
    if (c->ph == phase::writing) send_request(c);
  }

  // ---- I/O ----

  /// A transport failure on `c`: the exchange is retried once on a fresh connection when a reused
  /// connection failed before any response byte (the server closed it while idle), else it fails.
  void transport_failure(conn* c, fetch_error e, std::string message) {
    auto ex = std::move(c->ex);
    const bool stale = c->reused && c->parser.head_bytes() == 0 && !ex->retried &&
                       steady::now() - ex->attempt_started < o.read_timeout;
    close_conn(c);
    if (stale) {
      ex->retried = true;
      return start(std::move(ex), true);
    }
    fail(std::move(ex), e, std::move(message));
  }

  void send_request(conn* c) {
    auto& ex = *c->ex;
    while (ex.sent < ex.out.size()) {
      const auto n = ::send(c->fd, ex.out.data() + ex.sent, ex.out.size() - ex.sent, MSG_NOSIGNAL);
      if (n > 0) {
        ex.sent += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // EPOLLOUT resumes
      return transport_failure(c, fetch_error::network,
                               "Write error talking to " + ex.u.host_key() + " (" + errno_text(errno) + ")");
    }
    c->ph = phase::reading;
    c->last_io = steady::now();
    if (c->readable) read_response(c, true);
  }

  /// Reads what the socket holds. `closing`: the peer's FIN has arrived (EPOLLRDHUP) or may
  /// have, so the reads go on to end of stream or EAGAIN; otherwise a short read means the
  /// socket is drained and the next edge (data or FIN) will come as a new event.
  void read_response(conn* c, bool closing) {
    for (int rounds = 0; rounds < 64 && c->fd >= 0 && c->ex; ++rounds) {
      const auto n = ::recv(c->fd, buf.data(), buf.size(), 0);
      if (n > 0) {
        c->last_io = steady::now();
        consume(c, buf.data(), static_cast<std::size_t>(n));
        if (!closing && static_cast<std::size_t>(n) < buf.size()) return;
        continue;
      }
      if (n == 0) return end_of_stream(c);
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      return transport_failure(c, fetch_error::network,
                               "Read error talking to " + c->ex->u.host_key() + " (" + errno_text(errno) + ")");
    }
    // After 64 full reads the connection yields to the others; the socket is edge-triggered, so
    // it goes on the list read before the next wait.
    if (c->fd >= 0 && c->ex) pending_reads.push_back(c);
  }

  void consume(conn* c, const char* data, std::size_t n) {
    auto& ex = *c->ex;
    const std::size_t used = c->parser.feed(
      data, n,
      [&](const response_head& head) {
        header_list fields;  // as cpp-httplib gives them to a session: empty values dropped
        fields.reserve(head.fields.size());
        for (const auto& f : head.fields)
          if (!f.second.empty()) fields.push_back(f);
        std::stable_sort(fields.begin(), fields.end(), [](const auto& a, const auto& b) { return iless(a.first, b.first); });
        if (!guard(ex, [&] { return ex.reader->on_head(head.status, std::move(fields)); })) ex.stopped = true;
        return !ex.stopped;
      },
      [&](std::string_view piece) {
        if (!guard(ex, [&] { return ex.reader->on_body(piece.data(), piece.size()); })) ex.stopped = true;
        return !ex.stopped;
      });
    after_feed(c, used < n);
  }

  template <class F>
  bool guard(exchange& ex, F&& f) {
    try {
      return f();
    } catch (const std::exception& e) {
      ex.reader->set_stop(fetch_error::network, std::string("internal error: ") + e.what());
      return false;
    }
  }

  void after_feed(conn* c, bool extra_bytes) {
    auto& ex = *c->ex;
    const auto st = c->parser.current();
    if (ex.stopped) {  // cancelled: the connection is dropped, as a cancelled cpp-httplib request
      auto owned = std::move(c->ex);
      close_conn(c);
      owned->r.error = owned->reader->stop();
      owned->r.error_message = owned->reader->stop_message();
      return complete(std::move(owned));
    }
    if (st == http1_parser::state::failed) {
      const std::string& why = c->parser.error();
      const bool cap = c->parser.head().status == 0 && why.rfind("response headers exceed", 0) == 0;
      return transport_failure(c, fetch_error::network,
                               cap ? why : "malformed response from " + ex.u.host_key() + ": " + why);
    }
    if (st != http1_parser::state::done) return;
    const bool reusable = c->parser.head().keep_alive() && !c->parser.close_delimited() && !extra_bytes;
    auto owned = std::move(c->ex);
    owned->reader->on_complete();
    if (reusable) make_idle(c);
    else close_conn(c);
    complete(std::move(owned));
  }

  void end_of_stream(conn* c) {
    c->parser.finish();
    if (c->parser.current() == http1_parser::state::done) return after_feed(c, false);
    transport_failure(c, fetch_error::network,
                      "Read error talking to " + c->ex->u.host_key() + " (" + c->parser.error() + ")");
  }

  void on_event(conn* c, std::uint32_t events) {
    if (c->fd < 0) return;  // closed earlier in this batch
    switch (c->ph) {
      case phase::connecting: {
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          auto ex = std::move(c->ex);
          close_conn(c);
          auto why = "cannot connect to " + ex->u.host_key() + " (Could not establish connection: " + errno_text(err) + ")";
          return fail(std::move(ex), fetch_error::connect, std::move(why));
        }
        c->ph = phase::writing;
        c->readable = (events & EPOLLIN) != 0;
        return send_request(c);
      }
      case phase::writing:
        if (events & (EPOLLIN | EPOLLRDHUP)) c->readable = true;
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) send_request(c);
        return;
      case phase::reading:
        if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
          read_response(c, (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
        return;
      case phase::idle:
        if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) close_conn(c);  // closed, or unasked bytes
        return;
    }
  }

  /// Fails the exchanges past a deadline, closes idle connections past theirs; returns the
  /// earliest deadline left (time_point::max() when none).
  steady::time_point scan_timeouts(steady::time_point now) {
    std::vector<conn*> expired;
    auto earliest = steady::time_point::max();
    for (auto& [c, owned] : conns) {
      if (c->fd < 0) continue;
      if (c->ph == phase::idle) {
        const auto deadline = c->since + limits.idle_timeout;
        if (now >= deadline) expired.push_back(c);
        else earliest = std::min(earliest, deadline);
        continue;
      }
      if (!c->ex) continue;
      const auto total = c->ex->started + o.total_timeout;
      const auto idle_limit = c->ph == phase::connecting ? c->since + o.connect_timeout : c->last_io + o.read_timeout;
      const auto deadline = std::min(total, idle_limit);
      if (now >= deadline) expired.push_back(c);
      else earliest = std::min(earliest, deadline);
    }
    for (conn* c : expired) {
      if (c->fd < 0) continue;
      if (c->ph == phase::idle) {
        close_conn(c);
        continue;
      }
      auto ex = std::move(c->ex);
      const bool connecting = c->ph == phase::connecting;
      close_conn(c);
      const auto total = ex->started + o.total_timeout;
      std::string why;
      if (now >= total)
        why = "total timeout of " + std::to_string(o.total_timeout.count()) + " ms exceeded";
      else if (connecting)
        why = "connect to " + ex->u.host_key() + " timed out";
      else
        why = "no data from " + ex->u.host_key() + " for " +
              std::to_string(std::min(o.read_timeout, o.total_timeout).count()) + " ms";
      fail(std::move(ex), fetch_error::timeout, std::move(why));
    }
    return earliest;
  }

  void run() {
    std::vector<epoll_event> events(256);
    for (;;) {
      // Sleep until the next deadline (none: until woken); a deadline can only move later while
      // I/O happens, and `start` brings it forward for a new exchange.
      int timeout = -1;
      if (!pending_reads.empty()) {
        timeout = 0;
      } else if (!conns.empty() && next_scan != steady::time_point::max()) {
        const auto wait = std::chrono::ceil<std::chrono::milliseconds>(next_scan - steady::now()).count();
        timeout = static_cast<int>(std::clamp<long long>(wait, 0, 60'000));
      }
      const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), timeout);
      if (n < 0 && errno != EINTR) break;
      std::vector<conn*> again;
      again.swap(pending_reads);
      for (conn* c : again)
        if (conns.count(c) && c->fd >= 0 && c->ex && c->ph == phase::reading) read_response(c, true);
      for (int i = 0; i < n; ++i) {
        auto* c = static_cast<conn*>(events[i].data.ptr);
        if (c) {
          on_event(c, events[i].events);
          continue;
        }
        std::uint64_t count;
        [[maybe_unused]] auto r = ::read(wake, &count, sizeof count);
        std::vector<std::unique_ptr<exchange>> batch;
        bool stop;
        {
          std::lock_guard<std::mutex> lock(mu);
          batch.swap(inbox);
          stop = stopping;
        }
        if (stop) {
          for (auto& ex : batch) fail(std::move(ex), fetch_error::network, "client stopped");
          return shut_down();
        }
        for (auto& ex : batch) start(std::move(ex), false);
      }
      const auto now = steady::now();
      if (now >= next_scan) {
        const auto earliest = scan_timeouts(now);
        next_scan = earliest == steady::time_point::max() ? earliest : std::max(earliest, now + scan_interval);
      }
      closed.clear();
    }
    shut_down();
  }

  void shut_down() {
    std::vector<conn*> all;
    for (auto& [c, owned] : conns) all.push_back(c);
    for (conn* c : all) {
      auto ex = std::move(c->ex);
      close_conn(c);
      if (ex) fail(std::move(ex), fetch_error::network, "client stopped");
    }
    closed.clear();
    std::vector<std::unique_ptr<exchange>> rest;
    {
      std::lock_guard<std::mutex> lock(mu);
      rest.swap(inbox);
    }
    for (auto& ex : rest) fail(std::move(ex), fetch_error::network, "client stopped");
  }
};

event_client::event_client(options opts, pool_limits limits)
    : loop_(std::make_shared<loop>(std::move(opts), limits)) {
  loop::start_thread(loop_);
}

event_client::~event_client() { loop_->stop(); }

const options& event_client::opts() const { return loop_->o; }
std::size_t event_client::connections_opened() const { return loop_->opened.load(std::memory_order_relaxed); }
std::size_t event_client::idle() const { return loop_->idle_count.load(std::memory_order_relaxed); }

std::optional<std::string> event_client::route(const parse::url& u) const {
  if (u.scheme != "http" || u.host.empty() || loop_->o.capture_raw) return std::nullopt;
  if (loop_->o.for_host) {
    const host_settings hs = loop_->o.for_host(u.host);
    if (hs.proxy == "direct") {
      // no proxy for this host, whatever the job's
    } else if (!hs.proxy.empty() || !loop_->o.proxy.empty()) {
      return std::nullopt;
    }
  } else if (!loop_->o.proxy.empty()) {
    return std::nullopt;
  }
  if (loop_->o.dns) {
    auto known = loop_->o.dns->cached(u.host, u.effective_port());
    if (!known || !*known) return std::nullopt;
    return std::move(**known);
  }
  std::string host = u.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned char probe[sizeof(in6_addr)];
  if (::inet_pton(AF_INET, host.c_str(), probe) == 1 || ::inet_pton(AF_INET6, host.c_str(), probe) == 1) return host;
  return std::nullopt;
}

void event_client::get(const parse::url& u, std::string address, callback done) {
  auto ex = std::make_unique<exchange>();
  ex->u = u;
  ex->address = std::move(address);
  ex->done = std::move(done);
  ex->started = steady::now();
  loop_->submit(std::move(ex));
}

}  // namespace crawld::fetch
