// run_crawl: builds the crawl's inputs (scope, seeds, store), starts an actor system and the job
// actor, and polls the job from the calling thread for progress (so printing never runs on the
// cooperative scheduler) until the report arrives.
#include "actors/engine.hpp"

#include <stdlib.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>

#include "actors/messages.hpp"
#include "storage/frontier.hpp"

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
  // The frontier always lives in a store: the crawl's (--db), or a scratch one in $TMPDIR that
  // holds no pages and is removed at the end.
  std::shared_ptr<storage::store> db;
  std::string scratch;
  storage::frontier_config fc;
  {
    std::string dir = opts.db;
    if (dir.empty()) {
      const char* tmp = std::getenv("TMPDIR");
      std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/crawld-frontier-XXXXXX";
      if (!mkdtemp(tmpl.data()))
        return make_error("cannot create a scratch frontier directory in " + tmpl.substr(0, tmpl.rfind('/')));
      dir = scratch = tmpl;
      fc.store_pages = false;
    }
    storage::open_options so;
    so.max_open_files = opts.store_max_open_files;
    auto r = storage::store::open(dir, so);
    if (!r) {
      if (!scratch.empty())
        std::filesystem::remove_all(scratch);
      return r.err();
    }
    db = std::move(*r);
  }
  auto fr = storage::frontier::open(db, fc);
  if (!fr)
    return fr.err();
  std::shared_ptr<storage::frontier> frontier = std::move(*fr);
  if (!opts.db.empty()) {
    // What `crawld resume --db DIR` needs to continue this crawl (app/resume_cmd.cpp).
    if (!opts.command_line.empty()) {
      std::string cmd;
      for (const auto& a : opts.command_line)
        cmd += a + '\0';
      if (auto w = db->put_meta("command", cmd); !w)
        return w.err();
      (void)db->put_meta("command_cwd", opts.command_cwd);
    }
    if (auto w = db->put_meta("crawl_state", "running"); !w)
      return w.err();
  } else {
    db.reset();  // the scratch store is the frontier's only
  }

  caf::actor_system_config cfg;
  auto sys = std::make_unique<caf::actor_system>(cfg);
  crawl_report report;
  std::string failure;
  bool in_flight_left = false;
  {
    bool keep_events = static_cast<bool>(h.on_fetch);
    auto job = spawn_job(*sys, opts, stop_grace, std::move(db), std::move(frontier), scope,
                         std::move(seeds), keep_events);
    caf::scoped_actor self{*sys};
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
  } else {
    sys.reset();  // every actor gone: the store is closed
    if (!scratch.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(scratch, ec);
    }
  }
  if (!failure.empty())
    return make_error(failure);
  return report;
}

}  // namespace crawld::actors
