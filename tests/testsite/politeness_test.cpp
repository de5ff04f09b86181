// The opt-in politeness hosts of the testsite: the model, the oracle, and each endpoint over real
// HTTP on loopback. Also proves the default web did not change.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "testsite/server.hpp"

namespace crawld::testsite {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

site_options polite_options(int hosts = 2, int pages = 60, std::uint16_t port = 8080) {
  site_options o;
  o.hosts = hosts;
  o.pages = pages;
  o.port = port;
  o.politeness_hosts = true;
  return o;
}

bool has_prefix(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

std::uint64_t fnv(std::uint64_t h, const std::string& s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::set<std::string> all_seeded(const site& s, expect_options e = {}) {
  for (int h = 0; h < s.host_count(); ++h) e.seeds.push_back(s.origin(h) + "/");
  return s.expected(e);
}

std::set<std::string> on_host(const site& s, int host, const std::set<std::string>& urls) {
  std::set<std::string> out;
  for (const auto& u : urls)
    if (has_prefix(u, s.origin(host) + "/")) out.insert(u);
  return out;
}

/// Every href="..." value of an HTML body, in order (the model's hrefs need no unescaping).
std::vector<std::string> hrefs(const std::string& body) {
  std::vector<std::string> out;
  for (auto p = body.find("href=\""); p != std::string::npos; p = body.find("href=\"", p + 1)) {
    auto end = body.find('"', p + 6);
    out.push_back(body.substr(p + 6, end - p - 6));
  }
  return out;
}

httplib::Client client(const server& srv, int host, std::chrono::milliseconds timeout = 5000ms) {
  httplib::Client c(srv.model().address(host), srv.port());
  c.set_connection_timeout(timeout);
  c.set_read_timeout(timeout);
  return c;
}

std::unique_ptr<server> start(site_options o) {
  o.port = 0;
  auto started = server::start(site(o));
  EXPECT_TRUE(started.ok()) << started.message();
  return started.ok() ? std::move(*started) : nullptr;
}

// --- the default web is exactly what it was ---------------------------------------------------

TEST(testsite_politeness, default_options_unchanged) {
  site_options o;  // hosts 4, pages 500, port 8080, seed 1, politeness off
  ASSERT_FALSE(o.politeness_hosts);
  ASSERT_FALSE(o.silent_host);
  site s(o);
  // Checksums computed on main before the politeness hosts existed.
  std::uint64_t few = 1469598103934665603ull, all = few, exp = few;
  for (const char* t : {"/", "/s1/p1.html", "/s13/p45.html", "/s3/p499.html", "/robots.txt",
                        "/sitemap.xml", "/s3/p3.html?q=1&a=2"}) {
    auto r = s.serve(2, t);
    few = fnv(few, std::to_string(r.status) + r.content_type + r.body);
  }
  for (int h = 0; h < 4; ++h)
    for (int k = 0; k < 500; ++k) all = fnv(all, s.serve(h, site::page_path(k)).body);
  expect_options e;
  for (int h = 0; h < 4; ++h) e.seeds.push_back(s.origin(h) + "/");
  auto got = s.expected(e);
  for (const auto& u : got) exp = fnv(exp, u + "\n");
  EXPECT_EQ(few, 0x44c08a66e2fe126dull);
  EXPECT_EQ(all, 0x47c668d7c7599042ull);
  EXPECT_EQ(exp, 0xf588c2cf9dacf869ull);
  EXPECT_EQ(got.size(), 3627u);
  e.obey_robots = true;
  EXPECT_EQ(s.expected(e).size(), 3463u);

  EXPECT_EQ(s.host_count(), 4);
  EXPECT_EQ(s.host_index("127.0.0.14"), -1);
  EXPECT_EQ(s.kind(4), host_kind::none);
  EXPECT_EQ(s.host_of(host_kind::slow_down), -1);
  EXPECT_EQ(s.serve(0, "/slow-down/0.html").status, 404);
  EXPECT_FALSE(s.is_trap("http://127.0.0.10:8080/calendar/2024/01/"));
}

TEST(testsite_politeness, flag_leaves_normal_hosts_alone_except_index_links) {
  site_options off = polite_options(3, 200);
  off.politeness_hosts = false;
  site plain(off), polite(polite_options(3, 200));
  for (int h = 0; h < 3; ++h) {
    for (int k = 1; k < 200; k += 7)
      EXPECT_EQ(plain.serve(h, site::page_path(k)).body, polite.serve(h, site::page_path(k)).body) << k;
    // The index keeps its links and appends one to each politeness host's index.
    auto before = plain.describe(h, "/").links, after = polite.describe(h, "/").links;
    ASSERT_EQ(after.size(), before.size() + 11u);
    for (std::size_t i = 0; i < before.size(); ++i) EXPECT_EQ(after[i].href, before[i].href);
    for (int p = 3; p < polite.host_count(); ++p)
      EXPECT_EQ(after[before.size() + static_cast<std::size_t>(p - 3)].target, polite.origin(p) + "/");
  }
  // A crawl that does not admit the politeness hosts expects exactly what it did without them.
  expect_options e;
  for (int h = 0; h < 3; ++h) e.seeds.push_back(plain.origin(h) + "/");
  EXPECT_EQ(plain.expected(e), polite.expected(e));
  e.obey_robots = true;
  EXPECT_EQ(plain.expected(e), polite.expected(e));
}

// --- the model and the oracle -------------------------------------------------------------------

TEST(testsite_politeness, politeness_hosts_follow_normal_ones) {
  site s(polite_options(4, 50));
  EXPECT_EQ(s.host_count(), 4 + 11);
  EXPECT_EQ(s.kind(3), host_kind::normal);
  EXPECT_EQ(s.host_of(host_kind::crawl_delay), 4);
  EXPECT_EQ(s.address(4), "127.0.0.14");
  EXPECT_EQ(s.host_of(host_kind::dead), 14);
  EXPECT_EQ(s.host_index("127.0.0.24"), 14);
  EXPECT_EQ(s.host_of(host_kind::silent), -1) << "silent needs its own flag";
  EXPECT_FALSE(s.served(14));
  EXPECT_TRUE(s.served(13));
  EXPECT_EQ(s.kind(15), host_kind::none);
  for (int h = 4; h < 15; ++h) EXPECT_EQ(s.kind(h), politeness_kinds[h - 4]) << h;

  site_options o = polite_options(4, 50);
  o.silent_host = true;
  site with_silent(o);
  EXPECT_EQ(with_silent.host_of(host_kind::silent), 15);
  EXPECT_FALSE(with_silent.served(15));
  EXPECT_EQ(std::string(host_kind_name(with_silent.kind(15))), "silent");
}

TEST(testsite_politeness, politeness_pages_are_small_html_with_modelled_links) {
  site s(polite_options());
  for (int h = 2; h < s.host_count(); ++h) {
    if (!s.served(h)) continue;
    for (std::string t : {"/", "/pages/1.html", "/pages/7.html", "/private/0.html"}) {
      auto r = s.serve(h, t);
      ASSERT_EQ(r.status, 200) << h << t;
      EXPECT_GE(r.body.size(), 2u * 1024) << h << t;
      EXPECT_LE(r.body.size(), 5u * 1024) << h << t;
      std::vector<std::string> want;
      for (const auto& l : s.describe(h, t).links) {
        want.push_back(l.href);
        EXPECT_EQ(l.target, s.origin(h) + l.href);
      }
      EXPECT_EQ(hrefs(r.body), want) << h << t;
    }
    EXPECT_EQ(s.serve(h, "/pages/8.html").status, 404) << "politeness_pages is 8";
    EXPECT_EQ(s.serve(h, "/pages/0.html").status, 404) << "page 0 is /";
    EXPECT_EQ(s.serve(h, "/sitemap.xml").status, 404);
  }
}

TEST(testsite_politeness, expected_counts_each_retry_endpoint_once) {
  site s(polite_options());
  auto got = all_seeded(s);
  for (host_kind k : {host_kind::slow_down, host_kind::unavailable, host_kind::flaky}) {
    int h = s.host_of(k);
    auto mine = on_host(s, h, got);
    // Index, pages 1-7, /private/0.html, endpoints 0-7.
    EXPECT_EQ(mine.size(), 1u + 7 + 1 + 8) << host_kind_name(k);
    std::string prefix = k == host_kind::slow_down     ? "/slow-down/"
                         : k == host_kind::unavailable ? "/unavailable/"
                                                       : "/flaky/";
    for (int i = 0; i < 8; ++i)
      EXPECT_TRUE(mine.count(s.origin(h) + prefix + std::to_string(i) + ".html")) << prefix << i;
  }
  int dead = s.host_of(host_kind::dead);
  EXPECT_EQ(on_host(s, dead, got), std::set<std::string>{s.origin(dead) + "/"})
      << "linked and in scope: expected, though never served";
  int cal = s.host_of(host_kind::calendar);
  EXPECT_EQ(on_host(s, cal, got).size(), 9u) << "no trap URL in the set";
  for (const auto& u : got) EXPECT_FALSE(s.is_trap(u)) << u;
  EXPECT_TRUE(s.is_trap(s.origin(cal) + "/calendar/2024/01/"));
  EXPECT_TRUE(s.is_trap(s.origin(cal) + "/calendar/nonsense"));
  EXPECT_FALSE(s.is_trap(s.origin(cal) + "/pages/1.html"));
  EXPECT_FALSE(s.is_trap(s.origin(0) + "/calendar/2024/01/")) << "only on the calendar host";

  // Seeded from the normal hosts with the politeness hosts admitted: the same set.
  expect_options e;
  for (int h = 0; h < 2; ++h) e.seeds.push_back(s.origin(h) + "/");
  for (int h = 2; h < s.host_count(); ++h) e.extra_hosts.push_back(s.address(h));
  EXPECT_EQ(s.expected(e), got);
  // Depth: a politeness host's index is one link from a normal index, its endpoint 0 two.
  e.max_depth = 2;
  auto shallow = s.expected(e);
  int slow = s.host_of(host_kind::slow_down);
  EXPECT_TRUE(shallow.count(s.origin(slow) + "/slow-down/0.html"));
  EXPECT_FALSE(shallow.count(s.origin(slow) + "/slow-down/1.html"));
}

TEST(testsite_politeness, expected_obeys_politeness_robots) {
  site s(polite_options());
  expect_options obey;
  obey.obey_robots = true;
  auto all = all_seeded(s), polite = all_seeded(s, obey);
  auto count = [&](host_kind k, const std::set<std::string>& set) {
    return on_host(s, s.host_of(k), set).size();
  };
  auto has_private = [&](host_kind k, const std::set<std::string>& set) {
    return set.count(s.origin(s.host_of(k)) + "/private/0.html") == 1;
  };
  for (host_kind k : {host_kind::crawl_delay, host_kind::crawl_delay_decimal, host_kind::slow_down,
                      host_kind::robots_redirect, host_kind::calendar}) {
    EXPECT_TRUE(has_private(k, all)) << host_kind_name(k);
    EXPECT_FALSE(has_private(k, polite)) << host_kind_name(k);
    EXPECT_EQ(count(k, polite), count(k, all) - 1) << host_kind_name(k);
  }
  // 5xx or unreachable robots.txt: complete disallow.
  for (host_kind k : {host_kind::robots_500, host_kind::robots_503, host_kind::dead}) {
    EXPECT_GT(count(k, all), 0u) << host_kind_name(k);
    EXPECT_EQ(count(k, polite), 0u) << host_kind_name(k);
  }
  // More than 5 redirects: unavailable, so allow all.
  EXPECT_TRUE(has_private(host_kind::robots_redirect_chain, polite));
  obey.max_robots_redirects = 6;
  EXPECT_FALSE(has_private(host_kind::robots_redirect_chain, all_seeded(s, obey)));
  obey.max_robots_redirects = 0;
  auto no_redirects = all_seeded(s, obey);
  EXPECT_TRUE(has_private(host_kind::robots_redirect, no_redirects));

  // robots_503 for the first 2 requests: a crawler asking 3 times gets the real file.
  site_options o = polite_options();
  o.robots_unavailable_requests = 2;
  site s2(o);
  expect_options e;
  e.obey_robots = true;
  e.robots_attempts = 2;
  int h = s2.host_of(host_kind::robots_503);
  EXPECT_TRUE(on_host(s2, h, all_seeded(s2, e)).empty());
  e.robots_attempts = 3;
  auto got = on_host(s2, h, all_seeded(s2, e));
  EXPECT_EQ(got.size(), 8u);
  EXPECT_FALSE(got.count(s2.origin(h) + "/private/0.html"));
}

TEST(testsite_politeness, attempt_numbers_drive_the_model) {
  site s(polite_options());
  int slow = s.host_of(host_kind::slow_down), flaky = s.host_of(host_kind::flaky);
  EXPECT_EQ(s.describe(slow, "/slow-down/2.html").status, 429);
  EXPECT_EQ(s.describe(slow, "/slow-down/2.html", 2).status, 200);
  EXPECT_EQ(s.describe(flaky, "/flaky/2.html", 2).status, 503);
  EXPECT_EQ(s.describe(flaky, "/flaky/2.html", 3).status, 200);
  EXPECT_EQ(s.serve(flaky, "/flaky/2.html", 3).body, s.serve(flaky, "/flaky/2.html", 9).body);
  EXPECT_EQ(s.describe(slow, "/slow-down/8.html").status, 404);
  EXPECT_EQ(s.describe(slow, "/flaky/2.html").status, 404) << "each endpoint on its own host";
  EXPECT_EQ(s.serve(slow, "/slow-down/%32.html").status, 429) << "unreserved escapes decoded";
}

TEST(testsite_politeness, retry_after_http_date_is_two_seconds_after_now) {
  site s(polite_options());
  int h = s.host_of(host_kind::unavailable);
  auto date = [&](std::int64_t now) {
    auto r = s.serve(h, "/unavailable/0.html", 1, now);
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.headers.size(), 1u);
    return r.headers.empty() ? "" : r.headers[0].first + ": " + r.headers[0].second;
  };
  EXPECT_EQ(date(0), "Retry-After: Thu, 01 Jan 1970 00:00:02 GMT");
  EXPECT_EQ(date(784111775), "Retry-After: Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(date(951786059), "Retry-After: Tue, 29 Feb 2000 01:01:01 GMT");
  EXPECT_EQ(date(1709251197), "Retry-After: Thu, 29 Feb 2024 23:59:59 GMT");
  EXPECT_EQ(date(4102531197), "Retry-After: Fri, 01 Jan 2100 23:59:59 GMT");
  EXPECT_TRUE(s.serve(h, "/unavailable/0.html", 2, 0).headers.empty());
}

// --- each endpoint over real HTTP ----------------------------------------------------------------

TEST(testsite_politeness, slow_down_answers_429_then_200) {
  auto srv = start(polite_options());
  ASSERT_TRUE(srv);
  int h = srv->model().host_of(host_kind::slow_down);
  auto c = client(*srv, h);
  auto first = c.Get("/slow-down/3.html");
  ASSERT_TRUE(first) << httplib::to_string(first.error());
  EXPECT_EQ(first->status, 429);
  EXPECT_EQ(first->get_header_value("Retry-After"), "1");
  auto second = c.Get("/slow-down/3.html");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(second->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_FALSE(second->has_header("Retry-After"));
  auto other = c.Get("/slow-down/4.html");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 429) << "counted per target";
  EXPECT_EQ(srv->attempts(h, "/slow-down/3.html"), 2);
  EXPECT_EQ(srv->attempts(h, "/slow-down/4.html"), 1);
  EXPECT_EQ(srv->attempts(h, "/slow-down/5.html"), 0);
}

TEST(testsite_politeness, unavailable_answers_503_with_http_date_then_200) {
  auto srv = start(polite_options());
  ASSERT_TRUE(srv);
  auto c = client(*srv, srv->model().host_of(host_kind::unavailable));
  std::time_t before = std::time(nullptr);
  auto first = c.Get("/unavailable/0.html");
  ASSERT_TRUE(first) << httplib::to_string(first.error());
  EXPECT_EQ(first->status, 503);
  std::string value = first->get_header_value("Retry-After");
  std::tm tm{};
  const char* end = strptime(value.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  ASSERT_TRUE(end && *end == '\0') << value;
  std::time_t at = timegm(&tm);
  EXPECT_GE(at - before, 2) << value;
  EXPECT_LE(at - before, 4) << value;
  auto second = c.Get("/unavailable/0.html");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200);
}

TEST(testsite_politeness, flaky_fails_twice_then_succeeds) {
  auto srv = start(polite_options());
  ASSERT_TRUE(srv);
  int h = srv->model().host_of(host_kind::flaky);
  auto c = client(*srv, h);
  std::vector<int> statuses;
  for (int i = 0; i < 4; ++i) {
    auto r = c.Get("/flaky/5.html");
    ASSERT_TRUE(r) << httplib::to_string(r.error());
    statuses.push_back(r->status);
    if (r->status == 503) {
      EXPECT_FALSE(r->has_header("Retry-After"));
    }
  }
  EXPECT_EQ(statuses, (std::vector<int>{503, 503, 200, 200}));
  EXPECT_EQ(srv->attempts(h, "/flaky/5.html"), 4);
}

TEST(testsite_politeness, crawl_delay_hosts_announce_their_delay) {
  auto srv = start(polite_options());
  ASSERT_TRUE(srv);
  auto one = client(*srv, srv->model().host_of(host_kind::crawl_delay)).Get("/robots.txt");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->status, 200);
  EXPECT_EQ(one->body, "User-agent: *\nCrawl-delay: 1\nDisallow: /private/\n");
  EXPECT_EQ(one->get_header_value("Content-Type"), "text/plain");
  auto decimal = client(*srv, srv->model().host_of(host_kind::crawl_delay_decimal)).Get("/robots.txt");
  ASSERT_TRUE(decimal);
  EXPECT_EQ(decimal->body, "User-agent: *\nCrawl-delay: 0.3\nDisallow: /private/\n");
  auto plain = client(*srv, srv->model().host_of(host_kind::flaky)).Get("/robots.txt");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->body, "User-agent: *\nDisallow: /private/\n");
}

TEST(testsite_politeness, robots_503_always_by_default) {
  auto srv = start(polite_options());
  ASSERT_TRUE(srv);
  auto c = client(*srv, srv->model().host_of(host_kind::robots_503));
  for (int i = 0; i < 4; ++i) {
    auto r = c.Get("/robots.txt");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503) << i;
  }
  auto page = c.Get("/pages/1.html");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200) << "only robots.txt fails";
}

TEST(testsite_politeness, robots_503_for_first_requests_then_available) {
  site_options o = polite_options();
  o.robots_unavailable_requests = 2;
  auto srv = start(o);
  ASSERT_TRUE(srv);
  auto c = client(*srv, srv->model().host_of(host_kind::robots_503));
  std::vector<int> statuses;
  for (int i = 0; i < 3; ++i) {
    auto r = c.Get("/robots.txt");
    ASSERT_TRUE(r);
    statuses.push_back(r->status);
    if (i == 2) {
      EXPECT_EQ(r->body, "User-agent: *\nDisallow: /private/\n");
    }
  }
  EXPECT_EQ(statuses, (std::vector<int>{503, 503, 200}));
}

TEST(testsite_politeness, robots_500_always) {
  auto srv = start(polite_options());
  ASSERT_TRUE(srv);
  auto c = client(*srv, srv->model().host_of(host_kind::robots_500));
  for (int i = 0; i < 3; ++i) {
    auto r = c.Get("/robots.txt");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 500);
  }
}

TEST(testsite_politeness, robots_redirects_to_real_robots) {
  auto srv = start(polite_options());
  ASSERT_TRUE(srv);
  auto c = client(*srv, srv->model().host_of(host_kind::robots_redirect));
  auto r = c.Get("/robots.txt");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 301);
  EXPECT_EQ(r->get_header_value("Location"), "/real-robots.txt");
  auto real = c.Get("/real-robots.txt");
  ASSERT_TRUE(real);
  EXPECT_EQ(real->status, 200);
  EXPECT_EQ(real->body, "User-agent: *\nDisallow: /private/\n");
  auto elsewhere = client(*srv, srv->model().host_of(host_kind::flaky)).Get("/real-robots.txt");
  ASSERT_TRUE(elsewhere);
  EXPECT_EQ(elsewhere->status, 404) << "only the redirecting hosts have it";
}

TEST(testsite_politeness, robots_redirect_chain_has_six_hops) {
  auto srv = start(polite_options());
  ASSERT_TRUE(srv);
  int h = srv->model().host_of(host_kind::robots_redirect_chain);
  auto c = client(*srv, h);
  std::string target = "/robots.txt";
  std::vector<std::string> chain{target};
  for (int hop = 0; hop < 10; ++hop) {  // bounded: the chain has 6
    auto r = c.Get(target);
    ASSERT_TRUE(r);
    if (r->status != 301) {
      EXPECT_EQ(r->status, 200);
      EXPECT_EQ(r->body, "User-agent: *\nDisallow: /private/\n");
      break;
    }
    target = r->get_header_value("Location");
    chain.push_back(target);
  }
  EXPECT_EQ(chain, (std::vector<std::string>{"/robots.txt", "/robots-hop/1.txt", "/robots-hop/2.txt",
                                             "/robots-hop/3.txt", "/robots-hop/4.txt",
                                             "/robots-hop/5.txt", "/real-robots.txt"}));
  EXPECT_EQ(static_cast<int>(chain.size()) - 1, robots_chain_redirects);
  for (const auto& t : chain) EXPECT_TRUE(site::is_robots_path(t)) << t;
}

TEST(testsite_politeness, calendar_links_forever_bounded_sample) {
  auto srv = start(polite_options());
  ASSERT_TRUE(srv);
  const site& s = srv->model();
  int h = s.host_of(host_kind::calendar);
  auto c = client(*srv, h);
  auto index = c.Get("/");
  ASSERT_TRUE(index);
  auto links = hrefs(index->body);
  ASSERT_TRUE(std::count(links.begin(), links.end(), "/calendar/2024/01/")) << "the index enters the trap";

  // Forward 50 months from 2024-01 (crossing years), then back 50: every page links both ways.
  std::string month = "/calendar/2024/01/";
  std::set<std::string> seen;
  for (int step = 0; step < 50; ++step) {
    auto r = c.Get(month);
    ASSERT_TRUE(r) << month;
    ASSERT_EQ(r->status, 200) << month;
    EXPECT_GE(r->body.size(), 2u * 1024);
    EXPECT_LE(r->body.size(), 5u * 1024);
    EXPECT_TRUE(s.is_trap(s.origin(h) + month));
    EXPECT_TRUE(seen.insert(month).second) << "never revisits " << month;
    auto l = hrefs(r->body);
    ASSERT_GE(l.size(), 4u) << month;
    std::string next = l[1];
    EXPECT_TRUE(has_prefix(next, "/calendar/")) << next;
    auto back = c.Get(next);
    ASSERT_TRUE(back);
    EXPECT_EQ(hrefs(back->body).at(0), month) << "next month links back";
    auto day = c.Get(l[3]);
    ASSERT_TRUE(day);
    EXPECT_EQ(day->status, 200) << l[3];
    month = next;
  }
  EXPECT_EQ(month, "/calendar/2028/03/");  // 2024-01 + 50 months
  EXPECT_EQ(c.Get("/calendar/2024/13/")->status, 404);
  EXPECT_EQ(c.Get("/calendar/2024/1/")->status, 404);
  EXPECT_EQ(c.Get("/calendar/2024/01/29/")->status, 404);
  EXPECT_EQ(c.Get("/calendar/2024//01/")->status, 404);
  EXPECT_EQ(c.Get("/calendar/0/01/")->status, 404);
  // The ends are far away, but they exist.
  EXPECT_EQ(s.describe(h, "/calendar/1/01/").links.at(0).href, "/calendar/1/02/");
  EXPECT_EQ(s.describe(h, "/calendar/999999999/12/").links.at(0).href, "/calendar/999999999/11/");
  EXPECT_EQ(s.describe(h, "/calendar/999999999/12/").links.at(1).href, "/");
}

TEST(testsite_politeness, dead_host_refuses_connections) {
  auto srv = start(polite_options());
  ASSERT_TRUE(srv);
  int dead = srv->model().host_of(host_kind::dead);
  auto t0 = clock_type::now();
  auto r = client(*srv, dead, 2000ms).Get("/");
  EXPECT_FALSE(r);
  EXPECT_EQ(r.error(), httplib::Error::Connection);
  EXPECT_LT(clock_type::now() - t0, 1500ms) << "refused at once, not a timeout";
  EXPECT_EQ(srv->requests_for(dead), 0);
}

TEST(testsite_politeness, silent_host_accepts_but_never_answers) {
  site_options o = polite_options();
  o.silent_host = true;
  auto srv = start(o);
  ASSERT_TRUE(srv);
  int silent = srv->model().host_of(host_kind::silent);
  ASSERT_GE(silent, 0);
  // The TCP handshake completes (the kernel queues the connection)...
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(srv->port());
  ASSERT_EQ(inet_pton(AF_INET, srv->model().address(silent).c_str(), &sa.sin_addr), 1);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0) << std::strerror(errno);
  ::close(fd);
  // ...but no answer ever comes.
  auto t0 = clock_type::now();
  auto r = client(*srv, silent, 300ms).Get("/");
  EXPECT_FALSE(r);
  EXPECT_EQ(r.error(), httplib::Error::Read);
  EXPECT_GE(clock_type::now() - t0, 250ms);
  srv->stop();
}

// --- measurement helpers --------------------------------------------------------------------------

TEST(testsite_politeness, min_gap_measures_request_starts) {
  auto srv = start(polite_options(2, 60));
  ASSERT_TRUE(srv);
  EXPECT_FALSE(srv->min_gap(0));
  auto c = client(*srv, 0);
  ASSERT_TRUE(c.Get("/robots.txt"));
  EXPECT_FALSE(srv->min_gap(0)) << "one request: no gap";
  ASSERT_TRUE(c.Get("/"));  // right after robots.txt
  std::this_thread::sleep_for(200ms);
  ASSERT_TRUE(c.Get("/s1/p1.html"));
  std::this_thread::sleep_for(120ms);
  ASSERT_TRUE(c.Get("/s2/p2.html"));
  ASSERT_TRUE(client(*srv, 1).Get("/"));  // another host does not count

  auto all = srv->min_gap(0), pages = srv->min_gap(0, true);
  ASSERT_TRUE(all && pages);
  EXPECT_LT(*all, 100ms) << "robots.txt and / were back to back";
  EXPECT_GE(*pages, 120ms);
  EXPECT_LT(*pages, 200ms);
  EXPECT_EQ(srv->requests_for(0), 4);
  EXPECT_EQ(srv->requests_for(1), 1);
  EXPECT_EQ(srv->request_order(0),
            (std::vector<std::string>{"/robots.txt", "/", "/s1/p1.html", "/s2/p2.html"}));
  EXPECT_TRUE(srv->robots_first(0));
  EXPECT_FALSE(srv->robots_first(1));
  EXPECT_FALSE(srv->min_gap(1));
}

TEST(testsite_politeness, measurement_helpers_are_thread_safe) {
  auto srv = start(polite_options(1, 60));
  ASSERT_TRUE(srv);
  int h = srv->model().host_of(host_kind::flaky);
  std::atomic<bool> done{false};
  std::thread reader([&] {
    for (int i = 0; i < 100000 && !done; ++i) {
      (void)srv->min_gap(h, true);
      (void)srv->requests_for(h);
      (void)srv->robots_first(h);
      (void)srv->attempts(h, "/flaky/1.html");
    }
  });
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t)
    clients.emplace_back([&] {
      auto c = client(*srv, h);
      for (int i = 0; i < 5; ++i)
        if (auto r = c.Get("/flaky/1.html")) ok += r->status == 200;
    });
  for (auto& t : clients) t.join();
  done = true;
  reader.join();
  EXPECT_EQ(srv->requests_for(h), 20);
  EXPECT_EQ(srv->attempts(h, "/flaky/1.html"), 20);
  EXPECT_EQ(ok.load(), 18) << "exactly two 503s, whoever got them";
  EXPECT_EQ(srv->max_in_flight(srv->model().host_of(host_kind::dead)), 0);
}

}  // namespace
}  // namespace crawld::testsite
