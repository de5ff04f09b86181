// The queue actor: the URL frontier. Admits URLs (dedup on a fingerprint of the normalized URL,
// the max-pages cap), keeps one FIFO per host, asks the rate limiter for one grant per host at a
// time, and hands a URL to a fetcher only for a host holding a grant. It knows how many admitted
// URLs are unfinished, so it detects the end of the crawl and tells the job.
#include <deque>
#include <functional>
#include <unordered_map>
#include <unordered_set>

#include "actors/messages.hpp"

namespace crawld::actors {
namespace {

struct host_queue {
  std::deque<url_task> urls;
  bool asked = false;  // a grant request is outstanding at the rate limiter
  int tokens = 0;      // grants received, not yet used
};

struct queue_state {
  caf::actor limiter, job;
  queue_config cfg;
  std::unordered_map<std::string, host_queue> hosts;
  std::deque<std::string> ready;                 // one entry per token, in grant order
  std::deque<caf::response_promise> waiting;     // fetchers asking for work
  std::unordered_set<std::uint64_t> seen;        // fingerprints of admitted URLs
  queue_stats stats;
  bool stopping = false;
  bool ended = false;
};

std::uint64_t fingerprint(const std::string& url) {
  // FNV-1a, 64 bit: stable across runs (std::hash need not be), good enough for dedup of
  // millions of URLs (collision chance ~ n^2 / 2^65).
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : url) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

using queue_actor = caf::stateful_actor<queue_state>*;

url_task hand_out(queue_actor self, const std::string& key);

// Asks the rate limiter for the host unless a request is out or every queued URL has a token.
void ask(queue_actor self, const std::string& key) {
  auto& h = self->state.hosts[key];
  if (h.asked || h.urls.size() <= static_cast<std::size_t>(h.tokens))
    return;
  h.asked = true;
  self->request(self->state.limiter, caf::infinite, grant_atom::value, key)
    .then([self, key](grant_atom) {
      auto& st = self->state;
      auto& h = st.hosts[key];
      h.asked = false;
      ++h.tokens;
      if (!st.waiting.empty() && !st.stopping) {
        auto rp = std::move(st.waiting.front());
        st.waiting.pop_front();
        rp.deliver(hand_out(self, key));
      } else {
        st.ready.push_back(key);
      }
    });
}

url_task hand_out(queue_actor self, const std::string& key) {
  auto& st = self->state;
  auto& h = st.hosts[key];
  url_task t = std::move(h.urls.front());
  h.urls.pop_front();
  --h.tokens;
  --st.stats.queued;
  ++st.stats.in_flight;
  self->send(st.limiter, started_atom::value, key);
  ask(self, key);
  return t;
}

void admit(queue_actor self, std::vector<url_task>& tasks) {
  auto& st = self->state;
  for (auto& t : tasks) {
    if (!st.seen.insert(fingerprint(t.url)).second) {
      ++st.stats.rejected["duplicate"];
      continue;
    }
    if (st.cfg.max_pages > 0 && st.stats.admitted >= st.cfg.max_pages) {
      ++st.stats.rejected["max_pages"];
      continue;
    }
    ++st.stats.admitted;
    ++st.stats.queued;
    auto key = t.host_key;
    st.hosts[key].urls.push_back(std::move(t));
    ask(self, key);
  }
}

// Tells waiting fetchers there is no more work and reports the end to the job, once.
void check_end(queue_actor self) {
  auto& st = self->state;
  if (st.ended)
    return;
  bool end = st.stopping ? st.stats.in_flight == 0 : st.stats.finished == st.stats.admitted;
  if (st.stopping || end) {
    while (!st.waiting.empty()) {
      st.waiting.front().deliver(url_task{});
      st.waiting.pop_front();
    }
  }
  if (end) {
    st.ended = true;
    if (st.stopping)
      self->send(st.job, drained_atom::value);
    else
      self->send(st.job, idle_atom::value);
  }
}

caf::behavior queue(queue_actor self, caf::actor limiter, caf::actor job, queue_config cfg) {
  auto& st = self->state;
  st.limiter = std::move(limiter);
  st.job = std::move(job);
  st.cfg = cfg;
  return {
    // Seeds; replies once admitted so the job starts fetchers after the frontier has work.
    [self](add_atom, std::vector<url_task>& tasks) {
      admit(self, tasks);
      check_end(self);
      return self->state.stats.admitted;
    },
    [self](next_atom) -> caf::result<url_task> {
      auto& st = self->state;
      if (st.stopping || st.ended)
        return url_task{};
      if (!st.ready.empty()) {
        auto key = std::move(st.ready.front());
        st.ready.pop_front();
        return hand_out(self, key);
      }
      auto rp = self->make_response_promise();
      st.waiting.push_back(rp);
      return rp;
    },
    // A handed-out URL is finished (stored or failed); `links` are its admissible outlinks.
    [self](done_atom, std::vector<url_task>& links) {
      auto& st = self->state;
      admit(self, links);
      ++st.stats.finished;
      if (st.stats.in_flight > 0)
        --st.stats.in_flight;
      check_end(self);
    },
    [self](stop_atom) {
      self->state.stopping = true;
      check_end(self);
    },
    [self](stats_atom) { return self->state.stats; },
  };
}

}  // namespace

caf::actor spawn_queue(caf::actor_system& sys, caf::actor limiter, caf::actor job, queue_config cfg) {
  return sys.spawn(queue, std::move(limiter), std::move(job), cfg);
}

}  // namespace crawld::actors
