#include "storage/batch_writer.hpp"

#include <rocksdb/db.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/write_batch.h>

#include <exception>

namespace crawld::storage {

batch_writer::batch_writer(rocksdb::DB* db, std::function<void(const std::string&)> on_failure)
    : db_(db), on_failure_(std::move(on_failure)), spare_(std::make_unique<rocksdb::WriteBatch>()),
      thread_([this] { run(); }) {}

batch_writer::~batch_writer() {
  {
    std::unique_lock<std::mutex> g(m_);
    cv_.wait(g, [this] { return current_ == nullptr; });
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

result<void> batch_writer::submit(std::unique_ptr<rocksdb::WriteBatch>& batch) {
  std::unique_lock<std::mutex> g(m_);
  cv_.wait(g, [this] { return current_ == nullptr; });
  if (!failed_.empty())
    return make_error(failed_);
  current_ = std::move(batch);
  batch = std::move(spare_);
  g.unlock();
  cv_.notify_all();
  return {};
}

result<void> batch_writer::wait() {
  std::unique_lock<std::mutex> g(m_);
  cv_.wait(g, [this] { return current_ == nullptr; });
  if (!failed_.empty())
    return make_error(failed_);
  return {};
}

bool batch_writer::in_flight() const {
  std::lock_guard<std::mutex> g(m_);
  return current_ != nullptr;
}

void batch_writer::run() {
  // RocksDB counts into a thread-local perf context by default (kEnableCount): a TLS lookup in a
  // shared library at every memtable key comparison, ~50 per insert, for counters nobody reads.
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  std::unique_lock<std::mutex> g(m_);
  for (;;) {
    cv_.wait(g, [this] { return stop_ || current_ != nullptr; });
    if (current_ == nullptr)
      return;  // stop_ and nothing in flight
    rocksdb::WriteBatch* b = current_.get();
    const bool skip = !failed_.empty();
    g.unlock();
    std::string error;
    if (!skip) {
      try {
        const auto s = db_->Write(rocksdb::WriteOptions(), b);
        if (!s.ok())
          error = s.ToString();
      } catch (const std::exception& e) {
        error = e.what();
      }
      if (!error.empty() && on_failure_)
        on_failure_(error);
    }
    b->Clear();
    g.lock();
    if (!error.empty() && failed_.empty())
      failed_ = error;
    spare_ = std::move(current_);
    g.unlock();
    cv_.notify_all();
    g.lock();
  }
}

}  // namespace crawld::storage
