/// options::capture_raw (for WARC): the request as sent is compared byte for byte with what a
/// plain-socket server received; the response head, the still-encoded body, chunked re-framing
/// and the cap are checked against responses written by hand on that socket.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"
#include "fetch/session.hpp"

namespace crawld::fetch {
namespace {

/// Accepts connections on 127.0.0.1:<any> one at a time; for each it reads the request head and
/// answers with the next canned response bytes, then closes. Records the request bytes received.
class socket_server {
 public:
  explicit socket_server(std::vector<std::string> responses) : responses_(std::move(responses)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 8) != 0)
      throw std::runtime_error("bind/listen");
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~socket_server() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  std::vector<std::string> requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }
  parse::url url(const std::string& path, const std::string& query = "") const {
    parse::url u;
    u.scheme = "http";
    u.host = "127.0.0.1";
    u.has_host = true;
    u.port = port_;
    u.path = path;
    u.has_query = !query.empty();
    u.query = query;
    return u;
  }

 private:
  void serve() {
    for (std::size_t i = 0; i < responses_.size() && !stop_;) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      std::string got;
      char buf[4096];
      for (int reads = 0; reads < 1000 && got.find("\r\n\r\n") == std::string::npos; ++reads) {
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        got.append(buf, std::size_t(n));
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        requests_.push_back(got);
      }
      const std::string& out = responses_[i++];
      for (std::size_t sent = 0; sent < out.size();) {
        ssize_t n = ::send(c, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += std::size_t(n);
      }
      ::shutdown(c, SHUT_WR);
      ::close(c);
    }
  }

  std::vector<std::string> responses_;
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
};

options raw_options() {
  options o;
  o.capture_raw = true;
  o.connect_timeout = std::chrono::milliseconds(2000);
  o.read_timeout = std::chrono::milliseconds(2000);
  o.total_timeout = std::chrono::milliseconds(5000);
  o.user_agent = "crawld-test/1";
  o.headers = {{"X-Extra", "one"}, {"accept-language", "en"}};
  return o;
}

TEST(raw_capture, request_is_byte_for_byte_what_the_server_received) {
  socket_server srv({"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                     "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"});
  session s(raw_options());
  // Characters cpp-httplib would re-encode with its url_encode on (+ , ; '): sent as normalized.
  auto u1 = srv.url("/a+b,c;d'e/%41%C3%A9", "q=1+2&x=y,z");
  auto r1 = s.get(u1);
  auto r2 = s.get(srv.url("/plain"));
  ASSERT_EQ(r1.status, 200) << r1.error_message;
  ASSERT_EQ(r2.status, 200) << r2.error_message;
  auto got = srv.requests();
  ASSERT_EQ(got.size(), 2u);
  ASSERT_TRUE(r1.raw && r2.raw);
  EXPECT_EQ(r1.raw->request, got[0]);
  EXPECT_EQ(r2.raw->request, got[1]);
  EXPECT_EQ(got[0].substr(0, got[0].find("\r\n")), "GET " + u1.request_target() + " HTTP/1.1");
  EXPECT_NE(got[0].find("q=1+2&x=y,z"), std::string::npos) << "a '+' in a query must not become %2B";
  EXPECT_EQ(r1.raw->response_head, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(r1.raw->truncated, "");
}

TEST(raw_capture, gzip_body_is_kept_encoded_and_a_chunked_body_is_reframed_as_one_chunk) {
  const std::string html = "<html><body>" + std::string(3000, 'x') + "</body></html>";
  const std::string gz = testing::compress(html, 15 + 16);
  std::string chunked;
  for (std::size_t at = 0; at < gz.size(); at += 100) {  // many small chunks on the wire
    std::string part = gz.substr(at, 100);
    char size[16];
    std::snprintf(size, sizeof size, "%zx", part.size());
    chunked += std::string(size) + ";ext=1\r\n" + part + "\r\n";
  }
  chunked += "0\r\n\r\n";
  socket_server srv({"HTTP/1.1 200 Fine Thanks\r\nX-Zeta: last\r\nContent-Type: text/html\r\n"
                     "Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\nX-Alpha:  spaced  \r\n"
                     "Connection: close\r\n\r\n" +
                     chunked});
  session s(raw_options());
  auto r = s.get(srv.url("/gz"));
  ASSERT_EQ(r.status, 200) << r.error_message;
  EXPECT_EQ(r.body, html);  // decoded as before
  ASSERT_TRUE(r.raw);
  char size[16];
  std::snprintf(size, sizeof size, "%zx", gz.size());
  EXPECT_EQ(r.raw->body, std::string(size) + "\r\n" + gz + "\r\n0\r\n\r\n");
  EXPECT_EQ(r.raw->truncated, "");
  // Status line as received; headers sorted by name, values trimmed.
  EXPECT_EQ(r.raw->response_head,
            "HTTP/1.1 200 Fine Thanks\r\nConnection: close\r\nContent-Encoding: gzip\r\n"
            "Content-Type: text/html\r\nTransfer-Encoding: chunked\r\nX-Alpha: spaced\r\n"
            "X-Zeta: last\r\n\r\n");
}

TEST(raw_capture, non_html_body_is_kept_raw_though_the_decoded_body_is_discarded) {
  std::string blob(200 * 1024, '\0');
  for (std::size_t i = 0; i < blob.size(); ++i) blob[i] = char(i * 7 % 251);
  socket_server srv({"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
                     std::to_string(blob.size()) + "\r\n\r\n" + blob});
  session s(raw_options());
  auto r = s.get(srv.url("/blob.bin"));
  ASSERT_EQ(r.status, 200) << r.error_message;
  EXPECT_EQ(r.error, fetch_error::none);
  EXPECT_TRUE(r.body.empty());
  ASSERT_TRUE(r.raw);
  EXPECT_EQ(r.raw->body.size(), blob.size());
  EXPECT_TRUE(r.raw->body == blob);
  EXPECT_EQ(r.raw->truncated, "");
}

TEST(raw_capture, raw_body_is_cut_at_the_cap_and_marked_truncated_by_length) {
  const std::string html = "<html>" + std::string(5000, 'y') + "</html>";
  socket_server srv({"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: " +
                     std::to_string(html.size()) + "\r\n\r\n" + html});
  auto o = raw_options();
  o.max_body_bytes = 1000;
  session s(o);
  auto r = s.get(srv.url("/big.html"));
  EXPECT_EQ(r.error, fetch_error::too_large);
  ASSERT_TRUE(r.raw);
  EXPECT_EQ(r.raw->body, html.substr(0, 1000));
  EXPECT_EQ(r.raw->truncated, "length");
}

TEST(raw_capture, nothing_is_captured_without_the_option) {
  socket_server srv({"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"});
  auto o = raw_options();
  o.capture_raw = false;
  session s(o);
  auto r = s.get(srv.url("/"));
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.raw);
}

}  // namespace
}  // namespace crawld::fetch
