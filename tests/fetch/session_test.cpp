#include "fetch/session.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>

#include "helpers.hpp"

namespace crawld::fetch {
namespace {

using namespace std::chrono_literals;
using testing::compress;
using testing::html_uncompressed_by_server;
using testing::page;
using testing::repeated_text;
using testing::test_server;

options fast_options() {
  options o;
  // Generous: under a loaded sanitizer run a 2 s read timeout cut a brotli test short. Tests of
  // timeouts set their own.
  o.connect_timeout = 5s;
  o.read_timeout = 10s;
  o.total_timeout = 20s;
  return o;
}

TEST(session, no_content_response_keeps_its_status_and_headers) {
  // cpp-httplib does not call the response handler for a 204; the session must still report it.
  test_server srv([](httplib::Server& s) {
    s.Get("/empty", [](const httplib::Request&, httplib::Response& res) {
      res.status = 204;
      res.set_header("X-Test", "b");
    });
  });
  session ses(fast_options());
  const response r = ses.get(srv.url("/empty"));
  EXPECT_EQ(r.error, fetch_error::none) << r.error_message;
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.header("X-Test"), "b");
  EXPECT_TRUE(r.body.empty());
}

TEST(session, gets_html_body_and_headers) {
  test_server srv([](httplib::Server& s) {
    s.Get("/page", [](const httplib::Request&, httplib::Response& res) {
      res.set_header("X-Test", "a");
      res.set_content(page, "text/html; charset=utf-8");
    });
  });
  session ses(fast_options());
  const response r = ses.get(srv.url("/page"));
  EXPECT_EQ(r.error, fetch_error::none) << r.error_message;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html");
  EXPECT_TRUE(r.is_html());
  EXPECT_FALSE(r.is_redirect());
  EXPECT_EQ(r.body, page);
  EXPECT_EQ(r.header("X-Test"), "a");
  EXPECT_GT(r.wire_bytes, 0u);
  EXPECT_GT(r.elapsed.count(), 0);
  bool listed = false;
  for (const auto& [k, v] : r.headers) listed = listed || (k == "X-Test" && v == "a");
  EXPECT_TRUE(listed);
}

TEST(session, follows_no_redirects_reports_location) {
  std::atomic<int> target_hits{0};
  test_server srv([&](httplib::Server& s) {
    s.Get("/from", [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/to", 301); });
    s.Get("/to", [&](const httplib::Request&, httplib::Response& res) {
      ++target_hits;
      res.set_content(page, "text/html");
    });
  });
  session ses(fast_options());
  const response r = ses.get(srv.url("/from"));
  EXPECT_EQ(r.error, fetch_error::none) << r.error_message;
  EXPECT_EQ(r.status, 301);
  EXPECT_TRUE(r.is_redirect());
  EXPECT_EQ(r.header("location"), "/to");
  EXPECT_EQ(target_hits.load(), 0);
}

/// Serves `body` encoded as `encoding` under a content type the server leaves alone.
void serve_encoded(httplib::Server& s, const std::string& path, std::string encoded,
                   const std::string& encoding) {
  s.Get(path, [encoded, encoding](const httplib::Request&, httplib::Response& res) {
    res.set_header("Content-Encoding", encoding);
    res.set_content(encoded, html_uncompressed_by_server);
  });
}

TEST(session, gzip_body_decoded) {
  const std::string text = repeated_text(300'000);
  const std::string gz = compress(text, 15 + 16);
  test_server srv([&](httplib::Server& s) { serve_encoded(s, "/gz", gz, "gzip"); });
  session ses(fast_options());
  const response r = ses.get(srv.url("/gz"));
  EXPECT_EQ(r.error, fetch_error::none) << r.error_message;
  EXPECT_EQ(r.content_type, "text/html");
  EXPECT_EQ(r.header("Content-Encoding"), "gzip");
  EXPECT_EQ(r.wire_bytes, gz.size());
  EXPECT_EQ(r.body, text);
}

TEST(session, deflate_body_decoded) {
  const std::string text = repeated_text(100'000);
  test_server srv([&](httplib::Server& s) { serve_encoded(s, "/z", compress(text, 15), "deflate"); });
  session ses(fast_options());
  const response r = ses.get(srv.url("/z"));
  EXPECT_EQ(r.error, fetch_error::none) << r.error_message;
  EXPECT_EQ(r.body, text);
}

TEST(session, raw_deflate_body_decoded) {
  const std::string text = repeated_text(100'000);
  test_server srv([&](httplib::Server& s) { serve_encoded(s, "/raw", compress(text, -15), "deflate"); });
  session ses(fast_options());
  const response r = ses.get(srv.url("/raw"));
  EXPECT_EQ(r.error, fetch_error::none) << r.error_message;
  EXPECT_EQ(r.body, text);
}

TEST(session, brotli_body_decoded) {
  // cpp-httplib's server compresses text/html itself, with br when the client accepts it.
  const std::string text = repeated_text(200'000);
  test_server srv([&](httplib::Server& s) {
    s.Get("/br", [&](const httplib::Request&, httplib::Response& res) { res.set_content(text, "text/html"); });
  });
  session ses(fast_options());
  const response r = ses.get(srv.url("/br"));
  EXPECT_EQ(r.error, fetch_error::none) << r.error_message;
  EXPECT_EQ(r.header("Content-Encoding"), "br");
  EXPECT_LT(r.wire_bytes, text.size());
  EXPECT_EQ(r.body, text);
}

TEST(session, corrupt_encoding_is_bad_encoding) {
  test_server srv([&](httplib::Server& s) {
    serve_encoded(s, "/bad", "\x1f\x8b definitely not a gzip stream", "gzip");
    serve_encoded(s, "/zstd", "whatever", "zstd");
  });
  session ses(fast_options());
  EXPECT_EQ(ses.get(srv.url("/bad")).error, fetch_error::bad_encoding);
  const response r = ses.get(srv.url("/zstd"));
  EXPECT_EQ(r.error, fetch_error::bad_encoding);
  EXPECT_NE(r.error_message.find("zstd"), std::string::npos) << r.error_message;
}

long max_rss_kb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

TEST(session, decoded_body_capped_reports_too_large) {
  const std::string bomb = testing::gzip_zeros(100u << 20);  // ~100 KB on the wire
  test_server srv([&](httplib::Server& s) { serve_encoded(s, "/bomb", bomb, "gzip"); });
  options o = fast_options();
  o.max_body_bytes = 1u << 20;
  session ses(o);
  const long rss_before = max_rss_kb();
  const response r = ses.get(srv.url("/bomb"));
  EXPECT_EQ(r.error, fetch_error::too_large) << r.error_message;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), o.max_body_bytes);
  EXPECT_EQ(r.body.find_first_not_of('\0'), std::string::npos);
  EXPECT_LT(r.wire_bytes, bomb.size());
  EXPECT_LT(max_rss_kb() - rss_before, 32 * 1024) << "peak RSS grew by more than 32 MiB";
}

TEST(session, identity_body_capped_and_exact_cap_accepted) {
  const std::string text = repeated_text(50'000);
  test_server srv([&](httplib::Server& s) {
    s.Get("/t", [&](const httplib::Request&, httplib::Response& res) {
      res.set_content(text, html_uncompressed_by_server);
    });
  });
  options o = fast_options();
  o.max_body_bytes = 10'000;
  session small(o);
  const response cut = small.get(srv.url("/t"));
  EXPECT_EQ(cut.error, fetch_error::too_large);
  EXPECT_EQ(cut.body, text.substr(0, 10'000));

  o.max_body_bytes = text.size();
  session exact(o);
  const response whole = exact.get(srv.url("/t"));
  EXPECT_EQ(whole.error, fetch_error::none) << whole.error_message;
  EXPECT_EQ(whole.body, text);
}

TEST(session, non_html_body_discarded_by_default) {
  const std::string small(10'000, 'x');
  const std::string large(4u << 20, 'y');
  test_server srv([&](httplib::Server& s) {
    s.Get("/img", [&](const httplib::Request&, httplib::Response& res) { res.set_content(small, "image/png"); });
    s.Get("/big", [&](const httplib::Request&, httplib::Response& res) { res.set_content(large, "video/mp4"); });
  });
  session ses(fast_options());
  const response r = ses.get(srv.url("/img"));
  EXPECT_EQ(r.error, fetch_error::none) << r.error_message;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "image/png");
  EXPECT_FALSE(r.is_html());
  EXPECT_TRUE(r.body.empty());

  const response big = ses.get(srv.url("/big"));
  EXPECT_EQ(big.error, fetch_error::none) << big.error_message;
  EXPECT_TRUE(big.body.empty());
  EXPECT_LT(big.wire_bytes, large.size());

  options o = fast_options();
  o.keep_non_html_body = true;
  session keeping(o);
  EXPECT_EQ(keeping.get(srv.url("/img")).body, small);
}

TEST(session, untyped_body_kept_only_when_it_looks_like_html) {
  // cpp-httplib's server adds text/plain to a body without Content-Type: an empty one is the
  // closest it can send to none.
  test_server srv([&](httplib::Server& s) {
    s.Get("/html", [&](const httplib::Request&, httplib::Response& res) {
      res.set_content("  \n<HTML><body>x</body></HTML>", "");
    });
    s.Get("/data", [&](const httplib::Request&, httplib::Response& res) { res.set_content("PK\x03\x04 binary", ""); });
  });
  session ses(fast_options());
  const response h = ses.get(srv.url("/html"));
  EXPECT_EQ(h.content_type, "");
  EXPECT_TRUE(h.is_html());
  EXPECT_EQ(h.body, "  \n<HTML><body>x</body></HTML>");
  const response d = ses.get(srv.url("/data"));
  EXPECT_FALSE(d.is_html());
  EXPECT_TRUE(d.body.empty());
}

TEST(session, connect_refused_is_connect_error) {
  // An OS-chosen port that is then closed: nothing listens there.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);

  parse::url u;
  u.scheme = "http";
  u.host = "127.0.0.1";
  u.has_host = true;
  u.port = ntohs(addr.sin_port);
  u.path = "/";
  session ses(fast_options());
  const response r = ses.get(u);
  EXPECT_EQ(r.error, fetch_error::connect) << r.error_message;
  EXPECT_EQ(r.status, 0);
  EXPECT_LT(r.elapsed, std::chrono::microseconds(2s));
}

TEST(session, unsupported_scheme_reported) {
  parse::url u;
  u.scheme = "ftp";
  u.host = "127.0.0.1";
  u.has_host = true;
  u.path = "/";
  session ses(fast_options());
  EXPECT_EQ(ses.get(u).error, fetch_error::unsupported);
}

TEST(session, read_timeout_reported) {
  test_server srv([](httplib::Server& s) {
    s.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(800ms);
      res.set_content(page, "text/html");
    });
  });
  options o = fast_options();
  o.read_timeout = 200ms;
  session ses(o);
  const response r = ses.get(srv.url("/slow"));
  EXPECT_EQ(r.error, fetch_error::timeout) << r.error_message;
  EXPECT_GE(r.elapsed, std::chrono::microseconds(190ms));
  EXPECT_LT(r.elapsed, std::chrono::microseconds(700ms));
}

TEST(session, total_timeout_cuts_slow_body) {
  test_server srv([](httplib::Server& s) {
    s.Get("/drip", [](const httplib::Request&, httplib::Response& res) {
      auto sent = std::make_shared<int>(0);
      res.set_chunked_content_provider(html_uncompressed_by_server, [sent](std::size_t, httplib::DataSink& sink) {
        if (*sent == 0) std::this_thread::sleep_for(10ms);
        if (++*sent > 100) {  // 100 chunks of 50 ms: 5 s if nobody stops it
          sink.done();
          return true;
        }
        std::this_thread::sleep_for(50ms);
        const std::string chunk = "<p>chunk</p>\n";
        return sink.write(chunk.data(), chunk.size());
      });
    });
  });
  options o = fast_options();
  o.read_timeout = 1s;
  o.total_timeout = 300ms;
  session ses(o);
  const response r = ses.get(srv.url("/drip"));
  EXPECT_EQ(r.error, fetch_error::timeout) << r.error_message;
  EXPECT_FALSE(r.body.empty());
  EXPECT_LT(r.elapsed, std::chrono::microseconds(900ms));
}

TEST(session, keep_alive_reuses_connection) {
  test_server srv([](httplib::Server& s) {
    s.set_keep_alive_max_count(1000);  // default: the server closes after 5 requests
    s.Get("/p", [](const httplib::Request&, httplib::Response& res) { res.set_content(page, "text/html"); });
  });
  session ses(fast_options());
  constexpr int n = 300;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) ASSERT_EQ(ses.get(srv.url("/p")).status, 200);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(srv.requests(), n);
  EXPECT_EQ(srv.connections(), 1u);
  ::testing::Test::RecordProperty("sequential_gets_per_second", static_cast<int>(n / took.count()));
}

TEST(session, reconnects_after_server_closed_idle_connection) {
  test_server srv([](httplib::Server& s) {
    s.set_keep_alive_timeout(1);
    s.Get("/p", [](const httplib::Request&, httplib::Response& res) { res.set_content(page, "text/html"); });
  });
  session ses(fast_options());
  EXPECT_EQ(ses.get(srv.url("/p")).status, 200);
  std::this_thread::sleep_for(1500ms);  // the server drops the idle connection after 1 s
  const response r = ses.get(srv.url("/p"));
  EXPECT_EQ(r.error, fetch_error::none) << r.error_message;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(srv.connections(), 2u);
}

TEST(session, idle_clients_limited_lru) {
  auto route = [](httplib::Server& s) {
    s.Get("/p", [](const httplib::Request&, httplib::Response& res) { res.set_content(page, "text/html"); });
  };
  test_server a(route);
  test_server b(route);
  options o = fast_options();
  o.max_idle_clients = 1;
  session ses(o);
  EXPECT_EQ(ses.get(a.url("/p")).status, 200);
  EXPECT_EQ(ses.get(a.url("/p")).status, 200);
  EXPECT_EQ(ses.get(b.url("/p")).status, 200);  // evicts a's client
  EXPECT_EQ(ses.get(a.url("/p")).status, 200);
  EXPECT_EQ(a.connections(), 2u);
  EXPECT_EQ(b.connections(), 1u);
}

TEST(session, ipv6_literal_host_fetched) {
  std::unique_ptr<test_server> srv;
  std::string host_header;
  try {
    srv = std::make_unique<test_server>(
        [&](httplib::Server& s) {
          s.Get("/p", [&](const httplib::Request& req, httplib::Response& res) {
            host_header = req.get_header_value("Host");
            res.set_content(page, "text/html");
          });
        },
        std::make_unique<httplib::Server>(), "::1");
  } catch (const std::exception& e) {
    GTEST_SKIP() << "no IPv6 loopback: " << e.what();
  }
  session ses(fast_options());
  const response r = ses.get(srv->url("/p"));
  EXPECT_EQ(r.error, fetch_error::none) << r.error_message;
  EXPECT_EQ(r.body, page);
  EXPECT_EQ(host_header, "[::1]:" + std::to_string(srv->port()));
}

TEST(session, header_lookup_case_insensitive) {
  response r;
  r.headers = {{"Content-Type", "text/html"}, {"X-Dup", "1"}, {"x-dup", "2"}};
  EXPECT_EQ(r.header("content-type"), "text/html");
  EXPECT_EQ(r.header("CONTENT-TYPE"), "text/html");
  EXPECT_EQ(r.header("X-DUP"), "1");
  EXPECT_EQ(r.header("Missing"), "");
}

TEST(session, sends_accept_encoding_and_user_agent_and_extra_headers) {
  std::mutex m;
  httplib::Headers seen;
  test_server srv([&](httplib::Server& s) {
    s.Get("/h", [&](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(m);
      seen = req.headers;
      res.set_content(page, "text/html");
    });
  });
  options o = fast_options();
  o.user_agent = "crawld-test/1.0 (+https://example.org/bot)";
  o.headers = {{"X-Extra", "yes"}, {"Accept-Language", "en"}};
  session ses(o);
  EXPECT_EQ(ses.get(srv.url("/h?q=1")).status, 200);
  std::lock_guard<std::mutex> lock(m);
  auto value = [&](const std::string& k) {
    auto it = seen.find(k);
    return it == seen.end() ? std::string("<absent>") : it->second;
  };
  EXPECT_EQ(value("Accept-Encoding"), "gzip, deflate, br");
  EXPECT_EQ(value("User-Agent"), o.user_agent);
  EXPECT_EQ(value("X-Extra"), "yes");
  EXPECT_EQ(value("Accept-Language"), "en");
  EXPECT_EQ(value("Host"), "127.0.0.1:" + std::to_string(srv.port()));
  EXPECT_EQ(seen.count("User-Agent"), 1u);
}

TEST(session, to_string_names_every_error) {
  EXPECT_STREQ(to_string(fetch_error::too_large), "too_large");
  EXPECT_STREQ(to_string(fetch_error::connect), "connect");
}

}  // namespace
}  // namespace crawld::fetch
