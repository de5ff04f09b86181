// The cookie jar survives a crash: a crawl killed with SIGKILL mid-crawl and continued with
// `crawld resume` still sends the session cookie its first page set, although that page is not
// fetched again. A real crawld process against an in-process server on 127.0.0.165 that sets the
// cookie on "/" and records the Cookie header of every later request.
#include <httplib.h>

#include <gtest/gtest.h>

#include <csignal>
#include <mutex>
#include <thread>
#include <vector>

#include "process.hpp"
#include "tests/temp_dir.hpp"

namespace crawld {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

struct session_site {
  struct hit {
    steady::time_point at;
    std::string path, cookie;
  };
  httplib::Server srv;
  std::thread thread;
  int port = 0;
  std::mutex mu;
  std::vector<hit> hits;

  explicit session_site(int pages) {
    srv.Get("/robots.txt", [](const httplib::Request&, httplib::Response& res) { res.status = 404; });
    srv.Get("/", [this, pages](const httplib::Request& req, httplib::Response& res) {
      record(req);
      res.set_header("Set-Cookie", "sid=s3ss10n; Path=/");
      std::string body = "<html><body>";
      for (int i = 0; i < pages; ++i) body += "<a href=\"/p/" + std::to_string(i) + "\">p</a>";
      res.set_content(body + "</body></html>", "text/html");
    });
    srv.Get(R"(/p/\d+)", [this](const httplib::Request& req, httplib::Response& res) {
      record(req);
      std::this_thread::sleep_for(60ms);  // a slow site: the kill lands mid-crawl
      res.set_content("<html><body>page</body></html>", "text/html");
    });
    port = srv.bind_to_any_port("127.0.0.165");
    thread = std::thread([this] { srv.listen_after_bind(); });
    for (int i = 0; i < 500 && !srv.is_running(); ++i) std::this_thread::sleep_for(10ms);
  }
  ~session_site() {
    srv.stop();
    thread.join();
  }
  void record(const httplib::Request& req) {
    std::lock_guard<std::mutex> lock(mu);
    hits.push_back({steady::now(), req.path, req.get_header_value("Cookie")});
  }
  std::vector<hit> log() {
    std::lock_guard<std::mutex> lock(mu);
    return hits;
  }
  std::size_t count(const std::string& prefix) {
    std::size_t n = 0;
    for (const auto& h : log()) n += h.path.rfind(prefix, 0) == 0;
    return n;
  }
};

TEST(cookie_resume, cookies_set_before_a_kill_are_sent_after_crawld_resume) {
  constexpr int pages = 40;
  session_site site(pages);
  ASSERT_GT(site.port, 0);
  test::temp_dir dir;
  const std::string db = dir / "db";
  const std::string seed = "http://127.0.0.165:" + std::to_string(site.port) + "/";
  {
    test::child c({"crawl", seed, "--unsafe-cookies", "--concurrency", "2", "--per-host", "1", "-q", "--db", db});
    // Wait (bounded) for a few pages after "/": its record and its cookie are then committed (the
    // frontier writes its batch every 50 ms); then kill mid-crawl.
    for (auto give_up = steady::now() + 30s; site.count("/p/") < 3 && steady::now() < give_up;)
      std::this_thread::sleep_for(5ms);
    ASSERT_GE(site.count("/p/"), 3u) << "the crawl never got past its first page";
    std::this_thread::sleep_for(200ms);
    c.signal(SIGKILL);
    auto r = c.wait(30s);
    ASSERT_EQ(r.exit_code, 128 + SIGKILL) << "the crawl ended before the kill: " << r.err;
  }
  const auto killed_at = steady::now();
  const std::size_t before = site.log().size();
  ASSERT_LT(site.count("/p/"), static_cast<std::size_t>(pages)) << "nothing left to resume";

  auto r = test::run({"resume", "--db", db}, 60s);
  ASSERT_EQ(r.exit_code, 0) << r.err;

  std::size_t after = 0;
  for (const auto& h : site.log()) {
    if (h.at < killed_at) continue;
    ++after;
    EXPECT_NE(h.path, "/") << "the first page was stored before the kill: not fetched again";
    EXPECT_EQ(h.cookie, "sid=s3ss10n") << h.path << " requested after the resume";
  }
  EXPECT_GT(after, 0u) << "the resumed crawl requested nothing";
  EXPECT_EQ(site.log().size() - before, after);
  std::cout << "requests before the kill: " << before << ", after the resume: " << after << std::endl;
}

}  // namespace
}  // namespace crawld
