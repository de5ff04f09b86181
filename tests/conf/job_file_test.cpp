// Job files: every key maps onto crawl_options; every error is reported with its position.
#include <gtest/gtest.h>

#include <filesystem>

#include "conf/job_file.hpp"

namespace crawld::conf {
namespace {

using namespace std::chrono_literals;

std::string all_errors(const job_load& j) {
  std::string s;
  for (const auto& e : j.errors)
    s += to_string(e) + "\n";
  return s;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(job_file, every_key_maps_to_an_option) {
  auto j = load_job_string(R"(
name = "all"
[crawl]
seeds = ["http://a.example/", "https://b.example/x"]
max_depth = 5
max_pages = 123
max_pages_per_host = 45
concurrency = 7
per_host = 3
delay_ms = 250
db = "out.db"
allow_domains = ["c.example"]
include = ["/docs/"]
exclude = ["\\.pdf$", "logout"]
user_agent = "ua/1"
connect_timeout_s = 1.5
read_timeout_s = 2
timeout_s = 3
max_body_mib = 0.5
max_redirects = 4
keep_non_html = true
parsers = 2
[crawl.headers]
X-One = "1"
Accept = "text/html"
[politeness]
obey_robots = false
robots_ttl_h = 2
max_crawl_delay_s = 5
retries = 1
park_after = 6
backoff_ms = 90000
sitemaps = true
sitemap_probe = true
[traps]
max_url_length = 100
max_path_segments = 9
max_segment_repeats = 1
max_query_params = 0
)",
                           "all.toml");
  ASSERT_TRUE(j.ok()) << all_errors(j);
  const auto& o = j.options;
  EXPECT_EQ(j.name, "all");
  EXPECT_EQ(o.seeds, (std::vector<std::string>{"http://a.example/", "https://b.example/x"}));
  EXPECT_EQ(o.max_depth, 5);
  EXPECT_EQ(o.max_pages, 123u);
  EXPECT_EQ(o.max_pages_per_host, 45u);
  EXPECT_EQ(o.concurrency, 7);
  EXPECT_EQ(o.per_host, 3);
  EXPECT_EQ(o.delay, 250ms);
  EXPECT_EQ(o.db, "out.db");
  EXPECT_EQ(o.allow_domains, std::vector<std::string>{"c.example"});
  EXPECT_EQ(o.include, std::vector<std::string>{"/docs/"});
  EXPECT_EQ(o.exclude, (std::vector<std::string>{"\\.pdf$", "logout"}));
  EXPECT_EQ(o.user_agent, "ua/1");
  using header = std::pair<std::string, std::string>;
  EXPECT_EQ(o.headers, (std::vector<header>{{"X-One", "1"}, {"Accept", "text/html"}}));  // as written
  EXPECT_EQ(o.connect_timeout, 1500ms);
  EXPECT_EQ(o.read_timeout, 2000ms);
  EXPECT_EQ(o.total_timeout, 3000ms);
  EXPECT_EQ(o.max_body_bytes, 512u * 1024);
  EXPECT_EQ(o.max_redirects, 4);
  EXPECT_TRUE(o.keep_non_html_body);
  EXPECT_EQ(o.parsers, 2);
  EXPECT_FALSE(o.obey_robots);
  EXPECT_EQ(o.robots_ttl, 2h);
  EXPECT_EQ(o.max_crawl_delay, 5s);
  EXPECT_EQ(o.max_retries, 1);
  EXPECT_EQ(o.park_after, 6);
  EXPECT_EQ(o.backoff_base, 90s);
  EXPECT_EQ(o.backoff_max, 90s);  // raised to the base, as --backoff does
  EXPECT_TRUE(o.sitemaps);
  EXPECT_TRUE(o.sitemap_probe);
  EXPECT_EQ(o.traps.max_url_length, 100u);
  EXPECT_EQ(o.traps.max_path_segments, 9);
  EXPECT_EQ(o.traps.max_segment_repeats, 1);
  EXPECT_EQ(o.traps.max_query_params, 0);
}

TEST(job_file, defaults_when_absent) {
  auto j = load_job_string("[crawl]\nseeds = [\"http://a.example/\"]\n", "min.toml");
  ASSERT_TRUE(j.ok()) << all_errors(j);
  crawl_options d;
  const auto& o = j.options;
  EXPECT_EQ(j.name, "");
  EXPECT_EQ(o.max_depth, d.max_depth);
  EXPECT_EQ(o.max_pages, d.max_pages);
  EXPECT_EQ(o.concurrency, d.concurrency);
  EXPECT_EQ(o.per_host, d.per_host);
  EXPECT_EQ(o.delay, d.delay);
  EXPECT_EQ(o.db, d.db);
  EXPECT_EQ(o.user_agent, d.user_agent);
  EXPECT_TRUE(o.headers.empty());
  EXPECT_EQ(o.connect_timeout, d.connect_timeout);
  EXPECT_EQ(o.read_timeout, d.read_timeout);
  EXPECT_EQ(o.total_timeout, d.total_timeout);
  EXPECT_EQ(o.max_body_bytes, d.max_body_bytes);
  EXPECT_EQ(o.obey_robots, d.obey_robots);
  EXPECT_EQ(o.robots_ttl, d.robots_ttl);
  EXPECT_EQ(o.backoff_base, d.backoff_base);
  EXPECT_EQ(o.backoff_max, d.backoff_max);
  EXPECT_EQ(o.traps.max_url_length, d.traps.max_url_length);
  EXPECT_TRUE(o.domain_rules.empty());

  auto empty = load_job_string("", "empty.toml");  // seeds may come from the command line
  EXPECT_TRUE(empty.ok()) << all_errors(empty);
  EXPECT_TRUE(empty.options.seeds.empty());
}

TEST(job_file, unknown_key_suggests_nearest) {
  auto j = load_job_string("[crawl]\nmax_dept = 3\n[politeness]\nzzz = 1\n", "t.toml");
  ASSERT_EQ(j.errors.size(), 2u) << all_errors(j);
  EXPECT_EQ(to_string(j.errors[0]), "t.toml:2:1: unknown key 'max_dept' in [crawl]; did you mean 'max_depth'?");
  EXPECT_EQ(j.errors[1].line, 4);
  EXPECT_FALSE(has(j.errors[1].message, "did you mean")) << j.errors[1].message;  // nothing near

  auto top = load_job_string("concurrency = 3\n", "t.toml");
  ASSERT_EQ(top.errors.size(), 1u);
  EXPECT_TRUE(has(top.errors[0].message, "under [crawl]")) << top.errors[0].message;
}

TEST(job_file, unknown_table_reported) {
  auto j = load_job_string("[crawl]\nconcurrency = 2\n\n[polite]\nretries = 1\n\n[extras]\nx = 1\n", "t.toml");
  ASSERT_EQ(j.errors.size(), 2u) << all_errors(j);
  EXPECT_EQ(j.errors[0].line, 4);
  EXPECT_TRUE(has(j.errors[0].message, "unknown table [polite]; did you mean [politeness]?")) << j.errors[0].message;
  EXPECT_EQ(j.errors[1].line, 7);
  EXPECT_TRUE(has(j.errors[1].message, "unknown table [extras]")) << j.errors[1].message;

  auto single = load_job_string("[domain]\nglob = \"x\"\n", "t.toml");  // [[domain]] needed
  ASSERT_EQ(single.errors.size(), 1u) << all_errors(single);
  EXPECT_TRUE(has(single.errors[0].message, "array of tables")) << single.errors[0].message;
}

TEST(job_file, wrong_type_reported_with_position) {
  auto j = load_job_string("[crawl]\nconcurrency = \"8\"\nseeds = \"http://a.example/\"\n"
                           "[politeness]\nobey_robots = 1\n",
                           "t.toml");
  ASSERT_EQ(j.errors.size(), 3u) << all_errors(j);
  EXPECT_EQ(to_string(j.errors[0]), "t.toml:2:15: 'concurrency' must be an integer, got string");
  EXPECT_EQ(j.errors[1].line, 3);
  EXPECT_TRUE(has(j.errors[1].message, "'seeds' must be an array of strings, got string"));
  EXPECT_EQ(j.errors[2].line, 5);
  EXPECT_TRUE(has(j.errors[2].message, "'obey_robots' must be a boolean, got integer"));
}

TEST(job_file, out_of_range_reported) {
  auto j = load_job_string("[crawl]\nconcurrency = 0\nper_host = 5000\ntimeout_s = 0\nmax_pages = -1\n"
                           "[politeness]\nretries = 11\n",
                           "t.toml");
  ASSERT_EQ(j.errors.size(), 5u) << all_errors(j);
  EXPECT_TRUE(has(j.errors[0].message, "'concurrency' is out of range: --concurrency must be between 1 and 4096"))
      << j.errors[0].message;
  EXPECT_EQ(j.errors[0].line, 2);
  EXPECT_TRUE(has(j.errors[1].message, "5000"));
  EXPECT_TRUE(has(j.errors[2].message, "'timeout_s'"));
  EXPECT_TRUE(has(j.errors[3].message, "'max_pages' must be between 0"));
  EXPECT_EQ(j.errors[4].line, 7);
  EXPECT_TRUE(has(j.errors[4].message, "--retries"));
}

TEST(job_file, bad_regex_reported_at_its_line) {
  auto j = load_job_string("[crawl]\ninclude = [\n  \"/ok/\",\n  \"(unclosed\",\n]\nexclude = [\"[z-a]\"]\n", "t.toml");
  ASSERT_EQ(j.errors.size(), 2u) << all_errors(j);
  EXPECT_EQ(j.errors[0].line, 4);
  EXPECT_EQ(j.errors[0].column, 3);
  EXPECT_TRUE(has(j.errors[0].message, "bad regex in 'include': '(unclosed'")) << j.errors[0].message;
  EXPECT_EQ(j.errors[1].line, 6);
  EXPECT_TRUE(has(j.errors[1].message, "'exclude'"));
}

TEST(job_file, regex_with_huge_repetition_count_reported_not_compiled) {
  auto j = load_job_string("[crawl]\nexclude = [\"x{99999999999999999999}\"]\n", "t.toml");
  ASSERT_EQ(j.errors.size(), 1u) << all_errors(j);
  EXPECT_EQ(j.errors[0].line, 2);
  EXPECT_TRUE(has(j.errors[0].message, "repetition count too large")) << j.errors[0].message;
}

TEST(job_file, bad_seed_reported_at_its_line) {
  auto j = load_job_string("[crawl]\nseeds = [\n  \"http://good.example/\",\n  \"not a url\",\n  \"ftp://x.example/\",\n]\n",
                           "t.toml");
  ASSERT_EQ(j.errors.size(), 2u) << all_errors(j);
  EXPECT_EQ(to_string(j.errors[0]), "t.toml:4:3: bad seed in 'seeds': not a valid URL: 'not a url'");
  EXPECT_EQ(j.errors[1].line, 5);
  EXPECT_TRUE(has(j.errors[1].message, "http or https"));
}

TEST(job_file, all_errors_reported_not_just_first) {
  auto j = load_job_string(R"([crawl]
max_dept = 3
concurrency = "x"
include = ["("]
seeds = ["nope"]
[politeness]
park_after = 0
[traps]
max_url_length = -5
[[domain]]
glob = "*.a.example"
per_host = 0
[[domain]]
delay_ms = 5
[bogus]
)",
                           "many.toml");
  std::vector<int> lines;
  for (const auto& e : j.errors)
    lines.push_back(e.line);
  EXPECT_EQ(lines, (std::vector<int>{2, 3, 4, 5, 7, 9, 12, 13, 15})) << all_errors(j);
  for (const auto& e : j.errors)
    EXPECT_EQ(e.file, "many.toml");
}

TEST(job_file, syntax_error_has_line_and_column) {
  auto j = load_job_string("[crawl]\nconcurrency = 4\nper_host = = 2\n", "bad.toml");
  ASSERT_EQ(j.errors.size(), 1u) << all_errors(j);
  EXPECT_EQ(j.errors[0].file, "bad.toml");
  EXPECT_EQ(j.errors[0].line, 3);
  EXPECT_GT(j.errors[0].column, 0);
  EXPECT_FALSE(j.errors[0].message.empty());

  auto dup = load_job_string("[crawl]\nconcurrency = 4\nconcurrency = 5\n", "dup.toml");
  ASSERT_EQ(dup.errors.size(), 1u) << all_errors(dup);
  EXPECT_EQ(dup.errors[0].line, 3);

  auto missing = load_job("/nonexistent/job.toml");
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_EQ(missing.errors[0].line, 0);
  EXPECT_TRUE(has(to_string(missing.errors[0]), "/nonexistent/job.toml: cannot read"));
}

TEST(job_file, examples_load_cleanly) {
  namespace fs = std::filesystem;
  fs::path dir = CRAWLD_TEST_DATA "/../../conf/examples";
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".toml")
      continue;
    ++files;
    auto j = load_job(entry.path().string());
    EXPECT_TRUE(j.ok()) << all_errors(j);
    EXPECT_FALSE(j.options.seeds.empty()) << entry.path();
    EXPECT_TRUE(validate(j.options).ok()) << entry.path();
  }
  EXPECT_GE(files, 2);
}

TEST(job_file, set_overrides_replace_file_values_and_keep_the_rest) {
  auto j = load_job_string("[crawl]\nseeds = [\"http://a.example/\"]\nmax_pages = 5\nmax_depth = 2\n", "job.toml",
                           {"crawl.max_pages=50", "crawl.db=/tmp/x y", "crawl.include=[\"/docs/\"]", "name=\"renamed\""});
  ASSERT_TRUE(j.ok()) << (j.errors.empty() ? "" : to_string(j.errors.front()));
  EXPECT_EQ(j.options.max_pages, 50u);
  EXPECT_EQ(j.options.max_depth, 2);          // untouched keys of the same table stay
  EXPECT_EQ(j.options.db, "/tmp/x y");        // not TOML: taken as a string
  EXPECT_EQ(j.options.include, std::vector<std::string>{"/docs/"});
  EXPECT_EQ(j.name, "renamed");
  ASSERT_EQ(j.options.seeds.size(), 1u);
}

TEST(job_file, set_override_errors_name_the_override) {
  auto j = load_job_string("[crawl]\nmax_pages = 5\n", "job.toml", {"crawl.max_pagez=3"});
  ASSERT_EQ(j.errors.size(), 1u);
  EXPECT_EQ(j.errors[0].file, "--set crawl.max_pagez=3");
  EXPECT_NE(j.errors[0].message.find("did you mean 'max_pages'"), std::string::npos) << j.errors[0].message;

  auto typed = load_job_string("", "job.toml", {"crawl.max_pages=many"});
  ASSERT_EQ(typed.errors.size(), 1u);
  EXPECT_EQ(typed.errors[0].file, "--set crawl.max_pages=many");
  EXPECT_NE(typed.errors[0].message.find("must be an integer"), std::string::npos) << typed.errors[0].message;

  auto shape = load_job_string("", "job.toml", {"max_pages"});
  ASSERT_EQ(shape.errors.size(), 1u);
  EXPECT_NE(shape.errors[0].message.find("TABLE.KEY=VALUE"), std::string::npos);
}

TEST(job_file, domain_rules_parsed) {
  auto j = load_job_string(R"(
[[domain]]
glob = "*.slow.example"
delay_ms = 2000
per_host = 1

[[domain]]
glob = "fast.example"
per_host = 16

[[domain]]
glob = "?.example"
delay_ms = 0
)",
                           "d.toml");
  ASSERT_TRUE(j.ok()) << all_errors(j);
  const auto& r = j.options.domain_rules;
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].glob, "*.slow.example");
  EXPECT_EQ(r[0].delay, std::optional<std::chrono::milliseconds>(2000ms));
  EXPECT_EQ(r[0].per_host, std::optional<int>(1));
  EXPECT_EQ(r[1].glob, "fast.example");
  EXPECT_FALSE(r[1].delay);
  EXPECT_EQ(r[1].per_host, std::optional<int>(16));
  EXPECT_EQ(r[2].delay, std::optional<std::chrono::milliseconds>(0ms));
  EXPECT_FALSE(r[2].per_host);
  EXPECT_EQ(match_rule(r, "a.slow.example"), &r[0]);

  auto bad = load_job_string("[[domain]]\nglob = \"x\"\nper_hots = 2\n", "d.toml");
  ASSERT_EQ(bad.errors.size(), 1u) << all_errors(bad);
  EXPECT_TRUE(has(bad.errors[0].message, "in [[domain]]; did you mean 'per_host'?")) << bad.errors[0].message;

  auto no_glob = load_job_string("[[domain]]\nglob = \"ok\"\n[[domain]]\nper_host = 2\n", "d.toml");
  ASSERT_EQ(no_glob.errors.size(), 1u) << all_errors(no_glob);  // not also validate's "empty glob"
  EXPECT_EQ(no_glob.errors[0].line, 3);
  EXPECT_TRUE(has(no_glob.errors[0].message, "needs a 'glob'")) << no_glob.errors[0].message;
}

}  // namespace
}  // namespace crawld::conf
