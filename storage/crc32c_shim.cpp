// Hardware CRC32C for RocksDB. Debian's librocksdb is a portable build (no SSE4.2 at compile
// time), so `rocksdb::crc32c::IsFastCrc32Supported()` says "Not supported on x86" and every
// checksum RocksDB computes (WAL records, blob records, table blocks) runs a table-driven loop:
// perf put it at ~21% of the queue actor's thread, which writes every page body through the WAL
// (docs/architecture.md, issue 8). RocksDB calls its `crc32c::Extend` through the PLT, so the
// definition below, in the executable, interposes the library's (as actors/cluster_tls_shim.cpp
// does for libssl): the CPU's crc32 instruction when it has SSE4.2, else RocksDB's own function.
// Same polynomial (Castagnoli), same pre- and post-inversion: the values are identical, so stores
// written before and after read the same (tests/storage/crc32c_shim_test.cpp checks both).
// Pulled into a binary by store.cpp's reference to crc32c_shim_linked().
#include "storage/crc32c_shim.hpp"

#include <dlfcn.h>
#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace crawld::storage {

bool crc32c_shim_linked() { return true; }

using extend_fn = std::uint32_t (*)(std::uint32_t, const char*, std::size_t);

/// librocksdb's own definition (the next after this executable's); for the test.
extend_fn rocksdb_own_crc32c_extend() {
  return reinterpret_cast<extend_fn>(dlsym(RTLD_NEXT, "_ZN7rocksdb6crc32c6ExtendEjPKcm"));
}

}  // namespace crawld::storage

// Elsewhere than x86-64 RocksDB keeps its own (which uses the CPU's CRC instructions where its
// build enabled them).
#if defined(__x86_64__)
namespace rocksdb::crc32c {
std::uint32_t Extend(std::uint32_t init_crc, const char* data, std::size_t n);
}

namespace crawld::storage {
namespace {

__attribute__((target("sse4.2"))) std::uint32_t hardware_extend(std::uint32_t init_crc, const char* p,
                                                                std::size_t n) {
  std::uint64_t c = ~init_crc & 0xffffffffu;
  for (; n > 0 && (reinterpret_cast<std::uintptr_t>(p) & 7) != 0; --n, ++p)
    c = _mm_crc32_u8(static_cast<std::uint32_t>(c), static_cast<unsigned char>(*p));
  for (; n >= 8; n -= 8, p += 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    c = _mm_crc32_u64(c, word);
  }
  for (; n > 0; --n, ++p)
    c = _mm_crc32_u8(static_cast<std::uint32_t>(c), static_cast<unsigned char>(*p));
  return ~static_cast<std::uint32_t>(c);
}

extend_fn choose() {
  if (__builtin_cpu_supports("sse4.2")) return hardware_extend;
  return rocksdb_own_crc32c_extend();
}

}  // namespace
}  // namespace crawld::storage

std::uint32_t rocksdb::crc32c::Extend(std::uint32_t init_crc, const char* data, std::size_t n) {
  static const crawld::storage::extend_fn f = crawld::storage::choose();
  return f(init_crc, data, n);
}
#endif
