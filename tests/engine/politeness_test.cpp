// Politeness end to end: robots.txt (RFC 9309) and its use by the queue, measured on the server.
#include <gtest/gtest.h>

#include <map>

#include "helpers.hpp"

namespace crawld {
namespace {

using namespace test;

TEST(politeness, robots_txt_is_each_hosts_first_request) {
  auto srv = start_site(3, 60);
  ASSERT_TRUE(srv);
  auto o = options_for(*srv, 3);
  auto r = actors::run_crawl(o);
  ASSERT_TRUE(r.ok()) << r.message();
  std::map<int, std::vector<std::string>> per_host;
  for (const auto& e : srv->requests())
    per_host[e.host].push_back(e.target);
  ASSERT_EQ(per_host.size(), 3u);
  for (auto& [h, targets] : per_host) {
    EXPECT_EQ(targets.front(), "/robots.txt") << "host " << h;
    EXPECT_EQ(std::count(targets.begin(), targets.end(), "/robots.txt"), 1) << "host " << h;
  }
}

TEST(politeness, rfc9309_disallowed_urls_are_never_requested) {
  auto srv = start_site(2, 120);
  ASSERT_TRUE(srv);
  auto o = options_for(*srv, 2);
  auto r = actors::run_crawl(o);
  ASSERT_TRUE(r.ok()) << r.message();
  for (const auto& e : srv->requests())
    EXPECT_NE(e.target.rfind("/private/", 0), 0u) << e.target;
  auto with_private = expect_for(o);
  with_private.obey_robots = false;
  auto all = srv->model().expected(with_private);
  auto allowed = srv->model().expected(expect_for(o));
  ASSERT_GT(all.size(), allowed.size());
  EXPECT_EQ(r->outcomes[fetch::outcome::robots_denied], all.size() - allowed.size());
}

TEST(politeness, ignore_robots_fetches_everything_and_no_robots_txt) {
  auto srv = start_site(1, 60);
  ASSERT_TRUE(srv);
  auto o = options_for(*srv, 1);
  o.obey_robots = false;
  auto r = actors::run_crawl(o);
  ASSERT_TRUE(r.ok()) << r.message();
  auto seen = requested(*srv);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), srv->model().expected(expect_for(o)));
  for (const auto& e : srv->requests())
    EXPECT_NE(e.target, "/robots.txt");
  EXPECT_EQ(r->outcomes[fetch::outcome::robots_denied], 0u);
}

TEST(politeness, domain_rule_overrides_per_host_limit) {
  testsite::server_options so;
  so.latency = std::chrono::milliseconds(20);
  auto srv = start_site(2, 40, so);
  ASSERT_TRUE(srv);
  auto o = options_for(*srv, 2);
  o.concurrency = 8;
  o.per_host = 4;
  o.domain_rules = {{srv->model().address(1), std::nullopt, 1}};
  auto r = actors::run_crawl(o);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_GE(srv->max_in_flight(0), 2) << "host 0 keeps the general limit";
  EXPECT_LE(srv->max_in_flight(0), 4);
  EXPECT_EQ(srv->max_in_flight(1), 1) << "the rule limits host 1 to one request at a time";
}

TEST(politeness, max_pages_per_host_bounds_each_host) {
  auto srv = start_site(2, 200);
  ASSERT_TRUE(srv);
  auto o = options_for(*srv, 2);
  o.max_pages_per_host = 25;
  auto r = actors::run_crawl(o);
  ASSERT_TRUE(r.ok()) << r.message();
  std::map<int, int> per_host;
  for (const auto& e : srv->requests())
    per_host[e.host] += e.target != "/robots.txt";
  for (auto& [h, n] : per_host)
    EXPECT_LE(n, 25) << "host " << h;
  EXPECT_GT(r->rejected["max_pages_per_host"], 0u);
}

}  // namespace
}  // namespace crawld

namespace crawld {
namespace {

using namespace test;

TEST(sitemaps, robots_sitemap_lines_are_crawled_when_enabled) {
  auto srv = start_site(1, 100);
  ASSERT_TRUE(srv);
  auto o = options_for(*srv, 1);
  o.max_depth = 1;  // sitemap URLs count as links of the sitemap: depth 1
  o.sitemaps = true;
  auto r = actors::run_crawl(o);
  ASSERT_TRUE(r.ok()) << r.message();
  auto seen = requested(*srv);
  auto origin = srv->model().origin(0);
  EXPECT_EQ(seen.count(origin + "/sitemap.xml"), 1u);
  // Every page the sitemap lists was fetched, though most are deeper than 1 by links.
  auto listed = srv->model().serve(0, "/sitemap.xml").body;
  int pages_listed = 0;
  for (auto pos = listed.find("<loc>"); pos != std::string::npos; pos = listed.find("<loc>", pos + 1)) {
    auto end = listed.find("</loc>", pos);
    auto url = listed.substr(pos + 5, end - pos - 5);
    EXPECT_EQ(seen.count(url), 1u) << url;
    ++pages_listed;
  }
  EXPECT_GT(pages_listed, 5);
  auto by_links = srv->model().expected(expect_for(o));
  EXPECT_GT(seen.size(), by_links.size()) << "the sitemap added pages beyond depth 1";
}

TEST(sitemaps, not_fetched_by_default) {
  auto srv = start_site(1, 30);
  ASSERT_TRUE(srv);
  auto r = actors::run_crawl(options_for(*srv, 1));
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(requested(*srv).count(srv->model().origin(0) + "/sitemap.xml"), 0u);
}

}  // namespace
}  // namespace crawld
