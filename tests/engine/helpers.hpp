#pragma once
// Shared helpers of the engine tests: a testsite on loopback and crawl options pointing at it.
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>

#include "actors/engine.hpp"
#include <gtest/gtest.h>

#include "tests/temp_dir.hpp"
#include "testsite/server.hpp"

namespace crawld::test {

inline std::unique_ptr<testsite::server> start_site(int hosts, int pages, testsite::server_options so = {}) {
  testsite::site_options o;
  o.hosts = hosts;
  o.pages = pages;
  o.port = 0;
  so.threads_per_host = std::min(so.threads_per_host, 32);
  auto srv = testsite::server::start(testsite::site(o), so);
  EXPECT_TRUE(srv.ok()) << (srv.ok() ? "" : srv.message());
  return srv.ok() ? std::move(*srv) : nullptr;
}

inline conf::crawl_options options_for(const testsite::server& srv, int hosts) {
  conf::crawl_options o;
  for (int i = 0; i < hosts; ++i)
    o.seeds.push_back(srv.model().origin(i) + "/");
  o.connect_timeout = std::chrono::seconds(2);
  o.backoff_base = std::chrono::milliseconds(50);
  o.read_timeout = std::chrono::seconds(5);
  o.total_timeout = std::chrono::seconds(10);
  return o;
}

inline testsite::expect_options expect_for(const conf::crawl_options& o) {
  testsite::expect_options e;
  e.seeds = o.seeds;
  e.max_depth = o.max_depth;
  e.obey_robots = o.obey_robots;
  return e;
}

/// URLs the server saw, as origin + target, excluding robots.txt.
inline std::multiset<std::string> requested(const testsite::server& srv) {
  std::multiset<std::string> out;
  for (const auto& r : srv.requests())
    if (r.target != "/robots.txt")
      out.insert(srv.model().origin(r.host) + r.target);
  return out;
}

}  // namespace crawld::test
