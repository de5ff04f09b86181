#pragma once
/// Test helper: a loopback HTTP server on raw sockets that answers with fixed bytes, for what
/// cpp-httplib's server cannot be made to send (exact framing, chunk extensions, trailers, a close
/// right after the response, a kept-alive connection dropped as the client reuses it).
///
/// One connection at a time, on its own thread. For each request it reads (up to the blank line
/// ending the head) it sends `reply`; with `close_after_reply` it then closes the connection,
/// otherwise it waits for the next request. Connection number 0 answers at most
/// `first_connection_answers` requests (-1: no limit): the request after those is read and the
/// connection closed without an answer (a server dropping an idle keep-alive connection just as
/// the client reuses it). Every wait is bounded (poll in 50 ms slices, watching the stop flag).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

namespace crawld::fetch::testing {

class raw_server {
 public:
  explicit raw_server(std::string reply, bool close_after_reply = true, int first_connection_answers = -1)
      : reply_(std::move(reply)), close_after_reply_(close_after_reply),
        first_connection_answers_(first_connection_answers) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 16) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      return;
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~raw_server() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  raw_server(const raw_server&) = delete;
  raw_server& operator=(const raw_server&) = delete;

  /// 0 when the socket could not be set up.
  int port() const { return port_; }
  int connections() const { return connections_.load(); }
  int requests() const { return requests_.load(); }
  /// The head of the last request read.
  std::string last_request() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_request_;
  }

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
    if (head.find("\r\n\r\n") == std::string::npos) return false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      last_request_ = head;
    }
    ++requests_;
    return true;
  }

  void send_all(int fd) {
    std::size_t sent = 0;
    for (int i = 0; i < 100'000 && sent < reply_.size() && !stop_; ++i) {
      const ssize_t n = ::send(fd, reply_.data() + sent, reply_.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<std::size_t>(n);
    }
  }

  void run() {
    // At most 64 connections; an idle wait is a 5 s slice, ended early by the stop flag.
    for (int conn = 0, idle = 0; conn < 64 && idle < 120 && !stop_;) {
      if (!wait_readable(fd_)) {
        ++idle;
        continue;
      }
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      ++connections_;
      const int answers = conn == 0 ? first_connection_answers_ : -1;
      ++conn;
      int answered = 0;
      for (int r = 0; r < 10'000 && read_request(c); ++r) {
        if (answers >= 0 && answered == answers) break;  // drop the connection, request unanswered
        send_all(c);
        ++answered;
        if (close_after_reply_) break;
      }
      ::shutdown(c, SHUT_RDWR);
      ::close(c);
    }
  }

  std::string reply_;
  bool close_after_reply_;
  int first_connection_answers_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  mutable std::mutex mutex_;
  std::string last_request_;
};

}  // namespace crawld::fetch::testing
