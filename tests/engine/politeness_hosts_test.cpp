// Politeness against the testsite's special hosts (crawl-delay, 429/503 with Retry-After, flaky
// pages, broken or redirected robots.txt, a calendar trap, a dead host), measured on the server.
#include <gtest/gtest.h>

#include <iostream>

#include "helpers.hpp"

namespace crawld {
namespace {

using namespace test;
using testsite::host_kind;
using namespace std::chrono_literals;

struct politeness_site {
  std::unique_ptr<testsite::server> srv;
  explicit politeness_site(int pages = 4) {
    testsite::site_options o;
    o.hosts = 1;
    o.pages = 10;
    o.port = 0;
    o.politeness_hosts = true;
    o.politeness_pages = pages;
    testsite::server_options so;
    so.threads_per_host = 8;
    auto s = testsite::server::start(testsite::site(o), so);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.message());
    if (s.ok())
      srv = std::move(*s);
  }
  const testsite::site& model() const { return srv->model(); }
  int host(host_kind k) const { return model().host_of(k); }
  std::string origin(host_kind k) const { return model().origin(host(k)); }
  /// Crawl options seeding the given special hosts only.
  conf::crawl_options options(std::initializer_list<host_kind> kinds) const {
    auto o = options_for(*srv, 0);
    for (auto k : kinds)
      o.seeds.push_back(origin(k) + "/");
    o.per_host = 2;
    o.concurrency = 8;
    return o;
  }
  /// Targets requested on a host other than robots.txt and its redirects.
  std::vector<std::string> pages(host_kind k) const {
    std::vector<std::string> out;
    for (auto& t : srv->request_order(host(k)))
      if (!testsite::site::is_robots_path(t))
        out.push_back(t);
    return out;
  }
};

TEST(politeness_hosts, crawl_delay_from_robots_separates_requests) {
  politeness_site s;
  ASSERT_TRUE(s.srv);
  auto r = actors::run_crawl(s.options({host_kind::crawl_delay_decimal}));
  ASSERT_TRUE(r.ok()) << r.message();
  auto h = s.host(host_kind::crawl_delay_decimal);
  EXPECT_TRUE(s.srv->robots_first(h));
  ASSERT_GE(s.pages(host_kind::crawl_delay_decimal).size(), 4u);
  // Server-side stamps are taken when a handler runs, so one late stamp (load) shortens the gap
  // after it: at most two gaps may fall short of the delay (5% tolerance), and the mean gap must
  // be near it (as crawl.per_host_delay_separates_request_starts).
  std::vector<std::chrono::steady_clock::time_point> at;
  for (auto& e : s.srv->requests())
    if (e.host == h && e.target != "/robots.txt")
      at.push_back(e.at);
  ASSERT_GE(at.size(), 4u);
  int short_gaps = 0;
  auto min_gap = at[1] - at[0];
  for (std::size_t i = 1; i < at.size(); ++i) {
    min_gap = std::min(min_gap, at[i] - at[i - 1]);
    short_gaps += at[i] - at[i - 1] < 285ms;
  }
  EXPECT_LE(short_gaps, 2) << "Crawl-delay 0.3 s with 5% tolerance";
  auto mean_gap = (at.back() - at.front()) / static_cast<int>(at.size() - 1);
  EXPECT_GE(mean_gap, 294ms);
  auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::microseconds>(d).count() / 1000.0; };
  std::cout << "server-side gaps on the Crawl-delay: 0.3 host: min " << ms(min_gap) << " ms, mean " << ms(mean_gap)
            << " ms, " << short_gaps << " of " << at.size() - 1 << " short\n";
}

TEST(politeness_hosts, crawl_delay_above_maximum_parks_the_host) {
  politeness_site s;
  ASSERT_TRUE(s.srv);
  auto o = s.options({host_kind::crawl_delay});
  o.max_crawl_delay = 500ms;
  auto r = actors::run_crawl(o);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_TRUE(s.pages(host_kind::crawl_delay).empty()) << "only robots.txt was requested";
  EXPECT_EQ(r->parked.count(s.origin(host_kind::crawl_delay)), 1u) << "parked: " << r->parked.size();
  EXPECT_GE(r->outcomes[fetch::outcome::host_parked], 1u);
}

TEST(politeness_hosts, retry_after_seconds_respected_after_429) {
  politeness_site s;
  ASSERT_TRUE(s.srv);
  auto r = actors::run_crawl(s.options({host_kind::slow_down}));
  ASSERT_TRUE(r.ok()) << r.message();
  auto h = s.host(host_kind::slow_down);
  EXPECT_EQ(s.srv->attempts(h, "/slow-down/0.html"), 2);
  // The retry of a 429 with Retry-After: 1 comes a second or more after the 429.
  std::vector<std::chrono::steady_clock::time_point> at;
  for (auto& e : s.srv->requests())
    if (e.host == h && e.target == "/slow-down/0.html")
      at.push_back(e.at);
  ASSERT_EQ(at.size(), 2u);
  EXPECT_GE(at[1] - at[0], 950ms);
  EXPECT_GE(r->retries, 1u);
  EXPECT_EQ(r->outcomes[fetch::outcome::client_error], 0u) << "the 429s were retried into 200s";
}

TEST(politeness_hosts, retry_after_http_date_respected_after_503) {
  politeness_site s(2);
  ASSERT_TRUE(s.srv);
  auto r = actors::run_crawl(s.options({host_kind::unavailable}));
  ASSERT_TRUE(r.ok()) << r.message();
  auto h = s.host(host_kind::unavailable);
  std::vector<std::chrono::steady_clock::time_point> at;
  for (auto& e : s.srv->requests())
    if (e.host == h && e.target == "/unavailable/0.html")
      at.push_back(e.at);
  ASSERT_EQ(at.size(), 2u);
  EXPECT_GE(at[1] - at[0], 1900ms) << "Retry-After was a date 2-3 s ahead";
}

TEST(politeness_hosts, flaky_pages_retried_until_they_succeed) {
  politeness_site s;
  ASSERT_TRUE(s.srv);
  auto o = s.options({host_kind::flaky});
  o.max_retries = 2;
  auto r = actors::run_crawl(o);
  ASSERT_TRUE(r.ok()) << r.message();
  auto h = s.host(host_kind::flaky);
  EXPECT_EQ(s.srv->attempts(h, "/flaky/0.html"), 3);
  EXPECT_EQ(r->outcomes[fetch::outcome::server_error], 0u);
}

TEST(politeness_hosts, retries_stop_at_the_limit) {
  politeness_site s;
  ASSERT_TRUE(s.srv);
  auto o = s.options({host_kind::flaky});
  o.max_retries = 1;
  auto r = actors::run_crawl(o);
  ASSERT_TRUE(r.ok()) << r.message();
  auto h = s.host(host_kind::flaky);
  EXPECT_EQ(s.srv->attempts(h, "/flaky/0.html"), 2);
  EXPECT_GE(r->outcomes[fetch::outcome::server_error], 1u);
}

TEST(politeness_hosts, rfc9309_unavailable_robots_disallows_the_host) {
  politeness_site s;
  ASSERT_TRUE(s.srv);
  auto o = s.options({host_kind::robots_503, host_kind::robots_500});
  o.robots_attempts = 3;
  auto r = actors::run_crawl(o);
  ASSERT_TRUE(r.ok()) << r.message();
  for (auto k : {host_kind::robots_503, host_kind::robots_500}) {
    EXPECT_TRUE(s.pages(k).empty()) << testsite::host_kind_name(k);
    EXPECT_EQ(s.srv->attempts(s.host(k), "/robots.txt"), 3) << testsite::host_kind_name(k);
  }
  EXPECT_EQ(r->outcomes[fetch::outcome::robots_denied], 2u) << "the two seeds";
}

TEST(politeness_hosts, rfc9309_robots_redirects_followed_up_to_five) {
  politeness_site s;
  ASSERT_TRUE(s.srv);
  auto o = s.options({host_kind::robots_redirect, host_kind::robots_redirect_chain});
  auto r = actors::run_crawl(o);
  ASSERT_TRUE(r.ok()) << r.message();
  auto redirected = s.pages(host_kind::robots_redirect);
  EXPECT_FALSE(redirected.empty());
  for (auto& t : redirected)
    EXPECT_NE(t.rfind("/private/", 0), 0u) << "the redirected robots.txt disallows " << t;
  auto chained = s.pages(host_kind::robots_redirect_chain);
  EXPECT_NE(std::find(chained.begin(), chained.end(), "/private/0.html"), chained.end())
    << "six redirects: robots.txt unavailable as 4xx, so everything is allowed";
}

TEST(politeness_hosts, crawl_of_special_hosts_matches_the_oracle) {
  politeness_site s;
  ASSERT_TRUE(s.srv);
  auto kinds = {host_kind::crawl_delay_decimal, host_kind::slow_down, host_kind::flaky, host_kind::robots_503,
                host_kind::robots_500, host_kind::robots_redirect, host_kind::robots_redirect_chain,
                host_kind::dead};
  auto o = s.options(kinds);
  o.max_retries = 2;
  auto r = actors::run_crawl(o);
  ASSERT_TRUE(r.ok()) << r.message();
  std::set<std::string> fetched;
  for (auto& e : s.srv->requests())
    if (!testsite::site::is_robots_path(e.target))
      fetched.insert(s.model().origin(e.host) + e.target);
  auto e = expect_for(o);
  e.robots_attempts = o.robots_attempts;
  auto expected = s.model().expected(e);
  // The dead host refuses connections: its seed is expected (linked, in scope) but never served.
  expected.erase(s.origin(host_kind::dead) + "/");
  EXPECT_EQ(fetched, expected);
  EXPECT_FALSE(r->interrupted);
}

TEST(politeness_hosts, calendar_trap_escaped_with_bounded_pages) {
  politeness_site s;
  ASSERT_TRUE(s.srv);
  auto o = s.options({host_kind::calendar});
  o.max_pages_per_host = 40;
  auto r = actors::run_crawl(o);
  ASSERT_TRUE(r.ok()) << r.message();
  auto pages = s.pages(host_kind::calendar);
  EXPECT_LE(pages.size(), 40u);
  EXPECT_GT(r->rejected["max_pages_per_host"], 0u);
  int trap = 0;
  for (auto& t : pages)
    trap += s.model().is_trap(s.origin(host_kind::calendar) + t);
  EXPECT_GT(trap, 10) << "the crawler did walk into the calendar before the cap";
}

TEST(politeness_hosts, dead_host_without_robots_is_parked_after_failures) {
  politeness_site s;
  ASSERT_TRUE(s.srv);
  // A normal host links the dead host's index; allow the dead host and skip robots so the
  // crawler keeps trying it.
  auto o = options_for(*s.srv, 1);
  o.allow_domains = {s.model().address(s.host(host_kind::dead))};
  o.obey_robots = false;
  o.max_retries = 5;
  o.park_after = 3;
  auto r = actors::run_crawl(o);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->parked.count(s.origin(host_kind::dead)), 1u);
  EXPECT_FALSE(r->interrupted);
}

}  // namespace
}  // namespace crawld
