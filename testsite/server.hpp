#pragma once
/// Serves a `site` over real HTTP with cpp-httplib, one server per host address, and records what
/// it saw: every request (host, target, time), and the maximum number of requests in progress per
/// host and in total. Used by `crawld testsite`, the tests and the benchmarks.
///
/// The model stays pure; the server holds the state its politeness hosts need: it counts requests
/// per (host, target as received) and passes that count to `site::serve` as the attempt number,
/// with the current time rounded up to the second. The dead host's address is bound without
/// listening (connections are refused, and nothing else can take the address); the silent host's
/// is listened on with a backlog of 16 and never accepted from (requests time out; once the
/// backlog is full, connects time out). Both sockets close on `stop`.
///
/// Thread-safety: all methods may be called from any thread while the servers run.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/result.hpp"
#include "testsite/site.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
}

namespace crawld::testsite {

struct request_log_entry {
  int host = 0;
  std::string target;      ///< path and query as received
  std::string user_agent;
  std::chrono::steady_clock::time_point at;
};

struct server_options {
  std::chrono::milliseconds latency{0};  ///< added to every response (simulates a slow server)
  int threads_per_host = 128;
};

class server {
 public:
  /// Binds every host address of `s` on its port (port 0: one OS-chosen port shared by all
  /// hosts, written back into the served site), and starts serving on background threads.
  /// Fails with a message naming the address and port when one cannot be bound.
  static result<std::unique_ptr<server>> start(site s, server_options opts = {});
  ~server();  ///< stops and joins

  const site& model() const { return site_; }
  std::uint16_t port() const { return site_.opts().port; }

  std::vector<request_log_entry> requests() const;
  /// Number of requests seen for each "origin + target" URL string as received.
  std::map<std::string, int> request_counts() const;
  /// Requests seen so far for `target` (as received) on `host`: the attempt number of the last.
  int attempts(int host, const std::string& target) const;
  /// Requests seen on `host`, robots files included.
  int requests_for(int host) const;
  /// Targets requested on `host` (as received), in the order the server started handling them.
  std::vector<std::string> request_order(int host) const;
  /// True when the first request on `host` was for /robots.txt (false when there was none).
  bool robots_first(int host) const;
  /// Smallest interval between the starts of two consecutive requests on `host` (a start is when
  /// the server has read the request head); robots files (`site::is_robots_path`) are left out
  /// when `exclude_robots`. nullopt with fewer than two requests counted.
  std::optional<std::chrono::steady_clock::duration> min_gap(int host, bool exclude_robots = false) const;
  int max_in_flight_total() const { return max_total_.load(); }
  int max_in_flight(int host) const;
  void stop();

 private:
  explicit server(site s, server_options opts);
  /// Logs, counts in-flight, waits the latency and answers from the model.
  void handle(int host, const httplib::Request& req, httplib::Response& res);
  site site_;
  server_options opts_;
  std::vector<std::unique_ptr<httplib::Server>> servers_;
  std::vector<std::thread> threads_;
  mutable std::mutex mu_;
  std::vector<request_log_entry> log_;
  std::map<std::pair<int, std::string>, int> attempts_;  ///< per (host, target as received)
  std::vector<int> raw_sockets_;  ///< dead and silent hosts' sockets (closed by stop)
  std::atomic<int> in_flight_total_{0}, max_total_{0};
  std::unique_ptr<std::atomic<int>[]> in_flight_, max_;
};

}  // namespace crawld::testsite
