// run_crawl: builds the crawl's inputs (scope, seeds, store), starts the job on a runtime of its
// own (runtime.cpp), and polls the job from the calling thread for progress (so printing never
// runs on the cooperative scheduler) until the report arrives.
#include "actors/engine.hpp"

#include <stdlib.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <optional>

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

result<prepared_job> prepare_job(const conf::crawl_options& in) {
  if (auto v = conf::validate(in); !v)
    return v.err();
  prepared_job pj;
  pj.opts = in;
  const auto& opts = pj.opts;
  std::vector<std::string> scope_seeds = opts.seeds;  // seed requests' URLs are seeds too
  for (const auto& s : opts.seed_requests)
    scope_seeds.push_back(s.url);
  auto sc = parse::scope::make(scope_seeds, opts.allow_domains, opts.include, opts.exclude,
                               opts.max_depth);
  if (!sc)
    return sc.err();
  pj.scope = std::make_shared<const parse::scope>(std::move(*sc));
  for (const auto& s : opts.seeds) {
    auto u = parse::parse_url(s);  // validated above
    pj.seeds.push_back(url_task{parse::normalize(*u), u->host_key(), 0, {}});
  }
  for (const auto& s : opts.seed_requests) {  // method, headers and body ride along (base/request.hpp)
    auto u = parse::parse_url(s.url);
    pj.seeds.push_back(url_task{parse::normalize(*u), u->host_key(), 0, {}});
    pj.seeds.back().request = encode_request(s.request);
  }
  // The frontier always lives in a store: the crawl's (--db), or a scratch one in $TMPDIR that
  // holds no pages and is removed when the frontier is destroyed.
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
  if (!fr) {
    if (!scratch.empty()) {
      db.reset();
      std::filesystem::remove_all(scratch);
    }
    return fr.err();
  }
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
    pj.db = std::move(db);
    pj.frontier = std::move(frontier);
  } else {
    // The scratch store is the frontier's only: when the last owner lets go of the frontier the
    // store closes, then its directory is removed.
    db.reset();
    auto* raw = frontier.get();
    pj.frontier = std::shared_ptr<storage::frontier>(
      raw, [inner = std::move(frontier), scratch](storage::frontier*) mutable {
        inner.reset();
        std::error_code ec;
        std::filesystem::remove_all(scratch, ec);
      });
  }
  // --warc: opened here so a bad path fails before the job starts.
  if (!opts.warc.empty()) {
    storage::warc_writer_options wo;
    wo.max_file_bytes = opts.warc_max_size;
    wo.software = "crawld";
    wo.info_fields = {{"http-header-user-agent", opts.user_agent}};
    const auto& first = opts.seeds.empty() ? opts.seed_requests.front().url : opts.seeds.front();
    const auto n = opts.seeds.size() + opts.seed_requests.size();
    wo.description = "crawl of " + first + (n > 1 ? " and " + std::to_string(n - 1) + " more seeds" : "");
    wo.skip_existing = true;  // a resumed crawl adds files
    auto w = storage::warc_writer::open(storage::warc_prefix(opts.warc), wo);
    if (!w)
      return w.err();
    pj.warc = std::move(*w);
  }
  return pj;
}

result<crawl_report> run_crawl(const conf::crawl_options& in, const hooks& h,
                               std::chrono::milliseconds stop_grace) {
  // One job on a runtime of its own: the global bound is the job's concurrency.
  auto rt = std::make_unique<runtime>(std::max(1, in.concurrency));
  auto job = rt->start_job(in, stop_grace, static_cast<bool>(h.on_fetch));
  if (!job)
    return job.err();
  auto poll = [&] {
    if (!h.on_progress && !h.on_fetch)
      return;
    progress p;
    std::vector<fetch_event> ev;
    if (!job->poll(p, ev))
      return;
    if (h.on_fetch)
      for (auto& e : ev)
        h.on_fetch(e);
    if (h.on_progress)
      h.on_progress(p);
  };
  bool stop_sent = false;
  std::optional<result<crawl_report>> r;
  while (!(r = job->wait(std::chrono::milliseconds(250)))) {
    if (g_stop_requested.load() && !stop_sent) {
      stop_sent = true;
      job->cancel();
    }
    poll();
  }
  if (*r) {
    poll();  // events of the last URLs arrived after the previous poll
    if ((*r)->abandoned > 0) {
      // Fetchers may still be blocked in a request (up to its timeout); waiting for them would
      // defeat the stop grace period. The store is closed; the caller is expected to exit.
      (void)rt.release();
    }
  }
  return std::move(*r);
}

}  // namespace crawld::actors
