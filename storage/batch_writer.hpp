#pragma once
/// Writes RocksDB WriteBatches on a thread of its own, one at a time and in the order submitted,
/// so that the thread that builds the batches goes on while one is written. The frontier uses it
/// for its periodic commits: the queue actor hands out URLs during a write instead of stalling
/// every fetcher for it (docs/architecture.md, "Eighth round").
///
/// At most one batch is in flight: `submit` waits for the previous one first, so memory is
/// bounded by two batches and a batch is written only after every batch submitted before it.
/// Writes use the default WriteOptions (WAL on, no sync).
///
/// Errors: the first failed write is kept. `on_failure` (if given) is called with its message on
/// the writer thread before any `wait` can return it; from then on `submit` and `wait` return it
/// and nothing more is written.
///
/// Thread-safety: `submit`, `wait` and `in_flight` are for one owner thread. The destructor waits
/// for the batch in flight and stops the thread. `db` must outlive the writer.
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/result.hpp"

namespace rocksdb {
class DB;
class WriteBatch;
}  // namespace rocksdb

namespace crawld::storage {

class batch_writer {
 public:
  explicit batch_writer(rocksdb::DB* db, std::function<void(const std::string&)> on_failure = {});
  ~batch_writer();
  batch_writer(const batch_writer&) = delete;
  batch_writer& operator=(const batch_writer&) = delete;

  /// Waits for the batch in flight, then starts writing `batch`. `batch` is swapped with the
  /// writer's spare batch, cleared, so the caller goes on with an empty batch and the two batches
  /// keep their buffers from one commit to the next. A non-null `batch` is required.
  result<void> submit(std::unique_ptr<rocksdb::WriteBatch>& batch);
  /// Waits until no batch is in flight; returns the first write error so far, if any.
  result<void> wait();
  /// Whether a batch was submitted and is not known to be written (no wait).
  bool in_flight() const;

 private:
  void run();

  rocksdb::DB* db_;
  std::function<void(const std::string&)> on_failure_;
  mutable std::mutex m_;
  std::condition_variable cv_;
  std::unique_ptr<rocksdb::WriteBatch> current_;  // in flight when non-null (under m_)
  std::unique_ptr<rocksdb::WriteBatch> spare_;    // written and cleared, for the next swap
  std::string failed_;                            // first failure, "" if none (under m_)
  bool stop_ = false;
  std::thread thread_;  // last: started after the members above exist
};

}  // namespace crawld::storage
