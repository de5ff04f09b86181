#include "testsite/site.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <iostream>
#include <optional>

namespace crawld::testsite {
namespace {

site make_site(int hosts = 4, int pages = 300, std::uint64_t seed = 1) {
  site_options o;
  o.hosts = hosts;
  o.pages = pages;
  o.port = 8080;
  o.seed = seed;
  return site(o);
}

bool has_prefix(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

std::string path_of(const site& s, int host, int page) { return s.origin(host) + site::page_path(page); }

std::set<std::string> all_seeded(const site& s, expect_options e = {}) {
  for (int h = 0; h < s.opts().hosts; ++h) e.seeds.push_back(s.origin(h) + "/");
  return s.expected(e);
}

// --- an independent, minimal RFC 3986 resolver for the model's own hrefs ---------------------

std::string remove_dot_segments(std::string path) {
  std::vector<std::string> out;
  std::size_t i = 1;  // path starts with '/'
  bool trailing_dir = false;
  while (i <= path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string seg = path.substr(i, j - i);
    bool last = j == path.size();
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
      trailing_dir = last;
    } else if (seg == ".") {
      trailing_dir = last;
    } else {
      out.push_back(seg);
      trailing_dir = false;
    }
    i = j + 1;
  }
  std::string r;
  for (const auto& s : out) r += "/" + s;
  if (trailing_dir || r.empty()) r += "/";
  return r;
}

std::string decode_unreserved_lower_scheme(std::string u) {
  auto sep = u.find("://");
  for (std::size_t i = 0; i < sep; ++i) u[i] = static_cast<char>(std::tolower(u[i]));
  std::string out;
  for (std::size_t i = 0; i < u.size(); ++i) {
    if (u[i] == '%' && i + 2 < u.size()) {
      int v = std::stoi(u.substr(i + 1, 2), nullptr, 16);
      if (std::isalnum(v) || v == '-' || v == '.' || v == '_' || v == '~') {
        out += static_cast<char>(v);
        i += 2;
        continue;
      }
    }
    out += u[i];
  }
  return out;
}

/// Resolves `href` against absolute `base` (http only, no userinfo) and normalizes it.
std::string resolve(const std::string& base, std::string href) {
  href = href.substr(0, href.find('#'));
  auto scheme_end = base.find("://");
  auto path_start = base.find('/', scheme_end + 3);
  std::string origin = base.substr(0, path_start);
  std::string base_path = base.substr(path_start);
  base_path = base_path.substr(0, base_path.find('?'));
  std::string abs;
  if (href.find("://") != std::string::npos) abs = href;
  else if (has_prefix(href, "//")) abs = "http:" + href;
  else if (href.empty()) abs = base.substr(0, base.find('#'));
  else if (href[0] == '/') abs = origin + href;
  else if (href[0] == '?') abs = origin + base_path + href;
  else abs = origin + base_path.substr(0, base_path.rfind('/') + 1) + href;
  abs = decode_unreserved_lower_scheme(abs);
  auto p = abs.find('/', abs.find("://") + 3);
  auto q = abs.find('?', p);
  std::string query = q == std::string::npos ? "" : abs.substr(q);
  return abs.substr(0, p) + remove_dot_segments(abs.substr(p, q == std::string::npos ? q : q - p)) + query;
}

TEST(testsite_site, same_seed_same_web) {
  site a = make_site(), b = make_site(), c = make_site(4, 300, 2);
  int differing = 0;
  for (int k : {0, 1, 7, 42, 299}) {
    std::string t = site::page_path(k);
    EXPECT_EQ(a.serve(1, t).body, b.serve(1, t).body) << t;
    differing += a.serve(1, t).body != c.serve(1, t).body;
  }
  EXPECT_GT(differing, 0) << "another seed should give another web";
  EXPECT_EQ(all_seeded(a), all_seeded(b));
}

TEST(testsite_site, addresses_and_origins) {
  site s = make_site();
  EXPECT_EQ(s.address(0), "127.0.0.10");
  EXPECT_EQ(s.address(3), "127.0.0.13");
  EXPECT_EQ(s.origin(1), "http://127.0.0.11:8080");
  EXPECT_EQ(s.host_index("127.0.0.12"), 2);
  EXPECT_EQ(s.host_index("127.0.0.14"), -1);
  EXPECT_EQ(site::page_path(0), "/");
  EXPECT_EQ(site::page_path(45), "/s13/p45.html");
}

TEST(testsite_site, pages_are_5_to_30_kb) {
  site s = make_site(2, 400);
  for (int h = 0; h < 2; ++h)
    for (int k = 0; k < 400; ++k) {
      auto r = s.serve(h, site::page_path(k));
      ASSERT_EQ(r.status, 200);
      EXPECT_GE(r.body.size(), 5u * 1024) << k;
      EXPECT_LE(r.body.size(), 30u * 1024) << k;
      EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
    }
}

TEST(testsite_site, every_page_reachable_from_index) {
  site s = make_site(2, 300);
  expect_options e;
  e.seeds = {s.origin(0) + "/"};
  auto got = s.expected(e);
  for (int k = 0; k < 300; ++k) EXPECT_TRUE(got.count(path_of(s, 0, k))) << k;
  for (const auto& u : got) EXPECT_TRUE(has_prefix(u, s.origin(0) + "/")) << u << " is out of scope";
  auto o = s.origin(0);
  for (std::string special : {"/missing/", "/r/301/", "/r/302/", "/r/chain/3/", "/r/chain/2/",
                              "/r/chain/1/", "/r/out/", "/files/doc", "/img/", "/private/"})
    EXPECT_TRUE(std::any_of(got.begin(), got.end(), [&](auto& u) { return has_prefix(u, o + special); }))
        << special;
  EXPECT_TRUE(std::any_of(got.begin(), got.end(), [&](auto& u) { return u.find("?q=") != u.npos; }));
  EXPECT_GT(got.size(), 300u);
}

TEST(testsite_site, expected_excludes_nofollow_and_meta_nofollow_targets) {
  site s = make_site(4, 300);
  auto got = all_seeded(s);
  int nofollow_links = 0, meta_pages = 0;
  for (int h = 0; h < 4; ++h)
    for (int k = 0; k < 300; ++k) {
      auto r = s.describe(h, site::page_path(k));
      meta_pages += r.meta_nofollow;
      for (const auto& l : r.links) {
        if (l.flags & link_nofollow) {
          ++nofollow_links;
          EXPECT_EQ(s.serve(h, l.target.substr(s.origin(h).size())).status, 200) << "bait must exist";
        }
      }
    }
  EXPECT_GT(nofollow_links, 0);
  EXPECT_GT(meta_pages, 0);
  for (const auto& u : got) {
    EXPECT_EQ(u.find("/hidden/"), u.npos) << u;
    EXPECT_EQ(u.find("/meta-hidden/"), u.npos) << u;
    EXPECT_EQ(u.find(off_site_address), u.npos) << u;
  }
}

TEST(testsite_site, expected_respects_obey_robots) {
  site s = make_site(4, 300);
  expect_options obey;
  obey.obey_robots = true;
  auto all = all_seeded(s), polite = all_seeded(s, obey);
  std::set<std::string> removed;
  std::set_difference(all.begin(), all.end(), polite.begin(), polite.end(),
                      std::inserter(removed, removed.end()));
  EXPECT_FALSE(removed.empty());
  for (const auto& u : removed) EXPECT_NE(u.find("/private/"), u.npos) << u;
  for (const auto& u : polite) EXPECT_EQ(u.find("/private/"), u.npos) << u;
  EXPECT_TRUE(std::includes(all.begin(), all.end(), polite.begin(), polite.end()));
  EXPECT_EQ(s.serve(0, "/robots.txt").body,
            "User-agent: *\nDisallow: /private/\nSitemap: http://127.0.0.10:8080/sitemap.xml\n");
}

TEST(testsite_site, expected_respects_max_depth) {
  site s = make_site(1, 300);
  const std::string seed = s.origin(0) + "/";
  expect_options e;
  e.seeds = {seed};
  e.max_depth = 0;
  EXPECT_EQ(s.expected(e), std::set<std::string>{seed});

  // Depth 1: the seed, what it links to (followed), and where those redirect to.
  std::set<std::string> want{seed};
  for (const auto& l : s.describe(0, "/").links) {
    if (l.target.empty() || (l.flags & link_nofollow) || !has_prefix(l.target, s.origin(0) + "/"))
      continue;
    for (std::string t = l.target; want.insert(t).second;) {
      auto r = s.describe(0, t.substr(s.origin(0).size()));
      if (r.location_target.empty() || !has_prefix(r.location_target, s.origin(0) + "/")) break;
      t = r.location_target;
    }
  }
  e.max_depth = 1;
  EXPECT_EQ(s.expected(e), want);

  std::set<std::string> previous = want;
  for (int d = 2; d <= 4; ++d) {
    e.max_depth = d;
    auto got = s.expected(e);
    EXPECT_TRUE(std::includes(got.begin(), got.end(), previous.begin(), previous.end())) << d;
    EXPECT_GT(got.size(), previous.size()) << d;
    previous = got;
  }
  e.max_depth = -1;
  EXPECT_LT(previous.size(), s.expected(e).size());
}

TEST(testsite_site, redirect_target_same_depth) {
  site s = make_site(1, 300);
  int checked = 0;
  for (int k = 0; k < 300; ++k) {
    for (const auto& l : s.describe(0, site::page_path(k)).links) {
      std::string rel = l.target.substr(std::min(l.target.size(), s.origin(0).size()));
      if (!has_prefix(rel, "/r/")) continue;
      expect_options e;
      e.seeds = {path_of(s, 0, k)};
      e.max_depth = 1;
      auto got = s.expected(e);
      EXPECT_TRUE(got.count(l.target)) << l.target;
      // Follow the chain: every hop inside the site is expected at the same depth.
      std::string t = l.target;
      for (int hop = 0; hop < 5; ++hop) {
        auto r = s.describe(0, t.substr(s.origin(0).size()));
        if (r.location_target.empty()) break;
        t = r.location_target;
        if (has_prefix(rel, "/r/out/")) {
          EXPECT_FALSE(got.count(t)) << "off-site target " << t;
          break;
        }
        EXPECT_TRUE(got.count(t)) << t << " via " << l.target;
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 20);
  EXPECT_EQ(s.serve(0, "/r/chain/3/9").headers.at(0).second, "/r/chain/2/9");
  EXPECT_EQ(s.serve(0, "/r/chain/1/9").headers.at(0).second, "/s9/p9.html");
  EXPECT_EQ(s.serve(0, "/r/301/9").status, 301);
  EXPECT_EQ(s.serve(0, "/r/302/9").status, 302);
  EXPECT_EQ(s.serve(0, "/r/out/9").headers.at(0).second,
            std::string("http://") + off_site_address + ":8080/landing/9.html");
}

TEST(testsite_site, percent_encoded_path_served_as_plain) {
  site s = make_site(1, 100);
  auto plain = s.serve(0, "/s13/p45.html");
  ASSERT_EQ(plain.status, 200);
  EXPECT_EQ(s.serve(0, "/s13/%70%34%35.html").body, plain.body);
  EXPECT_EQ(s.serve(0, "/%73%31%33/p45%2ehtml").body, plain.body);
  EXPECT_EQ(s.serve(0, "/s13/p45%2Fhtml").status, 404) << "reserved escapes stay encoded";
  EXPECT_EQ(s.serve(0, "/r/301/%34%35").status, 301);
}

TEST(testsite_site, special_endpoints) {
  site s = make_site(1, 100);
  EXPECT_EQ(s.serve(0, "/missing/3.html").status, 404);
  EXPECT_EQ(s.serve(0, "/nowhere").status, 404);
  EXPECT_EQ(s.serve(0, "/s3/p4.html").status, 404) << "page 4 lives in /s4/";
  EXPECT_EQ(s.serve(0, "/s1/p01.html").status, 404);
  EXPECT_EQ(s.serve(0, "/s4/p100.html").status, 404) << "beyond pages";
  EXPECT_EQ(s.serve(0, "/files/doc7.pdf").content_type, "application/pdf");
  EXPECT_EQ(s.serve(0, "/img/7.png").content_type, "image/png");
  EXPECT_EQ(s.serve(0, "/private/6.html").status, 200);
  auto q = s.serve(0, "/s3/p3.html?q=1&a=2");
  EXPECT_EQ(q.status, 200);
  EXPECT_NE(q.body, s.serve(0, "/s3/p3.html").body);
  EXPECT_NE(s.serve(0, "/sitemap.xml").body.find("<loc>http://127.0.0.10:8080/s1/p1.html</loc>"),
            std::string::npos);
}

TEST(testsite_site, served_html_contains_every_modelled_href) {
  site s = make_site(3, 200);
  for (int h = 0; h < 3; ++h)
    for (int k = 0; k < 200; k += 3) {
      std::string path = site::page_path(k);
      auto r = s.describe(h, path);
      auto body = s.serve(h, path).body;
      std::size_t anchors = 0;
      for (std::size_t p = body.find("<a "); p != body.npos; p = body.find("<a ", p + 1)) ++anchors;
      EXPECT_EQ(anchors, r.links.size()) << path;
      for (const auto& l : r.links) {
        std::string escaped;
        for (char c : l.href) escaped += c == '&' ? std::string("&amp;") : std::string(1, c);
        EXPECT_NE(body.find("href=\"" + escaped + "\""), body.npos) << l.href << " on " << path;
      }
      EXPECT_EQ(body.find("<meta name=\"robots\" content=\"nofollow\">") != body.npos, r.meta_nofollow);
      if (!r.base_href.empty()) {
        EXPECT_NE(body.find("<base href=\"" + r.base_href + "\">"), body.npos);
      }
      if (!r.canonical.empty()) {
        EXPECT_NE(body.find("rel=\"canonical\" href=\"" + r.canonical), body.npos);
      }
    }
}

TEST(testsite_site, modelled_targets_match_an_independent_resolver) {
  site s = make_site(4, 300);
  std::set<std::string> forms;
  for (int h = 0; h < 4; ++h)
    for (int k = 0; k < 300; ++k) {
      std::string page_url = path_of(s, h, k);
      auto r = s.describe(h, site::page_path(k));
      std::string base = r.base_href.empty() ? page_url : resolve(page_url, r.base_href);
      for (const auto& l : r.links) {
        if (l.flags & link_not_http) {
          EXPECT_TRUE(has_prefix(l.href, "mailto:") || has_prefix(l.href, "javascript:")) << l.href;
          continue;
        }
        EXPECT_EQ(resolve(base, l.href), l.target) << l.href << " on " << page_url;
        EXPECT_EQ(!r.base_href.empty() && l.href.find("//") == l.href.npos && l.href[0] != '/' &&
                      l.href[0] != '#',
                  (l.flags & link_via_base) != 0)
            << l.href;
        if (has_prefix(l.href, "HTTP://")) forms.insert("upper");
        if (has_prefix(l.href, "//")) forms.insert("scheme-relative");
        if (has_prefix(l.href, "../")) forms.insert("parent");
        if (has_prefix(l.href, "./")) forms.insert("dot");
        if (l.href.find('%') != l.href.npos) forms.insert("percent");
        if (l.href.find("#sec") != l.href.npos) forms.insert("fragment");
        if (l.href == "#top") forms.insert("self");
        if (l.href.find('?') != l.href.npos) forms.insert("query");
        if (l.flags & link_via_base) forms.insert("base");
        if (has_prefix(l.href, "http://") && l.target.find(off_site_address) == l.target.npos)
          forms.insert("absolute");
        if (l.href[0] != '/' && l.href[0] != '.' && l.href.find(':') == l.href.npos &&
            l.href[0] != '#')
          forms.insert("relative");
        if (has_prefix(l.href, "/") && !has_prefix(l.href, "//")) forms.insert("root-relative");
      }
    }
  EXPECT_EQ(forms, (std::set<std::string>{"absolute", "base", "dot", "fragment", "parent",
                                          "percent", "query", "relative", "root-relative",
                                          "scheme-relative", "self", "upper"}));
}

TEST(testsite_site, every_expected_url_is_served_or_off_site) {
  site s = make_site(4, 300);
  expect_options e;
  e.extra_hosts = {off_site_address};
  auto got = all_seeded(s, e);
  int off = 0;
  for (const auto& u : got) {
    if (u.find(off_site_address) != u.npos) {
      ++off;
      continue;
    }
    std::string host = u.substr(7, u.find(':', 7) - 7);
    int h = s.host_index(host);
    ASSERT_GE(h, 0) << u;
    auto r = s.serve(h, u.substr(s.origin(h).size()));
    if (u.find("/missing/") != u.npos) {
      EXPECT_EQ(r.status, 404) << u;
    } else {
      EXPECT_TRUE(r.status == 200 || r.status == 301 || r.status == 302) << u << " " << r.status;
    }
  }
  EXPECT_GT(off, 0) << "admitting the off-site host adds its URLs";
}

TEST(testsite_site, cross_host_links_need_scope) {
  site s = make_site(4, 300);
  expect_options e;
  e.seeds = {s.origin(0) + "/"};
  auto one = s.expected(e);
  e.extra_hosts = {s.address(1)};
  auto two = s.expected(e);
  EXPECT_GT(two.size(), one.size());
  EXPECT_TRUE(std::any_of(two.begin(), two.end(), [&](auto& u) { return has_prefix(u, s.origin(1)); }));
}

TEST(testsite_site, size_of_default_web) {
  site s = make_site(4, 500);
  auto got = all_seeded(s);
  std::cout << "expected URLs, hosts=4 pages=500, all hosts seeded: " << got.size() << "\n";
  EXPECT_GT(got.size(), 4u * 500);
}

}  // namespace
}  // namespace crawld::testsite
