// The byte cap on a response's status line and headers (fetch/header_cap.hpp,
// fetch::options::max_header_bytes): cpp-httplib would keep header lines until the total timeout.
// A hostile server on 127.0.9.91-93 and an in-process cpp-httplib server on 127.0.9.94.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "fetch/header_cap.hpp"
#include "fetch/session.hpp"
#include "parse/url.hpp"
#include "testsite/hostile.hpp"

namespace crawld {
namespace {

using namespace std::chrono_literals;

fetch::options patient() {  // timeouts far longer than the cap takes, so only the cap ends a fetch
  fetch::options o;
  o.connect_timeout = 5s;
  o.read_timeout = 20s;
  o.total_timeout = 20s;
  return o;
}

TEST(header_cap, endless_headers_stop_at_the_header_byte_cap_not_the_timeout) {
  testsite::hostile_options ho;
  ho.address = "127.0.9.91";
  ho.silent_address = "127.0.9.92";
  ho.refused_address = "127.0.9.93";
  auto srv = testsite::hostile_server::start(ho);
  ASSERT_TRUE(srv.ok()) << srv.message();
  fetch::options o = patient();
  o.max_header_bytes = 64u << 10;
  fetch::session s(o);
  auto r = s.get(*parse::parse_url((*srv)->origin() + "/endless-headers"));
  EXPECT_EQ(r.error, fetch::fetch_error::network) << fetch::to_string(r.error) << ": " << r.error_message;
  EXPECT_EQ(r.error_message, "response headers exceed 65536 bytes");
}

TEST(header_cap, headers_under_the_cap_and_keep_alive_bodies_do_not_count) {
  // Each response's headers are small; its 200 KB body is more than the 64 KiB cap, and the
  // second and third requests reuse the connection that already carried the earlier bodies.
  httplib::Server server;
  server.Get("/page", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("X-Big", std::string(6000, 'h'));
    res.set_content("<html><body>" + std::string(200'000, 'b') + "</body></html>", "text/html");
  });
  const int port = server.bind_to_any_port("127.0.9.94");
  ASSERT_GT(port, 0);
  std::thread t([&] { server.listen_after_bind(); });
  for (int i = 0; i < 500 && !server.is_running(); ++i) std::this_thread::sleep_for(10ms);
  fetch::options o = patient();
  o.max_header_bytes = 64u << 10;
  {
    fetch::session s(o);
    const auto u = *parse::parse_url("http://127.0.9.94:" + std::to_string(port) + "/page");
    for (int i = 0; i < 3; ++i) {
      auto r = s.get(u);
      EXPECT_EQ(r.error, fetch::fetch_error::none) << i << ": " << r.error_message;
      EXPECT_EQ(r.status, 200) << i;
      EXPECT_EQ(r.body.size(), 200'000u + 26) << i;
    }
  }
  server.stop();
  t.join();
}

/// A connected loopback TCP pair (127.0.9.95): {client, server}; {-1, -1} on failure.
std::pair<int, int> tcp_pair() {
  int lst = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  ::inet_pton(AF_INET, "127.0.9.95", &a.sin_addr);
  socklen_t len = sizeof a;
  if (lst < 0 || ::bind(lst, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(lst, 1) != 0 ||
      ::getsockname(lst, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (lst >= 0) ::close(lst);
    return {-1, -1};
  }
  int c = ::socket(AF_INET, SOCK_STREAM, 0);
  if (c < 0 || ::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(lst);
    if (c >= 0) ::close(c);
    return {-1, -1};
  }
  int srv = ::accept(lst, nullptr, nullptr);
  ::close(lst);
  return {c, srv};
}

/// Sends `n` bytes on `to` and reads them all from `from`.
void pass_bytes(int to, int from, std::size_t n) {
  std::string buf(n, 'x');
  std::thread w([&] {
    std::size_t off = 0;
    while (off < n) {
      const ssize_t k = ::send(to, buf.data() + off, n - off, MSG_NOSIGNAL);
      if (k <= 0) return;
      off += static_cast<std::size_t>(k);
    }
  });
  std::string in(65536, '\0');
  std::size_t got = 0;
  while (got < n) {
    const ssize_t k = ::recv(from, in.data(), in.size(), 0);
    if (k <= 0) break;
    got += static_cast<std::size_t>(k);
  }
  w.join();
}

TEST(header_cap, counts_from_the_bytes_an_open_socket_had_consumed_when_watched) {
  auto [c, srv] = tcp_pair();
  ASSERT_GE(c, 0);
  pass_bytes(srv, c, 200'000);  // an earlier response on a kept-alive connection
  EXPECT_EQ(fetch::tcp_bytes_consumed(c), 200'000);
  std::atomic<int> stops{0};
  {
    auto w = fetch::watch_headers(64u << 10, [&stops] { ++stops; }, 5ms);
    w.set_fd(c, false);
    std::this_thread::sleep_for(100ms);
    EXPECT_FALSE(w.fired()) << "the 200,000 bytes before the watch counted";
    pass_bytes(srv, c, 70'000);  // past the 64 KiB cap
    for (int i = 0; i < 200 && !w.fired(); ++i) std::this_thread::sleep_for(10ms);  // at most 2 s
    EXPECT_TRUE(w.fired());
  }
  EXPECT_EQ(stops.load(), 1);
  {  // the same socket as a new one: everything it carried counts, so the cap is passed at once
    auto w = fetch::watch_headers(64u << 10, [&stops] { ++stops; }, 5ms);
    w.set_fd(c, true);
    for (int i = 0; i < 200 && !w.fired(); ++i) std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(w.fired());
  }
  {  // released before the cap is passed: never stopped
    auto w = fetch::watch_headers(64u << 10, [&stops] { ++stops; }, 5ms);
    w.set_fd(c, false);
    w.release();
    pass_bytes(srv, c, 70'000);
    std::this_thread::sleep_for(100ms);
    EXPECT_FALSE(w.fired());
  }
  EXPECT_EQ(stops.load(), 2);
  ::close(c);
  ::close(srv);
}

}  // namespace
}  // namespace crawld
