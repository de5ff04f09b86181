#pragma once
/// Message types and atoms of one crawl's actors, and the functions that spawn them.
/// Internal to actors/: the rest of crawld talks to the engine through engine.hpp.
///
/// Flow (one URL): fetcher --next--> queue (answers when the rate limiter granted a host, by
/// delegating the URL --acquire--> semaphore (a permit for the fetcher) --started--> rate_limiter
/// (the gate), which answers the fetcher with it; by address, the fetcher acquires and passes the
/// gate itself) ; blocking GET ; fetcher --release--> rate_limiter (--release--> semaphore) ;
/// fetcher --parse--> parser pool ; parser --done--> queue, delegated (record, outlinks,
/// page_done: written in one batch with the frontier change; the queue answers the fetcher and
/// reports page_done to the job in batches), or parser --retry--> queue for a retryable
/// failure. A host's first task is its robots.txt, which
/// the fetcher answers with --robots--> queue. The queue tells the job `idle` when every admitted
/// URL is done.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/engine.hpp"
#include "fetch/outcome.hpp"
#include "fetch/robots.hpp"
#include "fetch/session.hpp"
#include "parse/scope.hpp"
#include "storage/page.hpp"
#include "storage/store.hpp"
#include "storage/warc.hpp"

namespace crawld::fetch {
class event_client;
}
namespace crawld::storage {
class frontier;
}
namespace crawld::actors {
struct cluster_job_hook;  // actors/cluster_hook.hpp
}

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
using delay_atom = caf::atom_constant<caf::atom("delay")>;
using retry_atom = caf::atom_constant<caf::atom("retry")>;
using robots_atom = caf::atom_constant<caf::atom("robots")>;
using unused_atom = caf::atom_constant<caf::atom("unused")>;
// Job control (runtime -> job -> queue).
using pause_atom = caf::atom_constant<caf::atom("pause")>;
using resume_atom = caf::atom_constant<caf::atom("resume")>;
using status_atom = caf::atom_constant<caf::atom("status")>;
using urls_atom = caf::atom_constant<caf::atom("urls")>;
using warc_atom = caf::atom_constant<caf::atom("warc")>;
using fetch_atom = caf::atom_constant<caf::atom("fetch")>;

enum class task_kind : std::uint8_t { page = 0, robots = 1, sitemap = 2 };

/// One admitted URL on its way through the crawl.
struct url_task {
  std::string url;       ///< normalized; empty in a reply to `next` means "no more work"
  std::string host_key;  ///< scheme://host:port: the politeness key
  std::int32_t depth = 0;
  std::vector<std::string> chain;  ///< URLs that redirected here, in order
  std::uint8_t kind = 0;           ///< task_kind
  std::uint8_t attempt = 0;        ///< retries so far
  std::uint64_t seq = 0;           ///< position in its host's frontier queue; 0: not in the frontier
  /// A seed request's method, headers and body (base/request.hpp encode_request bytes); "" for a
  /// plain GET, which every link and most seeds are (an empty string costs no allocation). Kept
  /// by retries and by 307/308 redirects; dropped by other redirects (RFC 9110 15.4).
  std::string request{};
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, url_task& x) {
  return f(caf::meta::type_name("url_task"), x.url, x.host_key, x.depth, x.chain, x.kind, x.attempt, x.seq,
           x.request);
}

/// What a robots.txt fetch decided for a host (fetcher -> queue). Local only.
struct robots_result {
  std::shared_ptr<const fetch::robots> rules;
  bool temporary = false;  ///< 5xx or unreachable: disallow all for now, try again later
  bool no_response = false;  ///< the host did not answer at all
  /// What the host's URLs end as if robots.txt stays unavailable: robots_denied after an HTTP
  /// error, timeout or network_error when the host never answered.
  fetch::outcome failure = fetch::outcome::robots_denied;
  std::string detail;      ///< e.g. "HTTP 503" or the network error
};

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
  bool unreachable = false;  ///< the host gave no HTTP response (refused, timed out, reset)
  bool requested = true;     ///< false when the URL finished without a request of its own
  std::vector<std::pair<std::string, std::uint64_t>> rejected;  ///< links not admitted, by reason
};

/// The queue's counters, for progress and the report.
struct queue_stats {
  std::uint64_t admitted = 0, finished = 0, queued = 0, in_flight = 0, retries = 0;
  std::uint64_t known = 0;  ///< URLs in the seen-set (all runs on this store)
  std::uint64_t store_bytes = 0;     ///< RocksDB memory (memtables, table readers, block cache)
  std::uint64_t frontier_bytes = 0;  ///< seen-set filter and per-host windows
  std::map<std::string, std::uint64_t> rejected;
  std::map<std::string, std::string> parked;  ///< host key -> why
  std::uint64_t hosts = 0;  ///< hosts with URLs admitted here (cluster status)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, queue_stats& x) {
  return f(caf::meta::type_name("queue_stats"), x.admitted, x.finished, x.queued, x.in_flight,
           x.retries, x.rejected, x.parked, x.known, x.store_bytes, x.frontier_bytes, x.hosts);
}

struct queue_config {
  std::uint64_t max_pages = 0;
  std::uint64_t max_pages_per_host = 0;
  bool obey_robots = true;
  std::string agent;  ///< robots.txt product token
  std::chrono::milliseconds robots_ttl{24 * 3600 * 1000};
  std::chrono::milliseconds max_crawl_delay{30'000};
  int robots_attempts = 3;
  std::chrono::milliseconds robots_retry_base{1000};
  int park_after = 10;
  bool sitemaps = false, sitemap_probe = false;
  /// The job's cookie jar when the crawl has a store: saved (meta "cookies") in the frontier's
  /// batch whenever it changed, so every committed page has its cookies on disk too.
  std::shared_ptr<fetch::cookie_jar> cookies;
  /// Cluster member (docs/cluster.md): admit only hosts this member owns, hand the others to the
  /// cluster actor, end only when it says so. Null: a crawl of its own.
  std::shared_ptr<cluster_job_hook> cluster;
  /// When set, `next` answers travel through this semaphore and the limiter's gate (the fetcher
  /// gets a URL it may fetch at once); unset, fetchers acquire and pass the gate themselves.
  caf::actor semaphore;
};

struct limiter_config {
  /// Politeness by address (--politeness-key ip): fetchers pass the gate with the resolved
  /// address, and hosts sharing one share its delay, in-flight limit and Crawl-delay.
  bool per_ip = false;
  int per_host = 1;
  std::chrono::milliseconds delay{0};
  std::vector<conf::domain_rule> rules;
  std::chrono::milliseconds backoff_base{1000}, backoff_max{60'000};
  /// A fetcher's `release` also returns its permit: the limiter delegates it here (the fetcher
  /// stays the sender), one message from the fetcher's thread instead of two.
  caf::actor semaphore;
};

struct parser_config {
  std::shared_ptr<const parse::scope> scope;
  parse::trap_limits traps;
  int max_depth = -1;
  int max_redirects = 10;
  int max_retries = 2;
  /// Each parser remembers (in this many slots, a power of two; 0: off) the followed links it
  /// already handed to the queue and counts a repeat as a duplicate without sending it again.
  /// Only where every link the queue was handed is in its seen-set afterwards: not with a
  /// per-host cap (a capped link is not marked seen) nor in a cluster (keys can be forgotten).
  std::size_t sent_slots = 0;
};

/// One exchange to archive (fetcher -> WARC writer, a request answered once it is written).
/// Local only. The job hands the fetchers the writer with (warc_atom, caf::actor) before `go`,
/// and the writer file to itself with (warc_atom, shared_ptr<warc_writer>) before `run`.
struct warc_capture {
  std::string uri;  ///< WARC-Target-URI
  std::int64_t date_ms = 0;
  std::shared_ptr<const fetch::raw_exchange> raw;
};

/// A fetch helper's answer for robots.txt: the rules, the last hop's status and Retry-After (ms,
/// -1 if none), and every hop's capture for the WARC writer.
struct robots_fetch {
  robots_result result;
  int status = 0;
  std::int64_t retry_after = -1;
  std::vector<warc_capture> hops;
};

/// A detached actor owning the WARC files: request + response (or revisit with `dedup`) per
/// capture; `close` syncs and closes. A write error goes to `job` as fail_atom and stops writing.
caf::actor spawn_warc_writer(caf::actor_system& sys, std::shared_ptr<storage::warc_writer> w,
                             bool dedup, caf::actor job);

caf::actor spawn_semaphore(caf::actor_system& sys, int permits);
caf::actor spawn_rate_limiter(caf::actor_system& sys, limiter_config cfg);
caf::actor spawn_queue(caf::actor_system& sys, caf::actor limiter, caf::actor job,
                       std::shared_ptr<storage::frontier> fr, queue_config cfg);
caf::actor spawn_storage(caf::actor_system& sys, std::shared_ptr<storage::store> st, caf::actor job);
caf::actor spawn_parser_pool(caf::actor_system& sys, int n, parser_config cfg, caf::actor queue,
                             caf::actor storage, caf::actor job);
/// `shared_semaphore`: when set (a runtime's global bound), the job's fetchers use it instead of
/// a semaphore of their own.
caf::actor spawn_job(caf::actor_system& sys, conf::crawl_options opts, std::chrono::milliseconds grace,
                     std::shared_ptr<storage::store> db, std::shared_ptr<storage::frontier> fr,
                     std::shared_ptr<const parse::scope> scope, std::vector<url_task> seeds,
                     bool keep_events, caf::actor shared_semaphore = {},
                     std::shared_ptr<cluster_job_hook> cluster = nullptr);

/// A job's inputs built from its options: the scope, the seeds as tasks, the open store and the
/// frontier (in the store, or in a scratch store removed when the frontier is destroyed).
struct prepared_job {
  conf::crawl_options opts;
  std::shared_ptr<const parse::scope> scope;
  std::vector<url_task> seeds;
  std::shared_ptr<storage::store> db;
  std::shared_ptr<storage::frontier> frontier;
  std::shared_ptr<storage::warc_writer> warc;  ///< --warc: open, handed to the job before `run`
};
/// Validates the options, builds the scope and seeds and opens the store and frontier (engine.cpp).
result<prepared_job> prepare_job(const conf::crawl_options& opts);
/// `per_ip`: resolve each URL's host (in the fetcher's own thread) and pass the limiter's gate
/// with the address (limiter_config::per_ip).
/// glibc malloc settings for long crawls (2 arenas, fixed 256 KiB mmap threshold); once per
/// process, unless the matching MALLOC_* environment variables are set (malloc_tuning.cpp).
void tune_malloc();
/// The runtime's actor system (cluster.cpp spawns its actor there).
caf::actor_system& system_of(runtime& rt);
/// Loads CAF's middleman and registers every type that crosses nodes (cluster.cpp); called by a
/// runtime built with networking, before its actor system starts.
/// `tls`: also loads caf::openssl::manager with its certificate, key and CA file.
void configure_cluster(caf::actor_system_config& cfg, const cluster_tls* tls = nullptr);
caf::actor spawn_fetcher(caf::actor_system& sys, fetch::options opts,
                         std::shared_ptr<fetch::connection_pool> pool, int window, caf::actor queue,
                         caf::actor semaphore, caf::actor limiter, caf::actor parser, bool per_ip = false,
                         std::shared_ptr<fetch::event_client> fast = nullptr);

}  // namespace crawld::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(crawld::actors::fetched_page)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(crawld::fetch::response)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(crawld::actors::robots_fetch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(crawld::actors::page_done)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<crawld::actors::page_done>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(crawld::actors::warc_capture)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<crawld::storage::warc_writer>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(crawld::actors::robots_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(crawld::actors::progress)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(crawld::actors::crawl_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(crawld::actors::job_snapshot)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(crawld::actors::add_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(crawld::storage::page_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<crawld::actors::fetch_event>)
