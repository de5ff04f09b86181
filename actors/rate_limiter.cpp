// The rate limiter actor: per-host politeness. The queue asks for a host (`next`-style request,
// one outstanding per host); the reply comes when the host is below its in-flight limit and its
// next allowed start time has come. The queue reports `started` when it hands the URL out, which
// starts the delay clock, so a grant that waited for a fetcher never shortens the gap.
#include <algorithm>
#include <unordered_map>

#include "actors/messages.hpp"

namespace crawld::actors {
namespace {

using clock_type = std::chrono::steady_clock;

struct host_state {
  int in_flight = 0;
  clock_type::time_point next_allowed{};
  caf::response_promise waiting;  // the queue's pending request, if any
  bool wants = false;
  bool timer = false;
};

struct limiter_state {
  int per_host = 1;
  std::chrono::milliseconds delay{0};
  std::unordered_map<std::string, host_state> hosts;
};

caf::behavior rate_limiter(caf::stateful_actor<limiter_state>* self, int per_host,
                           std::chrono::milliseconds delay) {
  self->state.per_host = per_host;
  self->state.delay = delay;
  // Grants the host's waiting request if its limits allow, or arms a timer for when they will.
  auto try_grant = [self](const std::string& key) {
    auto& h = self->state.hosts[key];
    if (!h.wants || h.in_flight >= self->state.per_host)
      return;
    auto now = clock_type::now();
    if (now < h.next_allowed) {
      if (!h.timer) {
        h.timer = true;
        self->delayed_send(self, h.next_allowed - now, wake_atom::value, key);
      }
      return;
    }
    h.wants = false;
    ++h.in_flight;
    h.waiting.deliver(grant_atom::value);
  };
  return {
    [self, try_grant](grant_atom, const std::string& key) -> caf::result<grant_atom> {
      auto& h = self->state.hosts[key];
      h.wants = true;
      h.waiting = self->make_response_promise();
      try_grant(key);
      return h.waiting;
    },
    [self, try_grant](wake_atom, const std::string& key) {
      self->state.hosts[key].timer = false;
      try_grant(key);
    },
    [self](started_atom, const std::string& key) {
      auto& h = self->state.hosts[key];
      h.next_allowed = std::max(h.next_allowed, clock_type::now() + self->state.delay);
    },
    [self, try_grant](release_atom, const std::string& key, int status, std::int64_t retry_after_ms) {
      auto& h = self->state.hosts[key];
      if (h.in_flight > 0)
        --h.in_flight;
      if ((status == 429 || status == 503) && retry_after_ms > 0)
        h.next_allowed = std::max(h.next_allowed, clock_type::now() + std::chrono::milliseconds(retry_after_ms));
      try_grant(key);
    },
  };
}

}  // namespace

caf::actor spawn_rate_limiter(caf::actor_system& sys, int per_host, std::chrono::milliseconds delay) {
  return sys.spawn(rate_limiter, per_host, delay);
}

}  // namespace crawld::actors
