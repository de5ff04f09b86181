// storage/crc32c_shim: RocksDB's CRC32C replaced by the CPU's instruction, with identical values.
#include <dlfcn.h>

#include <cstdint>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "storage/crc32c_shim.hpp"
#include "storage/store.hpp"
#include "tests/temp_dir.hpp"

namespace rocksdb::crc32c {
std::uint32_t Extend(std::uint32_t init_crc, const char* data, std::size_t n);
}

namespace crawld {
namespace {

TEST(crc32c_shim, is_the_definition_rocksdb_resolves) {
  ASSERT_TRUE(storage::crc32c_shim_linked());
#if !defined(__x86_64__)
  GTEST_SKIP() << "the shim interposes only on x86-64";
#endif
  // librocksdb calls Extend through its PLT, which binds to the first definition in the global
  // lookup order: this executable's, if the linker exported it.
  void* first = dlsym(RTLD_DEFAULT, "_ZN7rocksdb6crc32c6ExtendEjPKcm");
  EXPECT_EQ(first, reinterpret_cast<void*>(&rocksdb::crc32c::Extend));
  auto own = storage::rocksdb_own_crc32c_extend();
  ASSERT_NE(own, nullptr);
  EXPECT_NE(reinterpret_cast<void*>(own), first) << "the library's definition is a different one";
}

TEST(crc32c_shim, rfc3720_check_value) {
  // RFC 3720 B.4 / the usual CRC-32C check value of "123456789".
  EXPECT_EQ(rocksdb::crc32c::Extend(0, "123456789", 9), 0xE3069283u);
  EXPECT_EQ(rocksdb::crc32c::Extend(0, "", 0), 0u);
}

TEST(crc32c_shim, equals_rocksdb_own_at_every_length_alignment_and_seed) {
  auto own = storage::rocksdb_own_crc32c_extend();
  ASSERT_NE(own, nullptr);
  std::mt19937 rng(7);
  std::string buf(5000, '\0');
  for (auto& c : buf) c = static_cast<char>(rng());
  for (std::size_t off = 0; off < 9; ++off)
    for (std::size_t n : {0u, 1u, 7u, 8u, 9u, 15u, 16u, 63u, 64u, 65u, 1000u, 4096u, 4990u}) {
      const std::uint32_t seed = static_cast<std::uint32_t>(rng());
      ASSERT_EQ(rocksdb::crc32c::Extend(seed, buf.data() + off, n), own(seed, buf.data() + off, n))
          << "offset " << off << ", length " << n;
    }
  // Extending in pieces equals one pass.
  const std::uint32_t whole = rocksdb::crc32c::Extend(0, buf.data(), buf.size());
  const std::uint32_t part = rocksdb::crc32c::Extend(0, buf.data(), 1234);
  EXPECT_EQ(rocksdb::crc32c::Extend(part, buf.data() + 1234, buf.size() - 1234), whole);
}

TEST(crc32c_shim, a_store_written_and_reopened_reads_back_with_checksums_verified) {
  test::temp_dir d;
  storage::page_record p;
  p.url = "http://127.0.0.10/a";
  p.status = 200;
  p.body = std::string(20000, 'x') + "end";  // large: a blob record
  {
    auto s = storage::store::open(d / "db");
    ASSERT_TRUE(s) << s.message();
    ASSERT_TRUE((*s)->put_pages({p}));
    ASSERT_TRUE((*s)->sync());
  }
  auto s = storage::store::open(d / "db");  // replays the WAL: every record's CRC checked
  ASSERT_TRUE(s) << s.message();
  auto got = (*s)->get_page(p.url);
  ASSERT_TRUE(got) << got.message();
  ASSERT_TRUE(*got);
  EXPECT_EQ((*got)->body, p.body);
}

}  // namespace
}  // namespace crawld
