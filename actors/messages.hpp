#pragma once
/// Message types and atoms of one crawl's actors, and the functions that spawn them.
/// Internal to actors/: the rest of crawld talks to the engine through engine.hpp.
///
/// Flow (one URL): fetcher --next--> queue (replies when the rate limiter granted a host) ;
/// fetcher --acquire--> semaphore ; blocking GET ; fetcher --release--> semaphore, rate_limiter ;
/// fetcher --parse--> parser pool ; parser --store--> storage ; parser --done--> queue (outlinks)
/// and --page_done--> job. The queue tells the job `idle` when every admitted URL is done.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/engine.hpp"
#include "fetch/outcome.hpp"
#include "fetch/session.hpp"
#include "parse/scope.hpp"
#include "storage/page.hpp"
#include "storage/store.hpp"

namespace crawld::actors {

using next_atom = caf::atom_constant<caf::atom("next")>;
using add_atom = caf::atom_constant<caf::atom("add")>;
using done_atom = caf::atom_constant<caf::atom("done")>;
using grant_atom = caf::atom_constant<caf::atom("grant")>;
using started_atom = caf::atom_constant<caf::atom("started")>;
using release_atom = caf::atom_constant<caf::atom("release")>;
using acquire_atom = caf::atom_constant<caf::atom("acquire")>;
using wake_atom = caf::atom_constant<caf::atom("wake")>;
using go_atom = caf::atom_constant<caf::atom("go")>;
using parse_atom = caf::atom_constant<caf::atom("parse")>;
using store_atom = caf::atom_constant<caf::atom("store")>;
using meta_atom = caf::atom_constant<caf::atom("meta")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using close_atom = caf::atom_constant<caf::atom("close")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using idle_atom = caf::atom_constant<caf::atom("idle")>;
using drained_atom = caf::atom_constant<caf::atom("drained")>;
using run_atom = caf::atom_constant<caf::atom("run")>;
using report_atom = caf::atom_constant<caf::atom("report")>;
using progress_atom = caf::atom_constant<caf::atom("progress")>;
using fail_atom = caf::atom_constant<caf::atom("fail")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;

/// One admitted URL on its way through the crawl.
struct url_task {
  std::string url;       ///< normalized; empty in a reply to `next` means "no more work"
  std::string host_key;  ///< scheme://host:port: the politeness key
  std::int32_t depth = 0;
  std::vector<std::string> chain;  ///< URLs that redirected here, in order
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, url_task& x) {
  return f(caf::meta::type_name("url_task"), x.url, x.host_key, x.depth, x.chain);
}

/// A fetched hop, from a fetcher to a parser. Local only (never crosses nodes).
struct fetched_page {
  url_task task;
  fetch::response resp;
  std::string redirect_to;  ///< normalized Location target for 3xx, "" if none or invalid
  std::int64_t fetched_at_ms = 0;
};

/// What a parser reports to the job for each finished URL.
struct page_done {
  fetch_event event;
  bool seed = false;
  std::vector<std::pair<std::string, std::uint64_t>> rejected;  ///< links not admitted, by reason
};

/// The queue's counters, for progress and the report.
struct queue_stats {
  std::uint64_t admitted = 0, finished = 0, queued = 0, in_flight = 0;
  std::map<std::string, std::uint64_t> rejected;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, queue_stats& x) {
  return f(caf::meta::type_name("queue_stats"), x.admitted, x.finished, x.queued, x.in_flight,
           x.rejected);
}

struct queue_config {
  std::uint64_t max_pages = 0;
};

struct parser_config {
  std::shared_ptr<const parse::scope> scope;
  int max_redirects = 10;
};

caf::actor spawn_semaphore(caf::actor_system& sys, int permits);
caf::actor spawn_rate_limiter(caf::actor_system& sys, int per_host, std::chrono::milliseconds delay);
caf::actor spawn_queue(caf::actor_system& sys, caf::actor limiter, caf::actor job, queue_config cfg);
caf::actor spawn_storage(caf::actor_system& sys, std::shared_ptr<storage::store> st, caf::actor job);
caf::actor spawn_parser_pool(caf::actor_system& sys, int n, parser_config cfg, caf::actor queue,
                             caf::actor storage, caf::actor job);
caf::actor spawn_job(caf::actor_system& sys, conf::crawl_options opts, std::chrono::milliseconds grace,
                     std::shared_ptr<storage::store> db, std::shared_ptr<const parse::scope> scope,
                     std::vector<url_task> seeds, bool keep_events);
caf::actor spawn_fetcher(caf::actor_system& sys, fetch::options opts,
                         std::shared_ptr<fetch::connection_pool> pool, int window, caf::actor queue,
                         caf::actor semaphore, caf::actor limiter, caf::actor parser);

}  // namespace crawld::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(crawld::actors::fetched_page)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(crawld::actors::page_done)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(crawld::actors::progress)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(crawld::actors::crawl_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(crawld::storage::page_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<crawld::actors::fetch_event>)
