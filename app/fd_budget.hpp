#pragma once
/// File descriptors for a crawl: crawld raises its soft RLIMIT_NOFILE to the hard limit, then fits
/// the crawl in it with a margin, so that "too many open files" can never happen mid-crawl (the
/// asyncio tutorials' `ValueError: too many file descriptors in select()`).
///
/// Budget: what is open now + a margin of 32, RocksDB table files (a quarter of the limit, 16 to
/// 256) when there is a store, and two sockets per request in flight (one in use, one idle in the
/// connection pool). When the wanted concurrency does not fit it is lowered to what fits; when not
/// even one request fits, that is an error naming the limit.
#include <string>

#include "base/result.hpp"

namespace crawld::app {

struct fd_plan {
  long limit = 0;           ///< the soft limit after raising it
  int concurrency = 0;      ///< requests in flight that fit
  int store_files = 0;      ///< RocksDB max_open_files
  bool lowered = false;     ///< concurrency was lowered to fit
};

/// Raises the soft limit (as far as the hard limit allows) and plans the crawl.
result<fd_plan> plan_file_descriptors(int wanted_concurrency, bool with_store);

}  // namespace crawld::app
