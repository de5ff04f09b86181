#include <gtest/gtest.h>
#include <sys/resource.h>
#include <zlib.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "parse/sitemap.hpp"

namespace crawld::parse {
namespace {

using strings = std::vector<std::string>;

/// Gzips the concatenation of `repeat` copies of `chunk`, streaming (the input is never built).
std::string gzip(std::string_view chunk, std::size_t repeat = 1, int level = Z_BEST_COMPRESSION) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out;
  char buf[64 * 1024];
  for (std::size_t r = 0; r <= repeat; ++r) {
    const bool last = r == repeat;
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(chunk.data()));
    zs.avail_in = last ? 0 : static_cast<uInt>(chunk.size());
    int rc;
    do {
      zs.next_out = reinterpret_cast<Bytef*>(buf);
      zs.avail_out = sizeof buf;
      rc = deflate(&zs, last ? Z_FINISH : Z_NO_FLUSH);
      out.append(buf, sizeof buf - zs.avail_out);
    } while (zs.avail_out == 0 || (last && rc != Z_STREAM_END));
  }
  deflateEnd(&zs);
  return out;
}

sitemap parse(std::string_view body, sitemap_limits limits = {}) {
  auto r = parse_sitemap(body, limits);
  EXPECT_TRUE(r) << (r ? "" : r.message());
  return r ? *r : sitemap{};
}

const char* const xml_head = R"(<?xml version="1.0" encoding="UTF-8"?>
)";

std::string urlset(const std::string& entries) {
  return std::string(xml_head) +
         R"(<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">)" + entries + "</urlset>";
}

long peak_rss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

TEST(sitemap, urlset_locs_in_order) {
  auto s = parse(urlset(R"(
  <url><loc>http://a.example/b</loc><lastmod>2024-01-01</lastmod><changefreq>daily</changefreq>
       <priority>0.8</priority></url>
  <url><loc>HTTP://A.example:80/a/../c?x=1#frag</loc></url>
  <url>
    <loc>https://b.example/%7Euser/</loc>
  </url>)"));
  EXPECT_EQ(s.kind, sitemap_kind::urlset);
  EXPECT_EQ(s.urls, (strings{"http://a.example/b", "http://a.example/c?x=1",
                             "https://b.example/~user/"}));
  EXPECT_EQ(s.invalid, 0u);
  EXPECT_FALSE(s.truncated);
}

TEST(sitemap, index_lists_child_sitemaps) {
  auto s = parse(std::string(xml_head) + R"(
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>http://a.example/sitemap1.xml.gz</loc><lastmod>2004-10-01T18:23:17+00:00</lastmod></sitemap>
  <sitemap><loc>http://a.example/sitemap2.xml</loc></sitemap>
  <url><loc>http://a.example/not-a-sitemap-entry</loc></url>
</sitemapindex>)");
  EXPECT_EQ(s.kind, sitemap_kind::index);
  EXPECT_EQ(s.urls, (strings{"http://a.example/sitemap1.xml.gz", "http://a.example/sitemap2.xml"}));
  EXPECT_FALSE(s.truncated);
  EXPECT_STREQ(to_string(s.kind), "index");
}

TEST(sitemap, namespace_prefixed_tags) {
  auto s = parse(R"(<?xml version="1.0"?>
<sm:urlset xmlns:sm="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <sm:url><sm:loc>http://a.example/1</sm:loc>
    <image:image><image:loc>http://a.example/photo.jpg</image:loc></image:image>
  </sm:url>
  <sm:url class='x>y' data-x="a/>b"><sm:loc>http://a.example/2</sm:loc></sm:url>
</sm:urlset>)");
  EXPECT_EQ(s.kind, sitemap_kind::urlset);
  EXPECT_EQ(s.urls, (strings{"http://a.example/1", "http://a.example/2"}));
}

TEST(sitemap, cdata_and_entities_decoded) {
  auto s = parse(urlset(R"(
  <url><loc><![CDATA[http://a.example/p?a=1&b=2]]></loc></url>
  <url><loc>http://a.example/q?a=1&amp;b=2&amp;c=&lt;&gt;&quot;&apos;</loc></url>
  <url><loc>http://a.example/&#x41;&#66;/<!-- comment <loc>http://evil.example/</loc> -->tail</loc></url>
  <url><loc>http://a.example/&#xe9;&unknown;&#0;&#xD800;&#x110000;&</loc></url>)"));
  EXPECT_EQ(s.urls, (strings{"http://a.example/p?a=1&b=2",
                             "http://a.example/q?a=1&b=2&c=%3C%3E%22%27",
                             "http://a.example/AB/tail",
                             // kept as written: "&#0;" starts the fragment, which normalize drops
                             "http://a.example/%C3%A9&unknown;&"}));
  EXPECT_EQ(s.invalid, 0u);
}

TEST(sitemap, whitespace_trimmed) {
  auto s = parse(urlset("<url><loc>\n\t   http://a.example/x  \r\n </loc></url>"
                        "<url> <loc> <![CDATA[ http://a.example/y ]]> </loc> </url>"));
  EXPECT_EQ(s.urls, (strings{"http://a.example/x", "http://a.example/y"}));
}

TEST(sitemap, relative_loc_counted_invalid) {
  auto s = parse(urlset(R"(
  <url><loc>/relative/path</loc></url>
  <url><loc>page.html</loc></url>
  <url><loc></loc></url>
  <url><loc/></url>
  <url><loc>http://</loc></url>
  <url><loc>mailto:someone@a.example</loc></url>
  <url><loc>http://a.example/ok</loc></url>)"));
  EXPECT_EQ(s.urls, strings{"http://a.example/ok"});
  EXPECT_EQ(s.invalid, 6u);
}

TEST(sitemap, text_sitemap_lines) {
  auto s = parse("\xEF\xBB\xBFhttp://a.example/1\r\n\n   \nhttps://a.example/caf\xC3\xA9  \r\n"
                 "relative/line\nhttp://a.example/1\nhttp://a.example/last");
  EXPECT_EQ(s.kind, sitemap_kind::text);
  EXPECT_EQ(s.urls, (strings{"http://a.example/1", "https://a.example/caf%C3%A9",
                             "http://a.example/last"}));
  EXPECT_EQ(s.invalid, 1u);
  EXPECT_FALSE(s.truncated);

  // Text in which no line is a URL is not a sitemap.
  auto prose = parse("Hello: this is not a sitemap.\nNothing here either\n");
  EXPECT_EQ(prose.kind, sitemap_kind::unknown);
  EXPECT_TRUE(prose.urls.empty());
  EXPECT_EQ(prose.invalid, 0u);
}

TEST(sitemap, gzip_sitemap_detected_by_magic) {
  const std::string xml = urlset("<url><loc>http://a.example/z</loc></url>");
  auto s = parse(gzip(xml));
  EXPECT_EQ(s.kind, sitemap_kind::urlset);
  EXPECT_EQ(s.urls, strings{"http://a.example/z"});
  EXPECT_FALSE(s.truncated);

  sitemap_limits unlimited;
  unlimited.max_bytes = static_cast<std::size_t>(-1);
  EXPECT_EQ(parse(gzip(xml), unlimited).urls, strings{"http://a.example/z"});

  auto t = parse(gzip("http://a.example/t1\nhttp://a.example/t2\n"));
  EXPECT_EQ(t.kind, sitemap_kind::text);
  EXPECT_EQ(t.urls, (strings{"http://a.example/t1", "http://a.example/t2"}));

  // Concatenated members are one document; bytes after the last member are ignored.
  auto m = parse(gzip("http://a.example/m1\n") + gzip("http://a.example/m2\n") + "trailing junk");
  EXPECT_EQ(m.urls, (strings{"http://a.example/m1", "http://a.example/m2"}));
  EXPECT_FALSE(m.truncated);

  // A stream cut in transfer keeps what it held, minus the incomplete last entry.
  std::string big;
  for (int i = 0; i < 2000; ++i) big += "http://a.example/" + std::to_string(i) + "\n";
  const std::string gz = gzip(big, 1, Z_NO_COMPRESSION);
  auto cut = parse(std::string_view(gz).substr(0, gz.size() / 2));
  EXPECT_TRUE(cut.truncated);
  EXPECT_GT(cut.urls.size(), 500u);
  EXPECT_LT(cut.urls.size(), 1500u);
  for (std::size_t i = 0; i < cut.urls.size(); ++i)
    ASSERT_EQ(cut.urls[i], "http://a.example/" + std::to_string(i));

  // An uncompressed body that merely looks like gzip later on is not inflated.
  auto plain = parse(" \x1f\x8b\nhttp://a.example/\n");
  EXPECT_EQ(plain.kind, sitemap_kind::text);
  EXPECT_EQ(plain.invalid, 1u);
  EXPECT_EQ(plain.urls, strings{"http://a.example/"});
}

TEST(sitemap, gzip_bomb_stops_at_byte_cap) {
  const std::string entry = "<url><loc>http://a.example/bomb</loc></url>\n";
  std::string chunk = std::string(xml_head) + "<urlset>";
  while (chunk.size() < 64 * 1024) chunk += entry;
  const std::size_t repeat = (200u << 20) / chunk.size();  // ~200 MB inflated
  const std::string bomb = gzip(chunk, repeat);
  ASSERT_LT(bomb.size(), 1u << 20);

  const long rss_before = peak_rss_kib();
  const auto start = std::chrono::steady_clock::now();
  sitemap_limits limits;
  limits.max_bytes = 1u << 20;
  auto s = parse(bomb, limits);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(s.truncated);
  EXPECT_EQ(s.kind, sitemap_kind::urlset);
  EXPECT_EQ(s.urls, strings{"http://a.example/bomb"});
  // Only ~1 MB was inflated: fast, and the peak memory barely moved (200 MB would show).
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  EXPECT_LT(peak_rss_kib() - rss_before, 64 * 1024);

  // The default cap (50 MB) also stops one (64 MB of whitespace after the entry, in a second
  // gzip member: cheap to scan, so the test stays fast under sanitizers).
  const std::string padded = gzip(urlset("<url><loc>http://a.example/bomb</loc></url>")) +
                             gzip(std::string(64 * 1024, ' '), 1024);
  auto d = parse(padded);
  EXPECT_TRUE(d.truncated);
  EXPECT_EQ(d.urls, strings{"http://a.example/bomb"});

  // An exact fit is not truncation.
  const std::string small = urlset("<url><loc>http://a.example/fit</loc></url>");
  limits.max_bytes = small.size();
  auto fit = parse(gzip(small), limits);
  EXPECT_FALSE(fit.truncated);
  EXPECT_EQ(fit.urls, strings{"http://a.example/fit"});
  limits.max_bytes = small.size() - 1;
  EXPECT_TRUE(parse(gzip(small), limits).truncated);
  EXPECT_TRUE(parse(small, limits).truncated);
}

TEST(sitemap, byte_cap_drops_the_cut_entry) {
  const std::string xml = urlset("<url><loc>http://a.example/one</loc></url>"
                                 "<url><loc>http://a.example/two-is-long</loc></url>");
  sitemap_limits limits;
  limits.max_bytes = xml.find("-is-long");
  auto s = parse(xml, limits);
  EXPECT_TRUE(s.truncated);
  EXPECT_EQ(s.urls, strings{"http://a.example/one"});
  limits.max_bytes = xml.find("</loc></url></urlset>") + 4;  // "</lo" of the second entry
  EXPECT_EQ(parse(xml, limits).urls, strings{"http://a.example/one"});

  limits.max_bytes = std::string("http://a.example/1\nhttp://a.exa").size();
  auto t = parse("http://a.example/1\nhttp://a.example/2\n", limits);
  EXPECT_TRUE(t.truncated);
  EXPECT_EQ(t.urls, strings{"http://a.example/1"});

  // Without a cut, a <loc> left open at the end still counts.
  auto open = parse("<urlset><url><loc>http://a.example/open");
  EXPECT_FALSE(open.truncated);
  EXPECT_EQ(open.urls, strings{"http://a.example/open"});
}

TEST(sitemap, url_count_cap_truncates) {
  std::string entries;
  for (int i = 0; i < 5; ++i) entries += "<url><loc>http://a.example/" + std::to_string(i) + "</loc></url>";
  sitemap_limits limits;
  limits.max_urls = 3;
  auto s = parse(urlset(entries), limits);
  EXPECT_TRUE(s.truncated);
  EXPECT_EQ(s.urls, (strings{"http://a.example/0", "http://a.example/1", "http://a.example/2"}));

  limits.max_urls = 5;
  auto exact = parse(urlset(entries + "<url><loc>http://a.example/4</loc></url>"), limits);
  EXPECT_FALSE(exact.truncated);
  EXPECT_EQ(exact.urls.size(), 5u);

  limits.max_urls = 2;
  auto t = parse("http://a.example/a\nhttp://a.example/b\nhttp://a.example/c\n", limits);
  EXPECT_EQ(t.kind, sitemap_kind::text);
  EXPECT_TRUE(t.truncated);
  EXPECT_EQ(t.urls.size(), 2u);

  // Default: 50,000.
  std::string many = "<urlset>";
  for (int i = 0; i < 50'001; ++i) many += "<url><loc>http://a.example/" + std::to_string(i) + "</loc></url>";
  auto d = parse(many);
  EXPECT_TRUE(d.truncated);
  EXPECT_EQ(d.urls.size(), 50'000u);
  EXPECT_EQ(d.urls.back(), "http://a.example/49999");
}

TEST(sitemap, corrupt_gzip_is_error) {
  std::string gz = gzip(urlset("<url><loc>http://a.example/x</loc></url>"));
  std::string flipped = gz;
  for (std::size_t i = 12; i < flipped.size() - 8; i += 3) flipped[i] = static_cast<char>(~flipped[i]);
  auto r = parse_sitemap(flipped);
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("corrupt gzip"), std::string::npos) << r.message();

  std::string bad_crc = gz;
  bad_crc[bad_crc.size() - 6] = static_cast<char>(~bad_crc[bad_crc.size() - 6]);
  auto c = parse_sitemap(bad_crc);
  ASSERT_FALSE(c);
  EXPECT_NE(c.message().find("corrupt gzip"), std::string::npos) << c.message();

  auto h = parse_sitemap(std::string("\x1f\x8b\x09\x00garbage-after-a-bad-method", 30));
  EXPECT_FALSE(h);
}

TEST(sitemap, garbage_never_crashes) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 200; ++round) {
    std::string bytes(rng() % 4096, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    if (round % 2) bytes.insert(0, "<urlset><url><loc>");  // garbage inside a sitemap
    if (round % 5 == 0) bytes.insert(0, "\x1f\x8b");       // garbage claiming to be gzip
    auto r = parse_sitemap(bytes);
    if (r) {
      EXPECT_LE(r->urls.size(), 50'000u);
    }
  }

  // Every prefix of a real sitemap (truncated XML) and of its gzip.
  const std::string xml = urlset(R"(<!DOCTYPE x [<!ENTITY e "v">]><url><loc><![CDATA[http://a.example/1]]></loc></url>
<!-- c --><url><loc a='1' b="2">http://a.example/2&amp;x</loc></url><?pi x?>)");
  for (std::size_t n = 0; n <= xml.size(); ++n) {
    auto r = parse_sitemap(std::string_view(xml).substr(0, n));
    ASSERT_TRUE(r);
    EXPECT_LE(r->urls.size(), 2u);
  }
  const std::string gz = gzip(xml);
  for (std::size_t n = 0; n <= gz.size(); ++n) (void)parse_sitemap(std::string_view(gz).substr(0, n));
  EXPECT_EQ(parse(xml).urls, (strings{"http://a.example/1", "http://a.example/2&x"}));

  // Deep nesting, a 1 MB token of each kind, a flood of '&' and '<': linear, no crash.
  std::string deep = "<urlset><url>";
  for (int i = 0; i < 200'000; ++i) deep += "<a>";
  deep += "<loc>http://a.example/deep</loc>";
  for (int i = 0; i < 200'000; ++i) deep += "</a>";
  deep += "<loc>http://a.example/shallow</loc></url></urlset>";
  EXPECT_EQ(parse(deep).urls, strings{"http://a.example/shallow"});

  const std::string mb(1u << 20, 'x');
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(parse(mb).kind, sitemap_kind::unknown);
  EXPECT_EQ(parse("<" + mb).kind, sitemap_kind::unknown);
  EXPECT_EQ(parse("<urlset><url><loc>" + mb).invalid, 1u);
  EXPECT_EQ(parse("<urlset><url><loc>http://a.example/" + mb + "</loc></url>").urls.size(), 1u);
  EXPECT_EQ(parse("<urlset " + mb).kind, sitemap_kind::urlset);
  EXPECT_EQ(parse("<urlset a=\"" + mb).kind, sitemap_kind::urlset);
  EXPECT_EQ(parse("<urlset><!--" + mb).kind, sitemap_kind::urlset);
  EXPECT_EQ(parse("<urlset><url><loc><![CDATA[" + mb).invalid, 1u);
  EXPECT_EQ(parse("<urlset><url><loc>" + std::string(1u << 20, '&')).invalid, 1u);
  EXPECT_EQ(parse("<urlset><url><loc>" + std::string(1u << 20, '<')).invalid, 1u);
  EXPECT_EQ(parse("<urlset><url><loc>&#" + std::string(1u << 20, '9') + ";").invalid, 1u);
  EXPECT_EQ(parse(std::string(1u << 20, '\n')).kind, sitemap_kind::unknown);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));

  // Markup that is not a sitemap.
  auto html = parse("<!DOCTYPE html><html><body><url><loc>http://a.example/</loc></url></body></html>");
  EXPECT_EQ(html.kind, sitemap_kind::unknown);
  EXPECT_TRUE(html.urls.empty());
  EXPECT_EQ(parse("").kind, sitemap_kind::unknown);
  EXPECT_EQ(parse("  \n\t ").kind, sitemap_kind::unknown);
}

TEST(sitemap, loc_outside_url_ignored) {
  auto s = parse(urlset(R"(
  <loc>http://a.example/under-urlset</loc>
  <url><loc>http://a.example/in-url</loc></url>
  <url><lastmod><loc>http://a.example/nested-deeper</loc></lastmod></url>
  <sitemap><loc>http://a.example/sitemap-in-urlset</loc></sitemap>
  <other><url-not><loc>http://a.example/x</loc></url-not></other>)"));
  EXPECT_EQ(s.urls, strings{"http://a.example/in-url"});
  EXPECT_EQ(s.invalid, 0u);

  // A missing </loc> is ended by the next tag; </urlset> ends an unclosed <url>.
  auto t = parse(urlset("<url><loc>http://a.example/a</url><url><loc>http://a.example/b<lastmod/></url>") +
                 "<loc>http://a.example/after-root</loc>");
  EXPECT_EQ(t.urls, (strings{"http://a.example/a", "http://a.example/b"}));
}

TEST(sitemap, duplicates_removed) {
  auto s = parse(urlset(R"(
  <url><loc>http://a.example/x</loc></url>
  <url><loc>HTTP://a.EXAMPLE:80/x#top</loc></url>
  <url><loc>http://a.example/y</loc></url>
  <url><loc>http://a.example/./x</loc></url>)"));
  EXPECT_EQ(s.urls, (strings{"http://a.example/x", "http://a.example/y"}));
  EXPECT_EQ(s.invalid, 0u);

  // Duplicates do not use up the URL cap.
  sitemap_limits limits;
  limits.max_urls = 2;
  auto t = parse("http://a.example/1\nhttp://a.example/1\nhttp://a.example/1\nhttp://a.example/2\n",
                 limits);
  EXPECT_FALSE(t.truncated);
  EXPECT_EQ(t.urls, (strings{"http://a.example/1", "http://a.example/2"}));
}

}  // namespace
}  // namespace crawld::parse
