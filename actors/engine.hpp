#pragma once
/// Runs one crawl job on a CAF actor system and returns when it is over. This header is the
/// engine's only interface to the rest of crawld and includes no CAF header.
///
/// The crawl ends by itself when nothing is queued and nothing is in flight, or when `max_pages`
/// URLs were admitted and finished, or when `request_stop` is called (e.g. from a signal handler):
/// then no new URL is handed out, requests in flight get `stop_grace` to finish, the store is
/// flushed and closed, and the report says `interrupted`.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
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

}  // namespace crawld::actors
