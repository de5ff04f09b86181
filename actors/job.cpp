// The job actor: starts one crawl's actors, counts outcomes, answers progress polls, and ends the
// crawl: when the queue reports idle (every admitted URL finished), or on stop (no new URL handed
// out; in-flight requests get a grace period), or when storage fails. It then writes the counters
// to the store's meta, closes the store and sends the report to whoever sent `run`.
#include <thread>

#include "actors/messages.hpp"
#include "fetch/event_client.hpp"

namespace crawld::actors {
namespace {

using steady = std::chrono::steady_clock;

struct job_state {
  conf::crawl_options opts;
  std::shared_ptr<fetch::cookie_jar> jar;  // null with --no-cookies; saved to meta "cookies"
  std::chrono::milliseconds grace{5000};
  std::shared_ptr<storage::store> db;
  std::shared_ptr<storage::frontier> frontier;
  std::shared_ptr<const parse::scope> scope;
  caf::actor queue, limiter, semaphore, storage, parsers;
  std::shared_ptr<storage::warc_writer> warc_file;  // given before `run` when archiving
  caf::actor warc;                                  // its writer actor
  std::vector<caf::actor> fetchers;
  std::shared_ptr<fetch::event_client> fast;  // plain-http GETs of the fetchers; null: all block
  caf::strong_actor_ptr reporter;
  crawl_report report;
  std::vector<fetch_event> events;  // for --verbose, drained by progress polls
  bool keep_events = false;
  std::map<std::string, std::string> seed_failures;
  std::string error;
  steady::time_point started;
  bool stopping = false;
  bool finishing = false;
  // For the daemon's status (job_snapshot).
  caf::actor shared_semaphore;  // the runtime's global bound, or none
  std::shared_ptr<cluster_job_hook> cluster;  // a cluster member's run of a job, or none
  bool paused = false;          // a pause may arrive before `run` spawned the queue
  std::map<std::string, std::uint64_t> hosts;
  latency_histogram latency;
};

using job_actor = caf::stateful_actor<job_state>*;

constexpr std::size_t max_buffered_events = 100'000;
constexpr std::size_t max_failure_examples = 5;

double elapsed_s(job_actor self) {
  return std::chrono::duration<double>(steady::now() - self->state.started).count();
}

void close_and_report(job_actor self);

/// "scheme://host:port" (or whatever precedes the path) of a normalized URL.
std::string host_of(const std::string& url) {
  auto scheme_end = url.find("://");
  auto slash = url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  return url.substr(0, slash);
}

void record_status(job_state& st, const page_done& d) {
  ++st.hosts[host_of(d.event.url)];
  if (!d.requested)
    return;
  auto& h = st.latency;
  const auto& bounds = latency_histogram::bounds();
  if (h.counts.empty())
    h.counts.assign(bounds.size() + 1, 0);
  double s = std::chrono::duration<double>(d.event.elapsed).count();
  std::size_t i = 0;
  while (i < bounds.size() && s > bounds[i])
    ++i;
  ++h.counts[i];
  h.sum_s += s;
  ++h.count;
}

/// The job's HTTP session: its cookie jar (seeded from config, then from the store's meta
/// "cookies" of a resumed crawl), resolver, per-rule headers and proxy, TLS settings.
void setup_session(job_state& st, fetch::options& fo) {
  const auto& o = st.opts;
  if (o.cookies) {
    if (!st.jar) {
      st.jar = std::make_shared<fetch::cookie_jar>(o.unsafe_cookies);
      for (const auto& text : o.seed_cookies) {
        const auto sp = text.find(' ');
        if (auto u = parse::parse_url(text.substr(0, sp)); u && sp != std::string::npos)
          st.jar->seed(*u, text.substr(sp + 1));
      }
      if (st.db)
        if (auto saved = st.db->get_meta("cookies"))
          (void)st.jar->load(*saved);  // a damaged jar only loses the session
    }
    fo.cookies = st.jar;
  }
  std::vector<fetch::resolve_override> overrides;
  for (const auto& text : o.resolve)
    if (auto r = fetch::parse_resolve_override(text))
      overrides.push_back(std::move(*r));
  fo.dns = std::make_shared<fetch::resolver>(std::move(overrides), o.dns_ttl);
  fo.proxy = o.proxy;
  fo.ca_file = o.ca_file;
  fo.insecure = o.insecure;
  fo.max_ratio = o.max_ratio;
  bool rule_settings = false;
  for (const auto& r : o.domain_rules)
    rule_settings = rule_settings || !r.headers.empty() || !r.proxy.empty();
  if (rule_settings) {
    auto rules = std::make_shared<const std::vector<conf::domain_rule>>(o.domain_rules);
    fo.for_host = [rules](const std::string& host) {
      fetch::host_settings hs;
      if (const auto* r = conf::match_rule(*rules, host)) {
        hs.headers = r->headers;
        hs.proxy = r->proxy;
      }
      return hs;
    };
  }
}

void finish(job_actor self, bool interrupted) {
  auto& st = self->state;
  if (st.finishing)
    return;
  st.finishing = true;
  st.report.interrupted = interrupted;
  self->request(st.queue, std::chrono::seconds(10), stats_atom::value)
    .then(
      [self](queue_stats& qs) {
        auto& r = self->state.report;
        r.admitted = qs.admitted;
        r.unfinished = qs.admitted - qs.finished;
        r.abandoned = qs.in_flight;
        r.retries = qs.retries;
        r.parked = qs.parked;
        for (auto& [k, v] : qs.rejected)
          r.rejected[k] += v;
        close_and_report(self);
      },
      [self](caf::error&) { close_and_report(self); });
}

void close_and_report(job_actor self) {
  auto& st = self->state;
  auto& r = st.report;
  r.seconds = elapsed_s(self);
  for (auto& [url, why] : st.seed_failures)
    r.unreachable_seeds.push_back(url + " (" + why + ")");
  std::string counters;
  for (std::size_t i = 0; i < fetch::outcome_count; ++i) {
    auto o = static_cast<fetch::outcome>(i);
    counters += std::string(fetch::to_string(o)) + "=" + std::to_string(r.outcomes[o]) + "\n";
  }
  self->send(st.storage, meta_atom::value, std::string("counters"), counters);
  self->send(st.storage, meta_atom::value, std::string("seconds"), std::to_string(r.seconds));
  // "finished": a re-run or `crawld resume` has nothing to do; "interrupted" (or "running" after
  // a crash): they continue from the frontier.
  self->send(st.storage, meta_atom::value, std::string("crawl_state"),
             std::string(r.interrupted || !st.error.empty() ? "interrupted" : "finished"));
  if (st.jar)
    self->send(st.storage, meta_atom::value, std::string("cookies"), st.jar->serialize());
  auto deliver = [self](std::string err) {
    auto& st = self->state;
    auto to = caf::actor_cast<caf::actor>(st.reporter);
    if (!st.error.empty())
      err = st.error;
    if (err.empty())
      self->send(to, report_atom::value, std::move(st.report));
    else
      self->send(to, fail_atom::value, std::move(err));
  };
  // The queue writes its last batch and lets go of the store first, then the storage actor
  // closes, then the WARC files (each closed even if another failed).
  auto close_warc = [self, deliver](std::string err) {
    if (!self->state.warc)
      return deliver(std::move(err));
    self->request(self->state.warc, std::chrono::seconds(60), close_atom::value)
      .then([deliver, err](caf::ok_atom) { deliver(err); },
            [self, deliver, err](caf::error& e) {
              deliver(!err.empty() ? err : "closing the WARC file failed: " + self->system().render(e));
            });
  };
  auto close_storage = [self, close_warc](std::string err) {
    self->request(self->state.storage, std::chrono::seconds(60), close_atom::value)
      .then([close_warc, err](caf::ok_atom) { close_warc(err); },
            [self, close_warc, err](caf::error& e) {
              close_warc(!err.empty() ? err : "closing the store failed: " + self->system().render(e));
            });
  };
  self->request(st.queue, std::chrono::seconds(60), close_atom::value)
    .then([close_storage](caf::ok_atom) { close_storage(""); },
          [self, close_storage](caf::error& e) {
            close_storage("writing the frontier failed: " + self->system().render(e));
          });
}

void begin_stop(job_actor self) {
  auto& st = self->state;
  if (st.stopping)
    return;
  st.stopping = true;
  self->send(st.queue, stop_atom::value);
  self->delayed_send(self, st.grace, tick_atom::value);
}

/// Counts a finished URL into the report (and the event buffer when events are kept).
void count_page(job_state& st, page_done& d) {
  auto& r = st.report;
  r.outcomes.add(d.event.result);
  if (d.requested)
    ++r.pages;
  r.bytes += d.event.bytes;
  for (auto& [k, v] : d.rejected)
    r.rejected[k] += v;
  if (fetch::is_failure(d.event.result)) {
    auto& ex = r.failure_examples[fetch::to_string(d.event.result)];
    if (ex.size() < max_failure_examples)
      ex.push_back(d.event.detail.empty() ? d.event.url : d.event.url + " (" + d.event.detail + ")");
  }
  if (d.seed && d.unreachable)
    st.seed_failures[d.event.url] = d.event.detail.empty() ? fetch::to_string(d.event.result) : d.event.detail;
  record_status(st, d);
  if (st.keep_events && st.events.size() < max_buffered_events)
    st.events.push_back(std::move(d.event));
}

caf::behavior job(job_actor self, conf::crawl_options opts, std::chrono::milliseconds grace,
                  std::shared_ptr<storage::store> db, std::shared_ptr<storage::frontier> fr,
                  std::shared_ptr<const parse::scope> scope, std::vector<url_task> seeds, bool keep_events,
                  caf::actor shared_semaphore, std::shared_ptr<cluster_job_hook> cluster) {
  auto& st = self->state;
  st.cluster = std::move(cluster);
  st.shared_semaphore = std::move(shared_semaphore);
  st.opts = std::move(opts);
  st.grace = grace;
  st.db = std::move(db);
  st.frontier = std::move(fr);
  st.scope = std::move(scope);
  st.keep_events = keep_events;
  return {
    [self, seeds](run_atom) mutable {
      auto& st = self->state;
      auto& sys = self->system();
      st.reporter = self->current_sender();
      st.started = steady::now();
      fetch::options session_fo;  // built while the store is still here (saved cookies)
      setup_session(st, session_fo);
      const auto& o = st.opts;
      limiter_config lc;
      lc.per_host = o.per_host;
      lc.delay = o.delay;
      lc.per_ip = o.politeness_key == "ip";
      lc.rules = o.domain_rules;
      lc.backoff_base = o.backoff_base;
      lc.backoff_max = o.backoff_max;
      st.semaphore = st.shared_semaphore ? st.shared_semaphore : spawn_semaphore(sys, o.concurrency);
      lc.semaphore = st.semaphore;
      st.limiter = spawn_rate_limiter(sys, std::move(lc));
      queue_config qc;
      qc.max_pages = o.max_pages;
      qc.max_pages_per_host = o.max_pages_per_host;
      qc.obey_robots = o.obey_robots;
      qc.agent = fetch::product_token(o.user_agent.empty() ? "crawld" : o.user_agent);
      qc.robots_ttl = o.robots_ttl;
      qc.max_crawl_delay = o.max_crawl_delay;
      qc.robots_attempts = o.robots_attempts;
      qc.robots_retry_base = o.backoff_base;
      qc.park_after = o.park_after;
      qc.sitemaps = o.sitemaps;
      if (st.db)
        qc.cookies = st.jar;  // saved with each frontier batch (null with --no-cookies)
      qc.sitemap_probe = o.sitemap_probe;
      qc.cluster = st.cluster;
      if (o.politeness_key != "ip")  // by address, fetchers resolve before the gate themselves
        qc.semaphore = st.semaphore;
      st.queue = spawn_queue(sys, st.limiter, self, std::move(st.frontier), std::move(qc));
      if (st.paused)
        self->send(st.queue, pause_atom::value);
      st.storage = spawn_storage(sys, std::move(st.db), self);
      int parsers = st.opts.parsers > 0 ? st.opts.parsers
                                        : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
      parser_config pc;
      pc.scope = st.scope;
      pc.traps = o.traps;
      pc.max_depth = o.max_depth;
      pc.max_redirects = o.max_redirects;
      pc.max_retries = o.max_retries;
      if (o.max_pages_per_host == 0 && !st.cluster)
        pc.sent_slots = std::size_t{1} << 17;  // 1 MiB per parser
      st.parsers = spawn_parser_pool(sys, parsers, std::move(pc), st.queue, st.storage, self);
      if (st.warc_file) {
        st.warc = spawn_warc_writer(sys, std::move(st.warc_file), o.warc_dedup, self);
        self->link_to(st.warc);
      }
      for (auto& a : {st.limiter, st.semaphore, st.queue, st.storage, st.parsers})
        if (a != st.shared_semaphore)  // shared: must outlive this job
          self->link_to(a);
      self->request(st.queue, caf::infinite, add_atom::value, std::move(seeds))
        .then([self, session_fo](std::uint64_t) {
          auto& st = self->state;
          fetch::options fo = session_fo;
          fo.connect_timeout = st.opts.connect_timeout;
          fo.read_timeout = st.opts.read_timeout;
          fo.total_timeout = st.opts.total_timeout;
          fo.max_body_bytes = st.opts.max_body_bytes;
          fo.keep_non_html_body = st.opts.keep_non_html_body;
          fo.user_agent = st.opts.user_agent;
          fo.headers = st.opts.headers;
          fo.capture_raw = static_cast<bool>(st.warc);
          // One pool for all fetchers: connections per host stay within --per-host.
          fetch::pool_limits pl;
          pl.max_idle_per_host = static_cast<std::size_t>(st.opts.per_host);
          pl.max_idle_total = static_cast<std::size_t>(st.opts.concurrency);
          pl.idle_timeout = st.opts.idle_timeout;
          auto pool = std::make_shared<fetch::connection_pool>(pl);
          // Plain-http GETs through one epoll thread, unless every request would go elsewhere
          // anyway (a proxy for all, raw capture for WARC) or the address gates each fetcher.
          const bool per_ip = st.opts.politeness_key == "ip";
          if (!st.opts.blocking_fetch && !per_ip && fo.proxy.empty() && !fo.capture_raw)
            st.fast = std::make_shared<fetch::event_client>(fo, pl);
          for (int i = 0; i < st.opts.concurrency; ++i) {
            auto f = spawn_fetcher(self->system(), fo, pool, 2, st.queue, st.semaphore, st.limiter, st.parsers,
                                   per_ip, st.fast);
            self->link_to(f);
            if (st.warc)
              self->send(f, warc_atom::value, st.warc);
            self->send(f, go_atom::value);
            st.fetchers.push_back(f);
          }
        });
    },
    [self](std::vector<page_done>& ds) {
      for (auto& d : ds)
        count_page(self->state, d);
    },
    [self](progress_atom) -> caf::result<progress, std::vector<fetch_event>> {
      auto rp = self->make_response_promise<progress, std::vector<fetch_event>>();
      self->request(self->state.queue, std::chrono::seconds(5), stats_atom::value)
        .then(
          [self, rp](queue_stats& qs) mutable {
            auto& st = self->state;
            progress p;
            p.pages = st.report.pages;
            p.queued = qs.queued;
            p.known = qs.known;
            p.store_bytes = qs.store_bytes;
            p.frontier_bytes = qs.frontier_bytes;
            p.in_flight = qs.in_flight;
            p.failures = st.report.outcomes.failures();
            p.seconds = elapsed_s(self);
            std::vector<fetch_event> ev;
            ev.swap(st.events);
            rp.deliver(p, std::move(ev));
          },
          [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
    [self](status_atom) -> caf::result<job_snapshot> {
      auto rp = self->make_response_promise<job_snapshot>();
      self->request(self->state.queue, std::chrono::seconds(5), stats_atom::value)
        .then(
          [self, rp](queue_stats& qs) mutable {
            auto& st = self->state;
            job_snapshot s;
            s.prog.pages = st.report.pages;
            s.prog.queued = qs.queued;
            s.prog.in_flight = qs.in_flight;
            s.prog.known = qs.known;
            s.prog.store_bytes = qs.store_bytes;
            s.prog.frontier_bytes = qs.frontier_bytes;
            s.prog.failures = st.report.outcomes.failures();
            s.prog.seconds = elapsed_s(self);
            s.outcomes = st.report.outcomes;
            s.bytes = st.report.bytes;
            s.admitted = qs.admitted;
            s.retries = qs.retries;
            s.rejected = st.report.rejected;
            for (auto& [k, v] : qs.rejected)
              s.rejected[k] += v;
            s.hosts = st.hosts;
            s.latency = st.latency;
            if (s.latency.counts.empty())
              s.latency.counts.assign(latency_histogram::bounds().size() + 1, 0);
            rp.deliver(std::move(s));
          },
          [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
    [self](pause_atom a) {
      self->state.paused = true;
      if (self->state.queue)
        self->send(self->state.queue, a);
    },
    [self](resume_atom a) {
      self->state.paused = false;
      if (self->state.queue)
        self->send(self->state.queue, a);
    },
    // URLs added to a running job (daemon): scope-checked like seeds, admitted at depth 0.
    [self](urls_atom, std::vector<std::string>& urls) -> caf::result<add_result> {
      auto& st = self->state;
      if (st.stopping || st.finishing || !st.queue)
        return caf::make_error(caf::sec::request_receiver_down);
      add_result res;
      std::vector<url_task> tasks;
      for (auto& text : urls) {
        auto u = parse::parse_url(text);
        if (!u) {
          res.rejected.emplace_back(text, "not a URL");
          continue;
        }
        auto v = st.scope->check(*u, 0);
        if (v != parse::scope_verdict::in_scope) {
          res.rejected.emplace_back(text, parse::to_string(v));
          continue;
        }
        tasks.push_back(url_task{parse::normalize(*u), u->host_key(), 0, {}});
      }
      res.accepted = tasks.size();
      auto rp = self->make_response_promise<add_result>();
      self->request(st.queue, std::chrono::seconds(10), add_atom::value, std::move(tasks))
        .then([rp, res](std::uint64_t) mutable { rp.deliver(std::move(res)); },
              [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
    [self](warc_atom, std::shared_ptr<storage::warc_writer>& w) { self->state.warc_file = std::move(w); },
    [self](idle_atom) { finish(self, false); },
    [self](drained_atom) { finish(self, true); },
    [self](tick_atom) { finish(self, true); },  // stop grace expired
    [self](stop_atom) { begin_stop(self); },
    [self](fail_atom, std::string& msg) {
      if (self->state.error.empty())
        self->state.error = std::move(msg);
      begin_stop(self);
    },
  };
}

}  // namespace

caf::actor spawn_job(caf::actor_system& sys, conf::crawl_options opts, std::chrono::milliseconds grace,
                     std::shared_ptr<storage::store> db, std::shared_ptr<storage::frontier> fr,
                     std::shared_ptr<const parse::scope> scope, std::vector<url_task> seeds,
                     bool keep_events, caf::actor shared_semaphore,
                     std::shared_ptr<cluster_job_hook> cluster) {
  return sys.spawn(job, std::move(opts), grace, std::move(db), std::move(fr), std::move(scope),
                   std::move(seeds), keep_events, std::move(shared_semaphore), std::move(cluster));
}

}  // namespace crawld::actors
