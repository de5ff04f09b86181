#include "testsite/hostile.hpp"

#include <arpa/inet.h>
#include <brotli/encode.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "testsite/listen_socket.hpp"

namespace crawld::testsite {

namespace {

constexpr std::size_t bomb_bytes = 256u << 20;  // what the gzip and brotli bombs inflate to

const std::vector<hostile_endpoint> endpoints = {
  {"/slowloris", "200 whose header bytes arrive one per second (600 bytes)"},
  {"/endless-body", "200 text/html without length, body never ends"},
  {"/gzip-bomb", "gzip body of ~250 KB inflating to 256 MiB"},
  {"/brotli-bomb", "brotli body of a few KB inflating to 256 MiB"},
  {"/loop/a", "302 /loop/b, which 302s back to /loop/a"},
  {"/chain/50", "a 50-hop 302 chain /chain/50 -> ... -> /chain/0 (a page)"},
  {"/long-header", "200 with one 1 MiB header line"},
  {"/endless-headers", "status line, then header lines that never end"},
  {"/reset", "Content-Length 100000, 10000 bytes, then a TCP reset"},
  {"/bad-chunked", "chunked body with an invalid chunk-size line"},
  {"/length-larger", "Content-Length 100000, 1000 bytes, then close"},
  {"/length-smaller", "Content-Length 10, then 1000 bytes"},
  {"/big-line", "10 MiB of HTML on one line, a link at its end"},
  {"/many-links", "50,000 distinct links (to the refused host)"},
  {"/deep", "10,000 nested <div>s, a link at the innermost"},
  {"/bad-utf8", "invalid UTF-8 and NUL bytes in text and hrefs"},
  {"/binary", "1 MiB of random bytes as text/html"},
  {"/robots.txt", "5 MiB robots.txt; a rule after 500 KiB must be ignored"},
  {"/sitemap-bomb.xml.gz", "gzip sitemap inflating to ~120 MiB (2M entries)"},
};

bool send_all(int fd, const char* p, std::size_t n, const std::atomic<bool>& stopping) {
  while (n > 0) {
    if (stopping.load()) return false;
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {  // send timeout: check stopping, retry
        continue;
      }
      return false;
    }
    p += w;
    n -= std::size_t(w);
  }
  return true;
}

bool send_str(int fd, const std::string& s, const std::atomic<bool>& stopping) {
  return send_all(fd, s.data(), s.size(), stopping);
}

/// Sleeps `d` in small steps; false when the server is stopping.
bool nap(std::chrono::milliseconds d, const std::atomic<bool>& stopping) {
  auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
    if (stopping.load()) return false;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        std::chrono::milliseconds(20), until - std::chrono::steady_clock::now()));
  }
  return !stopping.load();
}

std::string head(int status, const std::string& reason, const std::string& type,
                 const std::string& extra = {}) {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: " + type +
         "\r\nConnection: close\r\n" + extra + "\r\n";
}

std::string with_length(const std::string& type, const std::string& body, const std::string& extra = {}) {
  return head(200, "OK", type, "Content-Length: " + std::to_string(body.size()) + "\r\n" + extra) + body;
}

std::string redirect(const std::string& to) {
  return "HTTP/1.1 302 Found\r\nLocation: " + to + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
}

std::string page(const std::string& title, const std::string& inner) {
  return "<!DOCTYPE html><html><head><title>" + title + "</title></head><body>" + inner + "</body></html>";
}

/// Raw deflate of `data` ending in a full flush: byte-aligned, no back-references out of it, so
/// copies of it in a row decode to copies of `data`.
std::string deflate_flushed(const std::string& data) {
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FULL_FLUSH);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  return out;
}

void put_le32(std::string& s, std::uint32_t v) {
  for (int k = 0; k < 4; ++k) s += static_cast<char>((v >> (8 * k)) & 0xff);
}

/// A gzip member whose content is `prefix` then `times` copies of `unit`, built in time linear in
/// the compressed size (the copies are compressed once): a bomb costs milliseconds to make.
std::string gzip_repeat(const std::string& prefix, const std::string& unit, std::size_t times) {
  std::string out("\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03", 10);
  out += deflate_flushed(prefix);
  const std::string block = deflate_flushed(unit);
  out.reserve(out.size() + block.size() * times + 16);
  for (std::size_t k = 0; k < times; ++k) out += block;
  out += std::string("\x03\x00", 2);  // a final, empty fixed-Huffman block
  uLong crc = crc32(0, reinterpret_cast<const Bytef*>(prefix.data()), static_cast<uInt>(prefix.size()));
  const uLong unit_crc = crc32(0, reinterpret_cast<const Bytef*>(unit.data()), static_cast<uInt>(unit.size()));
  for (std::size_t k = 0; k < times; ++k) crc = crc32_combine(crc, unit_crc, static_cast<z_off_t>(unit.size()));
  put_le32(out, static_cast<std::uint32_t>(crc));
  put_le32(out, static_cast<std::uint32_t>(prefix.size() + unit.size() * times));  // ISIZE: mod 2^32
  return out;
}

const std::string& gzip_bomb() {
  static std::once_flag once;
  static std::string s;
  std::call_once(once, [] { s = gzip_repeat({}, std::string(1u << 20, '\0'), bomb_bytes >> 20); });
  return s;
}

const std::string& brotli_bomb() {
  static std::once_flag once;
  static std::string s;
  std::call_once(once, [] {
    BrotliEncoderState* st = BrotliEncoderCreateInstance(nullptr, nullptr, nullptr);
    BrotliEncoderSetParameter(st, BROTLI_PARAM_QUALITY, 1);
    const std::string zeros(1u << 20, '\0');
    std::size_t fed = 0;
    uint8_t buf[1 << 16];
    while (true) {
      const bool last = fed >= bomb_bytes;
      std::size_t avail_in = last ? 0 : zeros.size();
      const uint8_t* next_in = reinterpret_cast<const uint8_t*>(zeros.data());
      do {
        std::size_t avail_out = sizeof buf;
        uint8_t* next_out = buf;
        BrotliEncoderCompressStream(st, last ? BROTLI_OPERATION_FINISH : BROTLI_OPERATION_PROCESS,
                                    &avail_in, &next_in, &avail_out, &next_out, nullptr);
        s.append(reinterpret_cast<char*>(buf), sizeof buf - avail_out);
      } while (avail_in > 0 || BrotliEncoderHasMoreOutput(st));
      if (last) {
        if (BrotliEncoderIsFinished(st)) break;
        continue;
      }
      fed += zeros.size();
    }
    BrotliEncoderDestroyInstance(st);
  });
  return s;
}

const std::string& sitemap_bomb(const std::string& origin) {
  static std::mutex mu;
  static std::map<std::string, std::string> cache;  // per origin (tests run several servers)
  std::lock_guard<std::mutex> lock(mu);
  auto& s = cache[origin];
  if (!s.empty()) return s;
  std::string entries;
  for (int k = 0; k < 20; ++k) entries += "<url><loc>" + origin + "/deep-target?s=" + std::to_string(k) + "</loc></url>\n";
  std::string unit;  // 1,000 copies of the 20 entries
  for (int k = 0; k < 1000; ++k) unit += entries;
  const std::string open = "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n";
  s = gzip_repeat(open, unit, 100);  // 2,000,000 entries
  return s;
}

/// Deterministic pseudo-random bytes (xorshift), every byte value present, NULs included.
std::string random_bytes(std::size_t n) {
  std::string s(n, '\0');
  std::uint64_t x = 0x9e3779b97f4a7c15ull;
  for (auto& c : s) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

}  // namespace

const std::vector<hostile_endpoint>& hostile_endpoints() { return endpoints; }


result<std::unique_ptr<hostile_server>> hostile_server::start(hostile_options opts) {
  std::unique_ptr<hostile_server> s(new hostile_server(opts));
  std::uint16_t port = opts.port;
  auto fail = [&](const std::string& addr) {
    return make_error("cannot bind hostile testsite " + addr + ":" + std::to_string(port) + ": " +
                      std::strerror(errno));
  };
  s->listen_fd_ = bind_tcp(opts.address, port, 128);
  if (s->listen_fd_ < 0) return fail(opts.address);
  s->port_ = port;
  s->silent_fd_ = bind_tcp(opts.silent_address, port, 16);
  if (s->silent_fd_ < 0) return fail(opts.silent_address);
  s->refused_fd_ = bind_tcp(opts.refused_address, port, 0);
  if (s->refused_fd_ < 0) return fail(opts.refused_address);
  auto* raw = s.get();
  s->acceptor_ = std::thread([raw] { raw->accept_loop(); });
  return s;
}

hostile_server::~hostile_server() {
  stop();
  for (int* fd : {&listen_fd_, &silent_fd_, &refused_fd_})
    if (*fd >= 0) {
      ::close(*fd);
      *fd = -1;
    }
}

std::string hostile_server::origin() const { return "http://" + opts_.address + ":" + std::to_string(port_); }
std::string hostile_server::silent_origin() const {
  return "http://" + opts_.silent_address + ":" + std::to_string(port_);
}
std::string hostile_server::refused_origin() const {
  return "http://" + opts_.refused_address + ":" + std::to_string(port_);
}

std::map<std::string, int> hostile_server::hits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return hits_;
}

int hostile_server::open_connections() const {
  std::lock_guard<std::mutex> lock(mu_);
  return threads_;
}

void hostile_server::stop() {
  if (stopping_.exchange(true)) {
    if (acceptor_.joinable()) acceptor_.join();
    return;
  }
  if (acceptor_.joinable()) acceptor_.join();
  std::unique_lock<std::mutex> lock(mu_);
  for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  idle_.wait(lock, [this] { return threads_ == 0; });
}

void hostile_server::accept_loop() {
  while (!stopping_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (threads_ >= opts_.max_connections || stopping_.load()) {
        ::close(fd);
        rejected_.fetch_add(1);
        continue;
      }
      ++threads_;
      open_fds_.push_back(fd);
    }
    // A send that blocks longer than this returns EAGAIN, so a thread notices `stop`.
    timeval tv{0, 200'000};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::thread([this, fd] {
      serve(fd);
      std::lock_guard<std::mutex> lock(mu_);
      open_fds_.erase(std::find(open_fds_.begin(), open_fds_.end(), fd));
      ::close(fd);
      if (--threads_ == 0) idle_.notify_all();
    }).detach();
  }
}

void hostile_server::serve(int fd) {
  const auto& stop = stopping_;
  // Read the request head: at most 16 KiB, for at most 5 s.
  std::string req;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (req.find("\r\n\r\n") == std::string::npos && req.size() < 16384) {
    if (stop.load() || std::chrono::steady_clock::now() > deadline) return;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) return;
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      return;
    }
    req.append(buf, std::size_t(n));
  }
  // "GET /path?query HTTP/1.1"
  auto sp1 = req.find(' ');
  auto sp2 = sp1 == std::string::npos ? std::string::npos : req.find(' ', sp1 + 1);
  if (sp2 == std::string::npos) return;
  const std::string target = req.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string path = target.substr(0, target.find('?'));
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++hits_[path];
  }
  const std::string me = origin();
  const std::string html = "text/html; charset=utf-8";

  if (path == "/") {
    std::string links;
    for (const auto& e : endpoints) links += "<a href=\"" + std::string(e.path) + "\">" + e.path + "</a>\n";
    links += "<a href=\"/private\">private</a>\n";
    links += "<a href=\"" + silent_origin() + "/\">silent host</a>\n";
    links += "<a href=\"" + refused_origin() + "/\">refused host</a>\n";
    send_str(fd, with_length(html, page("hostile", links)), stop);
  } else if (path.rfind("/mix/", 0) == 0) {
    const long k = std::atol(path.c_str() + 5);
    std::string links = "<a href=\"/mix/" + std::to_string(2 * k + 1) + "\">left</a>\n<a href=\"/mix/" +
                        std::to_string(2 * k + 2) + "\">right</a>\n";
    for (const auto& e : endpoints)
      if (std::string(e.path) != "/robots.txt" && std::string(e.path) != "/sitemap-bomb.xml.gz")
        links += "<a href=\"" + std::string(e.path) + "?k=" + std::to_string(k) + "\">" + e.path + "</a>\n";
    send_str(fd, with_length(html, page("mix " + std::to_string(k), links)), stop);
  } else if (path == "/slowloris") {
    const std::string h = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Slow: " + std::string(520, 's') +
                          "\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    for (char c : h)
      if (!send_all(fd, &c, 1, stop) || !nap(opts_.drip, stop)) return;
  } else if (path == "/endless-body") {
    if (!send_str(fd, head(200, "OK", html), stop)) return;
    std::string chunk;
    while (chunk.size() < 65536) chunk += "<p>more and more and more</p>\n";
    for (std::uint64_t sent = 0; sent < (std::uint64_t(64) << 30); sent += chunk.size())  // 64 GiB at most
      if (!send_str(fd, chunk, stop)) return;
  } else if (path == "/gzip-bomb" || path == "/brotli-bomb") {
    const bool gz = path == "/gzip-bomb";
    const std::string& body = gz ? gzip_bomb() : brotli_bomb();
    send_str(fd, with_length(html, body, std::string("Content-Encoding: ") + (gz ? "gzip" : "br") + "\r\n"), stop);
  } else if (path == "/loop/a") {
    send_str(fd, redirect("/loop/b"), stop);
  } else if (path == "/loop/b") {
    send_str(fd, redirect("/loop/a"), stop);
  } else if (path.rfind("/chain/", 0) == 0) {
    int n = std::atoi(path.c_str() + 7);
    if (n > 0)
      send_str(fd, redirect("/chain/" + std::to_string(n - 1)), stop);
    else
      send_str(fd, with_length(html, page("end of chain", "the end")), stop);
  } else if (path == "/long-header") {
    send_str(fd, with_length(html, page("long header", "x"), "X-Long: " + std::string(1u << 20, 'h') + "\r\n"), stop);
  } else if (path == "/endless-headers") {
    if (!send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n", stop)) return;
    for (std::uint64_t k = 0; k < 100'000'000; ++k)
      if (!send_str(fd, "X-Header-" + std::to_string(k) + ": never ending\r\n", stop)) return;
  } else if (path == "/reset") {
    if (!send_str(fd, head(200, "OK", html, "Content-Length: 100000\r\n") + "<html><body>" + std::string(9988, 'r'), stop))
      return;
    nap(std::chrono::milliseconds(50), stop);
    linger l{1, 0};  // the close (by the caller) sends a reset
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    return;
  } else if (path == "/bad-chunked") {
    send_str(fd, head(200, "OK", html, "Transfer-Encoding: chunked\r\n") + "5\r\n<html\r\nzz;bogus\r\nnot a chunk\r\n", stop);
  } else if (path == "/length-larger") {
    send_str(fd, head(200, "OK", html, "Content-Length: 100000\r\n") + "<html><body>" + std::string(988, 'l'), stop);
  } else if (path == "/length-smaller") {
    send_str(fd, head(200, "OK", html, "Content-Length: 10\r\n") + page("smaller", std::string(900, 's')), stop);
  } else if (path == "/big-line") {
    std::string body = "<!DOCTYPE html><html><body>";
    std::string filler;
    while (filler.size() < 65536) filler += "<span>one line forever</span>";
    const std::size_t total = 10u << 20;
    const std::string tail = "<a href=\"/deep-target?from=big-line\">end</a></body></html>";
    if (!send_str(fd, head(200, "OK", html, "Content-Length: " + std::to_string(total) + "\r\n"), stop)) return;
    std::size_t sent = 0;
    if (!send_str(fd, body, stop)) return;
    sent += body.size();
    while (sent + filler.size() + tail.size() <= total) {
      if (!send_str(fd, filler, stop)) return;
      sent += filler.size();
    }
    std::string last = std::string(total - sent - tail.size(), ' ') + tail;
    send_str(fd, last, stop);
  } else if (path == "/many-links") {
    std::string body;
    const std::string to = refused_origin();
    for (int k = 0; k < 50'000; ++k) body += "<a href=\"" + to + "/l/" + std::to_string(k) + "\">" + std::to_string(k) + "</a>";
    send_str(fd, with_length(html, page("many links", body)), stop);
  } else if (path == "/deep") {
    std::string body;
    for (int k = 0; k < 10'000; ++k) body += "<div>";
    body += "<a href=\"/deep-target\">deepest</a>";
    for (int k = 0; k < 10'000; ++k) body += "</div>";
    send_str(fd, with_length(html, page("deep", body)), stop);
  } else if (path == "/deep-target" || path == "/bad-utf8/t" || path == "/private") {
    send_str(fd, with_length(html, page("leaf", "a leaf")), stop);
  } else if (path == "/bad-utf8") {
    std::string body = std::string("text \xff\xfe \xc3\x28 \xed\xa0\x80 nul[") + '\0' + "] ";
    body += "<a href=\"/bad-utf8/t?a=\xff\xfe\">1</a>";
    body += std::string("<a href=\"/bad-utf8/t?b=") + '\0' + "x\">2</a>";
    body += "<a href=\"/bad-utf8/t?c=\xc3\x28\xed\xa0\x80\">3</a>";
    body += std::string("<a hr") + '\0' + "ef=\"/nul-in-name\">4</a>";
    send_str(fd, with_length(html, page("bad utf-8", body)), stop);
  } else if (path == "/binary") {
    static const std::string bytes = random_bytes(1u << 20);
    send_str(fd, with_length(html, bytes), stop);
  } else if (path == "/robots.txt") {
    const std::size_t total = 5u << 20;
    std::string start = "User-agent: *\nDisallow: /private\nSitemap: " + me + "/sitemap-bomb.xml.gz\n";
    const std::string end = "User-agent: *\nDisallow: /\n";
    std::string filler;
    while (filler.size() < 65536) filler += "# filler line of a very large robots.txt file ........\n";
    if (!send_str(fd, head(200, "OK", "text/plain", "Content-Length: " + std::to_string(total) + "\r\n") + start, stop))
      return;
    std::size_t sent = start.size();
    while (sent + filler.size() + end.size() <= total) {
      if (!send_str(fd, filler, stop)) return;
      sent += filler.size();
    }
    send_str(fd, std::string(total - sent - end.size() - 1, '#') + "\n" + end, stop);
  } else if (path == "/sitemap-bomb.xml.gz") {
    send_str(fd, with_length("application/gzip", sitemap_bomb(me)), stop);
  } else {
    send_str(fd, "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found", stop);
  }
  // Let the client read everything before the close (a close with unread input sends a reset).
  ::shutdown(fd, SHUT_WR);
  char sink[4096];
  for (int k = 0; k < 10 && !stop.load(); ++k)
    if (::recv(fd, sink, sizeof sink, 0) == 0) break;
}

}  // namespace crawld::testsite
