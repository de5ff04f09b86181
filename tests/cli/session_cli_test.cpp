// HTTP session flags through the real binary: --resolve and --contact reach the server, --insecure
// warns, proxy credentials never appear in errors or --verbose lines.
#include <gtest/gtest.h>
#include <httplib.h>

#include <mutex>
#include <thread>

#include "process.hpp"

namespace crawld {
namespace {

using test::run;
using namespace std::chrono_literals;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(cli_session, resolve_and_contact_reach_the_server) {
  httplib::Server srv;
  std::mutex mu;
  std::string agent, host;
  srv.Get("/", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu);
    agent = req.get_header_value("User-Agent");
    host = req.get_header_value("Host");
    res.set_content("<html><body>hi</body></html>", "text/html");
  });
  const int port = srv.bind_to_any_port("127.0.0.69");
  ASSERT_GT(port, 0);
  std::thread t([&] { srv.listen_after_bind(); });
  const std::string p = std::to_string(port);
  auto r = run({"crawl", "http://site-c.test:" + p + "/", "--depth", "0", "--ignore-robots", "--resolve",
                "site-c.test:" + p + ":127.0.0.69", "--contact", "https://example.org/crawler"});
  srv.stop();
  t.join();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_TRUE(contains(agent, "crawld/")) << agent;
  EXPECT_TRUE(contains(agent, " (+https://example.org/crawler)")) << agent;
  EXPECT_EQ(host, "site-c.test:" + p);
}

TEST(cli_session, bad_proxy_flag_is_a_usage_error_without_the_password) {
  auto r = run({"crawl", "http://127.0.0.1:9/", "--proxy", "socks5://bob:hunter2@127.0.0.1:1080"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "--proxy")) << r.err;
  EXPECT_FALSE(contains(r.err + r.out, "hunter2")) << r.err;
}

TEST(cli_session, proxy_password_never_in_verbose_or_summary) {
  auto r = run({"crawl", "http://127.0.0.69:9/", "--depth", "0", "-v", "--retries", "0", "--connect-timeout", "1",
                "--proxy", "http://bob:hunter2@127.0.0.1:9"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(contains(r.out + r.err, "proxy 127.0.0.1:9")) << r.out << r.err;
  EXPECT_FALSE(contains(r.out + r.err, "hunter2")) << r.out << r.err;
}

TEST(cli_session, insecure_warns_and_bad_resolve_is_a_usage_error) {
  auto r = run({"crawl", "http://127.0.0.1:9/", "--insecure", "--depth", "0", "--connect-timeout", "1"});
  EXPECT_TRUE(contains(r.err, "warning: --insecure")) << r.err;
  auto bad = run({"crawl", "http://127.0.0.1:9/", "--resolve", "only-a-host"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(contains(bad.err, "HOST:PORT:ADDR")) << bad.err;
}

}  // namespace
}  // namespace crawld
