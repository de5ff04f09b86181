// Seed requests end to end, with the real crawld binary against an HTTP server in the test
// (cpp-httplib on 127.0.0.181-.186) that records the method, content type, headers and body of every
// request: job files' [[seed]] (form, JSON, raw), the crawl flags (--data, --json, -X), the links
// of a POST's answer crawled as GETs, RFC 9110 redirects of a POST, the WARC request record of a
// POST (crawld's own reader), the JSONL export, resume after kill -9 replaying the POST, and the
// daemon's JSON job with "seed" (a real `crawld serve` on 127.0.0.1:28791).
#include <gtest/gtest.h>
#include <httplib.h>

#include <sys/wait.h>

#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include "storage/store.hpp"
#include "tests/cli/process.hpp"
#include "tests/daemon/daemon_helpers.hpp"
#include "storage/warc.hpp"
#include "tests/temp_dir.hpp"

namespace crawld {
namespace {

using namespace std::chrono_literals;

struct seen_request {
  std::string method, path, content_type, body, token, cookie;
};

/// One host; every request recorded. /search and /api answer HTML linking /found and /search;
/// /r307 and /r303 redirect to /target; /slow blocks its first request until released.
class recording_site {
 public:
  explicit recording_site(const std::string& address) : address_(address) {
    auto record = [this](const httplib::Request& req) {
      std::lock_guard<std::mutex> g(m_);
      seen_.push_back({req.method, req.path, req.get_header_value("Content-Type"), req.body,
                       req.get_header_value("X-Token"), req.get_header_value("Cookie")});
    };
    auto handler = [this, record](const httplib::Request& req, httplib::Response& res) {
      record(req);
      if (req.path == "/robots.txt") {
        res.status = 404;
      } else if (req.path == "/r307") {
        res.status = 307;
        res.set_header("Location", "/target");
      } else if (req.path == "/login") {  // a session cookie for a good password only
        if (req.method == "POST" && req.body == "password=p+w&user=u")
          res.set_header("Set-Cookie", "sid=s3cret; Path=/");
        res.set_content("<html><a href=\"/private\">p</a></html>", "text/html");
      } else if (req.path == "/r303") {
        res.status = 303;
        res.set_header("Location", "/target");
      } else {
        if (req.path == "/slow") {
          std::unique_lock<std::mutex> l(m_);
          if (slow_calls_++ == 0) {
            slow_cv_.notify_all();
            slow_cv_.wait_for(l, 20s, [this] { return released_; });  // bounded
          }
        }
        res.set_content("<html><a href=\"/found\">f</a> <a href=\"/search\">s</a></html>", "text/html");
      }
    };
    srv_.Get(".*", handler);
    srv_.Post(".*", handler);
    srv_.Put(".*", handler);
    srv_.Patch(".*", handler);
    srv_.Delete(".*", handler);
    port_ = srv_.bind_to_any_port(address_);
    thread_ = std::thread([this] { srv_.listen_after_bind(); });
  }
  ~recording_site() {
    release();
    srv_.stop();
    thread_.join();
  }
  std::string origin() const { return "http://" + address_ + ":" + std::to_string(port_); }
  std::vector<seen_request> seen() const {
    std::lock_guard<std::mutex> g(m_);
    return seen_;
  }
  /// Requests (method, path) other than robots.txt, counted.
  std::map<std::pair<std::string, std::string>, int> counts() const {
    std::map<std::pair<std::string, std::string>, int> out;
    for (const auto& s : seen())
      if (s.path != "/robots.txt")
        ++out[{s.method, s.path}];
    return out;
  }
  /// Waits (at most `limit`) until /slow was requested once.
  bool wait_for_slow(std::chrono::milliseconds limit) {
    std::unique_lock<std::mutex> l(m_);
    return slow_cv_.wait_for(l, limit, [this] { return slow_calls_ > 0; });
  }
  void release() {
    std::lock_guard<std::mutex> g(m_);
    released_ = true;
    slow_cv_.notify_all();
  }

 private:
  std::string address_;
  int port_ = 0;
  httplib::Server srv_;
  std::thread thread_;
  mutable std::mutex m_;
  std::condition_variable slow_cv_;
  int slow_calls_ = 0;
  bool released_ = false;
  std::vector<seen_request> seen_;
};

/// webrecorder's warcio (npm, deploy/install-test-tools.sh) reading `file` through
/// tests/storage/warcio_check.mjs: its output and exit status; nullopt when it is not installed.
std::optional<std::pair<std::string, int>> warcio_check(const std::string& file) {
  namespace fs = std::filesystem;
  const auto repo = fs::weakly_canonical(fs::path(CRAWLD_TEST_DATA) / ".." / "..").string();
  if (std::system("command -v node >/dev/null 2>&1") != 0 ||
      !fs::exists(repo + "/build-tools/node_modules/warcio/package.json"))
    return std::nullopt;
  std::string out;
  std::FILE* p = ::popen(("node '" + repo + "/tests/storage/warcio_check.mjs' '" + file + "' 2>&1").c_str(), "r");
  if (!p)
    return std::make_pair(std::string("popen failed"), -1);
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
    out.append(buf, n);
  const int status = ::pclose(p);
  return std::make_pair(out, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

const seen_request* find(const std::vector<seen_request>& v, const std::string& method, const std::string& path) {
  for (const auto& s : v)
    if (s.method == method && s.path == path)
      return &s;
  return nullptr;
}

TEST(post_crawl, job_file_seed_requests_are_sent_as_written_and_their_answers_links_crawled_as_gets) {
  recording_site site("127.0.0.181");
  test::temp_dir dir;
  write_file(dir / "job.toml", "[crawl]\ndb = \"" + dir / "db" + "\"\n\n[[seed]]\nurl = \"" + site.origin() +
                                   "/search\"\nform = { q = \"a b\", lang = \"é\" }\n\n[[seed]]\nurl = \"" +
                                   site.origin() + "/api\"\nheaders = { X-Token = \"t1\" }\njson = { ids = [1, 2], "
                                   "name = \"x\" }\n\n[[seed]]\nurl = \"" + site.origin() +
                                   "/raw\"\nmethod = \"PATCH\"\nbody = \"<x/>\"\ncontent_type = \"application/xml\"\n");
  auto r = test::run({"run", dir / "job.toml", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto seen = site.seen();
  auto* post = find(seen, "POST", "/search");
  ASSERT_NE(post, nullptr);
  EXPECT_EQ(post->content_type, "application/x-www-form-urlencoded");
  EXPECT_EQ(post->body, "lang=%C3%A9&q=a+b");
  auto* api = find(seen, "POST", "/api");
  ASSERT_NE(api, nullptr);
  EXPECT_EQ(api->content_type, "application/json");
  EXPECT_EQ(api->body, R"({"ids": [1, 2], "name": "x"})");
  EXPECT_EQ(api->token, "t1");
  auto* raw = find(seen, "PATCH", "/raw");
  ASSERT_NE(raw, nullptr);
  EXPECT_EQ(raw->content_type, "application/xml");
  EXPECT_EQ(raw->body, "<x/>");
  // The answers' links: /found and /search as GETs, each once (the POST to /search is another request).
  auto n = site.counts();
  EXPECT_EQ((n[{"GET", "/found"}]), 1);
  EXPECT_EQ((n[{"GET", "/search"}]), 1);
  EXPECT_EQ((n[{"POST", "/search"}]), 1);
  EXPECT_EQ(n.size(), 5u) << "POST /search, POST /api, PATCH /raw, GET /found, GET /search";
  for (const auto& s : seen) {
    if (s.method == "GET") {
      EXPECT_EQ(s.body, "") << s.path;
    }
  }

  // Both /search answers are stored; the export says which is the POST and what it sent.
  auto e = test::run({"export", "--db", dir / "db", "--format", "jsonl"});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_NE(e.out.find(R"("method":"POST","request_content_type":"application/x-www-form-urlencoded","request_body":"lang=%C3%A9&q=a+b")"),
            std::string::npos)
      << e.out;
  int search_lines = 0;
  for (std::size_t at = 0; (at = e.out.find("{\"url\":\"" + site.origin() + "/search\"", at)) != std::string::npos; ++at)
    ++search_lines;
  EXPECT_EQ(search_lines, 2) << e.out;

  // The WARC rebuilt from the store has a request record for the POST, body included.
  auto w = test::run({"export", "--db", dir / "db", "--format", "warc", "--out", dir / "x"});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  auto rd = storage::warc_reader::open(dir / "x-00000.warc.gz");
  ASSERT_TRUE(rd.ok()) << rd.message();
  std::vector<std::string> requests;
  for (int i = 0; i < 100; ++i) {
    auto rec = (*rd)->next(true);
    ASSERT_TRUE(rec.ok()) << rec.message();
    if (!*rec)
      break;
    if ((*rec)->type() == "request")
      requests.push_back((*rec)->block);
  }
  ASSERT_EQ(requests.size(), 3u) << "one per seed request, none for GETs";
  bool found = false;
  for (const auto& b : requests)
    if (b.rfind("POST /search HTTP/1.1\r\n", 0) == 0) {
      found = true;
      EXPECT_NE(b.find("Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 17\r\n\r\nlang=%C3%A9&q=a+b"),
                std::string::npos)
          << b;
    }
  EXPECT_TRUE(found);
}

TEST(post_crawl, redirects_of_seed_requests_follow_rfc_9110) {
  recording_site site("127.0.0.182");
  test::temp_dir dir;
  write_file(dir / "job.toml", "[[seed]]\nurl = \"" + site.origin() +
                                   "/r307\"\nmethod = \"PUT\"\nbody = \"keep me\"\ncontent_type = \"text/plain\"\n\n"
                                   "[[seed]]\nurl = \"" + site.origin() + "/r303\"\nform = { a = \"1\" }\n\n"
                                   "[crawl]\nmax_depth = 0\n");
  auto r = test::run({"run", dir / "job.toml", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto seen = site.seen();
  auto* put = find(seen, "PUT", "/target");
  ASSERT_NE(put, nullptr) << "307 repeats the method and body";
  EXPECT_EQ(put->body, "keep me");
  EXPECT_EQ(put->content_type, "text/plain");
  auto* get = find(seen, "GET", "/target");
  ASSERT_NE(get, nullptr) << "303 turns the POST into a GET";
  EXPECT_EQ(get->body, "");
  auto n = site.counts();
  EXPECT_EQ((n[{"POST", "/target"}]), 0);
  EXPECT_EQ((n[{"GET", "/target"}]), 1);
  EXPECT_EQ((n[{"PUT", "/target"}]), 1);
}

TEST(post_crawl, crawl_flags_post_every_command_line_seed) {
  recording_site site("127.0.0.183");
  auto r = test::run({"crawl", site.origin() + "/search", site.origin() + "/api", "--data", "a=1",
                      "--data-urlencode", "q=x y&z", "--depth", "0", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto seen = site.seen();
  for (const char* path : {"/search", "/api"}) {
    auto* p = find(seen, "POST", path);
    ASSERT_NE(p, nullptr) << path;
    EXPECT_EQ(p->body, "a=1&q=x+y%26z");
    EXPECT_EQ(p->content_type, "application/x-www-form-urlencoded");
  }
  auto j = test::run({"crawl", site.origin() + "/j", "--json", R"({"k":"v"})", "-X", "put", "--depth", "0", "-q"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto after = site.seen();
  auto* put = find(after, "PUT", "/j");
  ASSERT_NE(put, nullptr);
  EXPECT_EQ(put->body, R"({"k":"v"})");
  EXPECT_EQ(put->content_type, "application/json");
}

TEST(post_crawl, contradictory_flags_and_bad_seed_tables_exit_2_with_one_line) {
  auto a = test::run({"crawl", "http://127.0.0.184:9/", "--json", "{", "-q"});
  EXPECT_EQ(a.exit_code, 2);
  EXPECT_NE(a.err.find("--json is not valid JSON"), std::string::npos) << a.err;
  auto b = test::run({"crawl", "http://127.0.0.184:9/", "-X", "GET", "--data", "a=1", "-q"});
  EXPECT_EQ(b.exit_code, 2);
  EXPECT_NE(b.err.find("--request GET cannot send a body"), std::string::npos) << b.err;
  test::temp_dir dir;
  write_file(dir / "job.toml", "[[seed]]\nurl = \"http://127.0.0.184:9/\"\nform = { a = \"1\" }\njson = 1\n");
  auto c = test::run({"run", "--check", dir / "job.toml"});
  EXPECT_EQ(c.exit_code, 2);
  EXPECT_NE(c.err.find("job.toml:4:1: 'json' and 'form' both give the body"), std::string::npos) << c.err;
}

TEST(post_crawl, warc_request_record_of_a_post_holds_its_body) {
  recording_site site("127.0.0.185");
  test::temp_dir dir;
  auto r = test::run({"crawl", site.origin() + "/search", "--data", "q=warc+me", "--depth", "0", "--warc",
                      dir / "w", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rd = storage::warc_reader::open(dir / "w-00000.warc.gz");
  ASSERT_TRUE(rd.ok()) << rd.message();
  bool found = false;
  std::size_t request_length = 0;
  for (int i = 0; i < 100; ++i) {
    auto rec = (*rd)->next(true);
    ASSERT_TRUE(rec.ok()) << rec.message();
    if (!*rec)
      break;
    if ((*rec)->type() == "request" && (*rec)->header("WARC-Target-URI") == site.origin() + "/search") {
      const auto& block = (*rec)->block;
      EXPECT_EQ(block.rfind("POST /search HTTP/1.1\r\n", 0), 0u) << block;
      EXPECT_NE(block.find("Content-Length: 9\r\n"), std::string::npos) << block;
      EXPECT_EQ(block.substr(block.size() - 13), "\r\n\r\nq=warc+me") << block;
      found = true;
      request_length = block.size();
    }
  }
  EXPECT_TRUE(found);
  // An independent reader agrees: warcio reads the request record whole and its digest matches.
  auto checked = warcio_check(dir / "w-00000.warc.gz");
  if (!checked)
    GTEST_SKIP() << "warcio not installed (deploy/install-test-tools.sh); crawld's own reader passed";
  EXPECT_EQ(checked->second, 0) << checked->first;
  EXPECT_NE(checked->first.find("record request " + site.origin() + "/search offset="), std::string::npos)
      << checked->first;
  EXPECT_NE(checked->first.find("length=" + std::to_string(request_length) + " block=ok"), std::string::npos)
      << checked->first;
  EXPECT_NE(checked->first.find("failures=0"), std::string::npos) << checked->first;
}

TEST(post_crawl, resume_after_kill_replays_the_post_with_its_body) {
  recording_site site("127.0.0.186");
  test::temp_dir dir;
  {
    test::child c({"crawl", site.origin() + "/slow", "--data", "x=1&y=2", "--depth", "1", "--db", dir / "db", "-q"});
    ASSERT_TRUE(site.wait_for_slow(30s)) << "the POST never arrived";
    std::this_thread::sleep_for(300ms);  // the admission's batch is written within 50 ms
    c.signal(SIGKILL);
    auto k = c.wait(10s);
    EXPECT_EQ(k.exit_code, 128 + SIGKILL);
  }
  site.release();
  auto r = test::run({"resume", "--db", dir / "db"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto seen = site.seen();
  int posts = 0;
  for (const auto& s : seen) {
    if (s.path != "/slow")
      continue;
    EXPECT_EQ(s.method, "POST");
    EXPECT_EQ(s.body, "x=1&y=2");
    EXPECT_EQ(s.content_type, "application/x-www-form-urlencoded");
    ++posts;
  }
  EXPECT_EQ(posts, 2) << "sent before the kill and again after it";
  auto n = site.counts();
  EXPECT_EQ((n[{"GET", "/found"}]), 1) << "the resumed POST's links are crawled";
  auto st = storage::store::open(dir / "db", storage::open_options{false, true});
  ASSERT_TRUE(st.ok()) << st.message();
  int stored_posts = 0;
  ASSERT_TRUE((*st)->for_each_page([&](const storage::page_record& p) {
                     if (!p.request.empty() && p.url == site.origin() + "/slow")
                       ++stored_posts;
                     return true;
                   }).ok());
  EXPECT_EQ(stored_posts, 1);
}

TEST(post_crawl, a_login_post_sets_the_session_cookie_the_crawl_then_sends) {
  recording_site site("127.0.0.188");
  test::temp_dir dir;
  write_file(dir / "job.toml", "[crawl]\nunsafe_cookies = true\nmax_depth = 1\n\n[[seed]]\nurl = \"" + site.origin() +
                                   "/login\"\nform = { user = \"u\", password = \"p w\" }\n");
  auto r = test::run({"run", dir / "job.toml", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto seen = site.seen();
  auto* login = find(seen, "POST", "/login");
  ASSERT_NE(login, nullptr);
  EXPECT_EQ(login->body, "password=p+w&user=u");
  auto* priv = find(seen, "GET", "/private");
  ASSERT_NE(priv, nullptr) << "the login answer's link is crawled";
  EXPECT_EQ(priv->cookie, "sid=s3cret");
}

TEST(post_crawl, daemon_json_job_with_seed_requests_posts_them_and_crawls_the_answers) {
  recording_site site("127.0.0.187");
  test::temp_dir dir;
  test::daemon_process d(dir, 28791);
  auto r = d.post("/v1/jobs", R"({"name": "post-job", "crawl": {"max_depth": 1},
    "seed": [{"url": ")" + site.origin() + R"(/search", "form": {"q": "a b"}},
             {"url": ")" + site.origin() + R"(/api", "json": {"ids": [1, 2], "on": true}, "headers": {"X-Token": "t9"}}]})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  auto j = conf::parse_json(r->body);
  ASSERT_TRUE(j.ok());
  const auto path = "/v1/jobs/" + test::text_field(*j, "id");
  ASSERT_TRUE(test::eventually([&] { return test::text_field(d.get_json(path), "state") == "finished"; }, 60s));
  auto seen = site.seen();
  auto* form = find(seen, "POST", "/search");
  ASSERT_NE(form, nullptr);
  EXPECT_EQ(form->body, "q=a+b");
  auto* api = find(seen, "POST", "/api");
  ASSERT_NE(api, nullptr);
  EXPECT_EQ(api->body, R"({"ids": [1, 2], "on": true})");
  EXPECT_EQ(api->content_type, "application/json");
  EXPECT_EQ(api->token, "t9");
  auto n = site.counts();
  EXPECT_EQ((n[{"GET", "/found"}]), 1);
  EXPECT_EQ((n[{"GET", "/search"}]), 1);
  // A bad seed table is refused with the job file's message.
  auto bad = d.post("/v1/jobs", R"({"seed": [{"url": ")" + site.origin() + R"(/x", "form": {"a": "1"}, "json": 1}]})");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("both give the body"), std::string::npos) << bad->body;
}

}  // namespace
}  // namespace crawld
