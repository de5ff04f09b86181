#pragma once
/// The crawl store: one RocksDB database per crawl with column families
/// `pages` (url -> page_record), `frontier`, `seen`, `hosts`, `meta` (see docs/architecture.md).
///
/// Opening checks that the directory is a crawld store of a known format version (or creates
/// one when allowed and the directory is empty or absent), and reports a one-line error naming
/// the directory when it is not a store, is locked by another process, or cannot be written.
/// Writes are batched (one WriteBatch per call, WAL on, not synced); `sync` makes everything
/// written so far durable.
///
/// Thread-safety: RocksDB is thread-safe; a store may be shared, but crawld gives it to one
/// detached storage actor. Read-only opens may coexist with a writer (`open_options::read_only`).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "storage/page.hpp"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace crawld::storage {

/// Stored in meta `format_version` (decimal); meta `created_at` holds Unix milliseconds.
/// 1: page records of versions 1-2. 2: also version 3 (LZ4 bodies). A read-write open of an older
/// store raises it to this one; a newer store is refused.
inline constexpr int format_version = 2;

struct open_options {
  bool create = true;      ///< create a new store if the directory is absent or empty
  bool read_only = false;  ///< open without taking the lock (readers beside a running crawl)
  int max_open_files = 256;  ///< table files a writer keeps open (the rest of the fd budget is sockets)
};

struct store_stats {
  std::uint64_t pages = 0;
  std::uint64_t body_bytes = 0;
  std::uint64_t wire_bytes = 0;
  std::int64_t first_fetch_ms = 0, last_fetch_ms = 0;  ///< min/max fetched_at_ms; 0 when empty
  std::map<std::string, std::uint64_t> by_outcome;
  std::map<std::string, std::uint64_t> by_status;  ///< decimal status, "0" for no response
  std::map<std::string, std::uint64_t> by_host;  ///< scheme://host[:port] as written in the url
};

class store {
 public:
  static result<std::unique_ptr<store>> open(const std::string& dir, open_options opts = {});
  ~store();
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  /// Writes all pages in one batch (all or none); a page without url refuses the batch.
  /// Errors on a read-only store.
  result<void> put_pages(const std::vector<page_record>& pages);
  result<std::optional<page_record>> get_page(const std::string& url) const;
  /// Calls `fn` for each page in key order; stops early when `fn` returns false.
  result<void> for_each_page(const std::function<bool(const page_record&)>& fn) const;

  /// Synced at once (meta is rare and describes the whole crawl).
  result<void> put_meta(const std::string& key, const std::string& value);
  /// nullopt when absent or unreadable.
  std::optional<std::string> get_meta(const std::string& key) const;

  result<store_stats> stats() const;

  /// RocksDB's own estimate of the memory this store holds, in bytes. Thread-safe.
  struct memory {
    std::uint64_t memtables = 0;      ///< all column families' memtables, flushing ones included
    std::uint64_t table_readers = 0;  ///< open table files' readers outside the block cache
    std::uint64_t block_cache = 0;    ///< the shared block cache (index and filter blocks included)
  };
  memory memory_usage() const;
  /// Makes every write so far durable (WAL fsync). No-op on a read-only store. After a failed
  /// write (see `mark_failed`) it returns that failure and touches nothing: RocksDB must not be
  /// asked to sync a WAL whose last write failed (Debian's build asserts on it).
  result<void> sync();
  /// Records that a write to this store failed (thread-safe; the first message is kept). Later
  /// `sync` and `put_meta` calls fail with it; reads still work.
  void mark_failed(const std::string& message);

  const std::string& dir() const { return dir_; }

  /// For storage::frontier (storage/frontier.hpp), which keeps the `frontier`, `seen` and `hosts`
  /// column families and writes pages together with them in one WriteBatch. Valid while the
  /// store is open.
  enum class column { pages, frontier, seen, hosts, meta };
  rocksdb::DB* rocks() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* handle(column c) const { return cfs_[static_cast<std::size_t>(c)]; }
  bool read_only() const { return read_only_; }

 private:
  store() = default;
  std::string dir_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;  // pages, frontier, seen, hosts, meta
  bool read_only_ = false;
  mutable std::mutex failed_mutex_;
  std::string failed_;  // first write failure, "" if none
  result<void> failed() const;
};

}  // namespace crawld::storage
