#include "testsite/server.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

namespace crawld::testsite {
namespace {

site small_site(int hosts, int pages = 50, std::uint16_t port = 0) {
  site_options o;
  o.hosts = hosts;
  o.pages = pages;
  o.port = port;
  return site(o);
}

httplib::Client client(const server& srv, int host) {
  httplib::Client c(srv.model().address(host), srv.port());
  c.set_connection_timeout(5, 0);
  c.set_read_timeout(5, 0);
  return c;
}

TEST(testsite_server, server_serves_over_real_http) {
  auto started = server::start(small_site(4));
  ASSERT_TRUE(started.ok()) << started.message();
  server& srv = **started;
  ASSERT_NE(srv.port(), 0);
  EXPECT_EQ(srv.model().opts().port, srv.port());

  httplib::Headers ua{{"User-Agent", "crawld-test/1"}};
  auto c0 = client(srv, 0);
  auto index = c0.Get("/", ua);
  ASSERT_TRUE(index) << httplib::to_string(index.error());
  EXPECT_EQ(index->status, 200);
  EXPECT_EQ(index->body, srv.model().serve(0, "/").body);
  EXPECT_EQ(index->get_header_value("Content-Type"), "text/html; charset=utf-8");

  auto encoded = c0.Get("/s13/%70%34%35.html", ua);
  ASSERT_TRUE(encoded);
  EXPECT_EQ(encoded->status, 200);
  EXPECT_EQ(encoded->body, srv.model().serve(0, "/s13/p45.html").body);

  auto moved = c0.Get("/r/301/5?x=1", ua);
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->status, 301);
  EXPECT_EQ(moved->get_header_value("Location"), srv.model().origin(0) + "/s5/p5.html");

  auto c3 = client(srv, 3);
  auto missing = c3.Get("/missing/1.html", ua);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto robots = c3.Get("/robots.txt", ua);
  ASSERT_TRUE(robots);
  EXPECT_EQ(robots->body, "User-agent: *\nDisallow: /private/\nSitemap: " + srv.model().origin(3) +
                              "/sitemap.xml\n");

  auto log = srv.requests();
  ASSERT_EQ(log.size(), 5u);
  EXPECT_EQ(log[0].host, 0);
  EXPECT_EQ(log[0].target, "/");
  EXPECT_EQ(log[0].user_agent, "crawld-test/1");
  EXPECT_EQ(log[1].target, "/s13/%70%34%35.html") << "logged as received";
  EXPECT_EQ(log[2].target, "/r/301/5?x=1");
  EXPECT_EQ(log[3].host, 3);
  EXPECT_LE(log[0].at, log[4].at);
  auto counts = srv.request_counts();
  EXPECT_EQ(counts.size(), 5u);
  EXPECT_EQ(counts[srv.model().origin(0) + "/"], 1);
  EXPECT_EQ(counts[srv.model().origin(3) + "/missing/1.html"], 1);

  srv.stop();
  srv.stop();  // idempotent
  EXPECT_FALSE(client(srv, 0).Get("/"));
}

TEST(testsite_server, server_tracks_max_in_flight) {
  server_options opts;
  opts.latency = std::chrono::milliseconds(100);
  opts.threads_per_host = 8;
  auto started = server::start(small_site(2), opts);
  ASSERT_TRUE(started.ok()) << started.message();
  server& srv = **started;
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 5; ++i)
    clients.emplace_back([&, i] {
      auto c = client(srv, 0);
      if (auto r = c.Get("/s" + std::to_string(i + 1) + "/p" + std::to_string(i + 1) + ".html"))
        ok += r->status == 200;
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 5);
  EXPECT_EQ(srv.max_in_flight(0), 5);
  EXPECT_EQ(srv.max_in_flight(1), 0);
  EXPECT_EQ(srv.max_in_flight_total(), 5);
  auto c1 = client(srv, 1);
  ASSERT_TRUE(c1.Get("/"));
  EXPECT_EQ(srv.max_in_flight(1), 1);
  EXPECT_EQ(srv.max_in_flight_total(), 5);
}

TEST(testsite_server, bind_failure_is_clear_error) {
  auto first = server::start(small_site(1));
  ASSERT_TRUE(first.ok()) << first.message();
  std::uint16_t port = (*first)->port();
  auto second = server::start(small_site(2, 50, port));
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.message().find("127.0.0.10:" + std::to_string(port)), std::string::npos)
      << second.message();
  // The first server is unaffected.
  auto r = client(**first, 0).Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST(testsite_server, fixed_port_binds_every_host) {
  std::uint16_t port = 0;
  {
    auto probe = server::start(small_site(1));
    ASSERT_TRUE(probe.ok()) << probe.message();
    port = (*probe)->port();
  }
  // The probe's port is free again (SO_REUSEADDR); a fixed port must be used for all hosts.
  auto started = server::start(small_site(3, 50, port));
  ASSERT_TRUE(started.ok()) << started.message();
  EXPECT_EQ((*started)->port(), port);
  for (int h = 0; h < 3; ++h) {
    auto r = client(**started, h).Get("/sitemap.xml");
    ASSERT_TRUE(r) << h;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/xml");
  }
}

}  // namespace
}  // namespace crawld::testsite
