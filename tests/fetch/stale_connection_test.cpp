#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "fetch/session.hpp"
#include "helpers.hpp"

namespace crawld::fetch {
namespace {

using namespace std::chrono_literals;

/// A loopback HTTP server on raw sockets for the race cpp-httplib's server cannot produce on
/// demand: it reads a request and closes the connection without answering, as a server does
/// that drops an idle keep-alive connection just as the client reuses it.
/// `answered_first`: requests answered on the first connection before it is dropped.
/// Later connections answer every request.
class dropping_server {
 public:
  explicit dropping_server(int answered_first) : answered_first_(answered_first) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 8) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      return;
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~dropping_server() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }

  int port() const { return port_; }
  int connections() const { return connections_.load(); }
  int requests() const { return requests_.load(); }

 private:
  /// Waits up to 5 s (in slices, watching stop_) for `fd` to become readable.
  bool wait_readable(int fd) {
    for (int i = 0; i < 100 && !stop_; ++i) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) > 0) return true;
    }
    return false;
  }

  /// Reads one request head; false on EOF, error or timeout.
  bool read_request(int fd) {
    std::string head;
    for (int i = 0; i < 1000 && head.find("\r\n\r\n") == std::string::npos; ++i) {
      if (!wait_readable(fd)) return false;
      char buf[4096];
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return false;
      head.append(buf, static_cast<std::size_t>(n));
    }
    ++requests_;
    return true;
  }

  static void answer(int fd) {
    const std::string body = "<html><body>ok</body></html>";
    const std::string msg = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\n\r\n" + body;
    (void)::send(fd, msg.data(), msg.size(), MSG_NOSIGNAL);
  }

  void run() {
    for (int conn = 0; conn < 4 && !stop_; ++conn) {
      if (!wait_readable(fd_)) return;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      ++connections_;
      const int answers = conn == 0 ? answered_first_ : 1000;
      int answered = 0;
      while (read_request(c)) {
        if (answered == answers) break;  // drop the connection, request unanswered
        answer(c);
        ++answered;
      }
      ::close(c);
    }
  }

  int answered_first_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
};

parse::url local_url(int port) {
  parse::url u;
  u.scheme = "http";
  u.host = "127.0.0.1";
  u.has_host = true;
  u.port = port;
  u.path = "/";
  return u;
}

options quick() {
  options o;
  o.connect_timeout = 2s;
  o.read_timeout = 2s;
  o.total_timeout = 5s;
  return o;
}

TEST(session, retries_once_when_reused_connection_dropped_before_response) {
  dropping_server srv(1);
  ASSERT_GT(srv.port(), 0);
  session ses(quick());
  EXPECT_EQ(ses.get(local_url(srv.port())).status, 200);
  const response r = ses.get(local_url(srv.port()));
  EXPECT_EQ(r.error, fetch_error::none) << r.error_message;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "<html><body>ok</body></html>");
  EXPECT_EQ(srv.connections(), 2);
  EXPECT_EQ(srv.requests(), 3);
}

TEST(session, fresh_connection_dropped_is_network_error_without_retry) {
  dropping_server srv(0);
  ASSERT_GT(srv.port(), 0);
  session ses(quick());
  const response r = ses.get(local_url(srv.port()));
  EXPECT_EQ(r.error, fetch_error::network) << r.error_message;
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(srv.connections(), 1);
  EXPECT_EQ(srv.requests(), 1);
}

}  // namespace
}  // namespace crawld::fetch
