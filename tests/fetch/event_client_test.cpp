// The event-driven client against servers on loopback, held to its header's contract: what it
// returns is what session::get returns for the same URL (differential tests on a cpp-httplib
// server and on raw-socket bytes), keep-alive reuse, concurrency, cookies, request headers, caps,
// timeouts, connection errors, route(), stale kept-alive connections and destruction mid-request.
// Addresses 127.0.0.71-75 are this file's.
#include "fetch/event_client.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fetch/session.hpp"
#include "helpers.hpp"
#include "raw_server.hpp"
#include "testsite/hostile.hpp"

namespace crawld::fetch {
namespace {

using namespace std::chrono_literals;
using testing::compress;
using testing::html_uncompressed_by_server;
using testing::page;
using testing::repeated_text;
using testing::raw_server;
using testing::test_server;

options quick() {
  options o;
  o.connect_timeout = 2s;
  o.read_timeout = 5s;
  o.total_timeout = 10s;
  return o;
}

/// Responses handed to callbacks, in a state shared with them: a callback that comes after a
/// failed wait writes here, never into a finished test's frame.
class inbox {
 public:
  event_client::callback callback() {
    auto s = state_;
    return [s](response r) {
      std::lock_guard<std::mutex> lock(s->mu);
      s->got.push_back(std::move(r));
      s->threads.insert(std::this_thread::get_id());
      s->cv.notify_all();
    };
  }
  /// Waits (bounded) until at least `n` responses arrived.
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock<std::mutex> lock(state_->mu);
    return state_->cv.wait_for(lock, timeout, [&] { return state_->got.size() >= n; });
  }
  std::size_t count() const {
    std::lock_guard<std::mutex> lock(state_->mu);
    return state_->got.size();
  }
  response at(std::size_t i) const {
    std::lock_guard<std::mutex> lock(state_->mu);
    return i < state_->got.size() ? state_->got[i] : response{};
  }
  std::set<std::thread::id> threads() const {
    std::lock_guard<std::mutex> lock(state_->mu);
    return state_->threads;
  }

 private:
  struct shared {
    mutable std::mutex mu;
    std::condition_variable cv;
    std::vector<response> got;
    std::set<std::thread::id> threads;
  };
  std::shared_ptr<shared> state_ = std::make_shared<shared>();
};

/// Polls `pred` every 5 ms until it holds or `timeout` passes; its last value.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 1s) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (!pred() && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(5ms);
  return pred();
}

/// route() then get(), waiting (bounded) for the callback.
response fetch_one(event_client& c, const parse::url& u, std::chrono::milliseconds wait = 15s) {
  const auto address = c.route(u);
  if (!address) {
    ADD_FAILURE() << "route() declined " << u.href();
    response r;
    r.error = fetch_error::unsupported;
    r.error_message = "<not routed>";
    return r;
  }
  inbox box;
  c.get(u, *address, box.callback());
  if (!box.wait_for(1, wait)) {
    ADD_FAILURE() << "no callback within " << wait.count() << " ms for " << u.href();
    response r;
    r.error = fetch_error::network;
    r.error_message = "<no callback>";
    return r;
  }
  return box.at(0);
}

parse::url url_of(const std::string& text) {
  auto u = parse::parse_url(text);
  if (!u) throw std::runtime_error("bad test URL " + text);
  return *u;
}

parse::url loopback_url(int port, const std::string& path = "/") {
  return url_of("http://127.0.0.1:" + std::to_string(port) + path);
}

/// A loopback port with nothing listening: bound by the OS, then closed.
int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return 0;
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

/// The event client's response is the session's: everything but `elapsed` (and wire_bytes when
/// `same_wire_bytes` is false: how much of a discarded body was read is the transport's business).
void expect_same_response(const response& want, const response& got, const std::string& what,
                          bool same_wire_bytes = true) {
  EXPECT_EQ(got.error, want.error) << what << ": event_client '" << got.error_message << "', session '"
                                   << want.error_message << "'";
  const std::string order = what + " (first event_client, then session)";
  // The same message, or the same followed by a detail the blocking client cannot see.
  EXPECT_EQ(got.error_message.substr(0, want.error_message.size()), want.error_message) << order;
  EXPECT_EQ(got.status, want.status) << order;
  EXPECT_EQ(got.headers, want.headers) << order;
  EXPECT_EQ(got.content_type, want.content_type) << order;
  EXPECT_EQ(got.is_html(), want.is_html()) << what;
  EXPECT_EQ(got.body.size(), want.body.size()) << what;
  EXPECT_TRUE(got.body == want.body) << what << ": bodies differ";
  if (same_wire_bytes) {
    EXPECT_EQ(got.wire_bytes, want.wire_bytes) << what;
  }
  EXPECT_EQ(got.raw, nullptr) << what;
}

/// Serves `body` encoded as `encoding` under a content type the server leaves alone.
void serve_encoded(httplib::Server& s, const std::string& path, std::string encoded, const std::string& encoding) {
  s.Get(path, [encoded, encoding](const httplib::Request&, httplib::Response& res) {
    res.set_header("Content-Encoding", encoding);
    res.set_content(encoded, html_uncompressed_by_server);
  });
}

/// The routes of the differential tests.
void differential_routes(httplib::Server& s) {
  static const std::string text = repeated_text(300'000);
  static const std::string gz = compress(text, 15 + 16);
  static const std::string small(10'000, 'x');
  static const std::string large(4u << 20, 'y');
  s.set_keep_alive_max_count(1000);  // the same Connection / Keep-Alive fields on every answer
  s.Get("/plain", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("X-Test", "a");
    res.set_header("X-Multi", "1");
    res.set_header("X-Multi", "2");
    res.set_content(page, html_uncompressed_by_server);
  });
  serve_encoded(s, "/gzip", gz, "gzip");
  serve_encoded(s, "/deflate", compress(text, 15), "deflate");
  s.Get("/br", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(text, "text/html");  // the server compresses it itself (br, the client accepts it)
  });
  s.Get("/chunked", [](const httplib::Request&, httplib::Response& res) {
    auto sent = std::make_shared<int>(0);
    res.set_chunked_content_provider(html_uncompressed_by_server, [sent](std::size_t, httplib::DataSink& sink) {
      if (++*sent > 5) {
        sink.done();
        return true;
      }
      const std::string chunk = "<p>chunk " + std::to_string(*sent) + "</p>\n";
      return sink.write(chunk.data(), chunk.size());
    });
  });
  s.Get("/from", [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/to", 301); });
  s.Get("/img", [](const httplib::Request&, httplib::Response& res) { res.set_content(small, "image/png"); });
  s.Get("/big", [](const httplib::Request&, httplib::Response& res) { res.set_content(large, "video/mp4"); });
  s.Get("/empty", [](const httplib::Request&, httplib::Response& res) {
    res.status = 204;
    res.set_header("X-Test", "b");
  });
  s.Get("/untyped-html", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("  \n<HTML><body>x</body></HTML>", "");
  });
  s.Get("/untyped-data", [](const httplib::Request&, httplib::Response& res) { res.set_content("PK\x03\x04 binary", ""); });
  s.Get("/teapot", [](const httplib::Request&, httplib::Response& res) {
    res.status = 500;
    res.set_content("<html><body>oops</body></html>", "text/html; charset=ISO-8859-1");
  });
}

/// session::get and event_client::get of `path` on one differential server.
void expect_same_as_session(const std::string& path, bool same_wire_bytes = true, options o = quick()) {
  test_server srv(differential_routes);
  session ses(o);
  event_client c(o);
  const response want = ses.get(srv.url(path));
  const response got = fetch_one(c, srv.url(path));
  expect_same_response(want, got, path, same_wire_bytes);
}

// --- differential: same response as session::get ----------------------------------------------

TEST(event_client, differential_plain_html_body_headers_and_content_type_match_session_get) {
  test_server srv(differential_routes);
  session ses(quick());
  event_client c(quick());
  const response want = ses.get(srv.url("/plain"));
  const response got = fetch_one(c, srv.url("/plain"));
  ASSERT_EQ(want.status, 200) << want.error_message;
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.error, fetch_error::none) << got.error_message;
  EXPECT_EQ(got.body, page);
  EXPECT_EQ(got.content_type, "text/html");
  EXPECT_EQ(got.header("x-test"), "a");
  EXPECT_GT(got.elapsed.count(), 0);
  expect_same_response(want, got, "/plain");
}

TEST(event_client, differential_gzip_encoded_body_is_decoded_as_session_get_does) {
  expect_same_as_session("/gzip");
  expect_same_as_session("/deflate");
}

TEST(event_client, differential_brotli_body_compressed_by_the_server_is_decoded_as_session_get_does) {
  test_server srv(differential_routes);
  session ses(quick());
  event_client c(quick());
  const response want = ses.get(srv.url("/br"));
  const response got = fetch_one(c, srv.url("/br"));
  ASSERT_EQ(want.header("Content-Encoding"), "br") << "the server did not compress: the test proves nothing";
  expect_same_response(want, got, "/br");
}

TEST(event_client, differential_rfc9112_7_1_chunked_body_matches_session_get) {
  test_server srv(differential_routes);
  session ses(quick());
  event_client c(quick());
  const response want = ses.get(srv.url("/chunked"));
  const response got = fetch_one(c, srv.url("/chunked"));
  ASSERT_EQ(want.header("Transfer-Encoding"), "chunked");
  EXPECT_EQ(got.body, "<p>chunk 1</p>\n<p>chunk 2</p>\n<p>chunk 3</p>\n<p>chunk 4</p>\n<p>chunk 5</p>\n");
  expect_same_response(want, got, "/chunked");
}

TEST(event_client, differential_404_matches_session_get) { expect_same_as_session("/no-such-page"); }

TEST(event_client, differential_500_with_html_body_matches_session_get) { expect_same_as_session("/teapot"); }

TEST(event_client, differential_rfc9110_15_4_2_301_with_location_is_returned_not_followed) {
  test_server srv(differential_routes);
  session ses(quick());
  event_client c(quick());
  const response want = ses.get(srv.url("/from"));
  const int requests_before = srv.requests();
  const response got = fetch_one(c, srv.url("/from"));
  EXPECT_EQ(got.status, 301);
  EXPECT_TRUE(got.is_redirect());
  EXPECT_EQ(got.header("location"), "/to");
  EXPECT_EQ(srv.requests(), requests_before + 1) << "the redirect was followed";
  expect_same_response(want, got, "/from");
}

TEST(event_client, differential_non_html_body_is_discarded_as_session_get_does) {
  expect_same_as_session("/img");
  expect_same_as_session("/big", /*same_wire_bytes=*/false);
  expect_same_as_session("/untyped-data");
  test_server srv(differential_routes);
  event_client c(quick());
  const response big = fetch_one(c, srv.url("/big"));
  EXPECT_EQ(big.error, fetch_error::none) << big.error_message;
  EXPECT_TRUE(big.body.empty());
  EXPECT_LE(big.wire_bytes, 64u * 1024 + 16 * 1024) << "a large non-HTML body was read on";
  // The client is still usable after dropping that connection.
  const response next = fetch_one(c, srv.url("/plain"));
  EXPECT_EQ(next.status, 200) << next.error_message;
  EXPECT_EQ(next.body, page);
}

TEST(event_client, differential_non_html_body_kept_with_keep_non_html_body) {
  options o = quick();
  o.keep_non_html_body = true;
  expect_same_as_session("/img", true, o);
}

TEST(event_client, differential_untyped_body_kept_only_when_it_looks_like_html) {
  expect_same_as_session("/untyped-html");
  test_server srv(differential_routes);
  event_client c(quick());
  const response h = fetch_one(c, srv.url("/untyped-html"));
  EXPECT_EQ(h.content_type, "");
  EXPECT_EQ(h.body, "  \n<HTML><body>x</body></HTML>");
}

TEST(event_client, differential_rfc9110_15_3_5_204_no_content_keeps_status_and_headers) {
  test_server srv(differential_routes);
  session ses(quick());
  event_client c(quick());
  const response want = ses.get(srv.url("/empty"));
  const response got = fetch_one(c, srv.url("/empty"));
  EXPECT_EQ(got.status, 204);
  EXPECT_EQ(got.header("X-Test"), "b");
  EXPECT_TRUE(got.body.empty());
  expect_same_response(want, got, "/empty");
  // The connection carries on after a body-less response.
  const response next = fetch_one(c, srv.url("/plain"));
  EXPECT_EQ(next.body, page);
  EXPECT_EQ(c.connections_opened(), 1u);
}

/// Raw bytes served the same to session::get and event_client::get (one connection each).
void expect_same_on_raw_bytes(const std::string& reply, const std::string& what, options o = quick()) {
  raw_server srv(reply);
  ASSERT_GT(srv.port(), 0);
  session ses(o);
  event_client c(o);
  const response want = ses.get(loopback_url(srv.port()));
  const response got = fetch_one(c, loopback_url(srv.port()));
  expect_same_response(want, got, what);
}

TEST(event_client, differential_rfc9112_7_1_1_chunk_extensions_on_raw_bytes_match_session_get) {
  expect_same_on_raw_bytes(
      "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n1A ; quoted=\"a;b\"\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n",
      "chunk extensions");
}

TEST(event_client, differential_rfc9112_6_3_close_delimited_body_on_raw_bytes_matches_session_get) {
  expect_same_on_raw_bytes("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n" + page,
                           "HTTP/1.1 until close");
  expect_same_on_raw_bytes("HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + page, "HTTP/1.0 until close");
}

TEST(event_client, differential_rfc9110_15_2_1_100_continue_before_the_response_matches_session_get) {
  expect_same_on_raw_bytes(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nok",
      "100 Continue");
}

TEST(event_client, differential_truncated_content_length_body_matches_session_get) {
  expect_same_on_raw_bytes("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n" + page,
                           "Content-Length larger than the body");
}

TEST(event_client, header_cap_exceeded_is_network_error_response_headers_exceed_n_bytes) {
  options o = quick();
  o.max_header_bytes = 4096;
  std::string fields;
  for (int i = 0; fields.size() < 20'000; ++i) fields += "X-H" + std::to_string(i) + ": " + std::string(30, 'h') + "\r\n";
  raw_server srv("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n" + fields + "Content-Length: 2\r\n\r\nok");
  ASSERT_GT(srv.port(), 0);
  event_client c(o);
  const response got = fetch_one(c, loopback_url(srv.port()));
  EXPECT_EQ(got.error, fetch_error::network) << got.error_message;
  EXPECT_EQ(got.error_message, "response headers exceed 4096 bytes");
  EXPECT_EQ(got.status, 0);
  EXPECT_TRUE(got.body.empty());

  // A head just under the cap is fine.
  o.max_header_bytes = 64u << 10;
  event_client roomy(o);
  const response fine = fetch_one(roomy, loopback_url(srv.port()));
  EXPECT_EQ(fine.error, fetch_error::none) << fine.error_message;
  EXPECT_EQ(fine.body, "ok");
}

/// One hostile endpoint fetched by session::get and by event_client::get with the same options.
struct hostile_case {
  std::string url;
  std::string what;
  bool same_message = false;  ///< error messages must match too (deterministic ones)
  bool same_body = true;
};

TEST(event_client, differential_hostile_endpoints_give_the_same_outcome_as_session_get) {
  testsite::hostile_options ho;
  ho.address = "127.0.0.73";
  ho.silent_address = "127.0.0.74";
  ho.refused_address = "127.0.0.75";
  auto srv = testsite::hostile_server::start(ho);
  ASSERT_TRUE(srv.ok()) << srv.message();
  const std::string origin = (*srv)->origin();
  options o = quick();
  o.read_timeout = 500ms;  // the silent host
  o.total_timeout = 5s;
  o.max_body_bytes = 1u << 20;
  o.max_header_bytes = 64u << 10;
  const std::vector<hostile_case> cases = {
      {origin + "/endless-headers", "endless headers", true, true},
      {origin + "/long-header", "a 1 MiB header line", false, true},
      {origin + "/endless-body", "endless body past max_body_bytes", true, true},
      {origin + "/gzip-bomb", "gzip bomb", true, true},
      {origin + "/brotli-bomb", "brotli bomb", true, true},
      {origin + "/reset", "reset mid-body", false, false},
      {origin + "/bad-chunked", "bad chunk size", false, false},
      {origin + "/length-larger", "closed before Content-Length", false, false},
      {origin + "/length-smaller", "more bytes than Content-Length", true, true},
      {origin + "/loop/a", "302", true, true},
      {origin + "/binary", "1 MiB of binary as text/html", true, true},
      {(*srv)->silent_origin() + "/", "never accepted: read timeout", false, true},
      {(*srv)->refused_origin() + "/", "connection refused", false, true},
  };
  for (const auto& k : cases) {
    const parse::url u = url_of(k.url);
    session ses(o);
    event_client c(o);
    const response want = ses.get(u);
    const response got = fetch_one(c, u);
    EXPECT_EQ(got.error, want.error) << k.what << ": event_client '" << got.error_message << "', session '"
                                     << want.error_message << "'";
    EXPECT_EQ(got.status, want.status) << k.what;
    if (k.same_message) {
      EXPECT_EQ(got.error_message.substr(0, want.error_message.size()), want.error_message) << k.what;
    }
    if (k.same_body) {
      EXPECT_EQ(got.body.size(), want.body.size()) << k.what;
      EXPECT_TRUE(got.body == want.body) << k.what << ": bodies differ";
    }
    EXPECT_LT(got.elapsed, std::chrono::microseconds(5s)) << k.what;
  }
}

TEST(event_client, differential_request_header_fields_are_the_ones_session_get_sends) {
  std::mutex mu;
  std::map<std::string, httplib::Headers> seen;  // by path
  test_server srv([&](httplib::Server& s) {
    s.Get(R"(/.*)", [&](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu);
      seen[req.path] = req.headers;
      res.set_content(page, "text/html");
    });
  });
  options o = quick();
  o.user_agent = "crawld-test/1.0 (+https://example.org/bot)";
  o.headers = {{"X-Extra", "yes"}, {"Accept-Language", "en"}, {"X-Replaced", "job"}};
  o.for_host = [](const std::string&) {
    host_settings hs;
    hs.headers = {{"X-Host-Rule", "1"}, {"X-Replaced", "host"}};
    return hs;
  };
  o.cookies = std::make_shared<cookie_jar>(/*allow_ip_hosts=*/true);
  ASSERT_TRUE(o.cookies->seed(srv.url("/"), "seeded=1; Path=/"));
  session ses(o);
  event_client c(o);
  ASSERT_EQ(ses.get(srv.url("/by-session?q=1")).status, 200);
  const response got = fetch_one(c, srv.url("/by-event-client?q=1"));
  ASSERT_EQ(got.status, 200) << got.error_message;

  std::lock_guard<std::mutex> lock(mu);
  const auto strip = [](httplib::Headers h) {  // cpp-httplib's own entries, not sent fields
    for (const char* k : {"REMOTE_ADDR", "REMOTE_PORT", "LOCAL_ADDR", "LOCAL_PORT"}) h.erase(k);
    return h;
  };
  const httplib::Headers want = strip(seen["/by-session"]);
  const httplib::Headers sent = strip(seen["/by-event-client"]);
  auto value = [&](const std::string& k) {
    auto it = sent.find(k);
    return it == sent.end() ? std::string("<absent>") : it->second;
  };
  EXPECT_EQ(value("User-Agent"), o.user_agent);
  EXPECT_EQ(sent.count("User-Agent"), 1u);
  EXPECT_EQ(value("Accept-Encoding"), "gzip, deflate, br");
  EXPECT_EQ(value("X-Extra"), "yes");
  EXPECT_EQ(value("Accept-Language"), "en");
  EXPECT_EQ(value("X-Host-Rule"), "1");
  EXPECT_EQ(value("X-Replaced"), "host");
  EXPECT_EQ(sent.count("X-Replaced"), 1u);
  EXPECT_EQ(value("Cookie"), "seeded=1");
  EXPECT_EQ(value("Host"), "127.0.0.1:" + std::to_string(srv.port()));
  const std::multimap<std::string, std::string> sent_fields(sent.begin(), sent.end());
  const std::multimap<std::string, std::string> want_fields(want.begin(), want.end());
  EXPECT_EQ(sent_fields, want_fields) << "the event client's request fields differ from the session's";
}

// --- keep-alive and concurrency ---------------------------------------------------------------

TEST(event_client, rfc9112_9_3_twenty_sequential_gets_to_one_host_use_one_connection) {
  test_server srv([](httplib::Server& s) {
    s.set_keep_alive_max_count(1000);  // default: the server closes after 5 requests
    s.Get("/p", [](const httplib::Request&, httplib::Response& res) { res.set_content(page, "text/html"); });
  });
  event_client c(quick());
  for (int i = 0; i < 20; ++i) {
    const response r = fetch_one(c, srv.url("/p"));
    ASSERT_EQ(r.status, 200) << "request " << i << ": " << r.error_message;
    ASSERT_EQ(r.body, page) << "request " << i;
  }
  EXPECT_EQ(c.connections_opened(), 1u);
  EXPECT_EQ(srv.connections(), 1u);
  EXPECT_EQ(srv.requests(), 20);
  EXPECT_TRUE(eventually([&] { return c.idle() == 1; })) << "idle() = " << c.idle();
}

/// `status_line` + `fields` + a Content-Length page: a response a server keeps the connection
/// open after (raw_server without close_after_reply), whatever its fields say.
std::string page_reply(const std::string& status_line, const std::string& fields) {
  return status_line + "\r\nContent-Type: text/html\r\n" + fields + "Content-Length: " + std::to_string(page.size()) +
         "\r\n\r\n" + page;
}

TEST(event_client, rfc9112_9_6_connection_close_in_a_response_is_honoured_and_the_next_get_reconnects) {
  // The server would answer further requests on the connection: only the field says not to.
  raw_server srv(page_reply("HTTP/1.1 200 OK", "Connection: close\r\n"), /*close_after_reply=*/false);
  ASSERT_GT(srv.port(), 0);
  event_client c(quick());
  for (int i = 0; i < 3; ++i) {
    const response r = fetch_one(c, loopback_url(srv.port()));
    ASSERT_EQ(r.status, 200) << "request " << i << ": " << r.error_message;
    EXPECT_EQ(r.body, page);
  }
  EXPECT_EQ(c.connections_opened(), 3u);
  EXPECT_EQ(srv.connections(), 3);
  EXPECT_EQ(srv.requests(), 3);
  EXPECT_EQ(c.idle(), 0u);
}

TEST(event_client, rfc9112_9_3_http_1_0_response_without_keep_alive_is_not_reused) {
  raw_server plain(page_reply("HTTP/1.0 200 OK", ""), /*close_after_reply=*/false);
  ASSERT_GT(plain.port(), 0);
  event_client c(quick());
  for (int i = 0; i < 2; ++i) ASSERT_EQ(fetch_one(c, loopback_url(plain.port())).status, 200) << i;
  EXPECT_EQ(plain.connections(), 2);
  EXPECT_EQ(c.connections_opened(), 2u);

  // With "Connection: keep-alive" the connection may be reused (session::get never reuses an
  // HTTP/1.0 one): either way every request is answered, once.
  raw_server keep(page_reply("HTTP/1.0 200 OK", "Connection: keep-alive\r\n"), /*close_after_reply=*/false);
  ASSERT_GT(keep.port(), 0);
  event_client k(quick());
  for (int i = 0; i < 3; ++i) {
    const response r = fetch_one(k, loopback_url(keep.port()));
    ASSERT_EQ(r.status, 200) << i << ": " << r.error_message;
    EXPECT_EQ(r.body, page) << i;
  }
  EXPECT_EQ(keep.requests(), 3);
  EXPECT_EQ(static_cast<std::size_t>(keep.connections()), k.connections_opened());
}

TEST(event_client, eight_concurrent_gets_all_complete_on_the_clients_thread) {
  test_server srv([](httplib::Server& s) {
    s.Get("/slow", [](const httplib::Request& req, httplib::Response& res) {
      std::this_thread::sleep_for(300ms);
      res.set_content(page + "<!--" + req.get_param_value("n") + "-->", "text/html");
    });
  });
  event_client c(quick());
  inbox box;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 8; ++i) {
    const parse::url u = srv.url("/slow?n=" + std::to_string(i));
    const auto address = c.route(u);
    ASSERT_TRUE(address.has_value());
    c.get(u, *address, box.callback());
  }
  ASSERT_TRUE(box.wait_for(8, 10s)) << box.count() << " of 8 callbacks";
  const auto took = std::chrono::steady_clock::now() - t0;
  std::set<std::string> bodies;
  for (std::size_t i = 0; i < 8; ++i) {
    const response r = box.at(i);
    EXPECT_EQ(r.status, 200) << r.error_message;
    bodies.insert(r.body);
  }
  EXPECT_EQ(bodies.size(), 8u) << "each request got its own answer";
  EXPECT_EQ(srv.requests(), 8);
  EXPECT_LE(c.connections_opened(), 8u);
  EXPECT_LT(took, 1500ms) << "8 requests of 300 ms took as long as one after another";
  const auto threads = box.threads();
  EXPECT_EQ(threads.size(), 1u) << "callbacks ran on more than one thread";
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u) << "a callback ran on the caller's thread";
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(box.count(), 8u) << "a callback was called more than once";
}

TEST(event_client, idle_connections_beyond_pool_limits_are_closed) {
  test_server srv([](httplib::Server& s) {
    s.set_keep_alive_max_count(1000);
    s.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(200ms);
      res.set_content(page, "text/html");
    });
  });
  pool_limits limits;
  limits.max_idle_per_host = 1;
  limits.max_idle_total = 1;
  event_client c(quick(), limits);
  inbox box;
  for (int i = 0; i < 4; ++i) c.get(srv.url("/slow"), "127.0.0.1", box.callback());
  ASSERT_TRUE(box.wait_for(4, 10s)) << box.count() << " of 4 callbacks";
  EXPECT_TRUE(eventually([&] { return c.idle() == 1; })) << "idle() = " << c.idle();
  const std::size_t opened = c.connections_opened();
  EXPECT_GE(opened, 2u) << "the 4 requests did not run concurrently; the test proves little";
  const response again = fetch_one(c, srv.url("/slow"));
  EXPECT_EQ(again.status, 200) << again.error_message;
  EXPECT_EQ(c.connections_opened(), opened) << "the one idle connection was not reused";
}

TEST(event_client, idle_connection_past_idle_timeout_is_closed) {
  test_server srv([](httplib::Server& s) {
    s.Get("/p", [](const httplib::Request&, httplib::Response& res) { res.set_content(page, "text/html"); });
  });
  pool_limits limits;
  limits.idle_timeout = 200ms;
  event_client c(quick(), limits);
  ASSERT_EQ(fetch_one(c, srv.url("/p")).status, 200);
  EXPECT_TRUE(eventually([&] { return c.idle() == 1; }, 100ms)) << "idle() = " << c.idle();
  EXPECT_TRUE(eventually([&] { return c.idle() == 0; }, 2s)) << "idle() = " << c.idle();
  ASSERT_EQ(fetch_one(c, srv.url("/p")).status, 200);
  EXPECT_EQ(c.connections_opened(), 2u);
  EXPECT_EQ(srv.connections(), 2u);
}

TEST(event_client, get_called_from_a_callback_completes) {
  test_server srv([](httplib::Server& s) {
    s.Get("/p", [](const httplib::Request&, httplib::Response& res) { res.set_content(page, "text/html"); });
  });
  event_client c(quick());
  inbox box;
  const parse::url u = srv.url("/p");
  const auto second = box.callback();
  c.get(u, "127.0.0.1", [&c, u, second](response r) {
    second(std::move(r));
    c.get(u, "127.0.0.1", second);  // as a redirect follower would
  });
  ASSERT_TRUE(box.wait_for(2, 10s)) << box.count() << " of 2 callbacks";
  EXPECT_EQ(box.at(0).status, 200);
  EXPECT_EQ(box.at(1).status, 200);
}

// --- cookies ----------------------------------------------------------------------------------

TEST(event_client, rfc6265_set_cookie_is_stored_in_the_jar_and_sent_back_on_the_next_request) {
  std::mutex mu;
  std::map<std::string, std::string> cookie_by_path;
  test_server srv([&](httplib::Server& s) {
    s.Get(R"(/.*)", [&](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard<std::mutex> lock(mu);
        cookie_by_path[req.path] = req.has_header("Cookie") ? req.get_header_value("Cookie") : "<absent>";
      }
      if (req.path == "/login") {
        res.set_header("Set-Cookie", "sid=abc123; Path=/; HttpOnly");
        res.set_header("Set-Cookie", "pref=dark; Max-Age=3600");
      }
      res.set_content(page, "text/html");
    });
  });
  options o = quick();
  o.cookies = std::make_shared<cookie_jar>(/*allow_ip_hosts=*/true);
  event_client c(o);
  ASSERT_EQ(fetch_one(c, srv.url("/login")).status, 200);
  EXPECT_EQ(o.cookies->size(), 2u);
  EXPECT_EQ(o.cookies->header_for(srv.url("/account/page")), "sid=abc123; pref=dark");
  ASSERT_EQ(fetch_one(c, srv.url("/account/page")).status, 200);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(cookie_by_path["/login"], "<absent>");
  EXPECT_EQ(cookie_by_path["/account/page"], "sid=abc123; pref=dark");
}

TEST(event_client, named_host_through_a_resolve_override_gets_host_field_and_its_cookie) {
  std::mutex mu;
  std::map<std::string, httplib::Headers> seen;
  test_server srv(
      [&](httplib::Server& s) {
        s.Get(R"(/.*)", [&](const httplib::Request& req, httplib::Response& res) {
          {
            std::lock_guard<std::mutex> lock(mu);
            seen[req.path] = req.headers;
          }
          if (req.path == "/login") res.set_header("Set-Cookie", "sid=named; Path=/");
          res.set_content(page, "text/html");
        });
      },
      std::make_unique<httplib::Server>(), "127.0.0.71");
  options o = quick();
  o.cookies = std::make_shared<cookie_jar>();  // strict: a named host's cookies are accepted
  o.dns = std::make_shared<resolver>(std::vector<resolve_override>{{"site-e.test", srv.port(), "127.0.0.71"}});
  event_client c(o);
  const auto base = "http://site-e.test:" + std::to_string(srv.port());
  EXPECT_EQ(c.route(url_of(base + "/login")), std::optional<std::string>("127.0.0.71"));
  ASSERT_EQ(fetch_one(c, url_of(base + "/login")).status, 200);
  ASSERT_EQ(fetch_one(c, url_of(base + "/next")).status, 200);
  EXPECT_EQ(o.dns->lookups(), 0u);
  std::lock_guard<std::mutex> lock(mu);
  const auto field = [&](const std::string& path, const std::string& name) {
    const auto& h = seen[path];
    const auto it = h.find(name);
    return it == h.end() ? std::string("<absent>") : it->second;
  };
  EXPECT_EQ(field("/login", "Cookie"), "<absent>");
  EXPECT_EQ(field("/next", "Cookie"), "sid=named");
  EXPECT_EQ(field("/login", "Host"), "site-e.test:" + std::to_string(srv.port()));
}

// --- caps and errors --------------------------------------------------------------------------

TEST(event_client, max_body_bytes_cut_is_too_large_with_the_first_bytes) {
  const std::string text = repeated_text(50'000);
  test_server srv([&](httplib::Server& s) {
    s.Get("/t", [&](const httplib::Request&, httplib::Response& res) { res.set_content(text, html_uncompressed_by_server); });
  });
  options o = quick();
  o.max_body_bytes = 10'000;
  event_client c(o);
  const response cut = fetch_one(c, srv.url("/t"));
  EXPECT_EQ(cut.error, fetch_error::too_large) << cut.error_message;
  EXPECT_EQ(cut.status, 200);
  EXPECT_EQ(cut.body, text.substr(0, 10'000));
  session ses(o);
  expect_same_response(ses.get(srv.url("/t")), cut, "/t cut", /*same_wire_bytes=*/false);

  o.max_body_bytes = text.size();
  event_client exact(o);
  const response whole = fetch_one(exact, srv.url("/t"));
  EXPECT_EQ(whole.error, fetch_error::none) << whole.error_message;
  EXPECT_EQ(whole.body, text);
}

TEST(event_client, decoded_gzip_body_past_max_body_bytes_is_too_large_like_session_get) {
  const std::string bomb = testing::gzip_zeros(100u << 20);  // ~100 KB on the wire
  test_server srv([&](httplib::Server& s) { serve_encoded(s, "/bomb", bomb, "gzip"); });
  options o = quick();
  o.max_body_bytes = 1u << 20;
  event_client c(o);
  const response r = fetch_one(c, srv.url("/bomb"));
  EXPECT_EQ(r.error, fetch_error::too_large) << r.error_message;
  EXPECT_EQ(r.body.size(), o.max_body_bytes);
  EXPECT_EQ(r.body.find_first_not_of('\0'), std::string::npos);
  EXPECT_LT(r.wire_bytes, bomb.size());
  session ses(o);
  expect_same_response(ses.get(srv.url("/bomb")), r, "/bomb", /*same_wire_bytes=*/false);
}

TEST(event_client, corrupt_content_encoding_is_bad_encoding_like_session_get) {
  test_server srv([&](httplib::Server& s) {
    s.set_keep_alive_max_count(1000);
    serve_encoded(s, "/bad", "\x1f\x8b definitely not a gzip stream", "gzip");
    serve_encoded(s, "/zstd", "whatever", "zstd");
  });
  session ses(quick());
  event_client c(quick());
  for (const std::string path : {"/bad", "/zstd"}) {
    const response r = fetch_one(c, srv.url(path));
    EXPECT_EQ(r.error, fetch_error::bad_encoding) << path << ": " << r.error_message;
    expect_same_response(ses.get(srv.url(path)), r, path, /*same_wire_bytes=*/false);
  }
}

TEST(event_client, read_timeout_on_a_handler_that_sleeps_is_timeout) {
  test_server srv([](httplib::Server& s) {
    s.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(1s);
      res.set_content(page, "text/html");
    });
  });
  options o = quick();
  o.read_timeout = 300ms;
  event_client c(o);
  const response r = fetch_one(c, srv.url("/slow"), 5s);
  EXPECT_EQ(r.error, fetch_error::timeout) << r.error_message;
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.error_message.empty());
  EXPECT_GE(r.elapsed, std::chrono::microseconds(280ms));
  EXPECT_LT(r.elapsed, std::chrono::microseconds(900ms));
}

TEST(event_client, total_timeout_cuts_a_slow_body) {
  test_server srv([](httplib::Server& s) {
    s.Get("/drip", [](const httplib::Request&, httplib::Response& res) {
      auto sent = std::make_shared<int>(0);
      res.set_chunked_content_provider(html_uncompressed_by_server, [sent](std::size_t, httplib::DataSink& sink) {
        if (++*sent > 40) {  // 40 chunks of 50 ms: 2 s if nobody stops it
          sink.done();
          return true;
        }
        std::this_thread::sleep_for(50ms);
        const std::string chunk = "<p>chunk</p>\n";
        return sink.write(chunk.data(), chunk.size());
      });
    });
  });
  options o = quick();
  o.read_timeout = 1s;
  o.total_timeout = 300ms;
  event_client c(o);
  const response r = fetch_one(c, srv.url("/drip"), 5s);
  EXPECT_EQ(r.error, fetch_error::timeout) << r.error_message;
  EXPECT_FALSE(r.body.empty());
  EXPECT_LT(r.elapsed, std::chrono::microseconds(900ms));
}

TEST(event_client, connection_refused_is_connect_error) {
  const int port = closed_port();
  ASSERT_GT(port, 0);
  event_client c(quick());
  inbox box;
  c.get(loopback_url(port), "127.0.0.1", box.callback());
  ASSERT_TRUE(box.wait_for(1, 5s));
  const response r = box.at(0);
  EXPECT_EQ(r.error, fetch_error::connect) << r.error_message;
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error_message.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << r.error_message;
  EXPECT_LT(r.elapsed, std::chrono::microseconds(2s));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(box.count(), 1u) << "the callback was called more than once";
}

TEST(event_client, fresh_connection_closed_without_a_response_is_network_error_without_retry) {
  raw_server srv("never sent", /*close_after_reply=*/false, /*first_connection_answers=*/0);
  ASSERT_GT(srv.port(), 0);
  event_client c(quick());
  const response r = fetch_one(c, loopback_url(srv.port()));
  EXPECT_EQ(r.error, fetch_error::network) << r.error_message;
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(srv.connections(), 1);
  EXPECT_EQ(srv.requests(), 1);
  EXPECT_EQ(c.connections_opened(), 1u);
}

// --- route() ----------------------------------------------------------------------------------

TEST(event_client, route_serves_plain_http_to_a_known_address_and_declines_the_rest) {
  event_client c(quick());
  EXPECT_EQ(c.route(url_of("http://127.0.0.1:8080/")), std::optional<std::string>("127.0.0.1"));
  EXPECT_EQ(c.route(url_of("http://127.0.0.1/a?b")), std::optional<std::string>("127.0.0.1"));
  EXPECT_EQ(c.route(url_of("https://127.0.0.1:8443/")), std::nullopt);
  EXPECT_EQ(c.route(url_of("ftp://127.0.0.1/")), std::nullopt);
  // Without a resolver only IP literals: a host name needs getaddrinfo.
  EXPECT_EQ(c.route(url_of("http://localhost:8080/")), std::nullopt);
  EXPECT_EQ(c.route(url_of("http://example.test/")), std::nullopt);
}

TEST(event_client, route_declines_when_a_proxy_applies) {
  options o = quick();
  o.proxy = "http://127.0.0.1:3128";
  event_client c(o);
  EXPECT_EQ(c.route(url_of("http://127.0.0.1:8080/")), std::nullopt);

  // The host's rule says "direct": no proxy for it, so the client serves it.
  options direct = o;
  direct.for_host = [](const std::string& host) {
    host_settings hs;
    if (host == "127.0.0.1") hs.proxy = "direct";
    return hs;
  };
  event_client d(direct);
  EXPECT_EQ(d.route(url_of("http://127.0.0.1:8080/")), std::optional<std::string>("127.0.0.1"));
  EXPECT_EQ(d.route(url_of("http://127.0.0.2:8080/")), std::nullopt);

  // No job proxy, but a host's rule gives one.
  options ruled = quick();
  ruled.for_host = [](const std::string& host) {
    host_settings hs;
    if (host == "127.0.0.2") hs.proxy = "http://127.0.0.1:3128";
    return hs;
  };
  event_client r(ruled);
  EXPECT_EQ(r.route(url_of("http://127.0.0.1:8080/")), std::optional<std::string>("127.0.0.1"));
  EXPECT_EQ(r.route(url_of("http://127.0.0.2:8080/")), std::nullopt);
}

TEST(event_client, route_declines_with_capture_raw) {
  options o = quick();
  o.capture_raw = true;
  event_client c(o);
  EXPECT_EQ(c.route(url_of("http://127.0.0.1:8080/")), std::nullopt);
}

TEST(event_client, route_uses_the_resolver_without_a_lookup) {
  options o = quick();
  o.dns = std::make_shared<resolver>(std::vector<resolve_override>{{"site-e.test", 8080, "127.0.0.72"}});
  event_client c(o);
  EXPECT_EQ(c.route(url_of("http://site-e.test:8080/")), std::optional<std::string>("127.0.0.72"));
  EXPECT_EQ(c.route(url_of("http://site-e.test:8081/")), std::nullopt) << "the override is for port 8080 only";
  EXPECT_EQ(c.route(url_of("http://not-cached.test/")), std::nullopt);
  EXPECT_EQ(c.route(url_of("http://127.0.0.1:8080/")), std::optional<std::string>("127.0.0.1"));
  EXPECT_EQ(o.dns->lookups(), 0u) << "route() asked getaddrinfo";

  // A live cache entry (localhost resolves from the hosts file).
  const auto resolved = o.dns->resolve("localhost", 8080);
  if (!resolved) GTEST_SKIP() << "localhost does not resolve here: " << resolved.message();
  EXPECT_EQ(c.route(url_of("http://localhost:8080/")), std::optional<std::string>(*resolved));
}

TEST(event_client, route_gives_an_ipv6_literal_without_brackets) {
  event_client c(quick());
  EXPECT_EQ(c.route(url_of("http://[::1]:8080/")), std::optional<std::string>("::1"));
}

// --- stale kept-alive connections -------------------------------------------------------------

TEST(event_client, idle_connection_closed_by_the_server_is_replaced_transparently) {
  test_server srv([](httplib::Server& s) {
    s.set_keep_alive_timeout(1);
    s.Get("/p", [](const httplib::Request&, httplib::Response& res) { res.set_content(page, "text/html"); });
  });
  event_client c(quick());
  ASSERT_EQ(fetch_one(c, srv.url("/p")).status, 200);
  std::this_thread::sleep_for(1500ms);  // the server drops the idle connection after 1 s
  const response r = fetch_one(c, srv.url("/p"));
  EXPECT_EQ(r.error, fetch_error::none) << r.error_message;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, page);
  EXPECT_EQ(srv.connections(), 2u);
  EXPECT_EQ(c.connections_opened(), 2u);
}

TEST(event_client, reused_connection_dropped_before_any_response_byte_is_retried_once_on_a_fresh_one) {
  const std::string reply = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: " +
                            std::to_string(page.size()) + "\r\n\r\n" + page;
  raw_server srv(reply, /*close_after_reply=*/false, /*first_connection_answers=*/1);
  ASSERT_GT(srv.port(), 0);
  event_client c(quick());
  ASSERT_EQ(fetch_one(c, loopback_url(srv.port())).status, 200);
  const response r = fetch_one(c, loopback_url(srv.port()));
  EXPECT_EQ(r.error, fetch_error::none) << r.error_message;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, page);
  EXPECT_EQ(srv.connections(), 2);
  EXPECT_EQ(srv.requests(), 3);
  EXPECT_EQ(c.connections_opened(), 2u);
}

// --- destruction ------------------------------------------------------------------------------

TEST(event_client, destroying_the_client_completes_a_request_in_flight_with_network_error_promptly) {
  test_server srv([](httplib::Server& s) {
    s.Get("/sleep", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(2s);
      res.set_content(page, "text/html");
    });
  });
  inbox box;
  auto c = std::make_unique<event_client>(quick());
  c->get(srv.url("/sleep"), "127.0.0.1", box.callback());
  for (int i = 0; i < 200 && srv.requests() == 0; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(srv.requests(), 1) << "the request never reached the server";
  const auto t0 = std::chrono::steady_clock::now();
  c.reset();
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, 500ms) << "the destructor waited for the response";
  ASSERT_EQ(box.count(), 1u) << "the callback was not called before the destructor returned";
  const response r = box.at(0);
  EXPECT_EQ(r.error, fetch_error::network) << r.error_message;
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error_message.find("client stopped"), std::string::npos) << r.error_message;
}

TEST(event_client, destroying_an_idle_client_with_kept_alive_connections_is_prompt) {
  test_server srv([](httplib::Server& s) {
    s.Get("/p", [](const httplib::Request&, httplib::Response& res) { res.set_content(page, "text/html"); });
  });
  auto c = std::make_unique<event_client>(quick());
  ASSERT_EQ(fetch_one(*c, srv.url("/p")).status, 200);
  EXPECT_TRUE(eventually([&] { return c->idle() == 1; })) << "idle() = " << c->idle();
  const auto t0 = std::chrono::steady_clock::now();
  c.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
}

TEST(event_client, destroyed_from_its_own_callback_ends_its_thread_cleanly) {
  // The last owner may let go inside a callback (a fetcher actor dying there): the destructor
  // runs on the client's own thread, which must neither join itself nor touch freed state.
  test_server srv([](httplib::Server& s) {
    s.Get("/p", [](const httplib::Request&, httplib::Response& res) { res.set_content(page, "text/html"); });
    s.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(300ms);
      res.set_content(page, "text/html");
    });
  });
  auto c = std::make_unique<event_client>(quick());
  inbox second;
  std::promise<int> first;
  auto first_done = first.get_future();
  // A second request still in flight when the client goes: it must be completed as stopped.
  c->get(srv.url("/slow"), "127.0.0.1", second.callback());
  c->get(srv.url("/p"), "127.0.0.1", [&c, &first](response r) {
    c.reset();
    first.set_value(r.status);
  });
  ASSERT_EQ(first_done.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(first_done.get(), 200);
  ASSERT_TRUE(second.wait_for(1, 2s)) << "the request in flight was never completed";
  EXPECT_EQ(second.at(0).error, fetch_error::network) << second.at(0).error_message;
}

}  // namespace
}  // namespace crawld::fetch
