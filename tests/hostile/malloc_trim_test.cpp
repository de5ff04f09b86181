// actors::malloc_trimmer (actors/malloc_tuning.hpp): free pages that glibc keeps inside an arena
// (between live blocks, where free() never returns them) go back to the kernel on the trimmer's
// timer. The soak's RSS slope was such held-back free memory (docs/hostile.md "Soak").
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "actors/malloc_tuning.hpp"

namespace crawld {
namespace {

using namespace std::chrono_literals;

/// Resident set size of this process (VmRSS), in KiB.
[[maybe_unused]] long rss_kib() {  // unused under ASan (the test is skipped)
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

TEST(malloc_trimmer, returns_free_pages_held_between_live_blocks_to_the_kernel) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "ASan's allocator is not glibc's: malloc_trim has nothing to trim";
#else
  // 64 MiB in 4 KiB blocks (far below the mmap threshold: they come from this thread's arena),
  // touched so that they are resident; then every block but one in 256 is freed. The live ones
  // keep each 1 MiB run of free blocks in the middle of the arena, where free() cannot give it
  // back (it only shrinks an arena from its top): fragmentation, as a crawl's bursts leave it.
  constexpr std::size_t block = 4096, count = 16384, keep_every = 256;
  const long before = rss_kib();
  std::vector<char*> blocks;
  blocks.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    blocks.push_back(static_cast<char*>(std::malloc(block)));
    ASSERT_NE(blocks.back(), nullptr);
    std::memset(blocks.back(), 0x5a, block);
  }
  for (std::size_t i = 0; i < count; ++i)
    if (i % keep_every != keep_every - 1) {
      std::free(blocks[i]);
      blocks[i] = nullptr;
    }
  const long held = rss_kib();
  ASSERT_GE(held - before, 48 * 1024) << "the freed blocks stay resident without a trim (the setup)";

  {
    actors::malloc_trimmer trimmer(50ms);
    for (int i = 0; i < 200 && trimmer.trims() < 2; ++i) std::this_thread::sleep_for(50ms);  // at most 10 s
    EXPECT_GE(trimmer.trims(), 2u);
  }
  const long after = rss_kib();
  EXPECT_GE(held - after, 48 * 1024) << "RSS before " << before << " KiB, held " << held << " KiB, after "
                                     << after << " KiB";
  for (char* b : blocks) std::free(b);
#endif
}

TEST(malloc_trimmer, zero_period_never_trims) {
  actors::malloc_trimmer trimmer(0ms);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(trimmer.trims(), 0u);
}

TEST(malloc_trimmer, destruction_does_not_wait_for_the_next_period) {
  const auto start = std::chrono::steady_clock::now();
  { actors::malloc_trimmer trimmer(1h); }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s) << "the destructor waits out the period";
}

}  // namespace
}  // namespace crawld
