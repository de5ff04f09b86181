// The queue actor: the URL frontier.
//
// Admits URLs (dedup on a fingerprint of the normalized URL, the max-pages caps, robots.txt),
// keeps one FIFO per host, asks the rate limiter for one grant per host at a time, and hands a URL
// to a fetcher only for a host holding a grant. A host's first task is its robots.txt; its other
// URLs wait until the rules are known, then the disallowed ones finish as robots_denied without
// a request. It counts consecutive failures per host and parks a host that keeps failing (its
// URLs finish as host_parked), so one dead host never stalls the crawl. It knows how many
// admitted URLs are unfinished, so it detects the end of the crawl and tells the job.
#include <deque>
#include <unordered_map>
#include <unordered_set>

#include "actors/messages.hpp"

namespace crawld::actors {
namespace {

using steady = std::chrono::steady_clock;

enum class robots_state { unknown, fetching, ready };

struct host_queue {
  std::deque<url_task> urls;
  bool asked = false;  // a grant request is outstanding at the rate limiter
  int tokens = 0;      // grants received, not yet used
  robots_state robots = robots_state::unknown;
  bool robots_task = false;      // the robots.txt task waits to be handed out
  int robots_attempts = 0;
  std::shared_ptr<const fetch::robots> rules;
  steady::time_point robots_at{};
  std::uint64_t admitted = 0;    // for max_pages_per_host
  int failures = 0;              // consecutive failed fetches
  std::string parked;            // why, when parked
  fetch::outcome denied_as = fetch::outcome::robots_denied;  // unreachable hosts: network_error/timeout
  std::string denied_why;        // set when robots.txt stayed unavailable
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
  bool paused = false;  // hand out nothing; `next` requests wait (daemon pause)
};

using queue_actor = caf::stateful_actor<queue_state>*;

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

/// Path and query of a normalized absolute URL ("/" when it has no path).
std::string request_target(const std::string& url) {
  auto scheme_end = url.find("://");
  auto start = url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  return start == std::string::npos ? "/" : url.substr(start);
}

bool robots_pending(const host_queue& h) { return h.robots != robots_state::ready; }

/// URLs of the host that may be handed out now.
std::size_t available(const host_queue& h) {
  if (h.robots_task)
    return 1;
  return robots_pending(h) ? 0 : h.urls.size();
}

url_task hand_out(queue_actor self, const std::string& key);

/// Whether a token of the host can still be used (its URLs may have been parked meanwhile).
bool has_work(const host_queue& h) { return h.robots_task || (!robots_pending(h) && !h.urls.empty()); }

/// Gives an unusable token back to the rate limiter.
void return_token(queue_actor self, const std::string& key) {
  auto& h = self->state.hosts[key];
  --h.tokens;
  self->send(self->state.limiter, unused_atom::value, key);
}

// Asks the rate limiter for the host unless a request is out or every available URL has a token.
void ask(queue_actor self, const std::string& key) {
  auto& h = self->state.hosts[key];
  if (h.asked || available(h) <= static_cast<std::size_t>(h.tokens))
    return;
  h.asked = true;
  self->request(self->state.limiter, caf::infinite, grant_atom::value, key)
    .then([self, key](grant_atom) {
      auto& st = self->state;
      auto& h = st.hosts[key];
      h.asked = false;
      ++h.tokens;
      if (!has_work(h)) {
        return_token(self, key);
      } else if (!st.waiting.empty() && !st.stopping && !st.paused) {
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
  --h.tokens;
  ++st.stats.in_flight;
  url_task t;
  if (h.robots_task) {
    h.robots_task = false;
    t.url = parse::normalize(key + "/robots.txt").value_or(key + "/robots.txt");
    t.host_key = key;
    t.kind = static_cast<std::uint8_t>(task_kind::robots);
  } else {
    t = std::move(h.urls.front());
    h.urls.pop_front();
    --st.stats.queued;
  }
  ask(self, key);
  return t;
}

/// Reports an admitted URL finished without a request.
void finish_unfetched(queue_actor self, const url_task& t, fetch::outcome o, std::string detail,
                      bool unreachable = false) {
  auto& st = self->state;
  ++st.stats.finished;
  page_done d;
  d.event = fetch_event{t.url, o, 0, 0, std::chrono::microseconds(0), std::move(detail)};
  d.seed = t.depth == 0 && t.chain.empty() && t.kind == 0;
  d.unreachable = unreachable;
  d.requested = false;
  self->send(st.job, std::move(d));
}

void park(queue_actor self, const std::string& key, std::string why) {
  auto& st = self->state;
  auto& h = st.hosts[key];
  if (!h.parked.empty())
    return;
  h.parked = why;
  st.stats.parked[key] = why;
  for (auto& t : h.urls) {
    --st.stats.queued;
    finish_unfetched(self, t, fetch::outcome::host_parked, why);
  }
  h.urls.clear();
}

void start_robots(queue_actor self, const std::string& key) {
  auto& h = self->state.hosts[key];
  h.robots = robots_state::fetching;
  h.robots_task = true;
  ask(self, key);
}

void admit_one(queue_actor self, url_task& t) {
  auto& st = self->state;
  if (!st.seen.insert(fingerprint(t.url)).second) {
    ++st.stats.rejected["duplicate"];
    return;
  }
  if (st.cfg.max_pages > 0 && st.stats.admitted >= st.cfg.max_pages) {
    ++st.stats.rejected["max_pages"];
    return;
  }
  auto key = t.host_key;
  auto& h = st.hosts[key];
  if (st.cfg.max_pages_per_host > 0 && h.admitted >= st.cfg.max_pages_per_host) {
    ++st.stats.rejected["max_pages_per_host"];
    return;
  }
  ++st.stats.admitted;
  ++h.admitted;
  if (!h.parked.empty())
    return finish_unfetched(self, t, fetch::outcome::host_parked, h.parked);
  if (st.cfg.obey_robots) {
    if (h.robots == robots_state::ready && steady::now() - h.robots_at > st.cfg.robots_ttl)
      h.robots = robots_state::unknown;  // cached rules expired: fetch again first
    if (h.robots == robots_state::ready) {
      auto v = h.rules->check(st.cfg.agent, request_target(t.url));
      if (!v.allowed)
        return finish_unfetched(self, t, h.denied_as,
                                !h.denied_why.empty() ? h.denied_why
                                : v.rule              ? "disallow: " + v.rule->pattern
                                                      : "robots.txt",
                                h.denied_as != fetch::outcome::robots_denied);
    }
  } else {
    h.robots = robots_state::ready;
  }
  ++st.stats.queued;
  h.urls.push_back(std::move(t));
  if (h.robots == robots_state::unknown)
    start_robots(self, key);
  else
    ask(self, key);
}

void admit(queue_actor self, std::vector<url_task>& tasks) {
  for (auto& t : tasks)
    admit_one(self, t);
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

void count_result(queue_actor self, const std::string& key, bool failed) {
  auto& st = self->state;
  auto& h = st.hosts[key];
  h.failures = failed ? h.failures + 1 : 0;
  if (h.failures >= st.cfg.park_after)
    park(self, key, std::to_string(h.failures) + " consecutive failures");
}

void on_robots(queue_actor self, const std::string& key, robots_result& r) {
  auto& st = self->state;
  auto& h = st.hosts[key];
  if (st.stats.in_flight > 0)
    --st.stats.in_flight;
  if (r.temporary && ++h.robots_attempts < st.cfg.robots_attempts) {
    // Disallow all for now and try again after a back-off (RFC 9309 2.3.1.4).
    auto wait = st.cfg.robots_retry_base * (1 << (h.robots_attempts - 1));
    self->delayed_send(self, wait, robots_atom::value, key);
    return check_end(self);
  }
  h.robots = robots_state::ready;
  h.robots_at = steady::now();
  h.rules = r.rules ? r.rules : std::make_shared<const fetch::robots>(fetch::robots::allow_all());
  std::string why = !r.temporary ? ""
                    : r.no_response ? "host unreachable: " + r.detail
                                    : "robots.txt unavailable (" + r.detail + ")";
  auto denied = r.temporary ? r.failure : fetch::outcome::robots_denied;
  h.denied_as = denied;
  h.denied_why = why;
  if (auto delay = h.rules->crawl_delay(st.cfg.agent)) {
    if (*delay > st.cfg.max_crawl_delay)
      park(self, key, "crawl-delay " + std::to_string(delay->count() / 1000.0) + " s above the maximum");
    else
      self->send(st.limiter, delay_atom::value, key, static_cast<std::int64_t>(delay->count()));
  }
  std::deque<url_task> keep;
  for (auto& t : h.urls) {
    auto v = h.rules->check(st.cfg.agent, request_target(t.url));
    if (v.allowed) {
      keep.push_back(std::move(t));
    } else {
      --st.stats.queued;
      finish_unfetched(self, t, denied,
                       !why.empty() ? why : v.rule ? "disallow: " + v.rule->pattern : "robots.txt",
                       r.temporary && r.no_response);
    }
  }
  h.urls.swap(keep);
  if ((st.cfg.sitemaps || st.cfg.sitemap_probe) && !r.temporary) {
    std::vector<std::string> found;
    if (st.cfg.sitemaps)
      found = h.rules->sitemaps();
    if (st.cfg.sitemap_probe)
      found.push_back(key + "/sitemap.xml");
    std::vector<url_task> maps;
    for (const auto& s : found)
      if (auto u = parse::parse_url(s))
        maps.push_back(url_task{parse::normalize(*u), u->host_key(), 0, {},
                                static_cast<std::uint8_t>(task_kind::sitemap), 0});
    admit(self, maps);
  }
  ask(self, key);
  check_end(self);
}

caf::behavior queue(queue_actor self, caf::actor limiter, caf::actor job, queue_config cfg) {
  auto& st = self->state;
  st.limiter = std::move(limiter);
  st.job = std::move(job);
  st.cfg = std::move(cfg);
  return {
    // Seeds; replies once admitted so the job starts fetchers after the frontier has work.
    [self](add_atom, std::vector<url_task>& tasks) {
      if (self->state.ended)
        return self->state.stats.admitted;  // the crawl is over: nothing would fetch them
      admit(self, tasks);
      check_end(self);
      return self->state.stats.admitted;
    },
    [self](next_atom) -> caf::result<url_task> {
      auto& st = self->state;
      if (st.stopping || st.ended)
        return url_task{};
      while (!st.paused && !st.ready.empty()) {
        auto key = std::move(st.ready.front());
        st.ready.pop_front();
        if (has_work(st.hosts[key]))
          return hand_out(self, key);
        return_token(self, key);
      }
      auto rp = self->make_response_promise();
      st.waiting.push_back(rp);
      return rp;
    },
    // A handed-out URL is finished (stored or failed for good); `links` are its admissible outlinks.
    [self](done_atom, const std::string& key, bool failed, std::vector<url_task>& links) {
      auto& st = self->state;
      admit(self, links);
      ++st.stats.finished;
      if (st.stats.in_flight > 0)
        --st.stats.in_flight;
      count_result(self, key, failed);
      check_end(self);
    },
    // A retryable failure: back to the front of its host's queue (the limiter backs off the host).
    [self](retry_atom, url_task& t, page_done& d) {
      auto& st = self->state;
      if (st.stats.in_flight > 0)
        --st.stats.in_flight;
      auto key = t.host_key;
      count_result(self, key, true);
      auto& h = st.hosts[key];
      if (!h.parked.empty() || st.stopping) {
        ++st.stats.finished;  // give up: report the last attempt's outcome
        self->send(st.job, std::move(d));
      } else {
        ++st.stats.retries;
        ++st.stats.queued;
        h.urls.push_front(std::move(t));
        ask(self, key);
      }
      check_end(self);
    },
    [self](robots_atom, const std::string& key, robots_result& r) { on_robots(self, key, r); },
    // Robots retry timer.
    [self](robots_atom, const std::string& key) {
      if (!self->state.stopping)
        start_robots(self, key);
    },
    [self](stop_atom) {
      self->state.stopping = true;
      check_end(self);
    },
    [self](stats_atom) { return self->state.stats; },
    // Pause: grants pile up in `ready` and fetchers wait; resume serves them.
    [self](pause_atom) { self->state.paused = true; },
    [self](resume_atom) {
      auto& st = self->state;
      st.paused = false;
      while (!st.stopping && !st.waiting.empty() && !st.ready.empty()) {
        auto key = std::move(st.ready.front());
        st.ready.pop_front();
        if (!has_work(st.hosts[key])) {
          return_token(self, key);
          continue;
        }
        auto rp = std::move(st.waiting.front());
        st.waiting.pop_front();
        rp.deliver(hand_out(self, key));
      }
    },
  };
}

}  // namespace

caf::actor spawn_queue(caf::actor_system& sys, caf::actor limiter, caf::actor job, queue_config cfg) {
  return sys.spawn(queue, std::move(limiter), std::move(job), std::move(cfg));
}

}  // namespace crawld::actors
