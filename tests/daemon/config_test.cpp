// The daemon's plain parts: its JSON reader, its config file (the shipped example included, so
// it never rots), JSON jobs, and `crawld run` flags overriding job-file values.
#include "conf/daemon_config.hpp"
#include "storage/store.hpp"
#include "tests/daemon/daemon_helpers.hpp"

namespace crawld {
namespace {

using namespace test;

TEST(json, reads_nested_values_escapes_and_surrogate_pairs) {
  auto j = conf::parse_json(R"( {"a": [1, -2.5e1, true, null, "x\"\\\/\n\u00e9\ud83d\ude00"], "b": {"c": 9007199254740993}} )");
  ASSERT_TRUE(j.ok()) << j.message();
  const auto* a = j->find("a");
  ASSERT_TRUE(a);
  ASSERT_EQ(a->items.size(), 5u);
  EXPECT_TRUE(a->items[0].is_int);
  EXPECT_EQ(a->items[0].i, 1);
  EXPECT_FALSE(a->items[1].is_int);
  EXPECT_EQ(a->items[1].num, -25);
  EXPECT_TRUE(a->items[2].b);
  EXPECT_EQ(a->items[3].type, conf::json::kind::null);
  EXPECT_EQ(a->items[4].str, "x\"\\/\n\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(j->find("b")->find("c")->i, 9007199254740993);  // exact, not through a double
}

TEST(json, errors_name_line_and_column_and_deep_nesting_is_refused) {
  auto bad = conf::parse_json("{\n  \"a\": [1,,2]\n}");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.message(), "line 2, column 11: unexpected character ','");
  for (const char* text : {"", "{", "[1] x", "\"\\x\"", "\"\\ud800\"", "01", "1.", "tru", "{\"a\" 1}", "\"a\nb\""})
    EXPECT_FALSE(conf::parse_json(text).ok()) << text;
  EXPECT_FALSE(conf::parse_json(std::string(100000, '[')).ok());
  EXPECT_TRUE(conf::parse_json(std::string(60, '[') + std::string(60, ']')).ok());
}

TEST(json, quote_escapes_what_json_requires) {
  EXPECT_EQ(conf::quote("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
}

TEST(daemon_config, shipped_example_loads_with_its_documented_values) {
  auto c = conf::load_daemon_config(std::string(CRAWLD_TEST_DATA) + "/../../deploy/crawld.toml");
  for (const auto& e : c.errors)
    ADD_FAILURE() << conf::to_string(e);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.config.listen, "127.0.0.1");
  EXPECT_EQ(c.config.state_dir, "/var/lib/crawld");
  EXPECT_TRUE(conf::is_loopback(c.config.listen));
}

TEST(daemon_config, every_error_has_file_line_column) {
  auto c = conf::load_daemon_config_string("listen = \"localhost\"\nport = 70000\nmax_jobz = 3\n", "d.toml");
  ASSERT_EQ(c.errors.size(), 3u);
  EXPECT_EQ(conf::to_string(c.errors[0]), "d.toml:1:10: 'listen' must be an IP address, got 'localhost'");
  EXPECT_EQ(conf::to_string(c.errors[1]), "d.toml:2:8: 'port' must be between 1 and 65535, got 70000");
  EXPECT_EQ(conf::to_string(c.errors[2]), "d.toml:3:1: unknown key 'max_jobz'; did you mean 'max_jobs'?");
  EXPECT_TRUE(conf::is_loopback("127.9.8.7"));
  EXPECT_TRUE(conf::is_loopback("::1"));
  EXPECT_FALSE(conf::is_loopback("0.0.0.0"));
  EXPECT_FALSE(conf::is_loopback("10.0.0.1"));
}

TEST(daemon_config, json_job_takes_the_job_file_keys_and_its_validation) {
  auto t = conf::job_toml_from_json(
    R"({"name": "j", "crawl": {"seeds": ["http://127.0.0.1:9/"], "max_pages": 5, "timeout_s": 2.5},
        "domain": [{"glob": "*.example", "delay_ms": 100}]})");
  ASSERT_TRUE(t.ok()) << t.message();
  auto job = conf::load_job_string(*t, "job");
  ASSERT_TRUE(job.ok()) << conf::to_string(job.errors.front());
  EXPECT_EQ(job.name, "j");
  EXPECT_EQ(job.options.max_pages, 5u);
  EXPECT_EQ(job.options.total_timeout, std::chrono::milliseconds(2500));
  ASSERT_EQ(job.options.domain_rules.size(), 1u);
  EXPECT_EQ(job.options.domain_rules[0].delay, std::chrono::milliseconds(100));
  auto typo = conf::load_job_string(*conf::job_toml_from_json(R"({"crawl": {"max_dept": 1}})"), "job");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.errors[0].message.find("did you mean 'max_depth'?"), std::string::npos);
  EXPECT_FALSE(conf::job_toml_from_json("[]").ok());
  EXPECT_FALSE(conf::job_toml_from_json(R"({"crawl": {"seeds": [null]}})").ok());
}

TEST(run_flags, override_the_job_file_values) {
  auto site = start_site(1, 200, std::chrono::milliseconds(0));
  ASSERT_TRUE(site);
  temp_dir dir;
  write_text(dir / "job.toml", "[crawl]\nseeds = [\"" + site->model().origin(0) + "/\"]\nmax_pages = 100\ndb = \"" +
                                   (dir / "file.db") + "\"\n[politeness]\nobey_robots = false\n");
  auto r = run({"run", dir / "job.toml", "--max-pages", "7", "--db", dir / "flag.db", "-q"}, 60s);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(site->requests().size(), 7u) << "--max-pages 7 did not override max_pages = 100";
  EXPECT_TRUE(std::filesystem::exists(dir / "flag.db"));
  EXPECT_FALSE(std::filesystem::exists(dir / "file.db")) << "--db did not override db";
  r = run({"run", dir / "job.toml", "--max-pages", "-3"}, 20s);
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace crawld
