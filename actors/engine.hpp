#pragma once
/// Runs crawl jobs on CAF actors: `run_crawl` runs one job and returns when it is over; a
/// `runtime` (below) runs many jobs in one actor system and controls them while they run (the
/// daemon). This header is the engine's only interface to the rest of crawld and includes no CAF
/// header.
///
/// The crawl ends by itself when nothing is queued and nothing is in flight, or when `max_pages`
/// URLs were admitted and finished, or when `request_stop` is called (e.g. from a signal handler):
/// then no new URL is handed out, requests in flight get `stop_grace` to finish, the store is
/// flushed and closed, and the report says `interrupted`.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "conf/crawl_options.hpp"
#include "fetch/outcome.hpp"

namespace crawld::actors {

/// A snapshot of a running crawl (for progress lines, metrics).
struct progress {
  std::uint64_t pages = 0;        ///< URLs requested and finished
  std::uint64_t queued = 0;       ///< admitted, not yet handed to a fetcher
  std::uint64_t in_flight = 0;    ///< handed to a fetcher, not yet finished
  std::uint64_t known = 0;        ///< URLs ever admitted (the seen-set, across resumed runs)
  std::uint64_t store_bytes = 0;     ///< the store's RocksDB memory (memtables, readers, cache)
  std::uint64_t frontier_bytes = 0;  ///< the seen-set filter and the per-host windows
  std::uint64_t failures = 0;
  double seconds = 0;
};

/// One line per finished URL, for --verbose.
struct fetch_event {
  std::string url;
  fetch::outcome result;
  int status = 0;
  std::uint64_t bytes = 0;
  std::chrono::microseconds elapsed{0};
  std::string detail;  ///< error message or redirect target
};

struct crawl_report {
  fetch::outcome_counts outcomes;
  std::map<std::string, std::uint64_t> rejected;  ///< links not admitted, by reason
  std::uint64_t pages = 0;       ///< URLs requested (finished URLs less those settled without a request)
  std::uint64_t admitted = 0;
  std::uint64_t unfinished = 0;  ///< admitted but not finished (interrupted crawls)
  std::uint64_t abandoned = 0;   ///< requests still in flight when the stop grace ran out
  std::uint64_t bytes = 0;       ///< body bytes received on the wire
  double seconds = 0;
  bool interrupted = false;
  std::vector<std::string> unreachable_seeds;  ///< seeds that got no HTTP response, with reason
  std::uint64_t retries = 0;                     ///< extra attempts made for retryable failures
  std::map<std::string, std::string> parked;     ///< hosts given up on, with the reason
  /// For each failed outcome, the first few URLs that ended in it ("URL (detail)").
  std::map<std::string, std::vector<std::string>> failure_examples;
};

struct hooks {
  /// Called about 4 times a second from an engine thread while the crawl runs.
  std::function<void(const progress&)> on_progress;
  /// Called from an engine thread for every finished URL.
  std::function<void(const fetch_event&)> on_fetch;
};

/// Runs the crawl. Errors (store cannot be opened, bad scope regex, storage failure mid-crawl) are
/// returned as values with a one-line message.
result<crawl_report> run_crawl(const conf::crawl_options& opts, const hooks& h = {},
                               std::chrono::milliseconds stop_grace = std::chrono::seconds(5));

/// Asks every running crawl to stop. Async-signal-safe; `signo` is remembered for the report.
void request_stop(int signo);
/// The signal passed to the first request_stop since the last reset, 0 if none.
int stop_signal();
void reset_stop();

// ---- Many jobs in one actor system (the daemon) ----------------------------------------------

/// Fetch latency of requested URLs, in seconds, as a Prometheus-style histogram.
struct latency_histogram {
  /// Upper bounds of the buckets in seconds (the last bucket, +Inf, is implicit).
  static const std::vector<double>& bounds();
  std::vector<std::uint64_t> counts;  ///< per bucket, not cumulative; bounds().size() + 1 entries
  double sum_s = 0;
  std::uint64_t count = 0;
};

enum class job_phase { running, paused, stopping, finished, cancelled, failed };
const char* to_string(job_phase p);

/// Everything the daemon shows about one job. Thread-safe value.
struct job_snapshot {
  job_phase phase = job_phase::running;
  progress prog;                                  ///< pages, queued, in flight, failures, seconds
  fetch::outcome_counts outcomes;
  std::uint64_t bytes = 0, admitted = 0, retries = 0;
  std::map<std::string, std::uint64_t> rejected;  ///< links not admitted, by reason
  std::map<std::string, std::uint64_t> hosts;     ///< finished URLs per scheme://host:port
  latency_histogram latency;
  std::string error;                              ///< why the job failed (phase failed)
};

/// What `add_urls` did with each URL.
struct add_result {
  std::uint64_t accepted = 0;                                  ///< passed to the frontier (it still dedups)
  std::vector<std::pair<std::string, std::string>> rejected;   ///< URL, reason (bad URL, off_site, ...)
};

class runtime;
struct cluster_job_hook;  // actors/cluster.hpp: a job run as a cluster member
struct cluster_tls;       // actors/cluster.hpp: certificates for TLS between members

/// A job started by a runtime. Copyable; all methods are thread-safe and may block the caller
/// for at most a few seconds (they talk to the job's actors), so call them from plain threads,
/// never from an actor. After the job ended they act on its final state.
class job_handle {
 public:
  /// State, counters, queue sizes, hosts and latencies now (final values once ended).
  job_snapshot snapshot() const;
  /// The frontier stops handing out URLs: once the requests in flight finished, no request
  /// reaches any server until `resume`. No effect on an ended job.
  void pause();
  void resume();
  /// Stops the job as SIGINT stops a crawl: nothing new is handed out, requests in flight get
  /// the stop grace, the store is flushed and closed; the report says interrupted.
  void cancel();
  /// Admits URLs into a running job like seeds (depth 0), after the job's scope check (URLs out
  /// of scope or not http(s) are rejected with the reason). Fails when the job has ended or is
  /// stopping.
  result<add_result> add_urls(const std::vector<std::string>& urls);
  /// Waits up to `timeout` for the end: the report (or the failure), nullopt if still running.
  std::optional<result<crawl_report>> wait(std::chrono::milliseconds timeout) const;
  bool done() const;
  /// For run_crawl's hooks: the progress now and the fetch events since the last call (events
  /// only when the job was started with keep_events).
  bool poll(progress& p, std::vector<fetch_event>& events) const;

  struct impl;
  explicit job_handle(std::shared_ptr<impl> i) : impl_(std::move(i)) {}

 private:
  std::shared_ptr<impl> impl_;
};

/// One actor system shared by many jobs, with one semaphore bounding the requests in flight of
/// all of them together (each job's `concurrency` still bounds its own). Thread-safe.
class runtime {
 public:
  /// `max_connections` >= 1: the global bound on requests in flight.
  explicit runtime(int max_connections);
  /// `networked`: also loads CAF's middleman and the cluster's message types, so that an
  /// actors::cluster (actors/cluster.hpp) can run on this runtime.
  /// `tls` (networked only): members talk TLS (caf::openssl) with these certificates.
  runtime(int max_connections, bool networked, const cluster_tls* tls = nullptr);
  /// Waits for every actor to end: cancel the jobs and wait for them first. A job whose requests
  /// outlived its stop grace keeps the destructor waiting up to the request timeout.
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// Validates the options, opens the job's store and starts crawling. Errors as run_crawl's.
  result<job_handle> start_job(const conf::crawl_options& opts,
                               std::chrono::milliseconds stop_grace = std::chrono::seconds(5),
                               bool keep_events = false);
  /// Same, as a member of a cluster crawl (`cluster` from actors::cluster; null: as above).
  result<job_handle> start_job(const conf::crawl_options& opts, std::chrono::milliseconds stop_grace,
                               bool keep_events, std::shared_ptr<cluster_job_hook> cluster);

  struct impl;
  /// For actors/ only (the cluster spawns its actor in this runtime's actor system).
  impl& internals() { return *impl_; }

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace crawld::actors
