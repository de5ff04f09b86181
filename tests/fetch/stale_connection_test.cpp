#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "fetch/session.hpp"
#include "helpers.hpp"
#include "raw_server.hpp"

namespace crawld::fetch {
namespace {

using namespace std::chrono_literals;

/// The drop-as-reused race cpp-httplib's server cannot produce on demand: the first connection
/// answers `answered_first` requests, then reads the next one and closes without answering.
testing::raw_server dropping_server(int answered_first) {
  const std::string body = "<html><body>ok</body></html>";
  return testing::raw_server("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: " +
                                 std::to_string(body.size()) + "\r\n\r\n" + body,
                             false, answered_first);
}

parse::url local_url(int port) {
  parse::url u;
  u.scheme = "http";
  u.host = "127.0.0.1";
  u.has_host = true;
  u.port = port;
  u.path = "/";
  return u;
}

options quick() {
  options o;
  o.connect_timeout = 2s;
  o.read_timeout = 2s;
  o.total_timeout = 5s;
  return o;
}

TEST(session, retries_once_when_reused_connection_dropped_before_response) {
  auto srv = dropping_server(1);
  ASSERT_GT(srv.port(), 0);
  session ses(quick());
  EXPECT_EQ(ses.get(local_url(srv.port())).status, 200);
  const response r = ses.get(local_url(srv.port()));
  EXPECT_EQ(r.error, fetch_error::none) << r.error_message;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "<html><body>ok</body></html>");
  EXPECT_EQ(srv.connections(), 2);
  EXPECT_EQ(srv.requests(), 3);
}

TEST(session, fresh_connection_dropped_is_network_error_without_retry) {
  auto srv = dropping_server(0);
  ASSERT_GT(srv.port(), 0);
  session ses(quick());
  const response r = ses.get(local_url(srv.port()));
  EXPECT_EQ(r.error, fetch_error::network) << r.error_message;
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(srv.connections(), 1);
  EXPECT_EQ(srv.requests(), 1);
}

}  // namespace
}  // namespace crawld::fetch
