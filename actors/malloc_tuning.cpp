// glibc malloc settings for a crawl, applied once per process by the first actors::runtime (so a
// crawl run in-process by a test or an embedding program gets them too, not only the crawld
// binary). Both can be overridden with glibc's own environment variables.
//
// - M_ARENA_MAX 2: every detached fetcher is a thread, and glibc gives threads up to 8 arenas per
//   core; each arena keeps the high-water mark of the bodies that passed through it (a soak showed
//   sixteen 12 MB arenas, ~200 MB that was free but never returned). Two arenas for two cores cost
//   nothing measurable in crawl CPU (bench A/B, docs/hostile.md "Soak").
// - M_MMAP_THRESHOLD 256 KiB: fixed, so glibc's dynamic threshold (which rises to 32 MB after large
//   blocks are freed) cannot move multi-megabyte bodies into the arenas, where they fragment.
//
// malloc_trimmer: malloc_trim(0) on a timer (see malloc_tuning.hpp for why).
#include "actors/malloc_tuning.hpp"

#include <malloc.h>

#include <cstdlib>

namespace crawld::actors {

void tune_malloc() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (!std::getenv("MALLOC_ARENA_MAX"))
      mallopt(M_ARENA_MAX, 2);
    if (!std::getenv("MALLOC_MMAP_THRESHOLD_"))
      mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  });
}

std::chrono::milliseconds default_trim_period() {
  if (const char* e = std::getenv("CRAWLD_MALLOC_TRIM_MS")) {
    char* end = nullptr;
    const long long ms = std::strtoll(e, &end, 10);
    if (end != e && *end == '\0' && ms >= 0)
      return std::chrono::milliseconds(ms);
  }
  return std::chrono::seconds(5);
}

malloc_trimmer::malloc_trimmer(std::chrono::milliseconds period) {
  if (period.count() > 0)
    thread_ = std::thread([this, period] { run(period); });
}

malloc_trimmer::~malloc_trimmer() {
  {
    std::lock_guard<std::mutex> g(m_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

std::uint64_t malloc_trimmer::trims() const {
  std::lock_guard<std::mutex> g(m_);
  return trims_;
}

void malloc_trimmer::run(std::chrono::milliseconds period) {
  std::unique_lock<std::mutex> g(m_);
  while (!cv_.wait_for(g, period, [this] { return stop_; })) {
    g.unlock();
    malloc_trim(0);
    g.lock();
    ++trims_;
  }
}

}  // namespace crawld::actors
