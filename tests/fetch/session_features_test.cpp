// The HTTP session against real servers on loopback: headers, cookies, --resolve and DNS errors,
// TLS with a CA the test makes with the openssl CLI, and a real tinyproxy with basic auth.
// Addresses 127.0.0.61-69 are this file's.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "../temp_dir.hpp"
#include "fetch/outcome.hpp"
#include "fetch/session.hpp"
#include "helpers.hpp"

namespace crawld::fetch {
namespace {

using namespace std::chrono_literals;
using testing::test_server;

options quick() {
  options o;
  o.connect_timeout = 2s;
  o.read_timeout = 3s;
  o.total_timeout = 5s;
  return o;
}

/// Records the request headers the server saw, by path.
struct seen_headers {
  std::mutex mu;
  std::map<std::string, httplib::Headers> by_path;
  void record(const httplib::Request& req) {
    std::lock_guard<std::mutex> lock(mu);
    by_path[req.path] = req.headers;
  }
  std::string get(const std::string& path, const std::string& name) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = by_path.find(path);
    if (it == by_path.end()) return "<no request>";
    auto h = it->second.find(name);
    return h == it->second.end() ? "<absent>" : h->second;
  }
};

void echo_routes(httplib::Server& s, seen_headers& seen) {
  s.Get(R"(/.*)", [&seen](const httplib::Request& req, httplib::Response& res) {
    seen.record(req);
    if (req.path == "/login") {
      res.set_header("Set-Cookie", "sid=abc123; Path=/; HttpOnly");
      res.set_header("Set-Cookie", "pref=dark; Max-Age=3600");
    }
    res.set_content("<html><body>ok</body></html>", "text/html");
  });
}

TEST(session_headers, user_agent_job_headers_and_host_rule_headers_reach_the_server) {
  seen_headers seen;
  test_server srv([&](httplib::Server& s) { echo_routes(s, seen); }, std::make_unique<httplib::Server>(), "127.0.0.61");
  options o = quick();
  o.user_agent = "crawld/9.9 (+https://example.org/bot)";
  o.headers = {{"X-Job", "job"}, {"Accept-Language", "en"}};
  o.for_host = [](const std::string& host) {
    host_settings hs;
    if (host == "127.0.0.61") hs.headers = {{"Accept-Language", "fr"}, {"X-Rule", "rule"}};
    return hs;
  };
  session ses(o);
  auto r = ses.get(srv.url("/h"));
  ASSERT_EQ(r.error, fetch_error::none) << r.error_message;
  EXPECT_EQ(seen.get("/h", "User-Agent"), "crawld/9.9 (+https://example.org/bot)");
  EXPECT_EQ(seen.get("/h", "X-Job"), "job");
  EXPECT_EQ(seen.get("/h", "X-Rule"), "rule");
  EXPECT_EQ(seen.get("/h", "Accept-Language"), "fr");  // the rule's value replaces the job's
}

TEST(session_cookies, cookie_set_by_server_comes_back_when_unsafe_cookies_is_on) {
  seen_headers seen;
  test_server srv([&](httplib::Server& s) { echo_routes(s, seen); }, std::make_unique<httplib::Server>(), "127.0.0.61");
  options o = quick();
  o.cookies = std::make_shared<cookie_jar>(/*allow_ip_hosts=*/true);
  session ses(o);
  ASSERT_EQ(ses.get(srv.url("/login")).status, 200);
  EXPECT_EQ(seen.get("/login", "Cookie"), "<absent>");
  ASSERT_EQ(ses.get(srv.url("/account/page")).status, 200);
  EXPECT_EQ(seen.get("/account/page", "Cookie"), "sid=abc123; pref=dark");
  EXPECT_EQ(o.cookies->size(), 2u);
}

TEST(session_cookies, cookie_from_ip_address_host_is_refused_by_default) {
  seen_headers seen;
  test_server srv([&](httplib::Server& s) { echo_routes(s, seen); }, std::make_unique<httplib::Server>(), "127.0.0.61");
  options o = quick();
  o.cookies = std::make_shared<cookie_jar>();
  session ses(o);
  ASSERT_EQ(ses.get(srv.url("/login")).status, 200);
  ASSERT_EQ(ses.get(srv.url("/account/page")).status, 200);
  EXPECT_EQ(seen.get("/account/page", "Cookie"), "<absent>");
  EXPECT_EQ(o.cookies->size(), 0u);
}

TEST(session_cookies, named_host_via_resolve_gets_its_cookie_back_with_strict_jar) {
  seen_headers seen;
  test_server srv([&](httplib::Server& s) { echo_routes(s, seen); }, std::make_unique<httplib::Server>(), "127.0.0.62");
  options o = quick();
  o.cookies = std::make_shared<cookie_jar>();
  o.dns = std::make_shared<resolver>(std::vector<resolve_override>{{"site-a.test", srv.port(), "127.0.0.62"}});
  session ses(o);
  auto login = parse::parse_url("http://site-a.test:" + std::to_string(srv.port()) + "/login");
  auto next = parse::parse_url("http://site-a.test:" + std::to_string(srv.port()) + "/next");
  ASSERT_EQ(ses.get(*login).status, 200);
  ASSERT_EQ(ses.get(*next).status, 200);
  EXPECT_EQ(seen.get("/next", "Cookie"), "sid=abc123; pref=dark");
  EXPECT_EQ(seen.get("/next", "Host"), "site-a.test:" + std::to_string(srv.port()));
}

TEST(session_dns, resolve_override_maps_a_name_to_a_loopback_address) {
  seen_headers seen;
  test_server srv([&](httplib::Server& s) { echo_routes(s, seen); }, std::make_unique<httplib::Server>(), "127.0.0.63");
  auto ov = parse_resolve_override("site-b.test:" + std::to_string(srv.port()) + ":127.0.0.63");
  ASSERT_TRUE(ov) << ov.message();
  options o = quick();
  o.dns = std::make_shared<resolver>(std::vector<resolve_override>{*ov});
  session ses(o);
  auto r = ses.get(*parse::parse_url("http://site-b.test:" + std::to_string(srv.port()) + "/x"));
  ASSERT_EQ(r.error, fetch_error::none) << r.error_message;
  EXPECT_EQ(seen.get("/x", "Host"), "site-b.test:" + std::to_string(srv.port()));
  EXPECT_EQ(o.dns->lookups(), 0u);  // an override never asks getaddrinfo
}

TEST(session_dns, unresolvable_name_is_a_dns_error_and_the_failure_is_cached) {
  options o = quick();
  o.dns = std::make_shared<resolver>();
  session ses(o);
  auto u = *parse::parse_url("http://no-such-host.invalid/");
  auto r = ses.get(u);
  EXPECT_EQ(r.error, fetch_error::dns) << r.error_message;
  EXPECT_EQ(classify(r), outcome::dns_error);
  EXPECT_NE(r.error_message.find("no-such-host.invalid"), std::string::npos) << r.error_message;
  (void)ses.get(u);
  EXPECT_EQ(o.dns->lookups(), 1u);
}

TEST(session_dns, resolve_override_syntax_errors_are_clear) {
  for (const char* bad : {"", "host", "host:80", "host:x:127.0.0.1", "host:80:not-an-ip", "host:70000:127.0.0.1"}) {
    auto r = parse_resolve_override(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.message().find("HOST:PORT:ADDR"), std::string::npos) << r.message();
  }
  auto v6 = parse_resolve_override("[::1]:443:[::1]");
  ASSERT_TRUE(v6) << v6.message();
  EXPECT_EQ(v6->host, "[::1]");
  EXPECT_EQ(v6->address, "::1");
}

// ---- TLS -------------------------------------------------------------------------------------

/// A CA and a server certificate for site-a.test (and 127.0.0.64), made with the openssl CLI.
struct test_pki {
  test::temp_dir dir;
  bool ok = false;
  test_pki() {
    std::ofstream(dir / "ext.cnf") << "subjectAltName=DNS:site-a.test,IP:127.0.0.64\n";
    const std::string d = dir.path();
    const std::string cmd =
        "cd " + d + " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-keyout ca.key -out ca.pem -days 30 -subj '/CN=crawld test CA' >log 2>&1 && "
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout srv.key -out srv.csr "
        "-subj '/CN=site-a.test' >>log 2>&1 && "
        "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 30 "
        "-extfile ext.cnf >>log 2>&1";
    ok = std::system(cmd.c_str()) == 0;
  }
  std::string ca() const { return dir / "ca.pem"; }
  std::unique_ptr<httplib::Server> server() const {
    return std::make_unique<httplib::SSLServer>((dir / "srv.pem").c_str(), (dir / "srv.key").c_str());
  }
};

parse::url https_url(const std::string& host, int port, const std::string& path) {
  return *parse::parse_url("https://" + host + ":" + std::to_string(port) + path);
}

TEST(session_tls, certificate_from_the_configured_ca_file_is_trusted) {
  test_pki pki;
  ASSERT_TRUE(pki.ok) << "openssl failed";
  seen_headers seen;
  test_server srv([&](httplib::Server& s) { echo_routes(s, seen); }, pki.server(), "127.0.0.64");
  options o = quick();
  o.ca_file = pki.ca();
  o.dns = std::make_shared<resolver>(std::vector<resolve_override>{{"site-a.test", srv.port(), "127.0.0.64"}});
  session ses(o);
  auto r = ses.get(https_url("site-a.test", srv.port(), "/secure"));
  ASSERT_EQ(r.error, fetch_error::none) << r.error_message;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(seen.get("/secure", "Host"), "site-a.test:" + std::to_string(srv.port()));
}

TEST(session_tls, unknown_ca_is_a_tls_error_and_no_request_is_made) {
  test_pki pki;
  ASSERT_TRUE(pki.ok);
  seen_headers seen;
  test_server srv([&](httplib::Server& s) { echo_routes(s, seen); }, pki.server(), "127.0.0.64");
  options o = quick();  // system CA store only
  o.dns = std::make_shared<resolver>(std::vector<resolve_override>{{"site-a.test", srv.port(), "127.0.0.64"}});
  session ses(o);
  auto r = ses.get(https_url("site-a.test", srv.port(), "/secure"));
  EXPECT_EQ(r.error, fetch_error::tls) << r.error_message;
  EXPECT_EQ(classify(r), outcome::tls_error);
  EXPECT_EQ(srv.requests(), 0);
}

TEST(session_tls, host_name_not_in_the_certificate_is_a_tls_error) {
  test_pki pki;
  ASSERT_TRUE(pki.ok);
  seen_headers seen;
  test_server srv([&](httplib::Server& s) { echo_routes(s, seen); }, pki.server(), "127.0.0.64");
  options o = quick();
  o.ca_file = pki.ca();
  o.dns = std::make_shared<resolver>(std::vector<resolve_override>{{"site-b.test", srv.port(), "127.0.0.64"}});
  session ses(o);
  auto r = ses.get(https_url("site-b.test", srv.port(), "/secure"));
  EXPECT_EQ(r.error, fetch_error::tls) << r.error_message;
  EXPECT_EQ(srv.requests(), 0);
}

TEST(session_tls, insecure_skips_verification) {
  test_pki pki;
  ASSERT_TRUE(pki.ok);
  seen_headers seen;
  test_server srv([&](httplib::Server& s) { echo_routes(s, seen); }, pki.server(), "127.0.0.64");
  options o = quick();
  o.insecure = true;
  o.dns = std::make_shared<resolver>(std::vector<resolve_override>{{"site-b.test", srv.port(), "127.0.0.64"}});
  session ses(o);
  auto r = ses.get(https_url("site-b.test", srv.port(), "/secure"));
  EXPECT_EQ(r.error, fetch_error::none) << r.error_message;
  EXPECT_EQ(seen.get("/secure", "Host"), "site-b.test:" + std::to_string(srv.port()));
}

// ---- proxy (a real tinyproxy) ------------------------------------------------------------------

std::string tinyproxy_binary() {
  for (const char* p : {"/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"})
    if (::access(p, X_OK) == 0) return p;
  return {};
}

/// tinyproxy on 127.0.0.65 with BasicAuth alice:s3cret (plus `extra` config lines), run in the
/// foreground by the test.
class tinyproxy {
 public:
  explicit tinyproxy(const std::string& binary, const std::string& extra = "") {
    // A port from the pid keeps parallel test processes apart; retried on a clash.
    for (int attempt = 0; attempt < 5 && pid_ <= 0; ++attempt) {
      port_ = 20000 + static_cast<int>((::getpid() * 7 + attempt * 131) % 20000);
      std::ofstream(dir_ / "tinyproxy.conf") << "Port " << port_ << "\nListen 127.0.0.65\nTimeout 10\n"
                                             << "LogFile \"" << (dir_ / "tinyproxy.log") << "\"\nLogLevel Info\n"
                                             << "MaxClients 16\nBasicAuth alice s3cret\nAllow 127.0.0.0/8\n" << extra;
      pid_t pid = ::fork();
      if (pid == 0) {
        std::freopen((dir_ / "stdout").c_str(), "w", stdout);
        std::freopen((dir_ / "stderr").c_str(), "w", stderr);
        ::execl(binary.c_str(), binary.c_str(), "-d", "-c", (dir_ / "tinyproxy.conf").c_str(), nullptr);
        ::_exit(127);
      }
      // Wait (bounded) until it accepts connections.
      for (int i = 0; i < 100; ++i) {
        httplib::Client probe("127.0.0.65", port_);
        probe.set_connection_timeout(0, 100'000);
        if (probe.Get("/")) {
          pid_ = pid;
          break;
        }
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) break;  // exited: port taken? try another
        std::this_thread::sleep_for(50ms);
      }
      if (pid_ <= 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
    }
  }
  ~tinyproxy() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool running() const { return pid_ > 0; }
  std::string url(const std::string& user, const std::string& pass) const {
    return "http://" + user + ":" + pass + "@127.0.0.65:" + std::to_string(port_);
  }
  std::string log() const {
    std::ifstream in(dir_ / "tinyproxy.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  test::temp_dir dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

TEST(session_proxy, http_request_goes_through_tinyproxy_with_basic_auth) {
  const auto bin = tinyproxy_binary();
  if (bin.empty()) GTEST_SKIP() << "tinyproxy is not installed (deploy/install-deps.sh installs it)";
  tinyproxy proxy(bin);
  ASSERT_TRUE(proxy.running());
  seen_headers seen;
  test_server srv([&](httplib::Server& s) { echo_routes(s, seen); }, std::make_unique<httplib::Server>(), "127.0.0.66");
  options o = quick();
  o.proxy = proxy.url("alice", "s3cret");
  session ses(o);
  auto r = ses.get(srv.url("/via-proxy"));
  ASSERT_EQ(r.error, fetch_error::none) << r.error_message;
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(seen.get("/via-proxy", "Via").find("tinyproxy"), std::string::npos) << seen.get("/via-proxy", "Via");
  EXPECT_EQ(seen.get("/via-proxy", "Proxy-Authorization"), "<absent>");  // the proxy keeps it
  const auto log = proxy.log();
  EXPECT_NE(log.find("GET http://127.0.0.66:" + std::to_string(srv.port()) + "/via-proxy"), std::string::npos) << log;
}

TEST(session_proxy, wrong_credentials_are_a_proxy_auth_outcome_never_showing_the_password) {
  const auto bin = tinyproxy_binary();
  if (bin.empty()) GTEST_SKIP() << "tinyproxy is not installed (deploy/install-deps.sh installs it)";
  tinyproxy proxy(bin);
  ASSERT_TRUE(proxy.running());
  seen_headers seen;
  test_server srv([&](httplib::Server& s) { echo_routes(s, seen); }, std::make_unique<httplib::Server>(), "127.0.0.66");
  options o = quick();
  o.proxy = proxy.url("alice", "wrong-password");
  session ses(o);
  auto r = ses.get(srv.url("/denied"));
  EXPECT_EQ(r.error, fetch_error::proxy_auth) << r.error_message;
  EXPECT_EQ(classify(r), outcome::proxy_auth);
  EXPECT_EQ(srv.requests(), 0);
  EXPECT_EQ(r.error_message.find("wrong-password"), std::string::npos) << r.error_message;
  EXPECT_EQ(redact_proxy(o.proxy).find("wrong-password"), std::string::npos);
}

// https through the proxy: a CONNECT tunnel of our own (fetch/proxy_tunnel.hpp), TLS inside it.

TEST(session_proxy, https_goes_through_a_connect_tunnel_with_basic_auth_and_is_verified) {
  const auto bin = tinyproxy_binary();
  if (bin.empty()) GTEST_SKIP() << "tinyproxy is not installed (deploy/install-deps.sh installs it)";
  tinyproxy proxy(bin);
  ASSERT_TRUE(proxy.running());
  test_pki pki;
  ASSERT_TRUE(pki.ok);
  seen_headers seen;
  test_server srv([&](httplib::Server& s) { echo_routes(s, seen); }, pki.server(), "127.0.0.64");
  options o = quick();
  o.ca_file = pki.ca();
  o.proxy = proxy.url("alice", "s3cret");
  session ses(o);
  auto r = ses.get(https_url("127.0.0.64", srv.port(), "/tunnel"));
  ASSERT_EQ(r.error, fetch_error::none) << r.error_message;
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("ok"), std::string::npos);
  EXPECT_EQ(seen.get("/tunnel", "Host"), "127.0.0.64:" + std::to_string(srv.port()));
  EXPECT_EQ(seen.get("/tunnel", "Proxy-Authorization"), "<absent>");  // only the proxy sees it
  auto again = ses.get(https_url("127.0.0.64", srv.port(), "/again"));
  ASSERT_EQ(again.error, fetch_error::none) << again.error_message;
  EXPECT_EQ(srv.connections(), 1u) << "the kept-alive tunnel is reused";
  const auto log = proxy.log();
  EXPECT_NE(log.find("CONNECT 127.0.0.64:" + std::to_string(srv.port())), std::string::npos) << log;
  EXPECT_EQ(log.find("s3cret"), std::string::npos);
}

TEST(session_proxy, https_through_the_tunnel_with_an_unknown_ca_is_a_tls_error) {
  const auto bin = tinyproxy_binary();
  if (bin.empty()) GTEST_SKIP() << "tinyproxy is not installed (deploy/install-deps.sh installs it)";
  tinyproxy proxy(bin);
  ASSERT_TRUE(proxy.running());
  test_pki pki;
  ASSERT_TRUE(pki.ok);
  seen_headers seen;
  test_server srv([&](httplib::Server& s) { echo_routes(s, seen); }, pki.server(), "127.0.0.64");
  options o = quick();  // system CA store only
  o.proxy = proxy.url("alice", "s3cret");
  session ses(o);
  auto r = ses.get(https_url("127.0.0.64", srv.port(), "/tunnel"));
  EXPECT_EQ(r.error, fetch_error::tls) << r.error_message;
  EXPECT_EQ(classify(r), outcome::tls_error);
  EXPECT_EQ(srv.requests(), 0);
  EXPECT_NE(proxy.log().find("CONNECT 127.0.0.64:" + std::to_string(srv.port())), std::string::npos)
    << "the tunnel was open: the failure is the origin's certificate";
  EXPECT_EQ(r.error_message.find("s3cret"), std::string::npos) << r.error_message;
}

TEST(session_proxy, https_through_the_tunnel_checks_the_host_name) {
  const auto bin = tinyproxy_binary();
  if (bin.empty()) GTEST_SKIP() << "tinyproxy is not installed (deploy/install-deps.sh installs it)";
  tinyproxy proxy(bin);
  ASSERT_TRUE(proxy.running());
  test_pki pki;  // the certificate names site-a.test and 127.0.0.64, not 127.0.0.63
  ASSERT_TRUE(pki.ok);
  seen_headers seen;
  test_server srv([&](httplib::Server& s) { echo_routes(s, seen); }, pki.server(), "127.0.0.63");
  options o = quick();
  o.ca_file = pki.ca();
  o.proxy = proxy.url("alice", "s3cret");
  session ses(o);
  auto r = ses.get(https_url("127.0.0.63", srv.port(), "/tunnel"));
  EXPECT_EQ(r.error, fetch_error::tls) << r.error_message;
  EXPECT_EQ(srv.requests(), 0);
  o.insecure = true;
  session lax(o);
  auto ok = lax.get(https_url("127.0.0.63", srv.port(), "/insecure"));
  EXPECT_EQ(ok.error, fetch_error::none) << ok.error_message;
  EXPECT_EQ(ok.status, 200);
}

TEST(session_proxy, https_with_wrong_proxy_credentials_is_proxy_auth_never_showing_the_password) {
  const auto bin = tinyproxy_binary();
  if (bin.empty()) GTEST_SKIP() << "tinyproxy is not installed (deploy/install-deps.sh installs it)";
  tinyproxy proxy(bin);
  ASSERT_TRUE(proxy.running());
  test_pki pki;
  ASSERT_TRUE(pki.ok);
  seen_headers seen;
  test_server srv([&](httplib::Server& s) { echo_routes(s, seen); }, pki.server(), "127.0.0.64");
  options o = quick();
  o.ca_file = pki.ca();
  o.proxy = proxy.url("alice", "nope-wrong");
  session bad(o);
  auto denied = bad.get(https_url("127.0.0.64", srv.port(), "/tunnel"));
  EXPECT_EQ(denied.error, fetch_error::proxy_auth) << denied.error_message;
  EXPECT_EQ(classify(denied), outcome::proxy_auth);
  EXPECT_EQ(denied.status, 0);
  EXPECT_EQ(denied.error_message.find("nope-wrong"), std::string::npos) << denied.error_message;
  EXPECT_EQ(srv.requests(), 0);
  const auto with = proxy.url("alice", "s3cret");
  o.proxy = "http://" + with.substr(with.find('@') + 1);  // no credentials at all
  session none(o);
  EXPECT_EQ(none.get(https_url("127.0.0.64", srv.port(), "/tunnel")).error, fetch_error::proxy_auth);
}

TEST(session_proxy, connect_refused_by_the_proxy_is_a_clear_connect_error) {
  const auto bin = tinyproxy_binary();
  if (bin.empty()) GTEST_SKIP() << "tinyproxy is not installed (deploy/install-deps.sh installs it)";
  tinyproxy proxy(bin, "ConnectPort 443\n");  // CONNECT to any other port is refused
  ASSERT_TRUE(proxy.running());
  test_pki pki;
  ASSERT_TRUE(pki.ok);
  seen_headers seen;
  test_server srv([&](httplib::Server& s) { echo_routes(s, seen); }, pki.server(), "127.0.0.64");
  options o = quick();
  o.ca_file = pki.ca();
  o.proxy = proxy.url("alice", "s3cret");
  session ses(o);
  auto r = ses.get(https_url("127.0.0.64", srv.port(), "/tunnel"));
  EXPECT_EQ(r.error, fetch_error::connect) << r.error_message;
  EXPECT_NE(r.error_message.find("answered CONNECT 127.0.0.64:" + std::to_string(srv.port()) + " with 403"),
            std::string::npos)
    << r.error_message;
  EXPECT_EQ(srv.requests(), 0);
}

TEST(session_proxy, proxy_url_errors_redact_credentials) {
  EXPECT_EQ(redact_proxy("http://alice:s3cret@127.0.0.1:8080"), "http://***@127.0.0.1:8080");
  EXPECT_EQ(redact_proxy("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
  auto r = check_proxy("socks5://alice:s3cret@127.0.0.1:1080");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.message().find("s3cret"), std::string::npos) << r.message();
  EXPECT_TRUE(check_proxy("http://alice:s3cret@127.0.0.1:8080"));
}

}  // namespace
}  // namespace crawld::fetch

namespace crawld::fetch {
namespace {

TEST(session_decompression, gzip_bomb_is_cut_by_the_ratio_cap_with_a_small_body) {
  const std::string bomb = testing::gzip_zeros(64u << 20);  // 64 MiB of zeros in ~64 KiB
  test_server srv([&](httplib::Server& s) {
    s.Get("/bomb", [&](const httplib::Request&, httplib::Response& res) {
      res.set_header("Content-Encoding", "gzip");
      res.set_content(bomb, testing::html_uncompressed_by_server);
    });
  }, std::make_unique<httplib::Server>(), "127.0.0.68");
  options o = quick();
  o.max_body_bytes = 256u << 20;  // the size cap alone would let it through
  o.max_ratio = 100;
  session ses(o);
  auto r = ses.get(srv.url("/bomb"));
  EXPECT_EQ(r.error, fetch_error::too_large) << r.error_message;
  EXPECT_EQ(classify(r), outcome::too_large);
  EXPECT_NE(r.error_message.find("ratio"), std::string::npos) << r.error_message;
  // Memory stays flat: what was decoded is bounded by the ratio, not by the bomb.
  EXPECT_LE(r.body.size(), std::max<std::size_t>(1u << 20, r.wire_bytes * 100));
  EXPECT_LT(r.body.size(), 8u << 20);
  std::printf("bomb: %zu bytes on the wire, %zu decoded when cut (64 MiB inside)\n",
              static_cast<std::size_t>(r.wire_bytes), r.body.size());
}

TEST(session_decompression, ordinary_compressed_page_is_under_the_ratio_floor) {
  std::string page = "<html><body>";
  while (page.size() < (512u << 10)) page += "<p>same paragraph again</p>";
  page += "</body></html>";
  const std::string gz = testing::compress(page, 15 + 16);
  test_server srv([&](httplib::Server& s) {
    s.Get("/p", [&](const httplib::Request&, httplib::Response& res) {
      res.set_header("Content-Encoding", "gzip");
      res.set_content(gz, testing::html_uncompressed_by_server);
    });
  }, std::make_unique<httplib::Server>(), "127.0.0.68");
  options o = quick();
  o.max_ratio = 10;  // this page compresses far better than 10:1, but stays under the 1 MiB floor
  session ses(o);
  auto r = ses.get(srv.url("/p"));
  EXPECT_EQ(r.error, fetch_error::none) << r.error_message;
  EXPECT_EQ(r.body, page);
}

}  // namespace
}  // namespace crawld::fetch
