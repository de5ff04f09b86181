// fetch::session::send: method, headers and body reach a real server on loopback as given, and
// the raw capture (the WARC request record) is byte for byte what that server received, body
// included.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "fetch/session.hpp"

namespace crawld::fetch {
namespace {

/// 127.0.0.1:<any>; per connection reads one request (head, then Content-Length body bytes),
/// records the bytes, answers 200 with a small HTML page and closes. Bounded: at most `max` requests.
class recording_server {
 public:
  explicit recording_server(int max) : max_(max) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 8) != 0)
      throw std::runtime_error("bind/listen");
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~recording_server() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::vector<std::string> requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }
  parse::url url(const std::string& path) const {
    auto u = parse::parse_url("http://127.0.0.1:" + std::to_string(port_) + path);
    return *u;
  }

 private:
  void serve() {
    for (int served = 0; served < max_ && !stop_;) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0)
        continue;
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0)
        continue;
      ++served;
      std::string got;
      char buf[4096];
      std::size_t want = std::string::npos;
      for (int reads = 0; reads < 1000; ++reads) {
        auto head_end = got.find("\r\n\r\n");
        if (head_end != std::string::npos && want == std::string::npos) {
          want = head_end + 4;
          auto cl = got.find("Content-Length: ");
          if (cl != std::string::npos && cl < head_end)
            want += std::stoul(got.substr(cl + 16));
        }
        if (want != std::string::npos && got.size() >= want)
          break;
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0)
          break;
        got.append(buf, std::size_t(n));
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        requests_.push_back(got);
      }
      const std::string out =
          "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 11\r\nConnection: close\r\n\r\n<a href=x>y";
      ::send(c, out.data(), out.size(), MSG_NOSIGNAL);
      ::shutdown(c, SHUT_WR);
      ::close(c);
    }
  }
  int max_;
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
};

options test_options() {
  options o;
  o.capture_raw = true;
  o.connect_timeout = std::chrono::milliseconds(2000);
  o.read_timeout = std::chrono::milliseconds(2000);
  o.total_timeout = std::chrono::milliseconds(5000);
  o.user_agent = "crawld-test/1";
  o.headers = {{"X-Job", "j"}, {"X-Token", "job-wide"}};
  return o;
}

TEST(session_send, a_post_arrives_with_its_body_headers_and_type_and_the_capture_is_what_was_sent) {
  recording_server srv(1);
  session s(test_options());
  request_spec req;
  req.method = "POST";
  req.headers = {{"X-Token", "seed"}};
  req.body = std::string("q=a+b&z=\0\xff", 10);
  req.content_type = "application/x-www-form-urlencoded";
  auto r = s.send(srv.url("/search?x=1"), req);
  ASSERT_EQ(r.status, 200) << r.error_message;
  EXPECT_EQ(r.body, "<a href=x>y");
  auto got = srv.requests();
  ASSERT_EQ(got.size(), 1u);
  const std::string& wire = got[0];
  EXPECT_EQ(wire.rfind("POST /search?x=1 HTTP/1.1\r\n", 0), 0u) << wire;
  EXPECT_NE(wire.find("Content-Type: application/x-www-form-urlencoded\r\n"), std::string::npos) << wire;
  EXPECT_NE(wire.find("Content-Length: 10\r\n"), std::string::npos) << wire;
  EXPECT_NE(wire.find("X-Token: seed\r\n"), std::string::npos) << "the seed's header replaces the job's";
  EXPECT_EQ(wire.find("X-Token: job-wide"), std::string::npos) << wire;
  EXPECT_NE(wire.find("X-Job: j\r\n"), std::string::npos) << "other job headers still apply";
  EXPECT_EQ(wire.substr(wire.size() - 10), req.body);
  ASSERT_TRUE(r.raw);
  EXPECT_EQ(r.raw->request, wire) << "the WARC request record is what the server received";
}

TEST(session_send, put_without_a_body_sends_content_length_zero_and_delete_none) {
  recording_server srv(2);
  session s(test_options());
  request_spec put;
  put.method = "PUT";
  auto r1 = s.send(srv.url("/p"), put);
  request_spec del;
  del.method = "DELETE";
  auto r2 = s.send(srv.url("/d"), del);
  ASSERT_EQ(r1.status, 200) << r1.error_message;
  ASSERT_EQ(r2.status, 200) << r2.error_message;
  auto got = srv.requests();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].rfind("PUT /p HTTP/1.1\r\n", 0), 0u) << got[0];
  EXPECT_NE(got[0].find("Content-Length: 0\r\n"), std::string::npos) << got[0];
  EXPECT_EQ(got[1].rfind("DELETE /d HTTP/1.1\r\n", 0), 0u) << got[1];
  EXPECT_EQ(got[1].find("Content-Length"), std::string::npos) << got[1];
  EXPECT_EQ(r1.raw->request, got[0]);
  EXPECT_EQ(r2.raw->request, got[1]);
}

}  // namespace
}  // namespace crawld::fetch
