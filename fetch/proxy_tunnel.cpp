#include "fetch/proxy_tunnel.hpp"

#include <fcntl.h>
#include <httplib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

namespace crawld::fetch {
namespace {

using steady = std::chrono::steady_clock;

constexpr std::size_t max_reply_head = 16 * 1024;

std::string where(const proxy_endpoint& p) {
  const bool v6 = p.host.find(':') != std::string::npos;
  return (v6 ? "[" + p.host + "]" : p.host) + ":" + std::to_string(p.port);
}

/// Milliseconds left until `deadline` for poll (0 when past).
int left_ms(steady::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 1'000'000'000));
}

/// Waits for `events` on `fd` until `deadline`: 1 ready, 0 timed out, -1 error.
int wait_for(int fd, short events, steady::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, left_ms(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n;
    return 1;
  }
}

bool set_blocking(int fd, bool blocking) {
  const int flags = ::fcntl(fd, F_GETFL, 0);
  if (flags < 0) return false;
  return ::fcntl(fd, F_SETFL, blocking ? flags & ~O_NONBLOCK : flags | O_NONBLOCK) == 0;
}

tunnel_result fail(int& fd, tunnel_failure why, std::string message, int status = 0) {
  if (fd >= 0) ::close(fd);
  fd = -1;
  tunnel_result r;
  r.failure = why;
  r.status = status;
  r.message = std::move(message);
  return r;
}

/// The reason phrase, printable ASCII only and short (it goes into a one-line message).
std::string clean_reason(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 80))
    if (c >= 0x20 && c < 0x7f) out += c;
  return out;
}

/// A client whose "connection" is a CONNECT tunnel (see the header for why).
class tunnel_client final : public httplib::SSLClient {
 public:
  tunnel_client(const std::string& host, int port, proxy_endpoint proxy)
      : httplib::SSLClient(host, port),
        proxy_(std::move(proxy)),
        target_((host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port)) {}

  void prepare(std::chrono::milliseconds connect_timeout, steady::time_point deadline) {
    connect_timeout_ = connect_timeout;
    deadline_ = deadline;
    last_ = {};
  }
  const tunnel_result& last() const { return last_; }

 private:
  // Called by ClientImpl::send_ (under its socket mutex) whenever it needs a new connection;
  // SSLClient::initialize_ssl then runs the TLS handshake on socket.sock.
  bool create_and_connect_socket(Socket& socket, httplib::Error& error) override {
    if (!is_valid()) {
      error = httplib::Error::SSLConnection;
      return false;
    }
    auto t = open_tunnel(proxy_, target_, connect_timeout_, deadline_);
    if (t.fd < 0) {
      error = t.failure == tunnel_failure::timeout ? httplib::Error::ConnectionTimeout : httplib::Error::Connection;
      last_ = std::move(t);
      return false;
    }
    socket.sock = t.fd;
    last_ = {};
    return true;
  }

  proxy_endpoint proxy_;
  std::string target_;
  std::chrono::milliseconds connect_timeout_{10'000};
  steady::time_point deadline_ = steady::now() + std::chrono::seconds(60);
  tunnel_result last_;
};

}  // namespace

std::string basic_credentials(const std::string& user, const std::string& password) {
  static const char* const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const std::string in = user + ":" + password;
  std::string out = "Basic ";
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += abc[(v >> 18) & 63];
    out += abc[(v >> 12) & 63];
    out += abc[(v >> 6) & 63];
    out += abc[v & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += abc[(v >> 18) & 63];
    out += abc[(v >> 12) & 63];
    out += i + 1 < in.size() ? abc[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

tunnel_result open_tunnel(const proxy_endpoint& proxy, const std::string& target,
                          std::chrono::milliseconds connect_timeout, steady::time_point deadline) {
  int fd = -1;
  const std::string at = where(proxy);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int gai = ::getaddrinfo(proxy.host.c_str(), std::to_string(proxy.port).c_str(), &hints, &res);
  if (gai != 0 || !res)
    return fail(fd, tunnel_failure::connect, "cannot resolve proxy " + at + ": " + ::gai_strerror(gai));
  const auto connect_deadline = std::min(deadline, steady::now() + connect_timeout);
  std::string why = "no address";
  bool timed_out = false;
  for (addrinfo* ai = res; ai && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      why = std::strerror(errno);
      continue;
    }
    set_blocking(fd, false);
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      const int ready = wait_for(fd, POLLOUT, connect_deadline);
      int err = 0;
      socklen_t len = sizeof err;
      if (ready == 0) {
        timed_out = true;
        err = ETIMEDOUT;
      } else if (ready < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
        err = errno;
      }
      rc = err == 0 ? 0 : -1;
      errno = err;
    }
    if (rc != 0) {
      why = std::strerror(errno);
      ::close(fd);
      fd = -1;
      if (timed_out) break;
    }
  }
  ::freeaddrinfo(res);
  if (fd < 0)
    return fail(fd, timed_out ? tunnel_failure::timeout : tunnel_failure::connect,
                timed_out ? "connect to proxy " + at + " timed out" : "cannot connect to proxy " + at + " (" + why + ")");
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  std::string req = "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n";
  if (!proxy.user.empty()) req += "Proxy-Authorization: " + basic_credentials(proxy.user, proxy.password) + "\r\n";
  req += "\r\n";
  for (std::size_t sent = 0; sent < req.size();) {
    const int ready = wait_for(fd, POLLOUT, deadline);
    if (ready == 0) return fail(fd, tunnel_failure::timeout, "proxy " + at + " did not take the CONNECT in time");
    const ssize_t n = ready < 0 ? -1 : ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return fail(fd, tunnel_failure::network, "sending CONNECT to proxy " + at + " failed");
    sent += static_cast<std::size_t>(n);
  }
  std::fill(req.begin(), req.end(), '\0');  // holds the credentials

  // The reply head: peek, then consume exactly up to its blank line.
  std::string head;
  for (;;) {
    const int ready = wait_for(fd, POLLIN, deadline);
    if (ready == 0) return fail(fd, tunnel_failure::timeout, "no answer to CONNECT from proxy " + at + " in time");
    char buf[2048];
    const ssize_t n = ready < 0 ? -1 : ::recv(fd, buf, sizeof buf, MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0)
      return fail(fd, tunnel_failure::network, "proxy " + at + " closed the connection without answering CONNECT");
    const std::size_t before = head.size();
    head.append(buf, static_cast<std::size_t>(n));
    const auto end = head.find("\r\n\r\n", before >= 3 ? before - 3 : 0);
    const std::size_t take = end == std::string::npos ? static_cast<std::size_t>(n) : end + 4 - before;
    head.resize(before + take);
    for (std::size_t got = 0; got < take;) {  // the peeked bytes are there: this does not block
      const ssize_t m = ::recv(fd, buf, take - got, 0);
      if (m < 0 && errno == EINTR) continue;
      if (m <= 0) return fail(fd, tunnel_failure::network, "proxy " + at + " closed the connection during its reply");
      got += static_cast<std::size_t>(m);
    }
    if (end != std::string::npos) break;
    if (head.size() > max_reply_head)
      return fail(fd, tunnel_failure::network, "proxy " + at + " sent a reply head over 16 KiB");
  }
  // "HTTP/1.x NNN reason"
  int status = 0;
  std::string reason;
  if (head.rfind("HTTP/1.", 0) == 0 && head.size() >= 12 && head[8] == ' ' &&
      std::all_of(head.begin() + 9, head.begin() + 12, [](char c) { return c >= '0' && c <= '9'; })) {
    status = std::stoi(head.substr(9, 3));
    const auto eol = head.find("\r\n");
    if (eol > 13) reason = clean_reason(std::string_view(head).substr(13, eol - 13));
  }
  if (status == 0) return fail(fd, tunnel_failure::network, "proxy " + at + " sent a malformed reply to CONNECT");
  const std::string answered = "proxy " + at + " answered CONNECT " + target + " with " + std::to_string(status) +
                               (reason.empty() ? "" : " " + reason);
  if (status == 407 || status == 401)
    return fail(fd, tunnel_failure::auth, "proxy refused the credentials (" + answered + ")", status);
  if (status < 200 || status > 299) return fail(fd, tunnel_failure::refused, answered, status);
  if (!set_blocking(fd, true)) return fail(fd, tunnel_failure::network, "fcntl failed on the tunnel to " + at);
  tunnel_result r;
  r.fd = fd;
  r.status = status;
  return r;
}

std::unique_ptr<httplib::ClientImpl> make_tunnel_client(const std::string& host, int port, proxy_endpoint proxy) {
  return std::make_unique<tunnel_client>(host, port, std::move(proxy));
}

void prepare_tunnel(httplib::ClientImpl& client, std::chrono::milliseconds connect_timeout,
                    steady::time_point deadline) {
  if (auto* t = dynamic_cast<tunnel_client*>(&client)) t->prepare(connect_timeout, deadline);
}

tunnel_result last_tunnel_failure(const httplib::ClientImpl& client) {
  if (const auto* t = dynamic_cast<const tunnel_client*>(&client)) return t->last();
  return {};
}

}  // namespace crawld::fetch
