// The downloader use case: a list of URLs with a known mix of outcomes, fetched with --urls.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "process.hpp"
#include "testsite/server.hpp"

namespace crawld {
namespace {

using namespace std::chrono_literals;
using testsite::host_kind;

struct download_fixture {
  std::unique_ptr<testsite::server> site;
  std::string dir;
  std::string list_file;
  std::vector<std::string> urls;
  std::map<std::string, int> want;  // outcome -> count among the listed URLs

  explicit download_fixture(bool with_silent) {
    testsite::site_options o;
    o.hosts = 2;
    o.pages = 400;
    o.port = 0;
    o.politeness_hosts = true;
    o.silent_host = with_silent;
    testsite::server_options so;
    so.threads_per_host = 16;
    auto s = testsite::server::start(testsite::site(o), so);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.message());
    if (!s.ok())
      return;
    site = std::move(*s);
    char tmpl[] = "/tmp/crawld_download_XXXXXX";
    dir = mkdtemp(tmpl);
    const auto& m = site->model();
    auto add = [&](const std::string& url, const char* outcome) {
      urls.push_back(url);
      ++want[outcome];
    };
    // 700 pages, 150 missing pages, 100 redirects, 25 on a host that refuses connections,
    // 25 on a host that never answers (or more pages when it is left out).
    for (int k = 1; k <= 350; ++k)
      for (int h = 0; h < 2; ++h)
        add(m.origin(h) + testsite::site::page_path(k), "ok");
    for (int k = 0; k < 75; ++k)
      for (int h = 0; h < 2; ++h)
        add(m.origin(h) + "/missing/" + std::to_string(k) + ".html", "not_found");
    for (int k = 0; k < 50; ++k)
      for (int h = 0; h < 2; ++h)
        add(m.origin(h) + "/r/301/" + std::to_string(k), "redirect");
    for (int k = 0; k < 25; ++k)
      add(m.origin(m.host_of(host_kind::dead)) + "/pages/" + std::to_string(k) + ".html", "network_error");
    for (int k = 0; k < 25; ++k) {
      if (with_silent)
        add(m.origin(m.host_of(host_kind::silent)) + "/pages/" + std::to_string(k) + ".html", "timeout");
      else
        add(m.origin(0) + testsite::site::page_path(351 + k), "ok");
    }
    list_file = dir + "/list.txt";
    std::ofstream out(list_file);
    out << "# 1,000 URLs with a known mix of outcomes\n";
    for (auto& u : urls)
      out << u << '\n';
  }
  ~download_fixture() {
    if (!dir.empty())
      std::filesystem::remove_all(dir);
  }
};

/// "ok 712, redirect 100, ..." -> map
std::map<std::string, int> outcome_counts(const std::string& out) {
  std::map<std::string, int> m;
  auto pos = out.find("outcomes: ");
  if (pos == std::string::npos)
    return m;
  std::istringstream line(out.substr(pos + 10, out.find('\n', pos) - pos - 10));
  std::string name;
  int n;
  while (line >> name >> n) {
    m[name] = n;
    line.ignore(2, ' ');
    if (line.peek() == ',')
      line.get();
  }
  return m;
}

TEST(download, every_listed_url_ends_in_exactly_one_outcome) {
  download_fixture f(true);
  ASSERT_TRUE(f.site);
  ASSERT_EQ(f.urls.size(), 1000u);
  auto r = test::run({"crawl", "--urls", f.list_file, "--depth", "0", "--concurrency", "64", "--per-host", "8",
                      "--read-timeout", "1", "--timeout", "2", "--backoff", "50", "--verbose"},
                     120s);
  EXPECT_EQ(r.exit_code, 3) << "some URLs failed: " << r.err;
  // --verbose: one line per finished URL; each listed URL exactly once.
  std::map<std::string, int> lines;
  std::istringstream v(r.out);
  std::string line;
  while (std::getline(v, line)) {
    // "[*** ]outcome status bytesB timems URL[ (detail)]"; summary lines do not look like that.
    std::istringstream fields(line);
    std::string first, outcome, status, bytes, ms, url;
    fields >> first;
    if (first == "***")
      fields >> outcome;
    else
      outcome = first;
    fields >> status >> bytes >> ms >> url;
    if (ms.size() > 2 && ms.substr(ms.size() - 2) == "ms" && url.rfind("http", 0) == 0)
      ++lines[url];
  }
  for (auto& u : f.urls)
    EXPECT_EQ(lines[u], 1) << u;
  // The grouped report: redirect targets that were not listed add "ok" lines; all else as listed.
  auto got = outcome_counts(r.out);
  for (auto& [outcome, n] : f.want) {
    if (outcome == "ok")
      EXPECT_GE(got[outcome], n);
    else
      EXPECT_EQ(got[outcome], n) << outcome << "\n" << r.out.substr(r.out.find("crawled"));
  }
  EXPECT_NE(r.out.find("failures:\n  not_found 150\n"), std::string::npos) << r.out.substr(r.out.find("crawled"));
  EXPECT_NE(r.out.find("  timeout 25\n"), std::string::npos);
  EXPECT_NE(r.out.find("  network_error 25\n"), std::string::npos);
  EXPECT_NE(r.out.find("*** not_found 404"), std::string::npos) << "failures are marked in --verbose lines";
}

TEST(download, all_ok_list_exits_zero) {
  download_fixture f(false);
  ASSERT_TRUE(f.site);
  std::string ok_list = f.dir + "/ok.txt";
  {
    std::ofstream out(ok_list);
    for (auto& u : f.urls)
      if (u.find("/s") != std::string::npos && u.find("/missing/") == std::string::npos)
        out << u << '\n';
  }
  auto r = test::run({"crawl", "--urls", ok_list, "--depth", "0"}, 60s);
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
}

TEST(download, low_fd_limit_run_completes_with_lowered_concurrency) {
  download_fixture f(false);
  ASSERT_TRUE(f.site);
  auto r = test::run({"crawl", "--urls", f.list_file, "--depth", "0", "--concurrency", "500", "--per-host", "50",
                      "--db", f.dir + "/db", "--backoff", "50"},
                     120s, 64);
  EXPECT_EQ(r.exit_code, 3) << r.err;  // the 404s and the dead host
  EXPECT_NE(r.err.find("using "), std::string::npos) << "warns that concurrency was lowered: " << r.err;
  EXPECT_EQ(r.err.find("Too many open files"), std::string::npos) << r.err;
  auto got = outcome_counts(r.out);
  EXPECT_EQ(got["not_found"], 150);
  EXPECT_EQ(got["redirect"], 100);
  EXPECT_EQ(got["network_error"], 25);
}

TEST(download, malformed_lines_reported_and_skipped) {
  char tmpl[] = "/tmp/crawld_download_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  { std::ofstream(dir + "/l.txt") << "http://127.0.0.1:9/a\nnot a url\n"; }
  auto r = test::run({"crawl", "--urls", dir + "/l.txt", "--depth", "0", "--backoff", "20"});
  EXPECT_NE(r.err.find("line 2: not an http(s) URL: 'not a url' (skipped)"), std::string::npos) << r.err;
  auto missing = test::run({"crawl", "--urls", dir + "/none.txt"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("none.txt"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace crawld

namespace crawld {
namespace {

using namespace std::chrono_literals;

std::size_t count_files(const std::string& dir) {
  std::size_t n = 0;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir))
    n += e.is_regular_file();
  return n;
}

TEST(download, mirror_holds_the_200s_and_browses_offline) {
  testsite::site_options o;
  o.hosts = 2;
  o.pages = 60;
  o.port = 0;
  auto s = testsite::server::start(testsite::site(o));
  ASSERT_TRUE(s.ok()) << s.message();
  auto& site = *s;
  char tmpl[] = "/tmp/crawld_mirror_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  auto r = test::run({"crawl", site->model().origin(0) + "/", site->model().origin(1) + "/", "--db", dir + "/db",
                      "--keep-non-html"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto ok_pos = r.out.find("ok ");
  ASSERT_NE(ok_pos, std::string::npos);
  auto ok = std::stoul(r.out.substr(ok_pos + 3));
  auto e = test::run({"export", "--db", dir + "/db", "--format", "files", "--out", dir + "/mirror", "--convert-links"});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_EQ(count_files(dir + "/mirror"), ok) << "exactly the 200s: " << e.out;
  // Every relative link in every mirrored page points at a file that exists.
  std::size_t relative = 0;
  for (auto& f : std::filesystem::recursive_directory_iterator(dir + "/mirror")) {
    if (!f.is_regular_file() || f.path().extension() != ".html")
      continue;
    std::ifstream in(f.path());
    std::stringstream buf;
    buf << in.rdbuf();
    auto html = buf.str();
    for (auto pos = html.find("href=\""); pos != std::string::npos; pos = html.find("href=\"", pos + 1)) {
      auto end = html.find('"', pos + 6);
      auto href = html.substr(pos + 6, end - pos - 6);
      auto colon = href.find(':');
      bool has_scheme = colon != std::string::npos && colon < href.find_first_of("/?#");
      if (href.empty() || has_scheme || href[0] == '#')
        continue;  // absolute links (not mirrored) and same-page fragments
      href = href.substr(0, href.find('#'));
      // Undo the percent-encoding of the file name the export applied to the link.
      std::string path;
      for (std::size_t i = 0; i < href.size(); ++i) {
        if (href[i] == '%' && i + 2 < href.size()) {
          path += static_cast<char>(std::stoi(href.substr(i + 1, 2), nullptr, 16));
          i += 2;
        } else if (href.compare(i, 5, "&amp;") == 0) {
          path += '&';
          i += 4;
        } else {
          path += href[i];
        }
      }
      ++relative;
      EXPECT_TRUE(std::filesystem::exists(f.path().parent_path() / path)) << f.path() << " -> " << href;
    }
  }
  EXPECT_GT(relative, 100u);
  auto j = test::run({"export", "--db", dir + "/db", "--format", "jsonl"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto lines = std::count(j.out.begin(), j.out.end(), '\n');
  std::size_t served = 0;
  for (auto& req : site->requests())
    served += req.target != "/robots.txt";
  EXPECT_EQ(static_cast<std::size_t>(lines), served);
  EXPECT_NE(j.out.find("\"status\":200"), std::string::npos) << j.out.substr(0, 300);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace crawld
