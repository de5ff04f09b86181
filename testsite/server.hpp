#pragma once
/// Serves a `site` over real HTTP with cpp-httplib, one server per host address, and records what
/// it saw: every request (host, target, time), and the maximum number of requests in progress per
/// host and in total. Used by `crawld testsite`, the tests and the benchmarks.
///
/// Thread-safety: all methods may be called from any thread while the servers run.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
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
  std::atomic<int> in_flight_total_{0}, max_total_{0};
  std::unique_ptr<std::atomic<int>[]> in_flight_, max_;
};

}  // namespace crawld::testsite
