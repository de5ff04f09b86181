#pragma once
/// Idle keep-alive HTTP clients shared by the fetchers of a crawl, keyed by host
/// (scheme://host:port), like aiohttp's connector: a fetcher checks a client out for one request
/// and checks it back in. Since a host never has more than `per_host` requests in flight, a
/// crawl never holds more connections to one host than that, however many fetchers it runs.
///
/// Limits: at most `max_idle_per_host` idle clients per host and `max_idle_total` in all (the
/// least recently used beyond them are closed); a client idle longer than `idle_timeout` is
/// closed instead of handed out. Thread-safe (one mutex; the work under it is a few pointer moves).
#include <chrono>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>

namespace httplib {
class ClientImpl;
}

namespace crawld::fetch {

struct pool_limits {
  std::size_t max_idle_per_host = 8;
  std::size_t max_idle_total = 64;
  std::chrono::milliseconds idle_timeout{30'000};
};

class connection_pool {
 public:
  explicit connection_pool(pool_limits limits = {});
  ~connection_pool();
  connection_pool(const connection_pool&) = delete;
  connection_pool& operator=(const connection_pool&) = delete;

  /// The most recently used idle client for `key`, or null when there is none.
  std::unique_ptr<httplib::ClientImpl> checkout(const std::string& key);
  /// Keeps `client` for reuse if its connection is open and the limits allow; else closes it.
  void checkin(const std::string& key, std::unique_ptr<httplib::ClientImpl> client);
  std::size_t idle() const;

 private:
  struct entry;
  pool_limits limits_;
  mutable std::mutex mu_;
  std::list<entry> idle_;  // most recently checked in first
};

}  // namespace crawld::fetch
