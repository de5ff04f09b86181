// The queue actor: the URL frontier, over storage::frontier (RocksDB-backed, bounded window).
//
// Admits URLs (dedup against the persistent seen-set, the per-host cap), keeps them per host in
// the frontier, asks the rate limiter for one grant per host at a time, and hands a URL to a
// fetcher only for a host holding a grant. A host's first task is its robots.txt; its other URLs
// wait until the rules are known, then the disallowed ones finish as robots_denied without a
// request (checked when taken out of the frontier). It counts consecutive failures per host and
// parks a host that keeps failing (its URLs finish as host_parked), so one dead host never stalls
// the crawl. `max_pages` bounds the URLs taken out of the frontier (fetched or robots-denied), not
// those admitted. The crawl ends when nothing is pending or in flight, or the cap is reached.
//
// Detached (its own thread): the frontier does blocking RocksDB reads and writes. A finished URL's
// page record, its outlinks' admission and its removal from the frontier go into one WriteBatch
// (see storage/frontier.hpp), written every 50 ms or when large, so the store is always a cut a
// resumed crawl can continue from.
#include <deque>
#include <unordered_map>

#include "actors/cluster_hook.hpp"
#include "actors/messages.hpp"
#include "storage/forward_log.hpp"
#include "storage/frontier.hpp"

namespace crawld::actors {
namespace {

using steady = std::chrono::steady_clock;

constexpr auto commit_every = std::chrono::milliseconds(50);

enum class robots_state { unknown, fetching, ready };

struct host_queue {
  bool asked = false;  // a grant request is outstanding at the rate limiter
  int tokens = 0;      // grants received, not yet used
  robots_state robots = robots_state::unknown;
  bool robots_task = false;      // the robots.txt task waits to be handed out
  int robots_attempts = 0;
  std::shared_ptr<const fetch::robots> rules;
  steady::time_point robots_at{};
  int failures = 0;              // consecutive failed fetches
  std::string parked;            // why, when parked
  fetch::outcome denied_as = fetch::outcome::robots_denied;  // unreachable hosts: network_error/timeout
  std::string denied_why;        // set when robots.txt stayed unavailable
};

struct queue_state {
  caf::actor limiter, job;
  queue_config cfg;
  std::shared_ptr<storage::frontier> fr;         // null once closed
  std::unordered_map<std::string, host_queue> hosts;
  std::deque<std::string> ready;                 // one entry per token, in grant order
  std::deque<caf::response_promise> waiting;     // fetchers asking for work
  queue_stats stats;
  bool started = false;  // hosts with work on disk (a resumed crawl) were scheduled
  bool stopping = false;
  bool ended = false;
  bool paused = false;  // hand out nothing; `next` requests wait (daemon pause)
  bool failed = false;   // the frontier reported an error: the crawl stops
  bool timer = false;    // a commit tick is scheduled
  std::uint64_t cookies_staged = 0;  // cfg.cookies->changes() when the jar was last staged
  // Cluster (cfg.cluster set): URLs for hosts other members own, sent to the cluster actor after
  // each admission round; the crawl ends only after the coordinator said `cl_done`.
  std::vector<url_task> outbox;
  bool cluster_done = false;
  std::unique_ptr<storage::forward_log> fwd_log;  // URLs other members acknowledged (opened lazily)
  // Finished URLs not yet reported to the job: sent as one message every commit tick (or every
  // `report_batch`), and always before idle/drained, so the job hears of each URL once, in order.
  std::vector<page_done> reports;
};

using queue_actor = caf::stateful_actor<queue_state>*;

/// Path and query of a normalized absolute URL ("/" when it has no path).
std::string request_target(const std::string& url) {
  auto scheme_end = url.find("://");
  auto start = url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  return start == std::string::npos ? "/" : url.substr(start);
}

storage::frontier_entry to_entry(const url_task& t) {
  return storage::frontier_entry{t.url, t.host_key, t.depth, t.chain, t.kind, t.seq, t.attempt, t.request};
}

url_task to_task(storage::frontier_entry&& e) {
  url_task t{std::move(e.url), std::move(e.host_key), e.depth, std::move(e.chain), e.kind, e.attempt};
  t.seq = e.seq;
  t.request = std::move(e.request);
  return t;
}

/// Reports a frontier error to the job (once) and stops handing out work.
template <class T>
bool check(queue_actor self, const result<T>& r) {
  if (r)
    return true;
  auto& st = self->state;
  if (!st.failed) {
    st.failed = true;
    st.stopping = true;
    self->send(st.job, fail_atom::value, r.message());
  }
  return false;
}

/// Puts the cookie jar into the frontier's pending batch when it changed since it was last put
/// there. Called before every finish and commit: a fetcher stores a response's Set-Cookie before
/// it hands the page on, so the batch that records a page done also holds the cookies it set (a
/// crawl killed and resumed never lacks a cookie of a page it will not fetch again).
void stage_cookies(queue_actor self) {
  auto& st = self->state;
  if (!st.cfg.cookies || !st.fr)
    return;
  const auto changes = st.cfg.cookies->changes();  // read before serializing: a change in between is
  if (changes == st.cookies_staged)                  // in this copy and staged again next time
    return;
  st.cookies_staged = changes;
  st.fr->stage_meta("cookies", st.cfg.cookies->serialize());
}

constexpr std::size_t report_batch = 256;

/// Sends the job the finished URLs not reported yet.
void flush_reports(queue_actor self) {
  auto& st = self->state;
  if (st.reports.empty())
    return;
  self->send(st.job, std::move(st.reports));
  st.reports.clear();
}

/// Writes the pending batch soon (every write of the frontier goes through one batch).
void schedule_commit(queue_actor self) {
  auto& st = self->state;
  if (st.timer || !st.fr)
    return;
  st.timer = true;
  self->delayed_send(self, commit_every, tick_atom::value);
}

bool cap_reached(const queue_state& st) {
  return st.cfg.max_pages > 0 && st.fr && st.fr->taken() >= st.cfg.max_pages;
}

bool robots_pending(const host_queue& h) { return h.robots != robots_state::ready; }

/// Whether a token of the host can be used now (its URLs may have been parked meanwhile).
bool has_work(queue_actor self, const std::string& key, const host_queue& h) {
  auto& st = self->state;
  if (!st.fr || cap_reached(st))
    return false;
  if (h.robots_task)
    return true;
  return !robots_pending(h) && h.parked.empty() && st.fr->pending(key) > 0;
}

std::optional<url_task> take(queue_actor self, const std::string& key);
void check_end(queue_actor self);

/// Answers a fetcher's `next` with `t`. With a semaphore in the config the URL travels through it
/// (a permit for the fetcher) and the rate limiter's gate, whose answer reaches the fetcher: one
/// wake-up of the fetcher's thread per URL instead of three. Without one (politeness by address,
/// where the fetcher resolves the host before the gate) the fetcher gets the URL and does both.
void hand_out(queue_actor self, caf::response_promise& rp, url_task t) {
  auto& st = self->state;
  if (!st.cfg.semaphore || t.url.empty())
    return rp.deliver(std::move(t));
  auto key = t.host_key;
  rp.delegate(st.cfg.semaphore, acquire_atom::value, st.limiter,
              caf::make_message(started_atom::value, std::move(key), std::move(t)));
}

/// URLs of the host that may be handed out now.
std::uint64_t available(queue_actor self, const std::string& key, const host_queue& h) {
  if (!has_work(self, key, h))
    return 0;
  return h.robots_task ? 1 : self->state.fr->pending(key);
}

/// Gives an unusable token back to the rate limiter.
void return_token(queue_actor self, const std::string& key) {
  auto& h = self->state.hosts[key];
  --h.tokens;
  self->send(self->state.limiter, unused_atom::value, key);
}

// Asks the rate limiter for the host unless a request is out or every available URL has a token.
void ask(queue_actor self, const std::string& key) {
  auto& h = self->state.hosts[key];
  if (h.asked || available(self, key, h) <= static_cast<std::uint64_t>(std::max(h.tokens, 0)))
    return;
  h.asked = true;
  self->request(self->state.limiter, caf::infinite, grant_atom::value, key)
    .then([self, key](grant_atom) {
      auto& st = self->state;
      auto& h = st.hosts[key];
      h.asked = false;
      ++h.tokens;
      if (!has_work(self, key, h) || st.stopping) {
        return_token(self, key);
      } else if (!st.waiting.empty() && !st.paused) {
        if (auto t = take(self, key)) {
          auto rp = std::move(st.waiting.front());
          st.waiting.pop_front();
          hand_out(self, rp, std::move(*t));
        } else {
          check_end(self);  // taking may have finished the last URLs (robots-denied)
        }
      } else {
        st.ready.push_back(key);
      }
    });
}

/// Tells the job a URL finished (batched: see queue_state::reports).
void report(queue_actor self, page_done d) {
  auto& st = self->state;
  st.reports.push_back(std::move(d));
  if (st.reports.size() >= report_batch || !st.fr)
    return flush_reports(self);
  schedule_commit(self);  // its tick flushes
}

/// Reports an admitted URL finished without a request, and removes it from the frontier.
void finish_unfetched(queue_actor self, const url_task& t, fetch::outcome o, std::string detail,
                      bool unreachable = false) {
  auto& st = self->state;
  ++st.stats.finished;
  if (st.fr && t.seq != 0) {
    stage_cookies(self);
    check(self, st.fr->finish(to_entry(t), nullptr));
  }
  schedule_commit(self);
  page_done d;
  d.event = fetch_event{t.url, o, 0, 0, std::chrono::microseconds(0), std::move(detail)};
  d.seed = t.depth == 0 && t.chain.empty() && t.kind == 0;
  d.unreachable = unreachable;
  d.requested = false;
  report(self, std::move(d));
}

void park(queue_actor self, const std::string& key, std::string why) {
  auto& st = self->state;
  auto& h = st.hosts[key];
  if (!h.parked.empty())
    return;
  h.parked = why;
  st.stats.parked[key] = why;
}

/// Finishes every pending URL of a parked host (each `host_parked`, no request).
void drain_parked(queue_actor self, const std::string& key) {
  auto& st = self->state;
  auto& h = st.hosts[key];
  while (st.fr) {
    auto e = st.fr->pop(key);
    if (!check(self, e) || !*e)
      break;
    finish_unfetched(self, to_task(std::move(**e)), fetch::outcome::host_parked, h.parked);
  }
}

void start_robots(queue_actor self, const std::string& key) {
  auto& h = self->state.hosts[key];
  h.robots = robots_state::fetching;
  h.robots_task = true;
  ask(self, key);
}

/// Takes the host's next URL out of the frontier for a fetcher, using the host's token; robots.txt
/// first. URLs robots.txt disallows finish here without a request. nullopt (the token given back)
/// when the host has nothing left to hand out.
std::optional<url_task> take(queue_actor self, const std::string& key) {
  auto& st = self->state;
  auto& h = st.hosts[key];
  std::optional<url_task> out;
  if (h.robots_task) {
    h.robots_task = false;
    url_task t;
    t.url = parse::normalize(key + "/robots.txt").value_or(key + "/robots.txt");
    t.host_key = key;
    t.kind = static_cast<std::uint8_t>(task_kind::robots);
    out = std::move(t);
  } else {
    while (!out && st.fr && !cap_reached(st) && !robots_pending(h) && h.parked.empty()) {
      auto e = st.fr->pop(key);
      if (!check(self, e) || !*e)
        break;
      st.fr->count_taken(1);
      auto t = to_task(std::move(**e));
      if (st.cfg.obey_robots && h.rules) {
        auto v = h.rules->check(st.cfg.agent, request_target(t.url));
        if (!v.allowed) {
          finish_unfetched(self, t, h.denied_as,
                           !h.denied_why.empty() ? h.denied_why
                           : v.rule              ? "disallow: " + v.rule->pattern
                                                 : "robots.txt",
                           h.denied_as != fetch::outcome::robots_denied);
          continue;
        }
      }
      out = std::move(t);
    }
  }
  if (!out) {
    return_token(self, key);
    return out;
  }
  --h.tokens;
  ++st.stats.in_flight;
  ask(self, key);
  return out;
}

/// Schedules a host that has work: robots.txt first unless known (or not obeyed).
void wake(queue_actor self, const std::string& key) {
  auto& st = self->state;
  auto& h = st.hosts[key];
  if (!h.parked.empty())
    return drain_parked(self, key);
  if (st.cfg.obey_robots) {
    if (h.robots == robots_state::ready && steady::now() - h.robots_at > st.cfg.robots_ttl)
      h.robots = robots_state::unknown;  // cached rules expired: fetch again first
  } else {
    h.robots = robots_state::ready;
  }
  if (h.robots == robots_state::unknown)
    start_robots(self, key);
  else
    ask(self, key);
}

void admit_one(queue_actor self, url_task& t) {
  auto& st = self->state;
  if (!st.fr)
    return;
  if (st.cfg.cluster && !st.cfg.cluster->view->is_local(t.host_key)) {
    st.outbox.push_back(std::move(t));  // another member's host: forwarded (cluster.cpp)
    return;
  }
  auto key = t.host_key;
  if (st.cfg.max_pages_per_host > 0 && st.fr->admitted(key) >= st.cfg.max_pages_per_host) {
    auto k = st.fr->known(storage::request_key(t.url, t.request));
    if (!check(self, k))
      return;
    ++st.stats.rejected[*k ? "duplicate" : "max_pages_per_host"];
    return;
  }
  auto added = st.fr->add(to_entry(t));
  if (!check(self, added))
    return;
  if (!*added) {
    ++st.stats.rejected["duplicate"];
    return;
  }
  ++st.stats.admitted;
  schedule_commit(self);
  wake(self, key);
}

void admit(queue_actor self, std::vector<url_task>& tasks) {
  for (auto& t : tasks)
    admit_one(self, t);
  auto& st = self->state;
  if (!st.outbox.empty()) {
    self->send(st.cfg.cluster->agent, cl_fwd_atom::value, st.cfg.cluster->job_id, std::move(st.outbox));
    st.outbox.clear();
  }
}

/// A resumed crawl: the hosts with URLs on disk get scheduled like newly admitted ones.
void start(queue_actor self) {
  auto& st = self->state;
  if (st.started || !st.fr)
    return;
  st.started = true;
  st.stats.admitted += st.fr->pending_total();
  for (const auto& key : st.fr->hosts_with_work())
    wake(self, key);
}

// Tells waiting fetchers there is no more work and reports the end to the job, once.
void check_end(queue_actor self) {
  auto& st = self->state;
  if (st.ended)
    return;
  bool nothing_left = !st.fr || st.fr->pending_total() == 0 || cap_reached(st);
  bool end = st.stats.in_flight == 0 && (st.stopping || nothing_left);
  if (st.cfg.cluster && !st.stopping && !st.cluster_done)
    end = false;  // other members may still send URLs: only the coordinator ends a cluster crawl
  if (st.stopping || end) {
    while (!st.waiting.empty()) {
      st.waiting.front().deliver(url_task{});
      st.waiting.pop_front();
    }
  }
  if (end) {
    st.ended = true;
    if (st.fr) {
      stage_cookies(self);
      check(self, st.fr->commit());
    }
    flush_reports(self);
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
  if (h.failures >= st.cfg.park_after) {
    park(self, key, std::to_string(h.failures) + " consecutive failures");
    drain_parked(self, key);
  }
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
  h.denied_why = !r.temporary ? ""
                 : r.no_response ? "host unreachable: " + r.detail
                                 : "robots.txt unavailable (" + r.detail + ")";
  h.denied_as = r.temporary ? r.failure : fetch::outcome::robots_denied;
  if (auto delay = h.rules->crawl_delay(st.cfg.agent)) {
    if (*delay > st.cfg.max_crawl_delay) {
      park(self, key, "crawl-delay " + std::to_string(delay->count() / 1000.0) + " s above the maximum");
      drain_parked(self, key);
    } else {
      self->send(st.limiter, delay_atom::value, key, static_cast<std::int64_t>(delay->count()));
    }
  }
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

queue_stats snapshot(queue_actor self) {
  auto& st = self->state;
  queue_stats s = st.stats;
  if (st.fr) {
    s.queued = st.fr->pending_total();
    s.known = st.fr->known_total();
    auto m = st.fr->store_memory();
    s.store_bytes = m.memtables + m.table_readers + m.block_cache;
    s.frontier_bytes = st.fr->memory_bytes();
    if (cap_reached(st) && s.queued > 0)
      s.rejected["max_pages"] += s.queued;  // known, left in the frontier by --max-pages
  }
  s.hosts = st.hosts.size();
  return s;
}

caf::behavior queue(queue_actor self, caf::actor limiter, caf::actor job,
                    std::shared_ptr<storage::frontier> fr, queue_config cfg) {
  auto& st = self->state;
  st.limiter = std::move(limiter);
  st.job = std::move(job);
  st.fr = std::move(fr);
  st.cfg = std::move(cfg);
  if (st.cfg.cluster)
    self->send(st.cfg.cluster->agent, cl_attach_atom::value, st.cfg.cluster->job_id,
               caf::actor_cast<caf::actor>(self));
  return {
    // A batch from another member (via the cluster actor): admitted, then committed before the
    // reply, so the acknowledgement the sender gets means "durable here".
    [self](cl_add_atom, std::vector<url_task>& tasks) -> caf::result<caf::ok_atom> {
      auto& st = self->state;
      if (st.ended || !st.fr)
        return caf::ok_atom::value;  // the crawl is over here: nothing would fetch them
      start(self);
      admit(self, tasks);
      if (st.fr && !check(self, st.fr->commit()))
        return caf::make_error(caf::sec::runtime_error, "frontier write failed");
      check_end(self);
      return caf::ok_atom::value;
    },
    [self](cl_done_atom) {
      self->state.cluster_done = true;
      check_end(self);
    },
    // A member joined: the queued URLs of hosts it won leave this frontier (removed in the next
    // batch) and go to the cluster actor, which forwards them. Requests in flight finish here.
    // Replies once the moved URLs were sent to the cluster actor (a node's hand-over waits for it).
    [self](cl_rehome_atom) -> caf::result<caf::ok_atom> {
      auto& st = self->state;
      if (!st.cfg.cluster || !st.fr || st.ended)
        return caf::ok_atom::value;
      std::vector<url_task> moved;
      for (auto& [key, h] : st.hosts) {
        if (st.cfg.cluster->view->is_local(key))
          continue;
        h.robots_task = false;
        while (st.fr) {
          auto e = st.fr->pop(key);
          if (!check(self, e) || !*e)
            break;
          auto t = to_task(std::move(**e));
          check(self, st.fr->finish(to_entry(t), nullptr));
          // Forgotten: if the new owner dies before fetching it and the host comes back here,
          // the re-sent URL is admitted again instead of dropped as a duplicate (docs/cluster.md).
          st.fr->forget(to_entry(t));
          t.seq = 0;
          t.attempt = 0;
          moved.push_back(std::move(t));
        }
      }
      if (!moved.empty()) {
        if (st.fr)
          check(self, st.fr->commit());  // forgotten before anything can be re-sent here
        self->send(st.cfg.cluster->agent, cl_fwd_atom::value, st.cfg.cluster->job_id, std::move(moved));
      }
      check_end(self);
      return caf::ok_atom::value;
    },
    // The cluster's forward log (cluster only): URLs other members acknowledged, kept in this
    // job's store so the cluster actor's memory does not grow with them; read back in chunks
    // when their receiver dies, dropped when it left after a hand-over. A failed log write costs
    // only the re-send after a death (the store's own errors surface through the frontier).
    [self](cl_log_atom, std::string& target, std::vector<url_task>& tasks) {
      auto& st = self->state;
      if (!st.fwd_log && st.fr)
        if (auto l = storage::forward_log::open(st.fr->db()))
          st.fwd_log = std::move(*l);
      if (!st.fwd_log)
        return;
      std::vector<storage::frontier_entry> es;
      es.reserve(tasks.size());
      for (const auto& t : tasks)
        es.push_back(to_entry(t));
      (void)st.fwd_log->append(target, es);
    },
    [self](cl_relog_atom, std::string& target, std::uint64_t after, bool drop)
      -> caf::result<std::uint64_t, std::vector<url_task>> {
      auto& st = self->state;
      std::vector<url_task> out;
      if (!st.fwd_log)
        return {after, out};
      auto c = drop ? result<storage::forward_log::chunk>(storage::forward_log::chunk{})
                    : st.fwd_log->read(target, after, 4096);
      if (!c || c->entries.empty()) {
        (void)st.fwd_log->drop(target);
        return {after, out};
      }
      out.reserve(c->entries.size());
      for (auto& e : c->entries) {
        auto t = to_task(std::move(e));
        t.seq = 0;
        t.attempt = 0;
        out.push_back(std::move(t));
      }
      return {c->last, std::move(out)};
    },
    // A leaving member's hand-over (cluster only): its stored pages' keys, in bounded chunks ...
    [self](cl_pages_atom, std::string& after) -> caf::result<std::vector<std::string>> {
      auto& st = self->state;
      if (!st.cfg.cluster || !st.fr)
        return std::vector<std::string>{};
      auto k = st.fr->page_keys(after, 4096);
      if (!check(self, k))
        return std::vector<std::string>{};
      return std::move(*k);
    },
    // ... and, on their new owner, marked seen so they are not fetched again (committed first).
    [self](cl_mark_atom, std::vector<std::string>& keys) -> caf::result<caf::ok_atom> {
      auto& st = self->state;
      if (!st.cfg.cluster || st.ended || !st.fr)
        return caf::ok_atom::value;
      for (const auto& k : keys)
        if (!st.fr || !check(self, st.fr->mark_seen(k)))
          break;
      if (st.fr && !check(self, st.fr->commit()))
        return caf::make_error(caf::sec::runtime_error, "frontier write failed");
      return caf::ok_atom::value;
    },
    // Seeds; replies once admitted so the job starts fetchers after the frontier has work.
    [self](add_atom, std::vector<url_task>& tasks) {
      if (self->state.ended)
        return self->state.stats.admitted;  // the crawl is over: nothing would fetch them
      start(self);
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
        if (has_work(self, key, st.hosts[key])) {
          if (auto t = take(self, key)) {
            auto rp = self->make_response_promise();
            hand_out(self, rp, std::move(*t));
            return rp;
          }
        } else {
          return_token(self, key);
        }
      }
      check_end(self);  // taking may have finished the last URLs (robots-denied)
      if (st.ended)
        return url_task{};
      auto rp = self->make_response_promise();
      st.waiting.push_back(rp);
      return rp;
    },
    // A handed-out URL is finished: its record (stored unless a dry run), its admissible outlinks
    // and its removal from the frontier go into one batch; then the job hears of it.
    [self](done_atom, url_task& t, bool failed, std::vector<url_task>& links,
           storage::page_record& rec, page_done& d) {
      auto& st = self->state;
      admit(self, links);
      if (st.fr) {
        stage_cookies(self);
        check(self, st.fr->finish(to_entry(t), &rec));
      }
      schedule_commit(self);
      ++st.stats.finished;
      if (st.stats.in_flight > 0)
        --st.stats.in_flight;
      report(self, std::move(d));
      count_result(self, t.host_key, failed);
      check_end(self);
      return caf::ok_atom::value;
    },
    // A retryable failure: back to the front of its host's queue (the limiter backs off the host).
    // It stays in the frontier on disk until finished, so a stop or crash keeps it for a resume.
    [self](retry_atom, url_task& t, page_done& d) {
      auto& st = self->state;
      if (st.stats.in_flight > 0)
        --st.stats.in_flight;
      auto key = t.host_key;
      count_result(self, key, true);
      auto& h = st.hosts[key];
      if (!h.parked.empty()) {
        ++st.stats.finished;  // give up: report the last attempt's outcome
        if (st.fr && t.seq != 0) {
          stage_cookies(self);
          check(self, st.fr->finish(to_entry(t), nullptr));
        }
        schedule_commit(self);
        report(self, std::move(d));
      } else if (st.stopping || !st.fr) {
        // left in the frontier for a resume
      } else {
        ++st.stats.retries;
        st.fr->push_front(to_entry(t));
        st.fr->count_taken(-1);
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
    [self](tick_atom) {
      auto& st = self->state;
      st.timer = false;
      if (st.fr) {
        stage_cookies(self);
        check(self, st.fr->commit_in_background());  // fetchers are served during the write
      }
      flush_reports(self);
    },
    [self](stop_atom) {
      self->state.stopping = true;
      check_end(self);
    },
    [self](stats_atom) {
      flush_reports(self);  // the job's page counts then match these figures
      return snapshot(self);
    },
    // Pause: grants pile up in `ready` and fetchers wait; resume serves them.
    [self](pause_atom) { self->state.paused = true; },
    [self](resume_atom) {
      auto& st = self->state;
      st.paused = false;
      while (!st.stopping && !st.waiting.empty() && !st.ready.empty()) {
        auto key = std::move(st.ready.front());
        st.ready.pop_front();
        if (!has_work(self, key, st.hosts[key])) {
          return_token(self, key);
          continue;
        }
        if (auto t = take(self, key)) {
          auto rp = std::move(st.waiting.front());
          st.waiting.pop_front();
          hand_out(self, rp, std::move(*t));
        }
      }
      check_end(self);
    },
    // End of the crawl: writes and syncs the frontier and lets go of the store.
    [self](close_atom) -> caf::result<caf::ok_atom> {
      auto& st = self->state;
      caf::result<caf::ok_atom> res{caf::ok_atom::value};
      if (st.fr) {
        st.stats = snapshot(self);  // the last figures stay readable after the store is let go
        stage_cookies(self);
        if (auto r = st.fr->sync(); !r)
          res = caf::make_error(caf::sec::runtime_error, r.message());
        st.fr.reset();
      }
      return res;
    },
  };
}

}  // namespace

caf::actor spawn_queue(caf::actor_system& sys, caf::actor limiter, caf::actor job,
                       std::shared_ptr<storage::frontier> fr, queue_config cfg) {
  return sys.spawn<caf::detached>(queue, std::move(limiter), std::move(job), std::move(fr), std::move(cfg));
}

}  // namespace crawld::actors
