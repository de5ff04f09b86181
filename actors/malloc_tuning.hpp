// glibc malloc settings and trimming for long crawls (malloc_tuning.cpp; docs/hostile.md "Soak").
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace crawld::actors {

/// glibc malloc settings for long crawls (2 arenas, fixed 256 KiB mmap threshold); once per
/// process, unless the matching MALLOC_* environment variables are set. Thread-safe.
void tune_malloc();

/// Gives the free pages that glibc's arenas hold back to the kernel: calls malloc_trim(0) every
/// `period` on its own plain thread, from construction until destruction (which stops and joins
/// the thread, waiting at most for one trim in progress). A zero period starts no thread.
///
/// Why: glibc returns freed memory only from the top of an arena. A crawl's bursts of small
/// allocations (parsing a 10 MiB page with gumbo, RocksDB compactions) leave tens of MiB free
/// below a few live blocks, held for the rest of the process; each new high-water burst raises
/// RSS for good, which is the slope the soak showed. malloc_trim(0) madvises every free page of
/// every arena away (measured in docs/hostile.md "Soak"). It takes each arena's lock while it
/// walks that arena, so allocations wait for it briefly.
///
/// A no-op with a sanitizer's allocator (malloc_trim then trims glibc's unused arenas).
/// Thread-safety: construct and destroy from one thread; `trims` may be read from any thread.
/// The period a runtime's trimmer uses: 5 s, or CRAWLD_MALLOC_TRIM_MS milliseconds when that
/// environment variable is a non-negative integer (0: no trimming, for A/B measurements).
std::chrono::milliseconds default_trim_period();

class malloc_trimmer {
 public:
  explicit malloc_trimmer(std::chrono::milliseconds period);
  ~malloc_trimmer();
  malloc_trimmer(const malloc_trimmer&) = delete;
  malloc_trimmer& operator=(const malloc_trimmer&) = delete;

  /// Trims done so far.
  std::uint64_t trims() const;

 private:
  void run(std::chrono::milliseconds period);

  mutable std::mutex m_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::uint64_t trims_ = 0;
  std::thread thread_;
};

}  // namespace crawld::actors
