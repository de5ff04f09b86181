#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "parse/links.hpp"
#include "tests/parse/url_fields.hpp"

namespace crawld::parse {
namespace {


const url& page() {
  static const url u = *parse_url("http://site.example/dir/page.html");
  return u;
}

page_links extract(const std::string& html) { return extract_links(html, page()); }

TEST(links, resolves_relative_hrefs_in_document_order) {
  auto l = extract(R"(<p><a href="b.html">b</a><a href="/a">a</a>
      <map><area href="https://other.example/x"></map><a>no href</a></p>)");
  EXPECT_EQ(l.follow, (std::vector<std::string>{"http://site.example/dir/b.html",
                                                "http://site.example/a",
                                                "https://other.example/x"}));
  EXPECT_TRUE(l.skipped.empty());
  EXPECT_EQ(l.base, "http://site.example/dir/page.html");
  EXPECT_FALSE(l.canonical);
}

TEST(links, base_href_first_wins) {
  auto l = extract(R"(<head><base href="/other/"><base href="http://evil.example/"></head>
      <body><a href="x">x</a></body>)");
  EXPECT_EQ(l.base, "http://site.example/other/");
  EXPECT_EQ(l.follow, std::vector<std::string>{"http://site.example/other/x"});
}

TEST(links, base_applies_to_links_before_it) {
  auto l = extract(R"(<a href="x">x</a><base href="http://b.example/sub/">)");
  EXPECT_EQ(l.follow, std::vector<std::string>{"http://b.example/sub/x"});
}

TEST(links, base_without_href_is_ignored) {
  auto l = extract(R"(<base target="_top"><base href="/b/"><a href="x">x</a>)");
  EXPECT_EQ(l.follow, std::vector<std::string>{"http://site.example/b/x"});
}

TEST(links, nofollow_rel_skipped) {
  auto l = extract(R"(<a href="/a" rel="external NoFollow">a</a><a href="/b" rel="nofollowers">b</a>
      <area href="/c" rel="nofollow">)");
  EXPECT_EQ(l.follow, std::vector<std::string>{"http://site.example/b"});
  ASSERT_EQ(l.skipped.size(), 2u);
  EXPECT_EQ(l.skipped[0].href, "/a");
  EXPECT_EQ(l.skipped[0].reason, skip_reason::nofollow);
  EXPECT_EQ(l.skipped[1].href, "/c");
  EXPECT_EQ(l.skipped[1].reason, skip_reason::nofollow);
}

TEST(links, meta_robots_nofollow_skips_all) {
  auto l = extract(R"(<meta name="ROBOTS" content="index, NOFOLLOW"><a href="/a">a</a>
      <a href="javascript:x();">j</a>)");
  EXPECT_TRUE(l.meta_nofollow);
  EXPECT_FALSE(l.meta_noindex);
  EXPECT_TRUE(l.follow.empty());
  ASSERT_EQ(l.skipped.size(), 2u);
  EXPECT_EQ(l.skipped[0].reason, skip_reason::meta_nofollow);
  EXPECT_EQ(l.skipped[1].reason, skip_reason::meta_nofollow);
}

TEST(links, meta_robots_none_means_noindex_and_nofollow) {
  auto l = extract(R"(<meta name="robots" content="none"><a href="/a">a</a>)");
  EXPECT_TRUE(l.meta_nofollow);
  EXPECT_TRUE(l.meta_noindex);
  EXPECT_TRUE(l.follow.empty());
}

TEST(links, meta_robots_noindex_alone_still_follows) {
  auto l = extract(R"(<meta name="robots" content="noindex"><meta name="description"
      content="nofollow"><a href="/a">a</a>)");
  EXPECT_FALSE(l.meta_nofollow);
  EXPECT_TRUE(l.meta_noindex);
  EXPECT_EQ(l.follow, std::vector<std::string>{"http://site.example/a"});
}

TEST(links, canonical_recorded) {
  auto l = extract(R"(<link rel="stylesheet" href="/s.css"><link rel="Canonical"
      href="/Canon?x=%7e#frag"><link rel="canonical" href="/second">)");
  ASSERT_TRUE(l.canonical);
  EXPECT_EQ(*l.canonical, "http://site.example/Canon?x=~");
  EXPECT_TRUE(l.follow.empty());  // <link> is not a followed link
}

TEST(links, canonical_with_unsupported_scheme_is_not_recorded) {
  auto l = extract(R"(<link rel="canonical" href="mailto:x@y">)");
  EXPECT_FALSE(l.canonical);
}

TEST(links, fragments_deduped) {
  auto l = extract(R"(<a href="/p#one">1</a><a href="/p#two">2</a><a href="HTTP://SITE.example:80/p">3</a>
      <a href="#top">self</a>)");
  EXPECT_EQ(l.follow, (std::vector<std::string>{"http://site.example/p",
                                                "http://site.example/dir/page.html"}));
}

TEST(links, unsupported_schemes_skipped) {
  auto l = extract(R"(<a href="mailto:a@b.example">m</a><a href="javascript:void(0);">j</a>
      <a href="ftp://f.example/x">f</a><a href="tel:+1">t</a><a href="https://ok.example/">ok</a>)");
  EXPECT_EQ(l.follow, std::vector<std::string>{"https://ok.example/"});
  ASSERT_EQ(l.skipped.size(), 4u);
  for (const auto& s : l.skipped) EXPECT_EQ(s.reason, skip_reason::unsupported_scheme) << s.href;
  EXPECT_EQ(l.skipped[0].href, "mailto:a@b.example");
}

TEST(links, unparsable_href_is_bad_url) {
  auto l = extract(R"(<a href="http://exa mple.com/">x</a><a href="http://h:99999/">y</a>)");
  EXPECT_TRUE(l.follow.empty());
  ASSERT_EQ(l.skipped.size(), 2u);
  EXPECT_EQ(l.skipped[0].reason, skip_reason::bad_url);
  EXPECT_EQ(l.skipped[0].href, "http://exa mple.com/");
  EXPECT_EQ(l.skipped[1].reason, skip_reason::bad_url);
}

TEST(links, entities_in_href_are_decoded) {
  auto l = extract(R"(<a href="/q?a=1&amp;b=2">x</a>)");
  EXPECT_EQ(l.follow, std::vector<std::string>{"http://site.example/q?a=1&b=2"});
}

TEST(links, malformed_html_never_crashes) {
  // Unclosed tags and attributes.
  auto l = extract("<html><body><div><a href=\"/a\">x<p><a href='/b'<span><a href=/c");
  EXPECT_FALSE(l.follow.empty());
  EXPECT_EQ(l.follow.front(), "http://site.example/a");

  // NUL bytes and invalid UTF-8 inside and around links.
  std::string nul("<a href=\"/n\0ul\">x</a>\0<a href=\"/ok\">\xff\xfe\xc3</a>", 40);
  auto n = extract(nul);
  EXPECT_FALSE(n.follow.empty());
  EXPECT_EQ(n.follow.back(), "http://site.example/ok");

  std::string bad_utf8 = "<a href=\"/\xc3\x28\xa0\xa1\">x</a><a href=\"/\xf0\x28\x8c\x28\">y</a>";
  auto b = extract(bad_utf8);
  EXPECT_EQ(b.follow.size() + b.skipped.size(), 2u);

  // Deep nesting: the walk must not recurse.
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "<div>";
  deep += "<a href=\"/deep\">deep</a>";
  auto d = extract(deep);
  EXPECT_EQ(d.follow, std::vector<std::string>{"http://site.example/deep"});

  // Empty and binary garbage.
  EXPECT_TRUE(extract("").follow.empty());
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage += static_cast<char>((i * 7919) & 0xFF);
  (void)extract(garbage);
}

// Gumbo's cost per start tag grows with the open-element depth; hostile nesting must stay cheap
// and must not hide links.
TEST(links, deep_nesting_is_bounded_and_keeps_links) {
  std::string deep;
  for (int i = 0; i < 100000; ++i) {
    deep += i % 3 ? "<div class=\"x>y\">" : "<b>";
    if (i % 20000 == 0) deep += "<a href=\"/at" + std::to_string(i) + "\">l</a>";
  }
  deep += "<script>var s = '<div><a href=\"/in-script\">';</script><a href='/last'>z</a>";
  deep += "<base href=\"/b/\">";
  auto start = std::chrono::steady_clock::now();
  auto l = extract(deep);
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(l.base, "http://site.example/b/");
  EXPECT_EQ(l.follow, (std::vector<std::string>{
                          "http://site.example/at0", "http://site.example/at20000",
                          "http://site.example/at40000", "http://site.example/at60000",
                          "http://site.example/at80000", "http://site.example/last"}));
  EXPECT_LT(secs, 10.0);  // unbounded, this takes ~30 s (and far longer under sanitizers)
}

TEST(links, moderately_deep_pages_parse_unchanged) {
  std::string html;
  for (int i = 0; i < 400; ++i) html += "<div><span>";  // 800 deep: past the limit
  html += "<a href=\"/deep\">d</a><p>text<ul><li><a href=x>x</a><li><a href=y>y</a></ul>";
  for (int i = 0; i < 400; ++i) html += "</span></div>";
  html += "<a href=\"/after\">a</a>";
  auto l = extract(html);
  EXPECT_EQ(l.follow, (std::vector<std::string>{
                          "http://site.example/deep", "http://site.example/dir/x",
                          "http://site.example/dir/y", "http://site.example/after"}));
}

// gumbo 0.10.1 aborts (assert in node_qualified_tag_is) on this tree; link extraction must not.
TEST(links, gumbo_abort_input_is_survived) {
  auto l = extract("<table><svg><select><title><select><td></title><a href=/after>x</a>");
  EXPECT_EQ(l.follow, std::vector<std::string>{"http://site.example/after"});
}

// Flattening must follow the tokenizer: quoted '>' in attributes, comments, raw text.
TEST(links, tags_inside_text_comments_and_attributes_are_not_links) {
  auto l = extract(R"(<div title="<a href=/in-attr>"><!-- <a href=/in-comment> -->
      <script>var s = "<a href=/in-script>"; if (a < b) {}</script>
      <script><!-- document.write("<script></script><a href=/in-escaped>"); --></script>
      <style>a::after { content: "<a href=/in-style>"; }</style>
      <textarea><a href=/in-textarea></textarea><title><a href=/in-title></title>
      <div =">"><a href=/real>r</a><!--><a href=/after-empty-comment>e</a>
      <svg><a href="/in-svg">s</a></svg><noscript><a href=/in-noscript>n</a></noscript>)");
  EXPECT_EQ(l.follow, (std::vector<std::string>{"http://site.example/real",
                                                "http://site.example/after-empty-comment",
                                                "http://site.example/in-svg",
                                                "http://site.example/in-noscript"}));
}

TEST(links, error_recovery_clones_are_not_extra_links) {
  // The parser reopens the unclosed <a> around later text: one link, not two.
  auto l = extract(R"(<a href="/x" rel=nofollow><p>one</a>two</p><a href="/y" rel="nofollow">y</a>)");
  ASSERT_EQ(l.skipped.size(), 2u);
  EXPECT_EQ(l.skipped[0].href, "/x");
  EXPECT_EQ(l.skipped[1].href, "/y");
}

TEST(links, skip_reason_names) {
  EXPECT_STREQ(to_string(skip_reason::nofollow), "nofollow");
  EXPECT_STREQ(to_string(skip_reason::meta_nofollow), "meta_nofollow");
  EXPECT_STREQ(to_string(skip_reason::bad_url), "bad_url");
  EXPECT_STREQ(to_string(skip_reason::unsupported_scheme), "unsupported_scheme");
}

// The parsed links the parser actor scope- and trap-checks are the strings it stores, parsed:
// one entry per followed string (duplicates dropped together), field for field.
TEST(links, follow_urls_are_the_parsed_follow_strings) {
  auto l = extract(R"(<base href="/b/./c/../">
      <a href="x/./y/../z?q=%7e#frag">1</a><a href="%2e%2E/up">2</a><a href="/%41%2d%5f%zz">3</a>
      <a href="HTTP://Other.EXAMPLE:80/p?a=1&amp;b=%2f">4</a><a href="https://h:443">5</a>
      <a href="http://[2001:DB8::1]:8080/v6">6</a><a href="//M&#xfc;nchen.de/m">7</a>
      <a href="http://0x7f.1/ip">8</a><a href="?only-query">9</a><a href="#only-fragment">10</a>
      <a href="x/z?q=~">dup of 1</a><a href="mailto:a@b">skipped</a><a href="http://">bad</a>
      <a href="http://h/a b/%c3%a9?x y">11</a><a href="http://u:p@h/cred">12</a>)");
  ASSERT_EQ(l.follow_urls.size(), l.follow.size());
  EXPECT_EQ(l.follow.size(), 12u);
  EXPECT_EQ(l.skipped.size(), 2u);
  for (std::size_t i = 0; i < l.follow.size(); ++i) {
    auto u = parse_url(l.follow[i]);
    ASSERT_TRUE(u) << l.follow[i];
    EXPECT_EQ(tests::url_difference(l.follow_urls[i], *u), "") << l.follow[i];
    EXPECT_EQ(l.follow_urls[i].href(), l.follow[i]);
  }
}

}  // namespace
}  // namespace crawld::parse
