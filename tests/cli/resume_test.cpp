// Crash-safe resume with real processes: crawld is killed with SIGKILL at seeded random moments
// and resumed each time (`crawld resume --db DIR`); the final store must hold exactly the pages an
// uninterrupted crawl stores, and no page stored before a kill may be requested after it.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "process.hpp"
#include "storage/store.hpp"
#include "tests/temp_dir.hpp"
#include "testsite/server.hpp"

namespace crawld {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

/// Whether the store holds a crawl command to resume (a kill can come before it is saved; then
/// the user re-runs the command, as the test does).
bool has_saved_command(const std::string& db) {
  auto st = storage::store::open(db, storage::open_options{false, true});
  return st.ok() && (*st)->get_meta("command").has_value();
}

std::set<std::string> stored_urls(const std::string& db) {
  std::set<std::string> out;
  if (!std::filesystem::exists(db + "/CURRENT"))
    return out;  // killed before the store existed
  // Read-write (the crawler is dead): also completes a store whose creation the kill interrupted,
  // as the next crawld run would.
  auto st = storage::store::open(db, storage::open_options{false, false});
  EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.message());
  if (!st.ok())
    return out;
  auto r = (*st)->for_each_page([&](const storage::page_record& p) {
    out.insert(p.url);
    return true;
  });
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.message());
  return out;
}

std::vector<std::string> crawl_args(const testsite::server& srv, int hosts, const std::string& db) {
  std::vector<std::string> a{"crawl"};
  for (int i = 0; i < hosts; ++i)
    a.push_back(srv.model().origin(i) + "/");
  for (const char* s : {"--concurrency", "8", "--per-host", "3", "--backoff", "50", "-q", "--db"})
    a.push_back(s);
  a.push_back(db);
  return a;
}

TEST(resume, killed_crawl_resumed_repeatedly_stores_what_an_uninterrupted_crawl_stores) {
  constexpr int hosts = 3, pages = 150, kills = 5;
  testsite::site_options so;
  so.hosts = hosts;
  so.pages = pages;
  so.port = 0;
  so.first_address = "127.0.0.40";
  testsite::server_options sv;
  sv.latency = 30ms;  // >= 777 pages x 30 ms / 8 in flight = 2.9 s of crawling: room for 5 kills
  sv.threads_per_host = 16;
  auto srv = testsite::server::start(testsite::site(so), sv);
  ASSERT_TRUE(srv.ok()) << srv.message();
  test::temp_dir dir;

  // The reference: one uninterrupted crawl.
  auto ref = test::run(crawl_args(**srv, hosts, dir / "ref"), 120s);
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  auto want = stored_urls(dir / "ref");
  ASSERT_GT(want.size(), 300u);
  const std::size_t ref_requests = (*srv)->requests().size();

  // The same crawl, killed at seeded random moments and resumed each time.
  std::mt19937 rng(20261129);
  std::uniform_int_distribution<int> after_ms(50, 350);
  std::string db = dir / "killed";
  std::vector<steady::time_point> kill_times;
  std::vector<std::set<std::string>> stored_at_kill;
  bool finished = false;
  for (int k = 0; k < kills && !finished; ++k) {
    auto args = k > 0 && has_saved_command(db) ? std::vector<std::string>{"resume", "--db", db}
                                               : crawl_args(**srv, hosts, db);
    const auto before = (*srv)->requests().size();
    test::child c(args);
    // The random moment counts from the run's first request (process start-up varies: ASan).
    for (auto give_up = steady::now() + 30s; (*srv)->requests().size() == before && steady::now() < give_up;)
      std::this_thread::sleep_for(2ms);
    auto wait = std::chrono::milliseconds(after_ms(rng));
    auto until = steady::now() + wait;
    while (steady::now() < until)
      std::this_thread::sleep_for(5ms);
    c.signal(SIGKILL);
    auto t = steady::now();
    auto r = c.wait(30s);
    if (r.exit_code != 128 + SIGKILL) {
      ASSERT_EQ(r.exit_code, 0) << "run " << k << ": " << r.err;
      finished = true;  // it finished before the kill
      break;
    }
    kill_times.push_back(t);
    stored_at_kill.push_back(stored_urls(db));
    std::cout << "kill " << k + 1 << " after " << wait.count() << " ms: " << stored_at_kill.back().size()
              << " pages stored" << std::endl;
  }
  EXPECT_EQ(kill_times.size(), static_cast<std::size_t>(kills)) << "the crawl finished before every kill";
  auto last = test::run(has_saved_command(db) ? std::vector<std::string>{"resume", "--db", db}
                                              : crawl_args(**srv, hosts, db),
                        120s);
  ASSERT_EQ(last.exit_code, 0) << last.out << last.err;

  EXPECT_EQ(stored_urls(db), want) << "the resumed crawl stored another set of pages";

  // Server side: a page stored before a kill is never requested after it.
  auto all = (*srv)->requests();
  std::vector<testsite::request_log_entry> log(all.begin() + static_cast<std::ptrdiff_t>(ref_requests), all.end());
  std::size_t repeated = 0;
  std::map<std::string, int> times;
  for (const auto& r : log) {
    if (r.target == "/robots.txt")
      continue;
    auto url = (*srv)->model().origin(r.host) + r.target;
    if (++times[url] > 1)
      ++repeated;
    for (std::size_t i = 0; i < kill_times.size(); ++i) {
      if (r.at > kill_times[i] + 1ms) {
        EXPECT_EQ(stored_at_kill[i].count(url), 0u) << url << " was stored before kill " << i + 1
                                                    << " and requested again after it";
      }
    }
  }
  std::cout << "kills: " << kill_times.size() << ", pages: " << want.size()
            << ", requests repeated after a kill (in flight or not yet committed): " << repeated << std::endl;
  EXPECT_LE(repeated, kill_times.size() * 64) << "far more repeats than requests in flight";
}

TEST(resume, finished_crawl_has_nothing_to_resume) {
  testsite::site_options so;
  so.hosts = 1;
  so.pages = 20;
  so.port = 0;
  so.first_address = "127.0.0.44";
  auto srv = testsite::server::start(testsite::site(so), {});
  ASSERT_TRUE(srv.ok()) << srv.message();
  test::temp_dir dir;
  auto r = test::run(crawl_args(**srv, 1, dir / "db"), 60s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto n = (*srv)->requests().size();
  auto again = test::run({"resume", "--db", dir / "db"}, 60s);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("already finished"), std::string::npos) << again.out;
  auto rerun = test::run(crawl_args(**srv, 1, dir / "db"), 60s);
  EXPECT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_EQ((*srv)->requests().size(), n) << "re-running a finished crawl on its store fetches nothing";
}

TEST(frontier_cli, max_pages_bounds_fetches_while_the_frontier_keeps_every_discovered_url) {
  testsite::site_options so;
  so.hosts = 1;
  so.pages = 10;
  so.port = 0;
  so.first_address = "127.0.0.45";
  auto srv = testsite::server::start(testsite::site(so), {});
  ASSERT_TRUE(srv.ok()) << srv.message();
  test::temp_dir dir;
  auto r = test::run({"crawl", (*srv)->model().origin(0) + "/wide/0", "--max-pages", "3", "--db", dir / "db",
                      "--stats-lines"},
                     60s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // /wide/0, /wide/1, /wide/2 fetched (1,000 new links each): 3,001 known, 2,998 left unfetched.
  EXPECT_NE(r.out.find("crawled 3 pages"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("max_pages 2998"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("progress: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" rss_mib "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" store_mib "), std::string::npos) << r.err;
  double heap_used_mib = 0;  // glibc's heap in use (mallinfo2): a crawl has allocated something
  for (auto at = r.err.find(" heap_used_mib "); at != std::string::npos; at = r.err.find(" heap_used_mib ", at + 1))
    heap_used_mib = std::max(heap_used_mib, std::atof(r.err.c_str() + at + 15));
#if !defined(__SANITIZE_ADDRESS__)  // ASan replaces glibc's allocator: mallinfo2 reports zeros
  EXPECT_GT(heap_used_mib, 0.1) << r.err;
#endif
  EXPECT_NE(r.err.find(" heap_free_mib "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" heap_mmap_mib "), std::string::npos) << r.err;
  double frontier_mib = 0;  // the largest reported (the line printed after the end has no queue)
  for (auto at = r.err.find(" frontier_mib "); at != std::string::npos; at = r.err.find(" frontier_mib ", at + 1))
    frontier_mib = std::max(frontier_mib, std::atof(r.err.c_str() + at + 14));
  EXPECT_GE(frontier_mib, 13.5) << "the 10 MB seen-set filter and 4 MiB seen-key cache are counted: " << r.err;
  EXPECT_LT(frontier_mib, 16.0) << "3,001 URLs in one host's window cost little more: " << r.err;
  std::size_t pages = 0;
  for (const auto& q : (*srv)->requests())
    pages += q.target != "/robots.txt";
  EXPECT_EQ(pages, 3u);
}

TEST(resume, store_without_a_saved_crawl_is_a_clear_error) {
  test::temp_dir dir;
  auto r = test::run({"resume", "--db", dir / "nothing"}, 30s);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no crawl store"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace crawld
