// open_tunnel against scripted proxies on raw loopback sockets (127.0.0.150-154): what goes out
// in the CONNECT, where the reply head ends, and every way a proxy can fail. The tunnel with a
// real proxy (tinyproxy) and TLS inside it is in session_features_test.cpp.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "fetch/proxy_tunnel.hpp"

namespace crawld::fetch {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

/// Listens on `address`:<any port>; for the first connection, reads the request head and runs
/// `script(fd, head)`, then closes. `accept_connections` false: never accepts (the kernel still
/// completes the handshake, so the client waits for an answer that never comes).
class scripted_proxy {
 public:
  scripted_proxy(const std::string& address, std::function<void(int, const std::string&)> script,
                 bool accept_connections = true)
      : script_(std::move(script)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    ::inet_pton(AF_INET, address.c_str(), &addr.sin_addr);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 4) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      return;
    port_ = ntohs(addr.sin_port);
    if (accept_connections) thread_ = std::thread([this] { run(); });
  }
  ~scripted_proxy() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  int port() const { return port_; }
  std::string request() {
    std::lock_guard<std::mutex> lock(mu_);
    return request_;
  }

 private:
  void run() {
    int c = -1;
    for (int i = 0; i < 500 && c < 0 && !stop_; ++i) {  // up to 5 s
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 10) == 1) c = ::accept(fd_, nullptr, nullptr);
    }
    if (c < 0) return;
    std::string head;
    char buf[1024];
    for (int i = 0; i < 200 && head.find("\r\n\r\n") == std::string::npos && !stop_; ++i) {
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 10) != 1) continue;
      const ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      head.append(buf, static_cast<std::size_t>(n));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      request_ = head;
    }
    script_(c, head);
    ::close(c);
  }

  std::function<void(int, const std::string&)> script_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::string request_;
};

void send_all(int fd, const std::string& s) { (void)::send(fd, s.data(), s.size(), MSG_NOSIGNAL); }

proxy_endpoint at(const std::string& host, int port, std::string user = "", std::string password = "") {
  return proxy_endpoint{host, port, std::move(user), std::move(password)};
}

/// Reads what is readable on `fd` within `wait`.
std::string read_some(int fd, std::chrono::milliseconds wait) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(wait.count())) != 1) return {};
  char buf[256];
  const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

TEST(proxy_tunnel, basic_credentials_are_base64_of_user_colon_password) {
  EXPECT_EQ(basic_credentials("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");  // RFC 7617
  EXPECT_EQ(basic_credentials("a", "b"), "Basic YTpi");
  EXPECT_EQ(basic_credentials("ab", "c"), "Basic YWI6Yw==");
}

TEST(proxy_tunnel, connect_request_carries_target_and_proxy_authorization_and_bytes_after_the_reply_stay_in_the_tunnel) {
  scripted_proxy proxy("127.0.0.150", [](int fd, const std::string&) {
    // The reply head and the first tunnel bytes in one segment: they must not be swallowed.
    send_all(fd, "HTTP/1.1 200 Connection established\r\nProxy-Agent: test\r\n\r\nFROM-ORIGIN");
    std::this_thread::sleep_for(200ms);
  });
  ASSERT_GT(proxy.port(), 0);
  auto t = open_tunnel(at("127.0.0.150", proxy.port(), "alice", "s3cret"), "site.test:443", 2s, steady::now() + 3s);
  ASSERT_GE(t.fd, 0) << t.message;
  EXPECT_EQ(t.failure, tunnel_failure::none);
  EXPECT_EQ(t.status, 200);
  EXPECT_EQ(read_some(t.fd, 2000ms), "FROM-ORIGIN");
  ::close(t.fd);
  const auto req = proxy.request();
  EXPECT_EQ(req.rfind("CONNECT site.test:443 HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("\r\nHost: site.test:443\r\n"), std::string::npos) << req;
  EXPECT_NE(req.find("\r\nProxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n"), std::string::npos) << req;
}

TEST(proxy_tunnel, no_user_sends_no_proxy_authorization) {
  scripted_proxy proxy("127.0.0.150", [](int fd, const std::string&) {
    send_all(fd, "HTTP/1.0 200 OK\r\n\r\n");
  });
  auto t = open_tunnel(at("127.0.0.150", proxy.port()), "[::1]:8443", 2s, steady::now() + 3s);
  ASSERT_GE(t.fd, 0) << t.message;
  ::close(t.fd);
  EXPECT_EQ(proxy.request().rfind("CONNECT [::1]:8443 HTTP/1.1\r\n", 0), 0u) << proxy.request();
  EXPECT_EQ(proxy.request().find("Proxy-Authorization"), std::string::npos);
}

TEST(proxy_tunnel, reply_head_split_over_several_segments_is_read_to_its_end) {
  scripted_proxy proxy("127.0.0.151", [](int fd, const std::string&) {
    for (const char* part : {"HTTP/1.1 2", "00 OK\r", "\nA: b\r\n\r", "\nX"}) {
      send_all(fd, part);
      std::this_thread::sleep_for(30ms);
    }
    std::this_thread::sleep_for(200ms);
  });
  auto t = open_tunnel(at("127.0.0.151", proxy.port()), "a.test:443", 2s, steady::now() + 3s);
  ASSERT_GE(t.fd, 0) << t.message;
  EXPECT_EQ(read_some(t.fd, 2000ms), "X");
  ::close(t.fd);
}

TEST(proxy_tunnel, status_407_is_an_auth_failure_whose_message_hides_the_password) {
  scripted_proxy proxy("127.0.0.151", [](int fd, const std::string&) {
    send_all(fd, "HTTP/1.1 407 Proxy Authentication Required\r\nConnection: close\r\n\r\n");
  });
  auto t = open_tunnel(at("127.0.0.151", proxy.port(), "alice", "hunter2"), "a.test:443", 2s, steady::now() + 3s);
  EXPECT_EQ(t.fd, -1);
  EXPECT_EQ(t.failure, tunnel_failure::auth);
  EXPECT_EQ(t.status, 407);
  EXPECT_EQ(t.message.find("hunter2"), std::string::npos) << t.message;
  EXPECT_EQ(t.message.find("YWxpY2U6aHVudGVyMg"), std::string::npos) << t.message;  // nor its base64
  EXPECT_NE(t.message.find("407 Proxy Authentication Required"), std::string::npos) << t.message;
}

TEST(proxy_tunnel, other_non_2xx_status_is_refused_with_the_status_and_reason) {
  scripted_proxy proxy("127.0.0.152", [](int fd, const std::string&) {
    send_all(fd, "HTTP/1.1 403 Access violation\r\n\r\n");
  });
  auto t = open_tunnel(at("127.0.0.152", proxy.port()), "a.test:25", 2s, steady::now() + 3s);
  EXPECT_EQ(t.fd, -1);
  EXPECT_EQ(t.failure, tunnel_failure::refused);
  EXPECT_EQ(t.status, 403);
  EXPECT_NE(t.message.find("answered CONNECT a.test:25 with 403 Access violation"), std::string::npos) << t.message;
}

TEST(proxy_tunnel, malformed_reply_and_closed_connection_are_network_failures) {
  {
    scripted_proxy proxy("127.0.0.152", [](int fd, const std::string&) { send_all(fd, "SSH-2.0-OpenSSH\r\n\r\n"); });
    auto t = open_tunnel(at("127.0.0.152", proxy.port()), "a.test:443", 2s, steady::now() + 3s);
    EXPECT_EQ(t.failure, tunnel_failure::network) << t.message;
    EXPECT_NE(t.message.find("malformed"), std::string::npos) << t.message;
  }
  {
    scripted_proxy proxy("127.0.0.152", [](int, const std::string&) {});
    auto t = open_tunnel(at("127.0.0.152", proxy.port()), "a.test:443", 2s, steady::now() + 3s);
    EXPECT_EQ(t.failure, tunnel_failure::network) << t.message;
    EXPECT_EQ(t.fd, -1);
  }
}

TEST(proxy_tunnel, endless_reply_head_is_cut_at_16_kib) {
  scripted_proxy proxy("127.0.0.153", [](int fd, const std::string&) {
    send_all(fd, "HTTP/1.1 200 OK\r\n");
    const std::string line = "X-Filler: " + std::string(1000, 'x') + "\r\n";
    for (int i = 0; i < 40; ++i) send_all(fd, line);
    std::this_thread::sleep_for(200ms);
  });
  auto t = open_tunnel(at("127.0.0.153", proxy.port()), "a.test:443", 2s, steady::now() + 3s);
  EXPECT_EQ(t.failure, tunnel_failure::network) << t.message;
  EXPECT_NE(t.message.find("16 KiB"), std::string::npos) << t.message;
}

TEST(proxy_tunnel, silent_proxy_times_out_at_the_deadline) {
  scripted_proxy proxy("127.0.0.153", {}, /*accept_connections=*/false);
  const auto started = steady::now();
  auto t = open_tunnel(at("127.0.0.153", proxy.port()), "a.test:443", 2s, started + 300ms);
  const auto took = steady::now() - started;
  EXPECT_EQ(t.failure, tunnel_failure::timeout) << t.message;
  EXPECT_EQ(t.fd, -1);
  EXPECT_GE(took, 290ms);
  EXPECT_LT(took, 3s);
}

TEST(proxy_tunnel, nothing_listening_is_a_connect_failure) {
  int port = 0;
  {
    scripted_proxy gone("127.0.0.154", {}, false);  // a port that was free a moment ago
    port = gone.port();
  }
  auto t = open_tunnel(at("127.0.0.154", port), "a.test:443", 2s, steady::now() + 3s);
  EXPECT_EQ(t.failure, tunnel_failure::connect) << t.message;
  EXPECT_NE(t.message.find("cannot connect to proxy 127.0.0.154:" + std::to_string(port)), std::string::npos)
    << t.message;
}

}  // namespace
}  // namespace crawld::fetch
