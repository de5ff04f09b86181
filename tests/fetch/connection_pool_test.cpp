// The connection pool shared by a crawl's fetchers: connections per host bounded by use, not by
// the number of fetchers.
#include <gtest/gtest.h>

#include "helpers.hpp"

namespace crawld::fetch {
namespace {

using testing::test_server;

options quick() {
  options o;
  o.connect_timeout = std::chrono::seconds(2);
  o.read_timeout = std::chrono::seconds(2);
  o.total_timeout = std::chrono::seconds(5);
  return o;
}

void serve_page(httplib::Server& s) {
  s.set_keep_alive_max_count(1000);
  s.Get("/p", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("<html><body>hi</body></html>", "text/html");
  });
}

TEST(connection_pool, sessions_sharing_a_pool_reuse_one_connection) {
  test_server srv(serve_page);
  auto pool = std::make_shared<connection_pool>();
  std::vector<std::unique_ptr<session>> fetchers;
  for (int i = 0; i < 8; ++i)
    fetchers.push_back(std::make_unique<session>(quick(), pool));
  for (int round = 0; round < 5; ++round)
    for (auto& f : fetchers)
      ASSERT_EQ(f->get(srv.url("/p")).status, 200);
  EXPECT_EQ(srv.requests(), 40);
  EXPECT_EQ(srv.connections(), 1u) << "sequential requests through a shared pool need one connection";
  EXPECT_EQ(pool->idle(), 1u);
}

TEST(connection_pool, concurrent_use_opens_at_most_one_connection_per_request_in_flight) {
  test_server srv([](httplib::Server& s) {
    s.set_keep_alive_max_count(1000);
    s.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
      res.set_content("<html></html>", "text/html");
    });
  });
  auto pool = std::make_shared<connection_pool>();
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t)
    threads.emplace_back([&] {
      session s(quick(), pool);
      for (int i = 0; i < 5; ++i)
        EXPECT_EQ(s.get(srv.url("/slow")).status, 200);
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(srv.requests(), 15);
  EXPECT_LE(srv.connections(), 3u);
  EXPECT_LE(pool->idle(), 3u);
}

TEST(connection_pool, idle_limits_close_extra_connections) {
  test_server srv(serve_page);
  pool_limits l;
  l.max_idle_per_host = 2;
  l.max_idle_total = 3;
  connection_pool pool(l);
  auto open_client = [&] {
    auto c = std::make_unique<httplib::ClientImpl>("127.0.0.1", srv.port());
    c->set_keep_alive(true);
    EXPECT_TRUE(c->Get("/p"));
    return c;
  };
  for (int i = 0; i < 3; ++i)  // three fetchers return their clients for one host
    pool.checkin("http://a:1", open_client());
  EXPECT_EQ(pool.idle(), 2u);
  pool.checkin("http://b:1", open_client());
  pool.checkin("http://c:1", open_client());
  EXPECT_EQ(pool.idle(), 3u) << "the least recently used beyond the total limit is closed";
  EXPECT_NE(pool.checkout("http://a:1"), nullptr);
  EXPECT_EQ(pool.checkout("http://a:1"), nullptr) << "the older of a's two clients was closed";
  EXPECT_NE(pool.checkout("http://c:1"), nullptr);
  EXPECT_EQ(pool.checkout("http://nope:1"), nullptr);
}

TEST(connection_pool, expired_idle_client_not_handed_out) {
  test_server srv(serve_page);
  pool_limits l;
  l.idle_timeout = std::chrono::milliseconds(50);
  auto pool = std::make_shared<connection_pool>(l);
  session s(quick(), pool);
  ASSERT_EQ(s.get(srv.url("/p")).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  ASSERT_EQ(s.get(srv.url("/p")).status, 200);
  EXPECT_EQ(srv.connections(), 2u) << "the idle connection was older than the timeout";
}

}  // namespace
}  // namespace crawld::fetch
