// RFC 6265 cookie jar: test names cite the section whose rule they check.
#include "fetch/cookie_jar.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace crawld::fetch {
namespace {

using namespace std::chrono_literals;

parse::url url(const std::string& s) {
  auto u = parse::parse_url(s);
  EXPECT_TRUE(u) << s;
  return u.value_or(parse::url{});
}

const auto t0 = cookie_jar::clock::from_time_t(1'700'000'000);

TEST(cookie_jar, rfc6265_5_1_1_cookie_dates_in_the_three_http_forms) {
  std::int64_t t = 0;
  ASSERT_TRUE(parse_cookie_date("Sun, 06 Nov 1994 08:49:37 GMT", t));
  EXPECT_EQ(t, 784111777);
  ASSERT_TRUE(parse_cookie_date("Sunday, 06-Nov-94 08:49:37 GMT", t));
  EXPECT_EQ(t, 784111777);
  ASSERT_TRUE(parse_cookie_date("Sun Nov  6 08:49:37 1994", t));
  EXPECT_EQ(t, 784111777);
  EXPECT_FALSE(parse_cookie_date("tomorrow", t));
  EXPECT_FALSE(parse_cookie_date("Sun, 31 Feb 2020 08:49:37 GMT", t));
  EXPECT_FALSE(parse_cookie_date("Sun, 06 Nov 1994 25:49:37 GMT", t));
}

TEST(cookie_jar, rfc6265_5_1_3_domain_matching) {
  EXPECT_TRUE(domain_match("example.com", "example.com"));
  EXPECT_TRUE(domain_match("a.b.example.com", "example.com"));
  EXPECT_FALSE(domain_match("badexample.com", "example.com"));
  EXPECT_FALSE(domain_match("example.com", "a.example.com"));
  EXPECT_FALSE(domain_match("10.0.0.1", "0.0.1"));  // IP addresses match only themselves
  EXPECT_TRUE(domain_match("10.0.0.1", "10.0.0.1"));
}

TEST(cookie_jar, rfc6265_5_1_4_path_matching) {
  EXPECT_TRUE(path_match("/a/b", "/a"));
  EXPECT_TRUE(path_match("/a/b", "/a/"));
  EXPECT_TRUE(path_match("/a", "/a"));
  EXPECT_FALSE(path_match("/ab", "/a"));
  EXPECT_FALSE(path_match("/", "/a"));
}

TEST(cookie_jar, rfc6265_5_3_host_only_cookie_is_not_sent_to_subdomains) {
  cookie_jar jar;
  ASSERT_TRUE(jar.set(url("http://example.com/"), "sid=1", t0));
  EXPECT_EQ(jar.header_for(url("http://example.com/x"), t0), "sid=1");
  EXPECT_EQ(jar.header_for(url("http://www.example.com/x"), t0), "");
  EXPECT_EQ(jar.header_for(url("http://other.org/x"), t0), "");
}

TEST(cookie_jar, rfc6265_5_3_domain_cookie_is_sent_to_subdomains) {
  cookie_jar jar;
  ASSERT_TRUE(jar.set(url("http://www.example.com/"), "sid=1; Domain=.Example.COM", t0));
  EXPECT_EQ(jar.header_for(url("http://example.com/"), t0), "sid=1");
  EXPECT_EQ(jar.header_for(url("http://a.b.example.com/"), t0), "sid=1");
  EXPECT_EQ(jar.header_for(url("http://notexample.com/"), t0), "");
}

TEST(cookie_jar, rfc6265_5_3_step_6_domain_not_matching_the_host_is_refused) {
  cookie_jar jar;
  std::string why;
  EXPECT_FALSE(jar.set(url("http://www.example.com/"), "sid=1; Domain=other.com", t0, &why));
  EXPECT_NE(why.find("does not match"), std::string::npos) << why;
  EXPECT_FALSE(jar.set(url("http://example.com/"), "sid=1; Domain=www.example.com", t0));
  EXPECT_EQ(jar.size(), 0u);
}

TEST(cookie_jar, rfc6265_5_3_step_5_bare_top_level_domain_is_refused) {
  cookie_jar jar;
  std::string why;
  EXPECT_FALSE(jar.set(url("http://www.example.com/"), "sid=1; Domain=com", t0, &why));
  EXPECT_NE(why.find("top-level"), std::string::npos) << why;
  EXPECT_EQ(jar.size(), 0u);
  // A single-label host may set a cookie for itself: it becomes host-only.
  EXPECT_TRUE(jar.set(url("http://localhost/"), "sid=2; Domain=localhost", t0));
  EXPECT_EQ(jar.header_for(url("http://localhost/"), t0), "sid=2");
}

TEST(cookie_jar, ip_address_hosts_refused_unless_unsafe) {
  cookie_jar strict;
  std::string why;
  EXPECT_FALSE(strict.set(url("http://127.0.0.1:8080/"), "sid=1", t0, &why));
  EXPECT_NE(why.find("IP-address"), std::string::npos) << why;
  EXPECT_EQ(strict.size(), 0u);
  cookie_jar unsafe(true);
  EXPECT_TRUE(unsafe.set(url("http://127.0.0.1:8080/"), "sid=1", t0));
  EXPECT_EQ(unsafe.header_for(url("http://127.0.0.1:9090/a"), t0), "sid=1");  // cookies ignore ports
  EXPECT_EQ(unsafe.header_for(url("http://127.0.0.2:8080/a"), t0), "");
  // Configured seed cookies are accepted for IP hosts even by a strict jar.
  EXPECT_TRUE(strict.seed(url("http://127.0.0.1/"), "token=x"));
  EXPECT_EQ(strict.header_for(url("http://127.0.0.1/"), cookie_jar::clock::now()), "token=x");
}

TEST(cookie_jar, rfc6265_5_2_4_path_attribute_and_5_1_4_default_path) {
  cookie_jar jar;
  ASSERT_TRUE(jar.set(url("http://example.com/docs/page.html"), "a=1", t0));          // default path /docs
  ASSERT_TRUE(jar.set(url("http://example.com/docs/page.html"), "b=2; Path=/", t0));
  ASSERT_TRUE(jar.set(url("http://example.com/"), "c=3; Path=/docs/deep", t0));
  EXPECT_EQ(jar.header_for(url("http://example.com/other"), t0), "b=2");
  EXPECT_EQ(jar.header_for(url("http://example.com/docs/x"), t0), "a=1; b=2");
  // 5.4 step 2: longer paths first.
  EXPECT_EQ(jar.header_for(url("http://example.com/docs/deep/x"), t0), "c=3; a=1; b=2");
}

TEST(cookie_jar, rfc6265_5_2_2_max_age_wins_over_expires_and_expired_cookies_are_not_sent) {
  cookie_jar jar;
  ASSERT_TRUE(jar.set(url("http://example.com/"), "a=1; Max-Age=60; Expires=Sun, 06 Nov 1994 08:49:37 GMT", t0));
  ASSERT_TRUE(jar.set(url("http://example.com/"), "b=2; Expires=Sun, 06 Nov 1994 08:49:37 GMT", t0));
  EXPECT_EQ(jar.header_for(url("http://example.com/"), t0), "a=1");
  EXPECT_EQ(jar.header_for(url("http://example.com/"), t0 + 61s), "");
}

TEST(cookie_jar, rfc6265_5_3_step_11_same_name_replaces_and_max_age_zero_deletes) {
  cookie_jar jar;
  ASSERT_TRUE(jar.set(url("http://example.com/"), "a=1", t0));
  ASSERT_TRUE(jar.set(url("http://example.com/"), "a=2", t0 + 1s));
  EXPECT_EQ(jar.header_for(url("http://example.com/"), t0 + 1s), "a=2");
  EXPECT_EQ(jar.size(), 1u);
  ASSERT_TRUE(jar.set(url("http://example.com/"), "a=gone; Max-Age=0", t0 + 2s));
  EXPECT_EQ(jar.size(), 0u);
}

TEST(cookie_jar, rfc6265_5_4_secure_cookies_only_over_https_and_only_from_https) {
  cookie_jar jar;
  std::string why;
  EXPECT_FALSE(jar.set(url("http://example.com/"), "s=1; Secure", t0, &why));
  ASSERT_TRUE(jar.set(url("https://example.com/"), "s=1; Secure; HttpOnly", t0));
  EXPECT_EQ(jar.header_for(url("http://example.com/"), t0), "");
  EXPECT_EQ(jar.header_for(url("https://example.com/"), t0), "s=1");
  auto all = jar.all();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_TRUE(all[0].http_only);
}

TEST(cookie_jar, rfc6265_5_2_malformed_set_cookie_is_ignored) {
  cookie_jar jar;
  EXPECT_FALSE(jar.set(url("http://example.com/"), "novalue", t0));
  EXPECT_FALSE(jar.set(url("http://example.com/"), "=x", t0));
  EXPECT_FALSE(jar.set(url("http://example.com/"), "a=b\x01", t0));
  EXPECT_EQ(jar.size(), 0u);
}

TEST(cookie_jar, limits_evict_the_oldest_cookie_of_a_domain) {
  cookie_jar jar(false, 100, 3);
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(jar.set(url("http://example.com/"), "c" + std::to_string(i) + "=v", t0 + std::chrono::seconds(i)));
  EXPECT_EQ(jar.size(), 3u);
  EXPECT_EQ(jar.header_for(url("http://example.com/"), t0 + 10s), "c2=v; c3=v; c4=v");
}

TEST(cookie_jar, serialize_and_load_keep_session_and_persistent_cookies) {
  const auto now = cookie_jar::clock::now();
  cookie_jar jar;
  ASSERT_TRUE(jar.set(url("http://example.com/a/b"), "sess=1", now));
  ASSERT_TRUE(jar.set(url("https://www.example.com/"), "p=2; Domain=example.com; Max-Age=3600; Secure", now));
  ASSERT_TRUE(jar.set(url("http://example.com/"), "old=3; Max-Age=1", now - 10s));  // already expired
  cookie_jar back;
  ASSERT_TRUE(back.load(jar.serialize(now)));
  EXPECT_EQ(back.size(), 2u);
  EXPECT_EQ(back.header_for(url("https://example.com/a/x"), now), "sess=1; p=2");
  EXPECT_EQ(back.header_for(url("http://www.example.com/"), now), "");
  auto bad = back.load("name\tvalue\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.message().find("line 1"), std::string::npos);
}

TEST(cookie_jar, concurrent_set_and_read_from_many_threads) {
  cookie_jar jar(false, 10'000, 10'000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        jar.set(url("http://example.com/"), "t" + std::to_string(t) + "_" + std::to_string(i) + "=1");
        (void)jar.header_for(url("http://example.com/"));
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(jar.size(), 800u);
}

}  // namespace
}  // namespace crawld::fetch
