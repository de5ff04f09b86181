// The runtime: one actor system and one global semaphore shared by many jobs (the daemon), and
// the job handles through which plain threads control them. Each job gets a small keeper actor
// that starts it, receives its report, takes a last status snapshot and then ends the job's
// actors; the handle waits on what the keeper records.
#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "actors/malloc_tuning.hpp"
#include "actors/messages.hpp"

namespace crawld::actors {

const std::vector<double>& latency_histogram::bounds() {
  static const std::vector<double> b = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  return b;
}

const char* to_string(job_phase p) {
  switch (p) {
    case job_phase::running: return "running";
    case job_phase::paused: return "paused";
    case job_phase::stopping: return "stopping";
    case job_phase::finished: return "finished";
    case job_phase::cancelled: return "cancelled";
    case job_phase::failed: return "failed";
  }
  return "unknown";
}

struct job_handle::impl {
  caf::actor_system* sys = nullptr;
  caf::actor job;
  std::mutex m;
  std::condition_variable cv;
  bool ended = false;
  std::optional<crawl_report> report;
  std::string failure;
  job_snapshot last;  // the newest snapshot seen; the final one once ended
  bool paused = false, cancelled = false;
  std::vector<fetch_event> final_events;  // fetch events not yet polled when the job ended

  job_phase live_phase() const {
    return cancelled ? job_phase::stopping : paused ? job_phase::paused : job_phase::running;
  }

  /// Records the end (called by the keeper, on the scheduler: only a short lock).
  void end(std::optional<crawl_report> r, std::string fail, std::optional<job_snapshot> s) {
    std::lock_guard<std::mutex> g(m);
    if (s)
      last = std::move(*s);
    if (last.latency.counts.empty())
      last.latency.counts.assign(latency_histogram::bounds().size() + 1, 0);
    if (r) {
      // The report's counters are final; the snapshot may predate the last pages.
      last.prog.pages = r->pages;
      last.prog.in_flight = r->abandoned;
      last.prog.failures = r->outcomes.failures();
      last.prog.seconds = r->seconds;
      last.outcomes = r->outcomes;
      last.bytes = r->bytes;
      last.admitted = r->admitted;
      last.retries = r->retries;
      last.phase = r->interrupted ? job_phase::cancelled : job_phase::finished;
    } else {
      last.phase = job_phase::failed;
      last.error = fail;
    }
    report = std::move(r);
    failure = std::move(fail);
    ended = true;
    cv.notify_all();
  }
};

struct runtime::impl {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::actor semaphore;
  std::mutex m;
  std::vector<std::shared_ptr<job_handle::impl>> jobs;
  // Returns the arenas' free pages every 5 s (default_trim_period) while the runtime lives (malloc_tuning.hpp).
  std::unique_ptr<malloc_trimmer> trimmer;
};

namespace {

/// Starts the job, then waits for its report; ends the job's actors once it is recorded.
caf::behavior keeper(caf::event_based_actor* self, std::shared_ptr<job_handle::impl> h) {
  self->send(h->job, run_atom::value);
  auto done = [self, h](std::optional<crawl_report> r, std::string fail, std::optional<job_snapshot> s) {
    h->end(std::move(r), std::move(fail), std::move(s));
    self->send_exit(h->job, caf::exit_reason::user_shutdown);
    self->quit();
  };
  // Last status and the fetch events not yet polled, then the end.
  auto finish = [self, h, done](std::optional<crawl_report> r, std::string fail) {
    self->request(h->job, std::chrono::seconds(5), progress_atom::value)
      .then(
        [self, h, r, fail, done](progress&, std::vector<fetch_event>& ev) mutable {
          {
            std::lock_guard<std::mutex> g(h->m);
            h->final_events = std::move(ev);
          }
          self->request(h->job, std::chrono::seconds(5), status_atom::value)
            .then([r, fail, done](job_snapshot& s) mutable { done(std::move(r), std::move(fail), std::move(s)); },
                  [r, fail, done](caf::error&) mutable { done(std::move(r), std::move(fail), std::nullopt); });
        },
        [r, fail, done](caf::error&) mutable { done(std::move(r), std::move(fail), std::nullopt); });
  };
  return {
    [finish](report_atom, crawl_report& r) { finish(std::move(r), ""); },
    [finish](fail_atom, std::string& msg) { finish(std::nullopt, msg.empty() ? "job failed" : msg); },
  };
}

}  // namespace

runtime::runtime(int max_connections) : runtime(max_connections, false) {}

runtime::runtime(int max_connections, bool networked, const cluster_tls* tls) : impl_(std::make_unique<impl>()) {
  tune_malloc();
  impl_->trimmer = std::make_unique<malloc_trimmer>(default_trim_period());
  // An idle CAF worker polls its queue 100 times, then 500 times with a 50 us sleep between,
  // before it blocks on its condition variable. Our actors go idle between every few messages
  // (the fetchers are detached threads), so workers spent much of a crawl in those sleeps and
  // the context switches they cost. Skipping the sleeping polls (an enqueue wakes a blocked
  // worker) took crawl CPU down 10-25% on the bench web (docs/architecture.md, "Measured").
  impl_->cfg.set("work-stealing.moderate-poll-attempts", std::size_t{0});
  // CAF 0.17 starts max(cores, 4) workers, and a message from a thread outside the scheduler (a
  // detached fetcher or the queue) goes to the next worker round robin, waking it if it sleeps:
  // on 2 cores, 4 workers meant more sleeping and waking for the same work. One worker per core
  // (at least 2): context switches -8%, CPU -6% (bench A/B, docs/architecture.md).
  impl_->cfg.set("scheduler.max-threads",
                 std::size_t{std::max(2u, std::thread::hardware_concurrency())});
  if (networked)
    configure_cluster(impl_->cfg, tls);
  impl_->sys = std::make_unique<caf::actor_system>(impl_->cfg);
  impl_->semaphore = spawn_semaphore(*impl_->sys, std::max(1, max_connections));
}

runtime::~runtime() {
  std::vector<std::shared_ptr<job_handle::impl>> jobs;
  {
    std::lock_guard<std::mutex> g(impl_->m);
    jobs = impl_->jobs;
  }
  for (auto& j : jobs)
    job_handle(j).cancel();
  for (auto& j : jobs)
    if (!job_handle(j).wait(std::chrono::seconds(30)))
      caf::anon_send_exit(j->job, caf::exit_reason::kill);
  caf::anon_send_exit(impl_->semaphore, caf::exit_reason::user_shutdown);
  impl_->sys.reset();  // waits for every actor (fetchers may finish a blocked request first)
}

caf::actor_system& system_of(runtime& rt) { return *rt.internals().sys; }

result<job_handle> runtime::start_job(const conf::crawl_options& opts, std::chrono::milliseconds stop_grace,
                                      bool keep_events) {
  return start_job(opts, stop_grace, keep_events, nullptr);
}

result<job_handle> runtime::start_job(const conf::crawl_options& opts, std::chrono::milliseconds stop_grace,
                                      bool keep_events, std::shared_ptr<cluster_job_hook> cluster) {
  auto pj = prepare_job(opts);
  if (!pj)
    return pj.err();
  auto h = std::make_shared<job_handle::impl>();
  h->sys = impl_->sys.get();
  h->last.latency.counts.assign(latency_histogram::bounds().size() + 1, 0);
  h->job = spawn_job(*impl_->sys, std::move(pj->opts), stop_grace, std::move(pj->db), std::move(pj->frontier),
                     std::move(pj->scope),
                     std::move(pj->seeds), keep_events, impl_->semaphore, std::move(cluster));
  if (pj->warc)  // enqueued before the keeper exists, so before its `run`
    caf::anon_send(h->job, warc_atom::value, std::move(pj->warc));
  {
    std::lock_guard<std::mutex> g(impl_->m);
    impl_->jobs.push_back(h);
  }
  impl_->sys->spawn(keeper, h);
  return job_handle(h);
}

job_snapshot job_handle::snapshot() const {
  {
    std::lock_guard<std::mutex> g(impl_->m);
    if (impl_->ended)
      return impl_->last;
  }
  std::optional<job_snapshot> got;
  {
    caf::scoped_actor self{*impl_->sys};
    self->request(impl_->job, std::chrono::seconds(5), status_atom::value)
      .receive([&](job_snapshot& s) { got = std::move(s); }, [](caf::error&) {});
  }
  std::lock_guard<std::mutex> g(impl_->m);
  if (impl_->ended)
    return impl_->last;
  if (got) {
    impl_->last = std::move(*got);
  }
  impl_->last.phase = impl_->live_phase();
  return impl_->last;
}

void job_handle::pause() {
  std::lock_guard<std::mutex> g(impl_->m);
  if (impl_->ended || impl_->cancelled)
    return;
  impl_->paused = true;
  caf::anon_send(impl_->job, pause_atom::value);
}

void job_handle::resume() {
  std::lock_guard<std::mutex> g(impl_->m);
  if (impl_->ended)
    return;
  impl_->paused = false;
  caf::anon_send(impl_->job, resume_atom::value);
}

void job_handle::cancel() {
  std::lock_guard<std::mutex> g(impl_->m);
  if (impl_->ended || impl_->cancelled)
    return;
  impl_->cancelled = true;
  caf::anon_send(impl_->job, stop_atom::value);
}

result<add_result> job_handle::add_urls(const std::vector<std::string>& urls) {
  {
    std::lock_guard<std::mutex> g(impl_->m);
    if (impl_->ended || impl_->cancelled)
      return make_error("the job has ended or is stopping");
  }
  std::optional<add_result> got;
  std::string err;
  {
    caf::scoped_actor self{*impl_->sys};
    self->request(impl_->job, std::chrono::seconds(15), urls_atom::value, urls)
      .receive([&](add_result& r) { got = std::move(r); },
               [&](caf::error&) { err = "the job has ended or is stopping"; });
  }
  if (!got)
    return make_error(err);
  return std::move(*got);
}

std::optional<result<crawl_report>> job_handle::wait(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> g(impl_->m);
  if (!impl_->cv.wait_for(g, timeout, [&] { return impl_->ended; }))
    return std::nullopt;
  if (impl_->report)
    return result<crawl_report>(*impl_->report);
  return result<crawl_report>(make_error(impl_->failure));
}

bool job_handle::done() const {
  std::lock_guard<std::mutex> g(impl_->m);
  return impl_->ended;
}

bool job_handle::poll(progress& p, std::vector<fetch_event>& events) const {
  {
    std::lock_guard<std::mutex> g(impl_->m);
    if (impl_->ended) {
      p = impl_->last.prog;
      events = std::move(impl_->final_events);
      impl_->final_events.clear();
      return true;
    }
  }
  bool ok = false;
  caf::scoped_actor self{*impl_->sys};
  self->request(impl_->job, std::chrono::seconds(5), progress_atom::value)
    .receive(
      [&](progress& got, std::vector<fetch_event>& ev) {
        p = got;
        events = std::move(ev);
        ok = true;
      },
      [](caf::error&) {});
  return ok;
}

}  // namespace crawld::actors
