#include <gtest/gtest.h>

#include "parse/scope.hpp"

namespace crawld::parse {
namespace {

url u(const char* s) {
  auto p = parse_url(s);
  EXPECT_TRUE(p) << s;
  return p ? *p : url{};
}

scope make(std::vector<std::string> seeds, std::vector<std::string> domains = {},
           std::vector<std::string> inc = {}, std::vector<std::string> exc = {},
           int max_depth = -1) {
  auto s = scope::make(seeds, domains, inc, exc, max_depth);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.message());
  return std::move(s).value();
}

TEST(scope, huge_repetition_count_or_backreference_is_refused_before_std_regex_sees_it) {
  // libstdc++'s regex compiler overflows a signed int on these (UBSan finding of fuzz_job).
  for (std::string bad : {"a{99999999999999999999}", "a{1,123456}", "(a)\\1234567"}) {
    auto s = scope::make({"http://a.example/"}, {}, {bad}, {}, -1);
    ASSERT_FALSE(s) << bad;
    EXPECT_NE(s.message().find("too large"), std::string::npos) << s.message();
  }
  EXPECT_TRUE(regex_guard("/p/[{99999}]/x{2,3}\\{123456"));  // a class, a small count, an escaped brace
  EXPECT_TRUE(scope::make({"http://a.example/"}, {}, {"/a{1,9999}"}, {}, -1));
}

TEST(scope, seed_host_admitted_on_any_port_and_scheme) {
  auto s = make({"http://www.example.com/start"});
  EXPECT_EQ(s.check(u("http://www.example.com/other"), 1), scope_verdict::in_scope);
  EXPECT_EQ(s.check(u("https://WWW.EXAMPLE.COM:8443/x"), 1), scope_verdict::in_scope);
  EXPECT_EQ(s.check(u("http://www.example.com:8080/"), 1), scope_verdict::in_scope);
}

TEST(scope, seed_host_does_not_admit_subdomains_or_parent) {
  auto s = make({"http://www.example.com/"});
  EXPECT_EQ(s.check(u("http://a.www.example.com/"), 0), scope_verdict::off_site);
  EXPECT_EQ(s.check(u("http://example.com/"), 0), scope_verdict::off_site);
  EXPECT_EQ(s.check(u("http://other.org/"), 0), scope_verdict::off_site);
}

TEST(scope, allow_domain_admits_subdomains) {
  auto s = make({"http://seed.org/"}, {"Example.COM"});
  EXPECT_EQ(s.check(u("http://example.com/"), 0), scope_verdict::in_scope);
  EXPECT_EQ(s.check(u("http://www.example.com/"), 0), scope_verdict::in_scope);
  EXPECT_EQ(s.check(u("https://a.b.example.com:81/"), 0), scope_verdict::in_scope);
  EXPECT_EQ(s.check(u("http://badexample.com/"), 0), scope_verdict::off_site);
  EXPECT_EQ(s.check(u("http://example.com.evil.net/"), 0), scope_verdict::off_site);
  EXPECT_EQ(s.check(u("http://seed.org/"), 0), scope_verdict::in_scope);
}

TEST(scope, allow_domain_accepts_wildcard_and_leading_dot) {
  auto s = make({}, {"*.a.example", ".b.example"});
  EXPECT_EQ(s.check(u("http://x.a.example/"), 0), scope_verdict::in_scope);
  EXPECT_EQ(s.check(u("http://x.b.example/"), 0), scope_verdict::in_scope);
}

TEST(scope, ip_allow_is_exact) {
  auto s = make({"http://127.0.0.10:8080/"}, {"10.0.0.1", "[::1]"});
  EXPECT_EQ(s.check(u("http://127.0.0.10/"), 0), scope_verdict::in_scope);
  EXPECT_EQ(s.check(u("http://10.0.0.1/"), 0), scope_verdict::in_scope);
  EXPECT_EQ(s.check(u("http://0x0a.0.0.1/"), 0), scope_verdict::in_scope);  // same address
  EXPECT_EQ(s.check(u("http://[0::1]:81/"), 0), scope_verdict::in_scope);
  EXPECT_EQ(s.check(u("http://110.0.0.1/"), 0), scope_verdict::off_site);
  EXPECT_EQ(s.check(u("http://127.0.0.1/"), 0), scope_verdict::off_site);
}

TEST(scope, include_regex_must_match) {
  auto s = make({"http://h.example/"}, {}, {"/docs/", "\\.html$"});
  EXPECT_EQ(s.check(u("http://h.example/docs/x"), 0), scope_verdict::in_scope);
  EXPECT_EQ(s.check(u("http://h.example/a.html"), 0), scope_verdict::in_scope);
  EXPECT_EQ(s.check(u("http://h.example/blog/x"), 0), scope_verdict::not_included);
}

TEST(scope, exclude_regex_wins_over_include) {
  auto s = make({"http://h.example/"}, {}, {"/docs/"}, {"\\?.*sort=", "/private"});
  EXPECT_EQ(s.check(u("http://h.example/docs/?a=1&sort=asc"), 0), scope_verdict::excluded);
  EXPECT_EQ(s.check(u("http://h.example/docs/private"), 0), scope_verdict::excluded);
  EXPECT_EQ(s.check(u("http://h.example/docs/public"), 0), scope_verdict::in_scope);
}

TEST(scope, regexes_see_the_normalized_url) {
  auto s = make({"http://h.example/"}, {}, {}, {"^http://h\\.example/~user$"});
  EXPECT_EQ(s.check(u("HTTP://H.EXAMPLE:80/%7euser#frag"), 0), scope_verdict::excluded);
}

TEST(scope, too_deep) {
  auto s = make({"http://h.example/"}, {}, {}, {}, 2);
  EXPECT_EQ(s.check(u("http://h.example/"), 2), scope_verdict::in_scope);
  EXPECT_EQ(s.check(u("http://h.example/"), 3), scope_verdict::too_deep);
  auto unlimited = make({"http://h.example/"});
  EXPECT_EQ(unlimited.check(u("http://h.example/"), 1000000), scope_verdict::in_scope);
}

TEST(scope, non_http_scheme_is_bad_scheme) {
  auto s = make({"http://h.example/"});
  EXPECT_EQ(s.check(u("ftp://h.example/"), 0), scope_verdict::bad_scheme);
  EXPECT_EQ(s.check(u("file:///etc/passwd"), 0), scope_verdict::bad_scheme);
  EXPECT_EQ(s.check(u("mailto:a@h.example"), 0), scope_verdict::bad_scheme);
  EXPECT_EQ(s.check(u("ws://h.example/"), 0), scope_verdict::bad_scheme);
}

TEST(scope, bad_regex_gives_error_naming_it) {
  auto inc = scope::make({"http://h/"}, {}, {"ok", "([unclosed"}, {}, -1);
  ASSERT_FALSE(inc.ok());
  EXPECT_NE(inc.message().find("([unclosed"), std::string::npos) << inc.message();
  EXPECT_NE(inc.message().find("include"), std::string::npos) << inc.message();
  auto exc = scope::make({"http://h/"}, {}, {}, {"a{2,1}"}, -1);
  ASSERT_FALSE(exc.ok());
  EXPECT_NE(exc.message().find("a{2,1}"), std::string::npos) << exc.message();
  EXPECT_NE(exc.message().find("exclude"), std::string::npos) << exc.message();
}

TEST(scope, bad_seed_or_domain_gives_error_naming_it) {
  auto seed = scope::make({"not a url"}, {}, {}, {}, -1);
  ASSERT_FALSE(seed.ok());
  EXPECT_NE(seed.message().find("not a url"), std::string::npos);
  auto ftp = scope::make({"ftp://h/"}, {}, {}, {}, -1);
  EXPECT_FALSE(ftp.ok());
  for (const char* d : {"", "bad domain", "h/path", "h:80", "a@b"}) {
    auto r = scope::make({}, {d}, {}, {}, -1);
    ASSERT_FALSE(r.ok()) << d;
    EXPECT_NE(r.message().find(std::string("'") + d + "'"), std::string::npos) << r.message();
  }
}

TEST(scope, verdict_names) {
  EXPECT_STREQ(to_string(scope_verdict::in_scope), "in_scope");
  EXPECT_STREQ(to_string(scope_verdict::too_deep), "too_deep");
  EXPECT_STREQ(to_string(scope_verdict::off_site), "off_site");
}

}  // namespace
}  // namespace crawld::parse
