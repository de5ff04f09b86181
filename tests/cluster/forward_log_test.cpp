// storage::forward_log on a real RocksDB store in a temp dir: a member's log of acknowledged
// forwarded URLs, read back in bounded chunks per target (docs/cluster.md).
#include <gtest/gtest.h>

#include "storage/forward_log.hpp"
#include "tests/temp_dir.hpp"

namespace crawld {
namespace {

std::shared_ptr<storage::store> open_store(const std::string& dir) {
  auto s = storage::store::open(dir);
  EXPECT_TRUE(s) << s.message();
  return s ? std::shared_ptr<storage::store>(std::move(*s)) : nullptr;
}

storage::frontier_entry entry(int host, int i) {
  storage::frontier_entry e;
  e.host_key = "http://127.0.0." + std::to_string(10 + host) + ":8080";
  e.url = e.host_key + "/page/" + std::to_string(i);
  e.depth = i % 7;
  return e;
}

std::vector<storage::frontier_entry> read_all(const storage::forward_log& log, const std::string& target,
                                              std::size_t chunk, std::size_t* chunks) {
  std::vector<storage::frontier_entry> all;
  std::uint64_t after = 0;
  *chunks = 0;
  for (int guard = 0; guard < 100000; ++guard) {
    auto c = log.read(target, after, chunk);
    EXPECT_TRUE(c) << c.message();
    if (!c || c->entries.empty())
      break;
    EXPECT_LE(c->entries.size(), chunk);
    ++*chunks;
    after = c->last;
    for (auto& e : c->entries)
      all.push_back(std::move(e));
  }
  return all;
}

TEST(forward_log, reads_back_each_targets_entries_in_append_order_in_bounded_chunks) {
  test::temp_dir dir;
  auto db = open_store(dir / "store");
  ASSERT_TRUE(db);
  auto log = storage::forward_log::open(db);
  ASSERT_TRUE(log) << log.message();
  for (int batch = 0; batch < 40; ++batch) {
    std::vector<storage::frontier_entry> n1, n10;
    for (int i = 0; i < 256; ++i)
      n1.push_back(entry(batch % 3, batch * 256 + i));
    n10.push_back(entry(5, batch));
    ASSERT_TRUE((*log)->append("n1", n1));
    ASSERT_TRUE((*log)->append("n10", n10));  // "n1" is a prefix of "n10": kept apart
  }
  EXPECT_EQ((*log)->size("n1"), 40u * 256);
  std::size_t chunks = 0;
  auto all = read_all(**log, "n1", 4096, &chunks);
  ASSERT_EQ(all.size(), 40u * 256);
  EXPECT_EQ(chunks, 3u);
  for (int i = 0; i < static_cast<int>(all.size()); ++i) {
    auto want = entry((i / 256) % 3, i);
    ASSERT_EQ(all[i].url, want.url) << i;
    EXPECT_EQ(all[i].host_key, want.host_key);
    EXPECT_EQ(all[i].depth, want.depth);
  }
  EXPECT_EQ(read_all(**log, "n10", 7, &chunks).size(), 40u);
  EXPECT_EQ(read_all(**log, "n2", 7, &chunks).size(), 0u);

  ASSERT_TRUE((*log)->drop("n1"));
  EXPECT_EQ(read_all(**log, "n1", 4096, &chunks).size(), 0u);
  EXPECT_EQ((*log)->size("n1"), 0u);
  EXPECT_EQ(read_all(**log, "n10", 4096, &chunks).size(), 40u) << "dropping n1 touched n10";
}

TEST(forward_log, opening_drops_what_an_earlier_process_left_and_leaves_the_pages_alone) {
  test::temp_dir dir;
  auto db = open_store(dir / "store");
  ASSERT_TRUE(db);
  storage::page_record p;
  p.url = "http://127.0.0.10:8080/";
  p.status = 200;
  ASSERT_TRUE(db->put_pages({p}));
  {
    auto log = storage::forward_log::open(db);
    ASSERT_TRUE(log);
    ASSERT_TRUE((*log)->append("n1", {entry(0, 1), entry(0, 2)}));
  }
  auto log = storage::forward_log::open(db);
  ASSERT_TRUE(log);
  std::size_t chunks = 0;
  EXPECT_EQ(read_all(**log, "n1", 10, &chunks).size(), 0u);
  auto st = db->stats();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->pages, 1u);
}

}  // namespace
}  // namespace crawld
