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
#include <malloc.h>

#include <cstdlib>
#include <mutex>

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

}  // namespace crawld::actors
