// The rate limiter actor: per-host politeness.
//
// Grants: the queue asks for a host (one request outstanding per host); the reply comes when the
// host is below its in-flight limit, its next allowed start has come, and - when the host has a
// delay - no earlier grant is still on its way to the wire.
// Gate: a fetcher asks `started` right before it sends the request; the reply comes when the
// host's next allowed start has come, and stamps the next one (now + delay). `(started, key, task)`
// is the same gate for a URL the queue hands out through the semaphore (the fetcher's `next`
// delegated along): its answer is the task itself. Stamping at the gate, after the permit, keeps
// the gap between two requests' starts at the delay or more even when a grant waited for a
// fetcher or a fetcher waited for a permit.
// Release: a fetcher reports each finished request (and the limiter passes its permit back to
// the semaphore); 429/503 with Retry-After pause the host for
// that long, other failures (5xx, timeouts, network errors) back off exponentially with jitter.
//
// By address (limiter_config::per_ip, --politeness-key ip): a fetcher resolves the host in its own
// thread and passes the gate with (key, address). The address has its own gate: a request starts
// when the address has fewer than `limit` requests running (the smallest per-host limit among
// the hosts seen on it), the address's next start has come (stamped now + the largest effective
// delay, Crawl-delay included, among those hosts) and its host's own next start has come. The
// release names the address again. Grants stay per host (a host's own limits still hold); the
// address gate is what keeps hosts on one server from adding up.
#include <algorithm>
#include <deque>
#include <functional>
#include <optional>
#include <set>
#include <unordered_map>

#include "actors/messages.hpp"
#include "fetch/retry_after.hpp"

namespace crawld::actors {
namespace {

using clock_type = std::chrono::steady_clock;

struct host_state {
  bool configured = false;
  int per_host = 1;
  std::chrono::milliseconds delay{0};        // configured (or rule) delay
  std::chrono::milliseconds crawl_delay{0};  // from robots.txt
  int in_flight = 0;      // granted, not yet released
  int unstarted = 0;      // granted, not yet through the gate
  int failures = 0;       // consecutive
  clock_type::time_point next_allowed{};
  bool wants = false;
  caf::response_promise grant;               // the queue's pending request
  struct waiter {
    caf::response_promise rp;
    std::optional<url_task> task;  // answered with the task when set, else ok
  };
  std::deque<waiter> gate;                   // fetchers waiting to start
  bool timer = false;

  std::chrono::milliseconds effective_delay() const { return std::max(delay, crawl_delay); }
};

/// One resolved address (per_ip): the budget its hosts share.
struct address_state {
  std::set<std::string> hosts;  // host keys that started requests on it
  int in_flight = 0;            // through the gate, not yet released
  clock_type::time_point next_allowed{};
  std::deque<std::pair<std::string, caf::response_promise>> gate;  // (host key, fetcher)
  bool timer = false;
};

struct limiter_state {
  limiter_config cfg;
  std::unordered_map<std::string, host_state> hosts;
  std::unordered_map<std::string, address_state> addresses;
  std::uint64_t jitter = 0;
};

// An address's own wake-up (the host one is wake_atom); local to the limiter.
using ipwake_atom = caf::atom_constant<caf::atom("ipwake")>;

using limiter_actor = caf::stateful_actor<limiter_state>*;

std::string host_of(const std::string& key) {
  auto start = key.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  auto end = key.rfind(':');
  if (end == std::string::npos || end < start)
    end = key.size();
  return key.substr(start, end - start);
}

host_state& host(limiter_actor self, const std::string& key) {
  auto& st = self->state;
  auto& h = st.hosts[key];
  if (!h.configured) {
    h.configured = true;
    h.per_host = st.cfg.per_host;
    h.delay = st.cfg.delay;
    if (auto* r = conf::match_rule(st.cfg.rules, host_of(key))) {
      if (r->per_host)
        h.per_host = *r->per_host;
      if (r->delay)
        h.delay = *r->delay;
    }
  }
  return h;
}

void arm(limiter_actor self, const std::string& key, host_state& h) {
  if (h.timer)
    return;
  h.timer = true;
  auto wait = std::max(h.next_allowed - clock_type::now(), clock_type::duration::zero());
  self->delayed_send(self, wait, wake_atom::value, key);
}

// Opens the gate for waiting fetchers and grants the queue's request, as far as the limits allow.
void pump(limiter_actor self, const std::string& key) {
  auto& h = host(self, key);
  auto now = clock_type::now();
  while (!h.gate.empty()) {
    if (now < h.next_allowed)
      return arm(self, key, h);
    h.next_allowed = now + h.effective_delay();
    auto w = std::move(h.gate.front());
    h.gate.pop_front();
    if (w.task)
      w.rp.deliver(std::move(*w.task));
    else
      w.rp.deliver(caf::ok_atom::value);
  }
  if (!h.wants || h.in_flight >= h.per_host)
    return;
  if (h.effective_delay().count() > 0 && h.unstarted > 0)
    return;  // the next grant waits until the previous one has started
  if (now < h.next_allowed)
    return arm(self, key, h);
  h.wants = false;
  ++h.in_flight;
  ++h.unstarted;
  h.grant.deliver(grant_atom::value);
}

// A finished request of `key`: frees its slot; Retry-After or a failure pushes its next start.
void release(limiter_actor self, const std::string& key, int status, bool failed, std::int64_t retry_after_ms) {
  auto& st = self->state;
  auto& h = host(self, key);
  if (h.in_flight > 0)
    --h.in_flight;
  auto now = clock_type::now();
  if ((status == 429 || status == 503) && retry_after_ms >= 0) {
    h.next_allowed = std::max(h.next_allowed, now + std::chrono::milliseconds(retry_after_ms));
  } else if (failed) {
    ++h.failures;
    auto pause = fetch::backoff_delay(h.failures, st.cfg.backoff_base, st.cfg.backoff_max, ++st.jitter);
    h.next_allowed = std::max(h.next_allowed, now + pause);
  } else {
    h.failures = 0;
  }
  pump(self, key);
}

// The releasing fetcher's permit goes back to the semaphore (delegated: the fetcher stays the
// sender, which is how the semaphore knows the holder).
void return_permit(limiter_actor self) {
  if (self->state.cfg.semaphore)
    self->delegate(self->state.cfg.semaphore, release_atom::value);
}

// Opens an address's gate for waiting fetchers as far as its shared budget allows.
void pump_address(limiter_actor self, const std::string& address) {
  auto& a = self->state.addresses[address];
  auto now = clock_type::now();
  while (!a.gate.empty()) {
    int limit = self->state.cfg.per_host;
    std::chrono::milliseconds delay{0};
    for (const auto& key : a.hosts) {
      const auto& h = host(self, key);
      limit = std::min(limit, h.per_host);
      delay = std::max(delay, h.effective_delay());
    }
    if (a.in_flight >= limit)
      return;  // a release pumps again
    auto& [key, rp] = a.gate.front();
    auto& h = host(self, key);
    const auto ready = std::max(a.next_allowed, h.next_allowed);
    if (now < ready) {
      if (!a.timer) {
        a.timer = true;
        self->delayed_send(self, ready - now, ipwake_atom::value, address);
      }
      return;
    }
    a.next_allowed = now + delay;
    h.next_allowed = std::max(h.next_allowed, now + h.effective_delay());
    ++a.in_flight;
    rp.deliver(caf::ok_atom::value);
    auto started_key = key;
    a.gate.pop_front();
    pump(self, started_key);  // the host's next grant may have waited for this start
  }
}

caf::behavior rate_limiter(limiter_actor self, limiter_config cfg) {
  self->state.cfg = std::move(cfg);
  return {
    [self](grant_atom, const std::string& key) -> caf::result<grant_atom> {
      auto& h = host(self, key);
      h.wants = true;
      h.grant = self->make_response_promise();
      pump(self, key);
      return h.grant;
    },
    [self](started_atom, const std::string& key) -> caf::result<caf::ok_atom> {
      auto& h = host(self, key);
      if (h.unstarted > 0)
        --h.unstarted;
      auto rp = self->make_response_promise();
      h.gate.push_back({rp, std::nullopt});
      pump(self, key);
      return rp;
    },
    [self](started_atom, const std::string& key, url_task& t) -> caf::result<url_task> {
      auto& h = host(self, key);
      if (h.unstarted > 0)
        --h.unstarted;
      auto rp = self->make_response_promise();
      h.gate.push_back({rp, std::move(t)});
      pump(self, key);
      return rp;
    },
    // The gate by address (per_ip); an empty address (it did not resolve) is the host's gate.
    [self](started_atom, const std::string& key, const std::string& address) -> caf::result<caf::ok_atom> {
      auto& h = host(self, key);
      if (h.unstarted > 0)
        --h.unstarted;
      auto rp = self->make_response_promise();
      if (address.empty()) {
        h.gate.push_back({rp, std::nullopt});
        pump(self, key);
        return rp;
      }
      auto& a = self->state.addresses[address];
      a.hosts.insert(key);
      a.gate.emplace_back(key, rp);
      pump_address(self, address);
      return rp;
    },
    [self](wake_atom, const std::string& key) {
      host(self, key).timer = false;
      pump(self, key);
    },
    [self](ipwake_atom, const std::string& address) {
      self->state.addresses[address].timer = false;
      pump_address(self, address);
    },
    // A grant the queue could not use (its host was parked meanwhile): nothing was sent.
    [self](unused_atom, const std::string& key) {
      auto& h = host(self, key);
      if (h.in_flight > 0)
        --h.in_flight;
      if (h.unstarted > 0)
        --h.unstarted;
      pump(self, key);
    },
    [self](delay_atom, const std::string& key, std::int64_t crawl_delay_ms) {
      host(self, key).crawl_delay = std::chrono::milliseconds(crawl_delay_ms);
    },
    [self](release_atom, const std::string& key, int status, bool failed, std::int64_t retry_after_ms,
           const std::string& address) {
      auto& a = self->state.addresses[address];
      if (a.in_flight > 0)
        --a.in_flight;
      release(self, key, status, failed, retry_after_ms);
      pump_address(self, address);
      return_permit(self);
    },
    [self](release_atom, const std::string& key, int status, bool failed, std::int64_t retry_after_ms) {
      release(self, key, status, failed, retry_after_ms);
      return_permit(self);
    },
  };
}

}  // namespace

caf::actor spawn_rate_limiter(caf::actor_system& sys, limiter_config cfg) {
  return sys.spawn(rate_limiter, std::move(cfg));
}

}  // namespace crawld::actors
