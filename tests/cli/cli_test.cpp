// The crawld binary as a user runs it: exit codes, messages, signals, output.
#include <gtest/gtest.h>
#include <sched.h>

#include <filesystem>
#include <set>
#include <sstream>

#include "process.hpp"
#include "storage/store.hpp"
#include "tests/site.hpp"
#include "tests/temp_dir.hpp"
#include "testsite/server.hpp"

namespace crawld {
namespace {

using test::run;
using test::start_site;
using test::temp_dir;
using namespace std::chrono_literals;


/// Requests the site served, robots.txt not counted (crawls store pages, not robots.txt).
std::size_t page_requests(const testsite::server& site) {
  std::size_t n = 0;
  for (const auto& r : site.requests())
    n += r.target != "/robots.txt";
  return n;
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

TEST(cli, version_names_crawld_and_its_libraries) {
  auto r = run({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  for (auto lib : {"crawld ", "CAF 0.17", "cpp-httplib 0.11", "gumbo 0.10", "RocksDB 7."})
    EXPECT_TRUE(contains(r.out, lib)) << lib << " missing in: " << r.out;
}

TEST(cli, every_subcommand_has_help) {
  for (auto cmd : {"crawl", "stats", "url", "links", "testsite"}) {
    auto r = run({cmd, "--help"});
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_TRUE(contains(r.out, "Usage")) << cmd << ": " << r.out;
  }
}

TEST(cli, unknown_flag_is_usage_error) {
  auto r = run({"crawl", "http://127.0.0.1:9/", "--no-such-flag"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "no-such-flag")) << r.err;
}

TEST(cli, malformed_seed_url_is_usage_error_naming_it) {
  auto r = run({"crawl", "http://exa mple.com:99999/"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "exa mple.com")) << r.err;
  auto r2 = run({"crawl", "ftp://127.0.0.1/"});
  EXPECT_EQ(r2.exit_code, 2);
  EXPECT_TRUE(contains(r2.err, "http or https")) << r2.err;
}

TEST(cli, unreachable_seed_is_runtime_error_naming_it) {
  auto r = run({"crawl", "http://127.0.0.1:9/", "--connect-timeout", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "seed unreachable: http://127.0.0.1:9/")) << r.err;
}

TEST(cli, directory_that_is_not_a_store_is_refused_untouched) {
  temp_dir d;
  std::filesystem::create_directories(d.path() + "/x");
  { std::ofstream(d.path() + "/x/notes.txt") << "mine"; }
  auto r = run({"crawl", "http://127.0.0.1:9/", "--db", d.path() + "/x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "not a crawld store")) << r.err;
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(d.path() + "/x"), {}), 1);
}

TEST(cli, unwritable_db_path_is_clear_error) {
  temp_dir d;
  { std::ofstream(d.path() + "/file") << "x"; }
  auto r = run({"crawl", "http://127.0.0.1:9/", "--db", d.path() + "/file/db"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, d.path() + "/file/db")) << r.err;
}

TEST(cli, crawl_then_stats_reads_the_store) {
  auto site = start_site(2, 40);
  ASSERT_TRUE(site);
  temp_dir d;
  auto db = d.path() + "/db";
  auto r = run({"crawl", site->model().origin(0) + "/", site->model().origin(1) + "/", "--db", db});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "crawled ")) << r.out;
  EXPECT_TRUE(contains(r.out, "outcomes: ok ")) << r.out;
  EXPECT_TRUE(r.err.empty()) << "no progress line when stderr is not a terminal: " << r.err;
  auto s = run({"stats", "--db", db});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  auto n = page_requests(*site);
  EXPECT_TRUE(contains(s.out, "pages:      " + std::to_string(n))) << s.out;
  EXPECT_TRUE(contains(s.out, site->model().origin(0))) << s.out;
}

TEST(cli, second_crawl_on_a_locked_store_is_refused) {
  auto site = start_site(1, 200, 50ms);
  ASSERT_TRUE(site);
  temp_dir d;
  auto db = d.path() + "/db";
  test::child first({"crawl", site->model().origin(0) + "/", "--db", db, "--concurrency", "2"});
  for (int i = 0; i < 200 && site->requests().size() < 3; ++i)
    std::this_thread::sleep_for(20ms);
  auto second = run({"crawl", site->model().origin(0) + "/", "--db", db});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_TRUE(contains(second.err, "locked")) << second.err;
  first.signal(SIGTERM);
  auto r = first.wait(20s);
  EXPECT_EQ(r.exit_code, 143) << r.err;
}

TEST(cli, sigint_stops_cleanly_and_store_stays_readable) {
  auto site = start_site(2, 400, 20ms);
  ASSERT_TRUE(site);
  temp_dir d;
  auto db = d.path() + "/db";
  test::child c({"crawl", site->model().origin(0) + "/", site->model().origin(1) + "/", "--db", db,
                 "--concurrency", "8"});
  for (int i = 0; i < 500 && site->requests().size() < 40; ++i)
    std::this_thread::sleep_for(10ms);
  ASSERT_GE(site->requests().size(), 40u);
  c.signal(SIGINT);
  auto r = c.wait(20s);
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_LT(r.took, 15s);
  EXPECT_TRUE(contains(r.out, "interrupted after")) << r.out;
  auto served = page_requests(*site);
  auto st = storage::store::open(db, storage::open_options{false, true});
  ASSERT_TRUE(st.ok()) << st.message();
  std::uint64_t stored = 0;
  (*st)->for_each_page([&](const storage::page_record&) { return ++stored, true; });
  EXPECT_EQ(stored, served) << "every request made before the stop is stored";
}

TEST(cli, second_sigint_exits_at_once) {
  auto site = start_site(1, 50, 3000ms);  // every request hangs 3 s
  ASSERT_TRUE(site);
  test::child c({"crawl", site->model().origin(0) + "/", "--concurrency", "2"});
  for (int i = 0; i < 200 && site->requests().empty(); ++i)
    std::this_thread::sleep_for(10ms);
  c.signal(SIGINT);
  std::this_thread::sleep_for(100ms);
  c.signal(SIGINT);
  auto r = c.wait(10s);
  EXPECT_EQ(r.exit_code, 130);
  EXPECT_LT(r.took, 2500ms);
}

TEST(cli, url_resolves_and_normalizes) {
  auto r = run({"url", "http://a.example/x/y.html", "../z?b=2#f", "HTTP://A.EXAMPLE:80/%7Euser/./a"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(contains(r.out, "resolved:   http://a.example/z?b=2#f")) << r.out;
  EXPECT_TRUE(contains(r.out, "normalized: http://a.example/z?b=2\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "normalized: http://a.example/~user/a")) << r.out;
}

TEST(cli, links_lists_followed_and_skipped_with_reasons) {
  temp_dir d;
  auto file = d.path() + "/page.html";
  {
    std::ofstream(file) << "<html><head><base href='/dir/'></head><body>"
                           "<a href='a.html'>a</a><a rel='nofollow' href='/b'>b</a>"
                           "<a href='mailto:x@y'>m</a></body></html>";
  }
  auto r = run({"links", file, "--base", "http://h.example/start/index.html"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "follow http://h.example/dir/a.html")) << r.out;
  EXPECT_TRUE(contains(r.out, "skip   /b (nofollow)")) << r.out;
  EXPECT_TRUE(contains(r.out, "(unsupported_scheme)")) << r.out;
  auto missing = run({"links", d.path() + "/nope.html", "--base", "http://h.example/"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(contains(missing.err, "nope.html")) << missing.err;
}

TEST(cli, robots_shows_the_deciding_rule_per_url) {
  temp_dir d;
  auto file = d.path() + "/robots.txt";
  { std::ofstream(file) << "User-agent: *\nDisallow: /private/\nAllow: /private/ok\nCrawl-delay: 2\n"; }
  auto r = run({"robots", file, "crawld/1.0", "http://a.example/private/x", "http://a.example/private/ok",
                "http://a.example/public"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "disallowed http://a.example/private/x")) << r.out;
  EXPECT_TRUE(contains(r.out, "disallow: /private/ at line 2")) << r.out;
  EXPECT_TRUE(contains(r.out, "allowed    http://a.example/private/ok")) << r.out;
  EXPECT_TRUE(contains(r.out, "allow: /private/ok at line 3")) << r.out;
  EXPECT_TRUE(contains(r.out, "crawl-delay: 2")) << r.out;
  auto site = start_site(1, 5);
  ASSERT_TRUE(site);
  auto live = run({"robots", site->model().origin(0) + "/robots.txt", "crawld",
                   site->model().origin(0) + "/private/1.html"});
  EXPECT_EQ(live.exit_code, 0) << live.err;
  EXPECT_TRUE(contains(live.out, "disallowed")) << live.out;
  auto bad = run({"robots", d.path() + "/missing.txt", "crawld", "http://a.example/"});
  EXPECT_EQ(bad.exit_code, 1);
}

TEST(cli, ignore_robots_says_so_loudly) {
  auto site = start_site(1, 5);
  ASSERT_TRUE(site);
  auto r = run({"crawl", site->model().origin(0) + "/", "--ignore-robots"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "--ignore-robots")) << r.err;
}

TEST(cli, progress_line_only_on_a_terminal) {
  auto site = start_site(1, 80, 10ms);
  ASSERT_TRUE(site);
  // script(1) gives the crawl a pseudo-terminal; its output is what a user would see.
  std::string cmd = std::string(CRAWLD_BINARY) + " crawl " + site->model().origin(0) + "/ --concurrency 2";
  FILE* p = popen(("script -qfec '" + cmd + "' /dev/null 2>&1").c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  while (std::size_t n = fread(buf, 1, sizeof buf, p))
    out.append(buf, n);
  EXPECT_EQ(pclose(p), 0);
  EXPECT_TRUE(contains(out, " pages/s | queued ")) << out.substr(0, 400);
  EXPECT_TRUE(contains(out, "\r\033[K")) << "the line is redrawn in place";
  EXPECT_TRUE(contains(out, "crawled ")) << "the summary follows";
}

TEST(cli, run_job_file_crawls_and_check_validates) {
  auto site = start_site(1, 40);
  ASSERT_TRUE(site);
  temp_dir d;
  auto job = d.path() + "/job.toml";
  {
    std::ofstream(job) << "name = \"t\"\n[crawl]\nseeds = [\"" << site->model().origin(0)
                       << "/\"]\nconcurrency = 4\nmax_pages = 15\ndb = \"" << d.path() << "/db\"\n"
                       << "[politeness]\nobey_robots = false\n";  // so all 15 admitted URLs are requested
  }
  auto check = run({"run", job, "--check"});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  EXPECT_TRUE(site->requests().empty()) << "--check fetches nothing";
  auto r = run({"run", job});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(page_requests(*site), 15u) << r.out;
  EXPECT_TRUE(contains(r.err, "obey_robots = false")) << "the job's robots setting took effect: " << r.err;
  EXPECT_TRUE(std::filesystem::exists(d.path() + "/db/CURRENT"));
  { std::ofstream(d.path() + "/bad.toml") << "[crawl]\nmax_dept = 3\n"; }
  auto bad = run({"run", d.path() + "/bad.toml"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(contains(bad.err, "bad.toml:2:1: unknown key 'max_dept' in [crawl]; did you mean 'max_depth'?")) << bad.err;
}

// The scheduling policy (field 41 of /proc/PID/task/TID/stat) of each thread of a process.
std::vector<int> thread_policies(pid_t pid) {
  std::vector<int> out;
  std::error_code ec;
  for (const auto& t : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(t.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = stat.rfind(')');  // the thread name may hold spaces; fields follow its ')'
    if (close == std::string::npos)
      continue;
    std::istringstream fields(stat.substr(close + 2));
    std::string f;
    for (int i = 3; i <= 41 && fields >> f; ++i)
      if (i == 41)
        out.push_back(std::stoi(f));
  }
  return out;
}

std::set<int> policies_of_a_running_crawl(const std::string& seed) {
  temp_dir d;
  test::child c({"crawl", seed, "--db", d.path() + "/db", "--concurrency", "2", "--per-host", "1", "-q"});
  std::vector<int> seen;
  for (int i = 0; i < 100 && seen.size() < 6; ++i) {  // the CAF workers, queue and RocksDB threads start at once
    std::this_thread::sleep_for(20ms);
    seen = thread_policies(c.pid());
  }
  c.signal(SIGTERM);
  c.wait(20s);
  return std::set<int>(seen.begin(), seen.end());
}

// Wake-up preemption made every hand-off between a crawl's threads a context switch: crawld
// runs as SCHED_BATCH (3), every thread of it, unless CRAWLD_SCHED=normal keeps SCHED_OTHER (0).
TEST(cli, crawl_threads_run_as_sched_batch_unless_told_otherwise) {
  auto site = start_site(1, 400, 20ms);
  ASSERT_TRUE(site);
  EXPECT_EQ(policies_of_a_running_crawl(site->model().origin(0) + "/"), std::set<int>{SCHED_BATCH});
  setenv("CRAWLD_SCHED", "normal", 1);
  auto normal = policies_of_a_running_crawl(site->model().origin(0) + "/");
  unsetenv("CRAWLD_SCHED");
  EXPECT_EQ(normal, std::set<int>{SCHED_OTHER});
}

TEST(cli, testsite_port_in_use_is_clear_error) {
  auto site = start_site(1, 5);
  ASSERT_TRUE(site);
  auto r = run({"testsite", "--hosts", "1", "--address", site->model().address(0), "--port",
                std::to_string(site->port())},
               10s);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, std::to_string(site->port()))) << r.err;
}

}  // namespace
}  // namespace crawld
