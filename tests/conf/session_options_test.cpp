// HTTP session options: defaults, validation, and their job-file keys.
#include <gtest/gtest.h>

#include "conf/crawl_options.hpp"
#include "conf/job_file.hpp"

namespace crawld::conf {
namespace {

crawl_options with_seed() {
  crawl_options o;
  o.seeds = {"http://example.com/"};
  return o;
}

TEST(session_options, default_user_agent_carries_the_contact_url) {
  EXPECT_EQ(default_user_agent("1.2.3", ""), "crawld/1.2.3");
  EXPECT_EQ(default_user_agent("1.2.3", "https://example.org/bot"), "crawld/1.2.3 (+https://example.org/bot)");
}

TEST(session_options, bad_proxy_is_rejected_without_showing_the_password) {
  auto o = with_seed();
  o.proxy = "socks5://alice:s3cret@127.0.0.1:1080";
  auto r = validate(o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("--proxy"), std::string::npos) << r.message();
  EXPECT_EQ(r.message().find("s3cret"), std::string::npos) << r.message();
  o.proxy = "http://alice:s3cret@127.0.0.1:3128";
  EXPECT_TRUE(validate(o));
  EXPECT_EQ(redact_proxy_url(o.proxy), "http://***@127.0.0.1:3128");
}

TEST(session_options, resolve_entries_must_be_host_port_numeric_address) {
  auto o = with_seed();
  o.resolve = {"site-a.test:8080:127.0.0.10", "[::1]:443:[::1]"};
  EXPECT_TRUE(validate(o)) << validate(o).message();
  for (const char* bad : {"site-a.test", "site-a.test:80", "site-a.test:x:127.0.0.1", "site-a.test:80:name", "h:0:127.0.0.1"}) {
    o.resolve = {bad};
    auto r = validate(o);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.message().find("HOST:PORT:ADDR"), std::string::npos);
  }
}

TEST(session_options, seed_cookie_needs_url_and_name_value) {
  auto o = with_seed();
  o.seed_cookies = {"http://example.com/ sid=1; Path=/"};
  EXPECT_TRUE(validate(o));
  o.seed_cookies = {"sid=1"};
  EXPECT_FALSE(validate(o));
}

TEST(session_options, job_file_keys_set_the_session) {
  auto job = load_job_string(R"(
[crawl]
seeds = ["http://example.com/"]
contact = "https://example.org/bot"
cookies = true
unsafe_cookies = true
seed_cookies = ["http://example.com/ sid=1"]
proxy = "http://u:p@127.0.0.1:3128"
resolve = ["example.com:80:127.0.0.10"]
dns_ttl_s = 5
ca_file = "/etc/ssl/certs/ca-certificates.crt"
insecure = false

[[domain]]
glob = "*.example.com"
headers = { "X-Team" = "crawl", "Accept-Language" = "fr" }
proxy = "direct"
)", "job.toml");
  ASSERT_TRUE(job.ok()) << (job.errors.empty() ? "" : to_string(job.errors[0]));
  const auto& o = job.options;
  EXPECT_EQ(o.contact, "https://example.org/bot");
  EXPECT_TRUE(o.unsafe_cookies);
  EXPECT_EQ(o.seed_cookies.size(), 1u);
  EXPECT_EQ(o.proxy, "http://u:p@127.0.0.1:3128");
  EXPECT_EQ(o.resolve, std::vector<std::string>{"example.com:80:127.0.0.10"});
  EXPECT_EQ(o.dns_ttl, std::chrono::seconds(5));
  EXPECT_EQ(o.ca_file, "/etc/ssl/certs/ca-certificates.crt");
  ASSERT_EQ(o.domain_rules.size(), 1u);
  EXPECT_EQ(o.domain_rules[0].proxy, "direct");
  ASSERT_EQ(o.domain_rules[0].headers.size(), 2u);
  EXPECT_EQ(o.domain_rules[0].headers[0].first, "X-Team");  // in the order written
}

TEST(session_options, job_file_errors_point_at_the_bad_session_value) {
  auto job = load_job_string("[crawl]\nseeds = [\"http://example.com/\"]\nresolve = [\"nonsense\"]\nproxy = \"ftp://x:secret@h\"\n",
                             "job.toml");
  ASSERT_EQ(job.errors.size(), 2u);
  EXPECT_EQ(job.errors[0].line, 3);
  EXPECT_NE(job.errors[0].message.find("HOST:PORT:ADDR"), std::string::npos) << job.errors[0].message;
  EXPECT_EQ(job.errors[1].line, 4);
  EXPECT_EQ(job.errors[1].message.find("secret"), std::string::npos) << job.errors[1].message;
}

}  // namespace
}  // namespace crawld::conf
