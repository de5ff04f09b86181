#include "storage/mirror.hpp"
#include "tests/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace crawld::storage {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using test::temp_dir;

page_record page(std::string url, std::string body, int status = 200,
                 std::string type = "text/html") {
  page_record p;
  p.final_url = url;
  p.url = std::move(url);
  p.status = status;
  p.outcome = status == 200 ? "ok" : "other";
  p.content_type = std::move(type);
  p.body = std::move(body);
  return p;
}

page_record redirect(std::string url, std::string location) {
  page_record p = page(std::move(url), "", 301, "");
  p.location = std::move(location);
  return p;
}

/// A store in `dir`/db holding `pages`, reopened read-only as `crawld export` does.
std::unique_ptr<store> make_store(const temp_dir& dir, const std::vector<page_record>& pages) {
  {
    auto st = store::open(dir / "db");
    EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.message());
    if (!st) return nullptr;
    auto w = (*st)->put_pages(pages);
    EXPECT_TRUE(w.ok()) << (w.ok() ? "" : w.message());
  }
  auto st = store::open(dir / "db", {false, true});
  EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.message());
  return st ? std::move(*st) : nullptr;
}

mirror_summary mirror(const store& st, const std::string& out, bool convert) {
  auto r = write_mirror(st, {out, convert});
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.message());
  return r.ok() ? *r : mirror_summary{};
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string percent_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

/// Every href/src value (double-quoted, as the test documents write them), &amp; decoded.
std::vector<std::string> link_values(const std::string& html) {
  std::vector<std::string> out;
  static const std::regex re("(?:href|src|action)=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), re); it != std::sregex_iterator();
       ++it) {
    std::string v = (*it)[1];
    for (std::size_t k; (k = v.find("&amp;")) != std::string::npos;) v.replace(k, 5, "&");
    out.push_back(v);
  }
  return out;
}

/// True when `p`, made absolute and lexically normal, lies inside `dir`.
bool inside(const fs::path& dir, const fs::path& p) {
  auto d = fs::absolute(dir).lexically_normal();
  auto n = fs::absolute(p).lexically_normal();
  auto [a, b] = std::mismatch(d.begin(), d.end(), n.begin(), n.end());
  return a == d.end() && n != d;
}

TEST(mirror_path, directory_url_becomes_index_html) {
  EXPECT_EQ(mirror_path("http://a.test/"), "a.test/index.html");
  EXPECT_EQ(mirror_path("http://a.test/dir/"), "a.test/dir/index.html");
  EXPECT_EQ(mirror_path("http://a.test/dir/sub/", true), "a.test/dir/sub/index.html");
  EXPECT_EQ(mirror_path("http://a.test/dir/x.css"), "a.test/dir/x.css");
  EXPECT_EQ(mirror_path("http://a.test/dir/page", true), "a.test/dir/page.html");
  EXPECT_EQ(mirror_path("http://a.test/dir/page.HTM", true), "a.test/dir/page.HTM");
  EXPECT_EQ(mirror_path("mailto:x@a.test"), "");
  EXPECT_EQ(mirror_path("not a url"), "");
}

TEST(mirror_path, query_kept_distinct_and_safe) {
  EXPECT_EQ(mirror_path("http://a.test/page.html?a=1&b=2", true), "a.test/page@a=1&b=2.html");
  EXPECT_EQ(mirror_path("http://a.test/page.html?a=1&b=2"), "a.test/page@a=1&b=2.html");
  EXPECT_EQ(mirror_path("http://a.test/s.php?x=1", true), "a.test/s.php@x=1.html");
  EXPECT_EQ(mirror_path("http://a.test/dir/?q=1"), "a.test/dir/index@q=1.html");
  EXPECT_EQ(mirror_path("http://a.test/app.js?v=1.2"), "a.test/app@v=1.2.js");
  // '@' in a path is escaped, so the first '@' of a name always starts the query.
  EXPECT_EQ(mirror_path("http://a.test/a@b.html"), "a.test/a%40b.html");
  const std::vector<std::string> urls = {
      "http://a.test/page.html", "http://a.test/page.html?", "http://a.test/page.html?a=1",
      "http://a.test/page.html?a=2", "http://a.test/page.html?a=1&b=2",
      "http://a.test/page.html?b=2&a=1", "http://a.test/page@a=1.html"};
  std::set<std::string> names;
  for (auto& u : urls) EXPECT_TRUE(names.insert(mirror_path(u, true)).second) << u;
  // Query bytes that are not safe in a file name never make a directory or a Windows problem.
  std::string p = mirror_path("http://a.test/x?p=/../../etc:passwd*%3F|%22<>%00\\", true);
  EXPECT_EQ(p.find('/', 7), std::string::npos) << p;
  EXPECT_EQ(p.find_first_of(":*?|\"<>\\"), std::string::npos) << p;
  EXPECT_EQ(p.find('\0'), std::string::npos);
}

TEST(mirror_path, dot_dot_never_escapes) {
  const std::vector<std::string> hostile = {
      "http://a.test/../../etc/passwd",
      "http://a.test/%2e%2e/%2E%2E/x",
      "http://a.test/a/%2e%2e%2f%2e%2e%2fx",
      "http://a.test/..%2f..%2fx",
      "http://a.test/.%2e/.%2E/x",
      "http://a.test//etc/passwd",
      "http://a.test///",
      "http://a.test/a\\..\\..\\x",
      "http://a.test/%5C..%5C..%5Cx",
      "http://a.test/%00/x%00y",
      "http://a.test/a%01b/%7f/%0a",
      "http://a.test/x?/../../y",
      "http://a.test/C:/Windows/x",
      "http://a.test/con:x*y|z\"w",
      "http://a.test/./.",
      "http://../x",
      "http://%2e%2e/x",
      "http://[::1]:8080/x",
      "http://a.test/%2F/etc/passwd",
      std::string("http://a.test/a\0b/../../../c", 29),
      "http://a.test/" + std::string(300, '.') + "/x",
      "http://a.test/\xff\xfe/..",
  };
  temp_dir tmp;
  const fs::path out = tmp / "out";
  std::vector<page_record> pages;
  for (const auto& u : hostile) {
    const std::string p = mirror_path(u, true);
    ASSERT_FALSE(p.empty()) << u;
    EXPECT_TRUE(inside(out, out / p)) << u << " -> " << p;
    for (const auto& part : fs::path(p)) {
      EXPECT_NE(part, ".") << u << " -> " << p;
      EXPECT_NE(part, "..") << u << " -> " << p;
      EXPECT_LE(part.string().size(), 200u) << u;
    }
    EXPECT_EQ(p.find("//"), std::string::npos) << u << " -> " << p;
    EXPECT_EQ(p.find_first_of(std::string(":*?|\"<>\\\0\x01\x7f", 11)), std::string::npos)
        << u << " -> " << p;
    pages.push_back(page(u, "<p>" + u));  // stored as is, not normalized
  }
  // The writer too: every file lands inside the output directory, nothing beside it.
  auto st = make_store(tmp, pages);
  ASSERT_TRUE(st);
  mirror_summary s = mirror(*st, out, true);
  EXPECT_TRUE(s.errors.empty()) << s.errors.front();
  EXPECT_GT(s.files, 0u);
  std::set<std::string> top;
  for (auto& e : fs::directory_iterator(tmp.path())) top.insert(e.path().filename());
  EXPECT_EQ(top, (std::set<std::string>{"db", "out"}));
  for (auto& e : fs::recursive_directory_iterator(out))
    EXPECT_TRUE(inside(out, fs::canonical(e.path()))) << e.path();
}

TEST(mirror_path, long_segment_hashed) {
  const std::string a = "http://a.test/" + std::string(500, 'x') + "a.html";
  const std::string b = "http://a.test/" + std::string(500, 'x') + "b.html";
  const std::string pa = mirror_path(a, true), pb = mirror_path(b, true);
  const std::string na = fs::path(pa).filename(), nb = fs::path(pb).filename();
  EXPECT_LE(na.size(), 200u);
  EXPECT_NE(na, nb);
  EXPECT_THAT(na, ::testing::EndsWith(".html"));
  EXPECT_THAT(na, HasSubstr("~"));
  // A long directory and a long query are capped too, and an escape is never cut in two.
  const std::string dir = mirror_path("http://a.test/" + std::string(199, 'd') + "%3A%3A%3A/x");
  EXPECT_LE(fs::path(dir).parent_path().filename().string().size(), 200u);
  const std::string q = mirror_path("http://a.test/x.html?" + std::string(156, 'q') + "%3A" +
                                    std::string(300, 'q'));
  const std::string qn = fs::path(q).filename();
  EXPECT_LE(qn.size(), 200u);
  EXPECT_EQ(qn.find('~'), 158u);  // "x@" + 156 q's; the cut at 160 would split "%3A"
  // Short names are not touched.
  EXPECT_EQ(mirror_path("http://a.test/" + std::string(195, 'y') + ".html"),
            "a.test/" + std::string(195, 'y') + ".html");
}

TEST(mirror_path, port_in_directory_name) {
  EXPECT_EQ(mirror_path("http://a.test:8080/x.html"), "a.test_8080/x.html");
  EXPECT_EQ(mirror_path("http://a.test:80/x.html"), "a.test/x.html");
  EXPECT_EQ(mirror_path("https://a.test:443/x.html"), "a.test/x.html");
  EXPECT_EQ(mirror_path("https://a.test:80/x.html"), "a.test_80/x.html");
  EXPECT_EQ(mirror_path("http://127.0.0.10:8080/"), "127.0.0.10_8080/index.html");
  EXPECT_EQ(mirror_path("http://[::1]:8080/"), "[%3A%3A1]_8080/index.html");
}

TEST(mirror_path, relative_link_between_files) {
  EXPECT_EQ(relative_link("h/s1/p1.html", "h/s3/p45.html"), "../s3/p45.html");
  EXPECT_EQ(relative_link("h/s1/p1.html", "h/s1/p2.html"), "p2.html");
  EXPECT_EQ(relative_link("h/p1.html", "h/a/b/c.html"), "a/b/c.html");
  EXPECT_EQ(relative_link("h/a/b/c.html", "g_81/index.html"), "../../../g_81/index.html");
  EXPECT_EQ(relative_link("h/x.html", "h/a%3Ab c#?.html"), "a%253Ab%20c%23%3F.html");
}

TEST(write_mirror, only_200_with_body_written) {
  temp_dir tmp;
  auto st = make_store(tmp, {page("http://a.test/ok.html", "<p>ok"),
                             page("http://a.test/missing.html", "not found", 404),
                             redirect("http://a.test/old.html", "http://a.test/ok.html"),
                             page("http://a.test/empty.html", ""),
                             page("http://a.test/err.html", "oops", 500),
                             page("http://a.test/img.png", "\x89PNG", 200, "image/png")});
  ASSERT_TRUE(st);
  mirror_summary s = mirror(*st, tmp / "out", false);
  EXPECT_EQ(s.files, 2u);
  EXPECT_EQ(s.bytes, 9u);
  EXPECT_EQ(s.skipped, (std::map<std::string, std::uint64_t>{
                           {"no_body", 1}, {"redirect", 1}, {"status", 2}}));
  EXPECT_TRUE(s.errors.empty());
  std::set<std::string> files;
  for (auto& e : fs::recursive_directory_iterator(tmp / "out"))
    if (e.is_regular_file()) files.insert(fs::relative(e.path(), tmp / "out"));
  EXPECT_EQ(files, (std::set<std::string>{"a.test/ok.html", "a.test/img.png"}));
  EXPECT_EQ(read(tmp / "out/a.test/ok.html"), "<p>ok");
}

/// A small site across two hosts with every kind of link the converter must handle.
std::vector<page_record> small_site() {
  return {
      page("http://a.test/", R"(<a href="s1/p1.html">p1</a> <a href="/s3/p45.html#sec">p45</a>)"),
      page("http://a.test/s1/p1.html",
           R"(<a href="../s3/p45.html#sec">x</a> <a href="p2.html?a=1&amp;b=2">q</a>)"
           R"( <A HREF=/old.html>r</A> <img src='/img/logo.png'> <a href="/">home</a>)"
           R"( <a href="http://b.test:8080/">b</a> <a href="/s1/">dir</a>)"
           R"( <link rel=stylesheet href="../style.css"> <a href="#top">top</a>)"
           R"( <a href="p1.html#x">self</a> <a href="mailto:x@a.test">m</a>)"
           R"( <form action="/search?q=1"></form> <a href="https://c.test/x">off</a>)"),
      page("http://a.test/s1/p2.html?a=1&b=2", R"(<a href="p1.html">back</a>)"),
      page("http://a.test/s1/", R"(<a href="p1.html">p1</a>)"),
      page("http://a.test/s3/p45.html", R"(<h1 id=sec>s</h1><a href='//b.test:8080/'>b</a>)"),
      redirect("http://a.test/old.html", "http://a.test/new.html"),
      redirect("http://a.test/new.html", "http://a.test/s3/p45.html"),
      page("http://a.test/img/logo.png", "PNG", 200, "image/png"),
      page("http://a.test/style.css", "body{}", 200, "text/css"),
      page("http://b.test:8080/", R"(<a href="http://a.test/s1/p1.html">a</a>)"),
  };
}

TEST(write_mirror, converted_links_point_to_existing_files) {
  temp_dir tmp;
  auto st = make_store(tmp, small_site());
  ASSERT_TRUE(st);
  const fs::path out = tmp / "out";
  mirror_summary s = mirror(*st, out, true);
  EXPECT_TRUE(s.errors.empty());
  EXPECT_EQ(s.files, 8u);
  int relative = 0;
  for (auto& e : fs::recursive_directory_iterator(out)) {
    if (e.path().extension() != ".html") continue;
    for (const std::string& v : link_values(read(e.path()))) {
      if (v.find("://") != std::string::npos || v.rfind("mailto:", 0) == 0) continue;
      ++relative;
      std::string file = v.substr(0, v.find('#'));
      if (file.empty()) continue;  // "#top": this document
      fs::path target = e.path().parent_path() / percent_decode(file);
      EXPECT_TRUE(fs::is_regular_file(target)) << e.path() << ": " << v;
      EXPECT_TRUE(inside(out, target)) << v;
    }
  }
  EXPECT_GE(relative, 12);
  const std::string p1 = read(out / "a.test/s1/p1.html");
  EXPECT_THAT(p1, HasSubstr(R"(href="../s3/p45.html#sec")"));
  EXPECT_THAT(p1, HasSubstr(R"(href="p2@a=1&amp;b=2.html")"));
  EXPECT_THAT(p1, HasSubstr(R"(HREF="../s3/p45.html")"));  // through two stored redirects
  EXPECT_THAT(p1, HasSubstr(R"(src='../img/logo.png')"));
  EXPECT_THAT(p1, HasSubstr(R"(href="../index.html">home)"));
  EXPECT_THAT(p1, HasSubstr(R"(href="../../b.test_8080/index.html")"));
  EXPECT_THAT(p1, HasSubstr(R"(href="index.html">dir)"));
  EXPECT_THAT(p1, HasSubstr(R"(href="#top")"));
  EXPECT_THAT(p1, HasSubstr(R"(href="p1.html#x")"));
  EXPECT_THAT(read(out / "a.test/s3/p45.html"), HasSubstr(R"(href='../../b.test_8080/index.html')"));
  EXPECT_EQ(read(out / "b.test_8080/index.html"), R"(<a href="../a.test/s1/p1.html">a</a>)");
  EXPECT_EQ(read(out / "a.test/style.css"), "body{}");
}

TEST(write_mirror, base_href_removed_when_converting) {
  temp_dir tmp;
  auto st = make_store(
      tmp, {page("http://a.test/s1/p1.html",
                 R"(<head><BASE target=_blank HREF="http://a.test/s3/"><base href="/s9/"></head>)"
                 R"(<a href="p45.html#sec">x</a><a href="gone.html">y</a>)"),
            page("http://a.test/s3/p45.html", "<p>45")});
  ASSERT_TRUE(st);
  mirror(*st, tmp / "out", true);
  EXPECT_EQ(read(tmp / "out/a.test/s1/p1.html"),
            R"(<head><BASE target=_blank ><base ></head>)"
            R"(<a href="../s3/p45.html#sec">x</a><a href="http://a.test/s3/gone.html">y</a>)");
  // Without conversion the document is written as fetched.
  temp_dir tmp2;
  auto st2 = make_store(tmp2, {page("http://a.test/s1/p1.html", R"(<base href="/s3/">)")});
  ASSERT_TRUE(st2);
  mirror(*st2, tmp2 / "out", false);
  EXPECT_EQ(read(tmp2 / "out/a.test/s1/p1.html"), R"(<base href="/s3/">)");
}

TEST(write_mirror, unconverted_links_stay_absolute) {
  temp_dir tmp;
  auto st = make_store(
      tmp, {page("http://a.test/d/p.html",
                 R"(<a href="http://other.test/x?y=1#f">o</a> <a href="missing.html#m">m</a>)"
                 R"x( <a href="//c.test/z">c</a> <img src="../nope.png"> <a href="javascript:f()">j</a>)x"
                 R"( <a href="/d/p.html">me</a>)")});
  ASSERT_TRUE(st);
  mirror_summary s = mirror(*st, tmp / "out", true);
  EXPECT_EQ(read(tmp / "out/a.test/d/p.html"),
            R"(<a href="http://other.test/x?y=1#f">o</a> <a href="http://a.test/d/missing.html#m">m</a>)"
            R"x( <a href="http://c.test/z">c</a> <img src="http://a.test/nope.png"> <a href="javascript:f()">j</a>)x"
            R"( <a href="p.html">me</a>)");
  EXPECT_EQ(s.links_converted, 1u);
  EXPECT_EQ(s.links_absolute, 3u);  // "//c.test/z" is relative to the scheme: made absolute
}

TEST(write_mirror, document_bytes_preserved_outside_rewritten_attributes) {
  // Comments, raw text, unusual quoting, entities and odd spacing around the rewritten values.
  const std::string doc =
      "<!DOCTYPE html>\r\n<!-- <a href=\"t.html\"> -->\n"
      "<script>var s = '<a href=\"t.html\">';</script>\n"
      "<SCRIPT><!-- <script> </script> <a href=\"t.html\"> --></SCRIPT>\n"
      "<textarea><a href=\"t.html\"></textarea><title><img src=t.html></title>\n"
      "<a\n  class='x'  HREF = t.html\ttitle=\"&amp;\">unq</a>\n"
      "<a href='t.html' href=\"other.html\">dup</a>\n"
      "<a data-href=\"t.html\" href=\"&#116;.html\">ent</a>\n"
      "<a href=\"t.html?&amp;\">unknown</a> <a href=\"t&eacute;.html\">named</a>\n"
      "<img/src=\"t.html\"/> <a href>novalue</a> <a href=\"\">empty</a>\n"
      "<style>a[href=\"t.html\"]{}</style> \xff\xfe bytes <a href=\"t.html\"";
  temp_dir tmp;
  auto st = make_store(tmp, {page("http://a.test/d/p.html", doc),
                             page("http://a.test/t.html", "t")});
  ASSERT_TRUE(st);
  mirror(*st, tmp / "out", true);
  const std::string want =
      "<!DOCTYPE html>\r\n<!-- <a href=\"t.html\"> -->\n"
      "<script>var s = '<a href=\"t.html\">';</script>\n"
      "<SCRIPT><!-- <script> </script> <a href=\"t.html\"> --></SCRIPT>\n"
      "<textarea><a href=\"t.html\"></textarea><title><img src=t.html></title>\n"
      "<a\n  class='x'  HREF = \"http://a.test/d/t.html\"\ttitle=\"&amp;\">unq</a>\n"
      "<a href='http://a.test/d/t.html' href=\"other.html\">dup</a>\n"
      "<a data-href=\"t.html\" href=\"http://a.test/d/t.html\">ent</a>\n"
      "<a href=\"http://a.test/d/t.html?&amp;\">unknown</a> <a href=\"t&eacute;.html\">named</a>\n"
      "<img/src=\"http://a.test/d/t.html\"/> <a href>novalue</a> <a href=\"p.html\">empty</a>\n"
      "<style>a[href=\"t.html\"]{}</style> \xff\xfe bytes <a href=\"t.html\"";
  EXPECT_EQ(read(tmp / "out/a.test/d/p.html"), want);
  // And a link that is mirrored: only the value changes.
  EXPECT_EQ(convert_links("<P><a  id=1 href=\"/t.html\" >x</a></P>", "http://a.test/d/p.html",
                          "a.test/d/p.html",
                          [](const std::string& u) {
                            return u == "http://a.test/t.html" ? std::string("a.test/t.html")
                                                               : std::string();
                          }),
            "<P><a  id=1 href=\"../t.html\" >x</a></P>");
}

TEST(write_mirror, write_error_reported_not_fatal) {
  temp_dir tmp;
  auto st = make_store(tmp, {page("http://a.test/ok.html", R"(<a href="/sub/x.html">x</a>)"),
                             page("http://a.test/sub/x.html", "<p>x"),
                             page("http://a.test/z.html", "<p>z")});
  ASSERT_TRUE(st);
  fs::create_directories(tmp / "out/a.test");
  std::ofstream(tmp / "out/a.test/sub") << "a file where a directory must go";
  mirror_summary s = mirror(*st, tmp / "out", true);
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_THAT(s.errors[0], HasSubstr("a.test/sub"));
  EXPECT_EQ(s.skipped["write_error"], 1u);
  EXPECT_EQ(s.files, 2u);
  EXPECT_EQ(read(tmp / "out/a.test/z.html"), "<p>z");
  // The link to the page that could not be written stays absolute.
  EXPECT_EQ(read(tmp / "out/a.test/ok.html"), R"(<a href="http://a.test/sub/x.html">x</a>)");
}

TEST(write_mirror, symlinks_never_written_through) {
  temp_dir tmp;
  auto st = make_store(tmp, {page("http://a.test/x.html", "<p>x"),
                             page("http://b.test/y.html", "<p>y")});
  ASSERT_TRUE(st);
  fs::create_directories(tmp / "out/b.test");
  fs::create_directories(tmp / "elsewhere");
  fs::create_directory_symlink(tmp / "elsewhere", tmp / "out/a.test");
  fs::create_symlink(tmp / "elsewhere/target", tmp / "out/b.test/y.html");
  mirror_summary s = mirror(*st, tmp / "out", false);
  ASSERT_EQ(s.errors.size(), 2u);
  EXPECT_THAT(s.errors[0], HasSubstr("symlink"));
  EXPECT_THAT(s.errors[1], HasSubstr("symlink"));
  EXPECT_TRUE(fs::is_empty(tmp / "elsewhere"));
  EXPECT_EQ(s.files, 0u);
}

TEST(write_mirror, unwritable_output_directory_is_an_error) {
  temp_dir tmp;
  auto st = make_store(tmp, {page("http://a.test/x.html", "<p>x")});
  ASSERT_TRUE(st);
  std::ofstream(tmp / "file") << "x";
  auto r = write_mirror(*st, {tmp / "file/out", false});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.message(), HasSubstr("file/out"));
}

}  // namespace
}  // namespace crawld::storage
