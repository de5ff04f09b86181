#pragma once
/// A testsite web served on loopback for the process-level tests (CLI, daemon): `hosts` hosts of
/// `pages` pages on ephemeral ports, each response delayed by `latency`. Null (with a test
/// failure recorded) when it cannot start.
#include <chrono>
#include <memory>

#include <gtest/gtest.h>

#include "testsite/server.hpp"

namespace crawld::test {

inline std::unique_ptr<testsite::server> start_site(int hosts, int pages,
                                                    std::chrono::milliseconds latency = std::chrono::milliseconds(0)) {
  testsite::site_options o;
  o.hosts = hosts;
  o.pages = pages;
  o.port = 0;
  testsite::server_options so;
  so.latency = latency;
  so.threads_per_host = 16;
  auto s = testsite::server::start(testsite::site(o), so);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.message());
  return s.ok() ? std::move(*s) : nullptr;
}

}  // namespace crawld::test
