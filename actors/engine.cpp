// run_crawl: builds the crawl's inputs (scope, seeds, store), starts an actor system and the job
// actor, and polls the job from the calling thread for progress (so printing never runs on the
// cooperative scheduler) until the report arrives.
#include "actors/engine.hpp"

#include <atomic>
#include <csignal>

#include "actors/messages.hpp"

namespace crawld::actors {

namespace {
std::atomic<int> g_stop_signal{0};
std::atomic<bool> g_stop_requested{false};
}  // namespace

void request_stop(int signo) {
  int expected = 0;
  g_stop_signal.compare_exchange_strong(expected, signo);
  g_stop_requested.store(true);
}

int stop_signal() { return g_stop_signal.load(); }

void reset_stop() {
  g_stop_signal.store(0);
  g_stop_requested.store(false);
}

result<crawl_report> run_crawl(const conf::crawl_options& in, const hooks& h,
                               std::chrono::milliseconds stop_grace) {
  if (auto v = conf::validate(in); !v)
    return v.err();
  conf::crawl_options opts = in;
  auto sc = parse::scope::make(opts.seeds, opts.allow_domains, opts.include, opts.exclude,
                               opts.max_depth);
  if (!sc)
    return sc.err();
  auto scope = std::make_shared<const parse::scope>(std::move(*sc));
  std::vector<url_task> seeds;
  for (const auto& s : opts.seeds) {
    auto u = parse::parse_url(s);  // validated above
    seeds.push_back(url_task{parse::normalize(*u), u->host_key(), 0, {}});
  }
  std::shared_ptr<storage::store> db;
  if (!opts.db.empty()) {
    storage::open_options so;
    so.max_open_files = opts.store_max_open_files;
    auto r = storage::store::open(opts.db, so);
    if (!r)
      return r.err();
    db = std::move(*r);
  }
  std::shared_ptr<storage::warc_writer> warc;  // --warc: opened here so a bad path fails at once
  if (!opts.warc.empty()) {
    storage::warc_writer_options wo;
    wo.max_file_bytes = opts.warc_max_size;
    wo.software = "crawld";
    wo.info_fields = {{"http-header-user-agent", opts.user_agent}};
    wo.description = "crawl of " + opts.seeds.front() +
                     (opts.seeds.size() > 1 ? " and " + std::to_string(opts.seeds.size() - 1) + " more seeds" : "");
    wo.skip_existing = true;  // a resumed crawl adds files
    auto w = storage::warc_writer::open(storage::warc_prefix(opts.warc), wo);
    if (!w)
      return w.err();
    warc = std::move(*w);
  }

  caf::actor_system_config cfg;
  auto sys = std::make_unique<caf::actor_system>(cfg);
  crawl_report report;
  std::string failure;
  bool in_flight_left = false;
  {
    bool keep_events = static_cast<bool>(h.on_fetch);
    auto job = spawn_job(*sys, opts, stop_grace, std::move(db), scope, std::move(seeds), keep_events);
    caf::scoped_actor self{*sys};
    if (warc)
      self->send(job, warc_atom::value, std::move(warc));
    self->send(job, run_atom::value);
    bool finished = false, stop_sent = false;
    auto poll = [&] {
      if (!h.on_progress && !h.on_fetch)
        return;
      self->request(job, std::chrono::seconds(5), progress_atom::value)
        .receive(
          [&](progress& p, std::vector<fetch_event>& ev) {
            if (h.on_fetch)
              for (auto& e : ev)
                h.on_fetch(e);
            if (h.on_progress)
              h.on_progress(p);
          },
          [](caf::error&) {});
    };
    while (!finished) {
      self->receive(
        [&](report_atom, crawl_report& r) {
          report = std::move(r);
          finished = true;
        },
        [&](fail_atom, std::string& msg) {
          failure = std::move(msg);
          finished = true;
        },
        caf::after(std::chrono::milliseconds(250)) >> [] {});
      if (finished)
        break;
      if (g_stop_requested.load() && !stop_sent) {
        stop_sent = true;
        self->send(job, stop_atom::value);
      }
      poll();
    }
    if (finished && failure.empty())
      poll();  // events of the last URLs arrived after the previous poll
    in_flight_left = report.abandoned > 0;
    self->send_exit(job, caf::exit_reason::user_shutdown);
  }
  if (in_flight_left) {
    // Fetchers may still be blocked in a request (up to its timeout); waiting for them would
    // defeat the stop grace period. The store is closed; the caller is expected to exit.
    (void)sys.release();
  }
  if (!failure.empty())
    return make_error(failure);
  return report;
}

}  // namespace crawld::actors
