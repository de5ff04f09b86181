#include "fetch/connection_pool.hpp"

#include <httplib.h>

namespace crawld::fetch {

struct connection_pool::entry {
  std::string key;
  std::unique_ptr<httplib::ClientImpl> client;
  std::chrono::steady_clock::time_point since;
};

connection_pool::connection_pool(pool_limits limits) : limits_(limits) {}

connection_pool::~connection_pool() = default;

std::unique_ptr<httplib::ClientImpl> connection_pool::checkout(const std::string& key) {
  std::unique_ptr<httplib::ClientImpl> found, expired;
  std::lock_guard<std::mutex> lock(mu_);
  auto now = std::chrono::steady_clock::now();
  for (auto it = idle_.begin(); it != idle_.end(); ++it) {
    if (it->key != key)
      continue;
    if (now - it->since > limits_.idle_timeout) {
      expired = std::move(it->client);  // one at a time; the rest age out on later calls
      idle_.erase(it);
      break;
    }
    found = std::move(it->client);
    idle_.erase(it);
    break;
  }
  return found;
}

void connection_pool::checkin(const std::string& key, std::unique_ptr<httplib::ClientImpl> client) {
  if (!client || !client->is_socket_open())
    return;
  std::unique_ptr<httplib::ClientImpl> evicted;
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_front(entry{key, std::move(client), std::chrono::steady_clock::now()});
  std::size_t same = 0;
  for (auto it = idle_.begin(); it != idle_.end(); ++it) {
    if (it->key == key && ++same > limits_.max_idle_per_host) {
      evicted = std::move(it->client);
      idle_.erase(it);
      break;
    }
  }
  if (!evicted && idle_.size() > limits_.max_idle_total) {
    evicted = std::move(idle_.back().client);
    idle_.pop_back();
  }
}

std::size_t connection_pool::idle() const {
  std::lock_guard<std::mutex> lock(mu_);
  return idle_.size();
}

}  // namespace crawld::fetch
