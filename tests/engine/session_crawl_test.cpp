// The HTTP session inside a whole crawl: the robots.txt group follows the configured agent,
// cookies set by one page come back on the next, and the jar survives in the store for the next
// crawl on it. An in-process server on 127.0.0.67 records what it saw.
#include <httplib.h>

#include <map>
#include <mutex>
#include <thread>

#include "actors/engine.hpp"
#include "storage/store.hpp"
#include "tests/temp_dir.hpp"
#include <gtest/gtest.h>

namespace crawld {
namespace {

using namespace std::chrono_literals;

struct recording_site {
  httplib::Server srv;
  std::thread thread;
  int port = 0;
  std::mutex mu;
  std::map<std::string, std::string> cookie_by_path, agent_by_path;

  recording_site() {
    srv.Get(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard<std::mutex> lock(mu);
        cookie_by_path[req.path] = req.get_header_value("Cookie");
        agent_by_path[req.path] = req.get_header_value("User-Agent");
      }
      if (req.path == "/robots.txt") {
        res.set_content("User-agent: mybot\nDisallow: /private\n\nUser-agent: *\nDisallow: /\n", "text/plain");
      } else if (req.path == "/") {
        res.set_header("Set-Cookie", "sid=s1; Path=/");
        res.set_content("<html><body><a href=/next>n</a> <a href=/private>p</a></body></html>", "text/html");
      } else {
        res.set_content("<html><body>page</body></html>", "text/html");
      }
    });
    port = srv.bind_to_any_port("127.0.0.67");
    thread = std::thread([this] { srv.listen_after_bind(); });
    for (int i = 0; i < 500 && !srv.is_running(); ++i) std::this_thread::sleep_for(10ms);
  }
  ~recording_site() {
    srv.stop();
    thread.join();
  }
  std::string origin() const { return "http://127.0.0.67:" + std::to_string(port); }
  bool saw(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu);
    return cookie_by_path.count(path) > 0;
  }
  std::string cookie(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu);
    return cookie_by_path.count(path) ? cookie_by_path[path] : "<no request>";
  }
  std::string agent(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu);
    return agent_by_path.count(path) ? agent_by_path[path] : "<no request>";
  }
};

conf::crawl_options options_for(const recording_site& site) {
  conf::crawl_options o;
  o.seeds = {site.origin() + "/"};
  o.user_agent = "MyBot/2.0 (+https://example.org/bot)";
  o.unsafe_cookies = true;  // the site is on an IP address
  o.concurrency = 2;
  o.connect_timeout = 2s;
  o.read_timeout = 5s;
  o.total_timeout = 10s;
  return o;
}

TEST(session_crawl, robots_group_follows_the_agent_and_cookies_come_back_on_later_pages) {
  recording_site site;
  auto o = options_for(site);
  auto r = actors::run_crawl(o);
  ASSERT_TRUE(r) << r.message();
  // "User-agent: mybot" applies (everything but /private), not the "*" group (nothing).
  EXPECT_EQ(site.agent("/robots.txt"), "MyBot/2.0 (+https://example.org/bot)");
  EXPECT_FALSE(site.saw("/private"));
  EXPECT_EQ(site.cookie("/"), "");
  EXPECT_EQ(site.cookie("/next"), "sid=s1");
  EXPECT_EQ(r->outcomes[fetch::outcome::robots_denied], 1u);
}

TEST(session_crawl, no_cookies_sends_none) {
  recording_site site;
  auto o = options_for(site);
  o.cookies = false;
  auto r = actors::run_crawl(o);
  ASSERT_TRUE(r) << r.message();
  EXPECT_EQ(site.cookie("/next"), "");
}

TEST(session_crawl, cookie_jar_is_kept_in_the_store_for_the_next_crawl_on_it) {
  test::temp_dir dir;
  {
    recording_site site;
    auto o = options_for(site);
    o.db = dir / "store";
    auto r = actors::run_crawl(o);
    ASSERT_TRUE(r) << r.message();
  }
  {
    auto st = storage::store::open(dir / "store");
    ASSERT_TRUE(st) << st.message();
    auto saved = (*st)->get_meta("cookies");
    ASSERT_TRUE(saved);
    EXPECT_NE(saved->find("sid\ts1\t127.0.0.67"), std::string::npos) << *saved;
  }
  recording_site again;  // a new port: cookies ignore ports
  auto o = options_for(again);
  o.db = dir / "store";
  o.seeds = {again.origin() + "/next"};
  auto r = actors::run_crawl(o);
  ASSERT_TRUE(r) << r.message();
  EXPECT_EQ(again.cookie("/next"), "sid=s1");
}

}  // namespace
}  // namespace crawld
