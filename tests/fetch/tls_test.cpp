#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "fetch/session.hpp"
#include "helpers.hpp"

namespace crawld::fetch {
namespace {

using namespace std::chrono_literals;
using testing::test_server;

/// tests/fetch/data: a self-signed certificate for 127.0.0.1 (valid until 2126) and its key.
std::string data_file(const std::string& name) {
  std::string dir = __FILE__;
  dir.erase(dir.find_last_of('/') + 1);
  return dir + "data/" + name;
}

std::unique_ptr<httplib::Server> tls_server() {
  return std::make_unique<httplib::SSLServer>(data_file("cert.pem").c_str(), data_file("key.pem").c_str());
}

void route(httplib::Server& s) {
  s.Get("/p", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("<html><body>secure</body></html>", "text/html");
  });
}

options quick() {
  options o;
  o.connect_timeout = 2s;
  o.read_timeout = 2s;
  o.total_timeout = 5s;
  return o;
}

TEST(session, https_rejects_untrusted_certificate) {
  test_server srv(route, tls_server());
  parse::url u = srv.url("/p");
  u.scheme = "https";
  session ses(quick());
  const response r = ses.get(u);
  EXPECT_EQ(r.error, fetch_error::tls) << r.error_message;
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(srv.requests(), 0);
}

TEST(session, https_fetch_with_trusted_certificate) {
  // OpenSSL's default verify paths honour SSL_CERT_FILE: trust the test certificate.
  ASSERT_EQ(::setenv("SSL_CERT_FILE", data_file("cert.pem").c_str(), 1), 0);
  test_server srv(route, tls_server());
  parse::url u = srv.url("/p");
  u.scheme = "https";
  session ses(quick());
  const response first = ses.get(u);
  const response second = ses.get(u);
  ::unsetenv("SSL_CERT_FILE");
  EXPECT_EQ(first.error, fetch_error::none) << first.error_message;
  EXPECT_EQ(first.body, "<html><body>secure</body></html>");
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(srv.connections(), 1u);
}

}  // namespace
}  // namespace crawld::fetch
