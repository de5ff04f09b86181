#include "testsite/server.hpp"

#include <httplib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "testsite/listen_socket.hpp"

namespace crawld::testsite {
namespace {

/// Raises `max` to at least `value`.
void raise_max(std::atomic<int>& max, int value) {
  int seen = max.load();
  while (value > seen && !max.compare_exchange_weak(seen, value)) {
  }
}

/// Counts one request in progress on a host and in total for its lifetime.
class in_flight_guard {
 public:
  in_flight_guard(std::atomic<int>& host, std::atomic<int>& host_max, std::atomic<int>& total,
                  std::atomic<int>& total_max)
      : host_(host), total_(total) {
    raise_max(host_max, ++host_);
    raise_max(total_max, ++total_);
  }
  ~in_flight_guard() {
    --host_;
    --total_;
  }
  in_flight_guard(const in_flight_guard&) = delete;
  in_flight_guard& operator=(const in_flight_guard&) = delete;

 private:
  std::atomic<int>& host_;
  std::atomic<int>& total_;
};

/// SO_REUSEADDR only: httplib's default also sets SO_REUSEPORT, which would let a second server
/// bind the same address and port silently instead of failing.
void reuse_addr_only(socket_t sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}


}  // namespace

server::server(site s, server_options opts)
    : site_(std::move(s)),
      opts_(opts),
      in_flight_(new std::atomic<int>[static_cast<std::size_t>(std::max(site_.host_count(), 0))]),
      max_(new std::atomic<int>[static_cast<std::size_t>(std::max(site_.host_count(), 0))]) {
  for (int i = 0; i < site_.host_count(); ++i) {
    in_flight_[i] = 0;
    max_[i] = 0;
  }
}

server::~server() { stop(); }

result<std::unique_ptr<server>> server::start(site s, server_options opts) {
  std::unique_ptr<server> srv(new server(std::move(s), opts));
  const int hosts = srv->site_.host_count();
  for (int i = 0; i < hosts; ++i) {
    const host_kind kind = srv->site_.kind(i);
    if (kind == host_kind::dead || kind == host_kind::silent) {
      const std::string address = srv->site_.address(i);
      std::uint16_t port = srv->site_.opts().port;
      errno = 0;
      int fd = bind_tcp(address, port, kind == host_kind::silent ? 16 : 0);
      if (fd < 0) {
        int err = errno;
        return make_error("cannot bind testsite " + std::string(host_kind_name(kind)) + " host " +
                          address + ":" + std::to_string(srv->port()) + ": " + std::strerror(err));
      }
      srv->raw_sockets_.push_back(fd);
      srv->site_.set_port(port);
      continue;
    }
    // Politeness hosts serve a few pages to one crawler: a small pool is plenty.
    const std::size_t threads = static_cast<std::size_t>(
        std::max(kind == host_kind::normal ? opts.threads_per_host : std::min(opts.threads_per_host, 16), 1));
    auto http = std::make_unique<httplib::Server>();
    http->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    http->set_socket_options(reuse_addr_only);
    http->set_keep_alive_max_count(1000);
    http->set_tcp_nodelay(true);  // head and body go out in separate writes: Nagle adds ~40 ms
    http->set_keep_alive_timeout(5);
    http->set_read_timeout(10, 0);
    http->set_write_timeout(10, 0);
    server* self = srv.get();
    // cpp-httplib compresses with brotli at its slowest quality whenever a client accepts "br",
    // which makes the server, not the crawler, the bottleneck. Offer gzip only, as most sites do.
    http->set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
      auto& headers = const_cast<httplib::Request&>(req).headers;
      auto it = headers.find("Accept-Encoding");
      if (it != headers.end())
        it->second = it->second.find("gzip") != std::string::npos ? "gzip" : "identity";
      return httplib::Server::HandlerResponse::Unhandled;
    });
    http->Get(".*", [self, i](const httplib::Request& req, httplib::Response& res) {
      self->handle(i, req, res);
    });

    const std::string address = srv->site_.address(i);
    const int port = srv->site_.opts().port;
    errno = 0;
    bool bound = false;
    if (port == 0) {
      int chosen = http->bind_to_any_port(address);
      if (chosen > 0) {
        bound = true;
        srv->site_.set_port(static_cast<std::uint16_t>(chosen));
      }
    } else {
      bound = http->bind_to_port(address, port);
    }
    if (!bound) {
      int err = errno;
      return make_error("cannot bind testsite host " + address + ":" + std::to_string(port) + ": " +
                        (err ? std::strerror(err) : "address unavailable"));
    }

    httplib::Server* raw = http.get();
    srv->servers_.push_back(std::move(http));
    srv->threads_.emplace_back([raw] { raw->listen_after_bind(); });
    // Bounded wait: stop() only takes effect once the server runs.
    for (int tries = 0; tries < 500 && !raw->is_running(); ++tries)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (!raw->is_running())
      return make_error("testsite host " + address + ":" + std::to_string(srv->port()) +
                        " did not start listening within 5 s");
  }
  return srv;
}

void server::handle(int host, const httplib::Request& req, httplib::Response& res) {
  in_flight_guard guard(in_flight_[host], max_[host], in_flight_total_, max_total_);
  std::string target = req.target.empty() ? req.path : req.target;
  int attempt = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    log_.push_back({host, target, req.get_header_value("User-Agent"),
                    std::chrono::steady_clock::now()});
    attempt = ++attempts_[{host, target}];
  }
  if (opts_.latency.count() > 0) std::this_thread::sleep_for(opts_.latency);
  auto since_epoch = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  std::int64_t now_unix = (static_cast<std::int64_t>(since_epoch.count()) + 999) / 1000;
  http_response r = site_.serve(host, target, attempt, now_unix);
  res.status = r.status;
  for (const auto& [name, value] : r.headers) res.set_header(name, value);
  res.set_content(r.body, r.content_type);
}

std::vector<request_log_entry> server::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

std::map<std::string, int> server::request_counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, int> counts;
  for (const auto& e : log_) ++counts[site_.origin(e.host) + e.target];
  return counts;
}

int server::attempts(int host, const std::string& target) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = attempts_.find({host, target});
  return it == attempts_.end() ? 0 : it->second;
}

int server::requests_for(int host) const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(
      std::count_if(log_.begin(), log_.end(), [host](const request_log_entry& e) { return e.host == host; }));
}

std::vector<std::string> server::request_order(int host) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& e : log_)
    if (e.host == host) out.push_back(e.target);
  return out;
}

bool server::robots_first(int host) const {
  auto order = request_order(host);
  return !order.empty() && order.front().substr(0, order.front().find('?')) == "/robots.txt";
}

std::optional<std::chrono::steady_clock::duration> server::min_gap(int host, bool exclude_robots) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<std::chrono::steady_clock::time_point> previous;
  std::optional<std::chrono::steady_clock::duration> gap;
  // The log is appended under the lock with a time taken under it, so times never decrease.
  for (const auto& e : log_) {
    if (e.host != host || (exclude_robots && site::is_robots_path(e.target))) continue;
    if (previous && (!gap || e.at - *previous < *gap)) gap = e.at - *previous;
    previous = e.at;
  }
  return gap;
}

int server::max_in_flight(int host) const {
  if (host < 0 || host >= site_.host_count()) return 0;
  return max_[host].load();
}

void server::stop() {
  for (std::size_t i = 0; i < servers_.size(); ++i) {
    // A server whose thread has not reached listen yet would ignore stop(): wait (bounded).
    for (int tries = 0; tries < 500 && threads_[i].joinable() && !servers_[i]->is_running(); ++tries)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    servers_[i]->stop();
  }
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  std::lock_guard<std::mutex> lock(mu_);
  for (int& fd : raw_sockets_)
    if (fd >= 0) {
      ::close(fd);
      fd = -1;
    }
}

}  // namespace crawld::testsite
