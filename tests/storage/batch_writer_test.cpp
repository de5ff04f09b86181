// storage::batch_writer against a real RocksDB in a temp dir.
#include "storage/batch_writer.hpp"
#include "tests/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace crawld::storage {
namespace {

using ::testing::HasSubstr;
using test::temp_dir;

std::unique_ptr<rocksdb::DB> open_db(const std::string& dir, bool read_only = false) {
  rocksdb::Options o;
  o.create_if_missing = true;
  rocksdb::DB* db = nullptr;
  auto s = read_only ? rocksdb::DB::OpenForReadOnly(o, dir, &db) : rocksdb::DB::Open(o, dir, &db);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return std::unique_ptr<rocksdb::DB>(db);
}

std::string get(rocksdb::DB& db, const std::string& key) {
  std::string v;
  auto s = db.Get(rocksdb::ReadOptions(), key, &v);
  return s.ok() ? v : "<" + s.ToString() + ">";
}

// Each batch overwrites "last" and adds a key of its own: after `wait` the store holds the last
// batch's value (order kept although the owner never waited in between) and every key.
TEST(batch_writer, batches_are_written_in_submission_order_and_visible_after_wait) {
  temp_dir dir;
  auto db = open_db(dir / "db");
  ASSERT_TRUE(db);
  batch_writer w(db.get());
  auto batch = std::make_unique<rocksdb::WriteBatch>();
  const std::string body(64 * 1024, 'x');  // big enough that writes overlap the next submit
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(batch->Put("last", std::to_string(i)).ok());
    ASSERT_TRUE(batch->Put("k/" + std::to_string(i), body).ok());
    ASSERT_TRUE(w.submit(batch));
    ASSERT_TRUE(batch);
    EXPECT_EQ(batch->Count(), 0u) << "the batch handed back is the cleared spare";
  }
  ASSERT_TRUE(w.wait());
  EXPECT_FALSE(w.in_flight());
  EXPECT_EQ(get(*db, "last"), "199");
  for (int i = 0; i < 200; ++i)
    ASSERT_EQ(get(*db, "k/" + std::to_string(i)), body) << i;
}

TEST(batch_writer, destructor_waits_for_the_batch_in_flight) {
  temp_dir dir;
  auto db = open_db(dir / "db");
  ASSERT_TRUE(db);
  {
    batch_writer w(db.get());
    auto batch = std::make_unique<rocksdb::WriteBatch>();
    for (int i = 0; i < 1000; ++i)
      ASSERT_TRUE(batch->Put("k/" + std::to_string(i), std::string(4096, 'y')).ok());
    ASSERT_TRUE(w.submit(batch));
  }
  EXPECT_EQ(get(*db, "k/999"), std::string(4096, 'y'));
}

// A write RocksDB refuses (a read-only database): reported once to on_failure, on the writer
// thread, and then by every later call; later batches are not attempted.
TEST(batch_writer, failed_write_is_reported_once_and_by_every_later_call) {
  temp_dir dir;
  open_db(dir / "db").reset();  // create it
  auto db = open_db(dir / "db", true);
  ASSERT_TRUE(db);
  std::atomic<int> failures{0};
  std::string first;
  batch_writer w(db.get(), [&](const std::string& msg) {
    if (failures++ == 0)
      first = msg;
  });
  auto batch = std::make_unique<rocksdb::WriteBatch>();
  ASSERT_TRUE(batch->Put("a", "1").ok());
  ASSERT_TRUE(w.submit(batch)) << "the failure is not known yet";
  auto r = w.wait();
  ASSERT_FALSE(r);
  EXPECT_THAT(r.message(), HasSubstr("Not implemented"));
  EXPECT_EQ(first, r.message());
  ASSERT_TRUE(batch->Put("b", "2").ok());
  auto again = w.submit(batch);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.message(), r.message());
  EXPECT_EQ(batch->Count(), 1u) << "a refused submit leaves the caller's batch alone";
  EXPECT_FALSE(w.wait());
  EXPECT_EQ(failures.load(), 1);
}

}  // namespace
}  // namespace crawld::storage
