#pragma once
/// Hardware CRC32C for RocksDB (storage/crc32c_shim.cpp): this process's definition of
/// `rocksdb::crc32c::Extend` interposes the Debian library's table-driven one, using the CPU's
/// crc32 instruction when it has SSE4.2 and RocksDB's own function otherwise (x86-64 only; other
/// architectures keep RocksDB's). Values are identical.
#include <cstddef>
#include <cstdint>

namespace crawld::storage {

/// Referenced by storage/store.cpp so every binary that opens a store links the shim.
bool crc32c_shim_linked();

/// librocksdb's own `crc32c::Extend` (found with dlsym(RTLD_NEXT)); null if not found.
std::uint32_t (*rocksdb_own_crc32c_extend())(std::uint32_t, const char*, std::size_t);

}  // namespace crawld::storage
