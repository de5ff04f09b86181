#pragma once
/// Test helpers: an in-process cpp-httplib server on 127.0.0.1 (OS-chosen port) that records the
/// client ports it saw, and zlib compression helpers.
#include <httplib.h>
#include <zlib.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <ostream>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include "fetch/session.hpp"
#include "parse/url.hpp"

namespace crawld::fetch {
/// gtest prints fetch_error by name.
inline void PrintTo(fetch_error e, std::ostream* os) { *os << to_string(e); }
}  // namespace crawld::fetch

namespace crawld::fetch::testing {

class test_server {
 public:
  /// Routes must be registered before the server starts: `setup` runs first. `server` may be an
  /// httplib::SSLServer.
  explicit test_server(const std::function<void(httplib::Server&)>& setup,
                       std::unique_ptr<httplib::Server> server = std::make_unique<httplib::Server>(),
                       std::string host = "127.0.0.1")
      : server_(std::move(server)), host_(std::move(host)) {
    if (!server_->is_valid()) throw std::runtime_error("invalid test server");
    server_->set_tcp_nodelay(true);  // else Nagle + delayed ACK add 40 ms to every response
    setup(*server_);
    server_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response&) {
      std::lock_guard<std::mutex> lock(mutex_);
      ports_.insert(req.remote_port);
      ++requests_;
      return httplib::Server::HandlerResponse::Unhandled;
    });
    port_ = server_->bind_to_any_port(host_);
    if (port_ <= 0) throw std::runtime_error("cannot bind " + host_);
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    for (int i = 0; i < 500 && !server_->is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (!server_->is_running()) {
      server_->stop();
      thread_.join();
      throw std::runtime_error("test server did not start");
    }
  }
  ~test_server() {
    server_->stop();
    thread_.join();
  }
  test_server(const test_server&) = delete;
  test_server& operator=(const test_server&) = delete;

  int port() const { return port_; }

  /// http://host:port + target ("/path?query").
  parse::url url(const std::string& target) const {
    parse::url u;
    u.scheme = "http";
    u.host = host_.find(':') == std::string::npos ? host_ : "[" + host_ + "]";
    u.has_host = true;
    u.port = port_;
    const auto q = target.find('?');
    u.path = target.substr(0, q);
    if (q != std::string::npos) {
      u.has_query = true;
      u.query = target.substr(q + 1);
    }
    return u;
  }

  /// Number of distinct client connections (by remote port) seen so far.
  std::size_t connections() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return ports_.size();
  }
  int requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

 private:
  std::unique_ptr<httplib::Server> server_;
  std::string host_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::set<int> ports_;
  int requests_ = 0;
};

/// Compresses `in` with zlib; window_bits 15: zlib framing, 15+16: gzip, -15: raw deflate.
inline std::string compress(std::string_view in, int window_bits) {
  z_stream zs{};
  if (deflateInit2(&zs, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2");
  std::string out;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  unsigned char buf[16384];
  int rc = Z_OK;
  for (int i = 0; i < 1'000'000 && rc != Z_STREAM_END; ++i) {
    zs.next_out = buf;
    zs.avail_out = sizeof buf;
    rc = deflate(&zs, Z_FINISH);
    out.append(reinterpret_cast<char*>(buf), sizeof buf - zs.avail_out);
  }
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate");
  return out;
}

/// gzip of `n` zero bytes, produced in small pieces (never holds the zeros).
inline std::string gzip_zeros(std::size_t n) {
  z_stream zs{};
  if (deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2");
  static const unsigned char zeros[65536] = {};
  unsigned char buf[16384];
  std::string out;
  std::size_t left = n;
  int rc = Z_OK;
  for (std::size_t i = 0; i < n / sizeof zeros + 1'000'000 && rc != Z_STREAM_END; ++i) {
    const std::size_t take = std::min(left, sizeof zeros);
    zs.next_in = const_cast<Bytef*>(zeros);
    zs.avail_in = static_cast<uInt>(take);
    const int flush = take == left ? Z_FINISH : Z_NO_FLUSH;
    do {
      zs.next_out = buf;
      zs.avail_out = sizeof buf;
      rc = deflate(&zs, flush);
      out.append(reinterpret_cast<char*>(buf), sizeof buf - zs.avail_out);
    } while (zs.avail_out == 0);
    left -= take;
  }
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate");
  return out;
}

/// A content type that cpp-httplib's server will not compress by itself (its check is
/// case-sensitive) but which the client lower-cases to text/html: lets a test pick the encoding.
inline constexpr const char* html_uncompressed_by_server = "Text/HTML; charset=UTF-8";

/// A small HTML page.
inline const std::string page = "<!doctype html><html><head><title>t</title></head><body>hello</body></html>";

/// `n` bytes of HTML paragraphs (compressible, not trivially so).
inline std::string repeated_text(std::size_t n) {
  std::string s;
  for (std::size_t i = 0; s.size() < n; ++i) s += "<p>paragraph " + std::to_string(i) + "</p>\n";
  s.resize(n);
  return s;
}

}  // namespace crawld::fetch::testing
