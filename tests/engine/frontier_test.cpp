// storage::frontier against a real RocksDB store in a temp dir (no actors).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "storage/frontier.hpp"
#include "tests/temp_dir.hpp"

namespace crawld {
namespace {

using storage::frontier;
using storage::frontier_entry;

std::shared_ptr<storage::store> open_store(const std::string& dir) {
  auto s = storage::store::open(dir);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.message());
  return s.ok() ? std::shared_ptr<storage::store>(std::move(*s)) : nullptr;
}

frontier_entry entry(const std::string& host, int i) {
  frontier_entry e;
  e.host_key = host;
  e.url = host + "/page/" + std::to_string(i);
  e.depth = i % 7;
  if (i % 5 == 0)
    e.chain = {host + "/from/" + std::to_string(i)};
  return e;
}

std::vector<std::string> pop_all(frontier& f, const std::string& host, std::vector<frontier_entry>* out = nullptr) {
  std::vector<std::string> urls;
  for (;;) {
    auto e = f.pop(host);
    EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.message());
    if (!e.ok() || !*e)
      break;
    urls.push_back((*e)->url);
    if (out)
      out->push_back(**e);
  }
  return urls;
}

TEST(frontier, each_host_comes_back_fifo_across_window_refills_with_bounded_memory) {
  test::temp_dir dir;
  storage::frontier_config cfg;
  cfg.window = 4;
  cfg.batch_ops = 16;
  auto f = frontier::open(open_store(dir / "db"), cfg);
  ASSERT_TRUE(f.ok()) << f.message();
  std::vector<std::string> want_a, want_b;
  for (int i = 0; i < 300; ++i) {
    auto a = entry("http://a:80", i), b = entry("http://b:80", i);
    want_a.push_back(a.url);
    ASSERT_TRUE(*(*f)->add(a));
    if (i % 3 == 0) {
      want_b.push_back(b.url);
      ASSERT_TRUE(*(*f)->add(b));
    }
  }
  EXPECT_LE((*f)->in_memory(), 8u) << "at most a window per host is in memory";
  EXPECT_EQ((*f)->pending_total(), want_a.size() + want_b.size());
  std::vector<frontier_entry> popped;
  EXPECT_EQ(pop_all(**f, "http://b:80", &popped), want_b);
  EXPECT_EQ(pop_all(**f, "http://a:80"), want_a);
  EXPECT_LE((*f)->in_memory(), 8u);
  EXPECT_EQ((*f)->pending_total(), 0u);
  // Entries round-trip: depth and redirect chain.
  ASSERT_FALSE(popped.empty());
  EXPECT_EQ(popped[5].depth, entry("http://b:80", 15).depth);
  EXPECT_EQ(popped[5].chain, entry("http://b:80", 15).chain);
}

// A window refills from entries admitted since the last commit without writing the batch (the
// queue actor's hand-outs must not wait for a RocksDB write), in FIFO order across the committed
// and the staged part; a crash before the commit then loses exactly the uncommitted admissions.
TEST(frontier, window_refills_from_uncommitted_admissions_without_a_write) {
  test::temp_dir dir;
  storage::frontier_config cfg;
  cfg.window = 4;
  cfg.batch_ops = 1000;
  std::vector<std::string> want;
  {
    auto f = frontier::open(open_store(dir / "db"), cfg);
    ASSERT_TRUE(f.ok()) << f.message();
    for (int i = 0; i < 10; ++i) {
      want.push_back(entry("http://a:80", i).url);
      ASSERT_TRUE(*(*f)->add(entry("http://a:80", i)));
    }
    EXPECT_EQ((*f)->writes(), 0u);
    std::vector<std::string> got;
    for (int i = 0; i < 6; ++i)  // the window's 4, then a refill from the staged ones
      got.push_back((**(*f)->pop("http://a:80")).url);
    EXPECT_EQ((*f)->writes(), 0u) << "a refill wrote the pending batch";
    ASSERT_TRUE((*f)->commit());  // entries 0-9 on disk; 6-9 not yet popped (2 in the window)
    for (int i = 10; i < 20; ++i) {
      want.push_back(entry("http://a:80", i).url);
      ASSERT_TRUE(*(*f)->add(entry("http://a:80", i)));
    }
    // Committed entries 8-9 come from disk, then 10-19 from memory.
    auto rest = pop_all(**f, "http://a:80");
    got.insert(got.end(), rest.begin(), rest.end());
    EXPECT_EQ(got, want);
    EXPECT_EQ((*f)->writes(), 1u);
    EXPECT_EQ((*f)->pending_total(), 0u);
    EXPECT_EQ((*f)->pending("http://a:80"), 0u);
  }
  // Reopened: nothing was finished, so all 20 are pending again, in order, once each.
  auto f = frontier::open(open_store(dir / "db"), cfg);
  ASSERT_TRUE(f.ok()) << f.message();
  EXPECT_EQ(pop_all(**f, "http://a:80"), want);
}

// Background commits (the queue's periodic ones) while the owner goes on admitting, popping
// and finishing: whatever the writer thread's timing, each host's URLs come back FIFO and once,
// a URL admitted in a batch in flight is known, and a reopened store has exactly what was not
// finished. Page bodies of 32 KB make a write last long enough to overlap the next calls; every
// other round sleeps so that the write is done before the frontier learns it.
TEST(frontier, background_commits_keep_each_host_fifo_and_known_while_a_write_is_in_flight) {
  test::temp_dir dir;
  storage::frontier_config cfg;
  cfg.window = 4;
  cfg.batch_ops = 64;
  cfg.seen_cache_slots = 0;  // `known` must not be answered by the cache
  const std::vector<std::string> hosts = {"http://a:80", "http://b:80", "http://c:80"};
  std::vector<std::vector<std::string>> want(hosts.size()), got(hosts.size());
  std::vector<std::string> unpopped;
  std::size_t finished = 0;
  {
    auto f = frontier::open(open_store(dir / "db"), cfg);
    ASSERT_TRUE(f.ok()) << f.message();
    int next = 0;
    for (int round = 0; round < 40; ++round) {
      for (std::size_t h = 0; h < hosts.size(); ++h)
        for (int i = 0; i < 10; ++i) {
          auto e = entry(hosts[h], next++);
          want[h].push_back(e.url);
          ASSERT_TRUE(*(*f)->add(e));
        }
      ASSERT_TRUE((*f)->commit_in_background());
      if (round % 2 == 1)  // let the write finish before it is settled: disk and memory overlap
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      for (std::size_t h = 0; h < hosts.size(); ++h) {
        const auto& last = want[h].back();
        EXPECT_TRUE(*(*f)->known(last)) << "admitted in the batch in flight";
        EXPECT_FALSE(*(*f)->add(entry(hosts[h], next - 1 - static_cast<int>(2 - h) * 10)));
        for (int i = 0; i < 7; ++i) {
          auto e = (*f)->pop(hosts[h]);
          ASSERT_TRUE(e.ok() && *e) << e.message();
          got[h].push_back((*e)->url);
          storage::page_record rec;
          rec.url = (*e)->url;
          rec.status = 200;
          rec.body.assign(32 * 1024, static_cast<char>('a' + i));
          ASSERT_TRUE((*f)->finish(**e, &rec));
          ++finished;
        }
      }
    }
    ASSERT_TRUE((*f)->commit_in_background());
    for (std::size_t h = 0; h < hosts.size(); ++h) {
      EXPECT_EQ(got[h], std::vector<std::string>(want[h].begin(), want[h].begin() + got[h].size()))
          << hosts[h] << ": FIFO, each once";
      unpopped.insert(unpopped.end(), want[h].begin() + got[h].size(), want[h].end());
    }
    EXPECT_EQ((*f)->pending_total(), unpopped.size());
  }  // destroyed with a batch possibly in flight: it commits and waits
  auto db = open_store(dir / "db");
  ASSERT_TRUE(db);
  auto f = frontier::open(db, cfg);
  ASSERT_TRUE(f.ok()) << f.message();
  EXPECT_EQ((*f)->pending_total(), unpopped.size());
  std::vector<std::string> rest;
  for (const auto& h : hosts) {
    auto r = pop_all(**f, h);
    rest.insert(rest.end(), r.begin(), r.end());
  }
  EXPECT_EQ(rest, unpopped);
  auto st = db->stats();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->pages, finished);
}

TEST(frontier, known_urls_are_not_admitted_twice_even_before_a_commit) {
  test::temp_dir dir;
  auto f = frontier::open(open_store(dir / "db"));
  ASSERT_TRUE(f.ok()) << f.message();
  EXPECT_TRUE(*(*f)->add(entry("http://a:80", 1)));
  EXPECT_FALSE(*(*f)->add(entry("http://a:80", 1))) << "pending in the batch";
  ASSERT_TRUE((*f)->commit());
  EXPECT_FALSE(*(*f)->add(entry("http://a:80", 1))) << "on disk";
  EXPECT_TRUE(*(*f)->known("http://a:80/page/1"));
  EXPECT_FALSE(*(*f)->known("http://a:80/page/2"));
  EXPECT_EQ((*f)->known_total(), 1u);
  EXPECT_EQ((*f)->admitted("http://a:80"), 1u);
}

// The seen cache answers repeats without a Get; when its slots collide it must fall back to the
// store, never answer "seen" for a URL that was not, and never forget one that was.
TEST(frontier, seen_cache_evictions_fall_back_to_the_store_without_wrong_answers) {
  for (std::size_t slots : {std::size_t{0}, std::size_t{1}, std::size_t{64}, std::size_t{1} << 18}) {
    test::temp_dir dir;
    storage::frontier_config cfg;
    cfg.seen_cache_slots = slots;
    cfg.batch_ops = 100;  // several commits on the way
    auto f = frontier::open(open_store(dir / "db"), cfg);
    ASSERT_TRUE(f.ok()) << f.message();
    for (int i = 0; i < 2000; i += 2)
      ASSERT_TRUE(*(*f)->add(entry("http://a:80", i))) << "slots " << slots << ", url " << i;
    ASSERT_TRUE((*f)->commit());
    int wrong = 0;
    for (int round = 0; round < 2; ++round)  // the second round reads what the first cached
      for (int i = 0; i < 2000; ++i) {
        auto k = (*f)->known("http://a:80/page/" + std::to_string(i));
        ASSERT_TRUE(k.ok()) << k.message();
        wrong += *k != (i % 2 == 0);
      }
    EXPECT_EQ(wrong, 0) << "slots " << slots;
    EXPECT_FALSE(*(*f)->add(entry("http://a:80", 1000))) << "admitted before: not again";
    EXPECT_TRUE(*(*f)->add(entry("http://a:80", 1001))) << "never admitted";
    EXPECT_EQ((*f)->known_total(), 1001u);
  }
}

// Filled to a quarter of its slots (a 57k-URL crawl fills 2^18 slots about so), the cache must
// answer nearly every repeat itself. Two rounds over 256 keys in 1,024 slots: 92 Gets when the
// cache was direct-mapped (colliding keys evicted each other), none with 4-way sets.
TEST(frontier, seen_cache_at_quarter_load_answers_repeats_without_gets) {
  test::temp_dir dir;
  storage::frontier_config cfg;
  cfg.seen_cache_slots = 1024;
  auto f = frontier::open(open_store(dir / "db"), cfg);
  ASSERT_TRUE(f.ok()) << f.message();
  for (int i = 0; i < 256; ++i)
    ASSERT_TRUE(*(*f)->add(entry("http://a:80", i)));
  ASSERT_TRUE((*f)->commit());  // past the batch: only the cache or a Get can answer now
  const auto before = (*f)->seen_lookups();
  for (int round = 0; round < 2; ++round)
    for (int i = 0; i < 256; ++i)
      ASSERT_TRUE(*(*f)->known("http://a:80/page/" + std::to_string(i)));
  EXPECT_LE((*f)->seen_lookups() - before, 256u / 20);
}

// New URLs are answered by the Bloom filter alone: filled to its design size, its false
// positives (a "maybe" that costs a Get) stay near 1% of the keys added.
TEST(frontier, bloom_filter_at_design_load_sends_few_new_urls_to_the_store) {
  test::temp_dir dir;
  storage::frontier_config cfg;
  cfg.bloom_urls = 20'000;
  cfg.seen_cache_slots = 0;  // every "maybe" is a Get
  auto f = frontier::open(open_store(dir / "db"), cfg);
  ASSERT_TRUE(f.ok()) << f.message();
  for (int i = 0; i < 20'000; ++i)
    ASSERT_TRUE(*(*f)->add(entry("http://a:80", i)));
  ASSERT_TRUE((*f)->commit());
  const auto before = (*f)->seen_lookups();
  for (int i = 20'000; i < 30'000; ++i)
    ASSERT_FALSE(*(*f)->known("http://a:80/page/" + std::to_string(i)));
  const auto false_positives = (*f)->seen_lookups() - before;
  EXPECT_LE(false_positives, 200u) << "of 10,000 new URLs";
  EXPECT_LE((*f)->seen_lookups(), 200u) << "while adding 20,000";
}

// A cluster hand-over forgets a URL; the seen cache must not keep answering "seen" for it.
TEST(frontier, forgotten_url_is_admitted_again_despite_the_seen_cache) {
  test::temp_dir dir;
  auto f = frontier::open(open_store(dir / "db"));
  ASSERT_TRUE(f.ok()) << f.message();
  auto e = entry("http://a:80", 7);
  ASSERT_TRUE(*(*f)->add(e));
  ASSERT_TRUE((*f)->commit());
  EXPECT_TRUE(*(*f)->known(e.url)) << "cached now";
  auto popped = (*f)->pop("http://a:80");
  ASSERT_TRUE(popped.ok() && *popped);
  ASSERT_TRUE((*f)->finish(**popped, nullptr));
  (*f)->forget(**popped);
  ASSERT_TRUE((*f)->commit());
  EXPECT_FALSE(*(*f)->known(e.url));
  EXPECT_TRUE(*(*f)->add(e)) << "admitted again after the hand-over";
}

TEST(frontier, reopened_store_continues_with_unfinished_entries_in_order) {
  test::temp_dir dir;
  std::vector<std::string> rest;
  {
    storage::frontier_config cfg;
    cfg.window = 3;
    auto f = frontier::open(open_store(dir / "db"), cfg);
    ASSERT_TRUE(f.ok()) << f.message();
    for (int i = 0; i < 20; ++i)
      ASSERT_TRUE(*(*f)->add(entry("http://a:80", i)));
    // Finish 5 (with pages), take 2 more without finishing them (in flight at a stop).
    for (int i = 0; i < 7; ++i) {
      auto e = (*f)->pop("http://a:80");
      ASSERT_TRUE(e.ok() && *e);
      (*f)->count_taken(1);
      if (i < 5) {
        storage::page_record rec;
        rec.url = (*e)->url;
        rec.status = 200;
        ASSERT_TRUE((*f)->finish(**e, &rec));
      } else {
        rest.push_back((*e)->url);
      }
    }
    for (int i = 7; i < 20; ++i)
      rest.push_back(entry("http://a:80", i).url);
    ASSERT_TRUE((*f)->sync());
  }
  auto db = open_store(dir / "db");
  ASSERT_TRUE(db);
  auto f = frontier::open(db);
  ASSERT_TRUE(f.ok()) << f.message();
  EXPECT_EQ((*f)->pending_total(), 15u);
  EXPECT_EQ((*f)->hosts_with_work(), std::vector<std::string>{"http://a:80"});
  EXPECT_EQ((*f)->taken(), 7u);
  EXPECT_EQ((*f)->known_total(), 20u);
  EXPECT_FALSE(*(*f)->add(entry("http://a:80", 3))) << "the seen-set survived";
  EXPECT_TRUE(*(*f)->add(entry("http://a:80", 20)));
  rest.push_back(entry("http://a:80", 20).url);
  EXPECT_EQ(pop_all(**f, "http://a:80"), rest);
  auto page = db->get_page(entry("http://a:80", 4).url);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->has_value()) << "finished pages were stored with the frontier change";
}

TEST(frontier, corrupt_entry_is_rejected_with_a_message) {
  auto bytes = storage::encode_entry(entry("http://a:80", 5));
  EXPECT_TRUE(storage::decode_entry(bytes).ok());
  auto cut = storage::decode_entry(std::string_view(bytes).substr(0, bytes.size() - 3));
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.message().find("corrupt frontier entry"), std::string::npos);
}

}  // namespace
}  // namespace crawld
