#pragma once
/// A hostile HTTP server on loopback, for reliability tests, the soak benchmark and
/// `crawld testsite --hostile ADDR`. Built on raw sockets (cpp-httplib cannot misbehave on
/// purpose): one accept thread and one thread per connection, at most `max_connections` at once
/// (a connection beyond that is closed at once). Every response is generated on the fly; nothing
/// is read from disk. Each connection serves one request and closes (`Connection: close`).
///
/// Three addresses: `address` serves the endpoints below; `silent_address` listens (backlog 16)
/// and never accepts, so requests to it time out; `refused_address` is bound without listening,
/// so connections are refused. All three share one port.
///
/// Endpoints of `origin()` (docs/hostile.md says what crawld does with each):
///   /                     index: links every endpoint below and the silent and refused hosts
///   /slowloris            a 200 whose header bytes arrive one per `drip` (default 1 s), 600 bytes
///   /endless-body         a 200 text/html without length whose body never ends (fast)
///   /gzip-bomb            Content-Encoding: gzip, ~250 KB inflating to 256 MiB of zeros
///   /brotli-bomb          Content-Encoding: br, a few KB inflating to 256 MiB of zeros
///   /loop/a, /loop/b      302 to each other (a redirect loop)
///   /chain/{n}            302 to /chain/{n-1} while n > 0; /chain/0 is a page. Linked: /chain/50
///   /long-header          a 200 with one 1 MiB header line
///   /endless-headers      a status line, then header lines that never end (fast)
///   /reset                Content-Length 100000, 10000 bytes, then a TCP reset
///   /bad-chunked          Transfer-Encoding: chunked with an invalid chunk size line
///   /length-larger        Content-Length 100000, 1000 bytes, then the connection closes
///   /length-smaller       Content-Length 10, then 1000 bytes of HTML
///   /big-line             a 10 MiB HTML page on one line (no newline), one link at its end
///   /many-links           a page with 50,000 distinct links to the refused host's /l/{k}
///   /deep                 10,000 nested <div>s with a link to /deep-target at the innermost
///   /deep-target          a small page
///   /bad-utf8             HTML with invalid UTF-8 and NUL bytes in text and hrefs (links to
///                         /bad-utf8/t?... forms)
///   /bad-utf8/t           a small page (any query)
///   /binary               1 MiB of pseudo-random bytes served as text/html
///   /robots.txt           5 MiB: "Disallow: /private" first, then filler comment lines, and after
///                         the 500 KiB a parser reads, "Disallow: /" (must be ignored);
///                         "Sitemap: {origin}/sitemap-bomb.xml.gz" near its start
///   /private              a page robots.txt disallows
///   /sitemap-bomb.xml.gz  gzip of an endless-looking urlset: 2,000,000 <url> entries of the same
///                         20 URLs on this host (~120 MiB inflated, ~0.3 MiB on the wire)
///   /mix/{k}              a page linking /mix/{2k+1}, /mix/{2k+2} and every endpoint above (but
///                         robots.txt and the sitemap) with "?k={k}" (the query is ignored), so a
///                         long crawl keeps meeting them (bench/soak.sh)
///   anything else         404
///
/// Thread-safety: all methods may be called from any thread while the server runs.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <condition_variable>
#include <string>
#include <thread>
#include <vector>

#include "base/result.hpp"

namespace crawld::testsite {

struct hostile_options {
  std::string address = "127.0.0.60";
  std::string silent_address = "127.0.0.61";
  std::string refused_address = "127.0.0.62";
  std::uint16_t port = 0;  ///< 0: one OS-chosen port for all three addresses
  int max_connections = 64;
  std::chrono::milliseconds drip{1000};  ///< gap between slowloris header bytes
};

/// One endpoint's path and a one-line description (the table in docs/hostile.md).
struct hostile_endpoint {
  const char* path;
  const char* what;
};
/// Every linked endpoint of the index, in index order.
const std::vector<hostile_endpoint>& hostile_endpoints();

class hostile_server {
 public:
  /// Binds the three addresses and starts accepting. Fails with a message naming the address.
  static result<std::unique_ptr<hostile_server>> start(hostile_options opts = {});
  ~hostile_server();  ///< stops and joins
  hostile_server(const hostile_server&) = delete;
  hostile_server& operator=(const hostile_server&) = delete;

  std::uint16_t port() const { return port_; }
  std::string origin() const;          ///< http://address:port
  std::string silent_origin() const;   ///< http://silent_address:port
  std::string refused_origin() const;  ///< http://refused_address:port
  /// Requests received per path (query dropped), as parsed from request lines.
  std::map<std::string, int> hits() const;
  /// Connections closed at once because `max_connections` were open.
  int rejected_connections() const { return rejected_.load(); }
  /// Connections currently open (served by a thread).
  int open_connections() const;
  /// Stops accepting, shuts every open connection down and joins all threads. Idempotent.
  void stop();

 private:
  explicit hostile_server(hostile_options opts) : opts_(std::move(opts)) {}
  void accept_loop();
  void serve(int fd);
  hostile_options opts_;
  std::uint16_t port_ = 0;
  int listen_fd_ = -1, silent_fd_ = -1, refused_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<int> rejected_{0};
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::condition_variable idle_;
  std::vector<int> open_fds_;
  int threads_ = 0;
  std::map<std::string, int> hits_;
};

}  // namespace crawld::testsite
