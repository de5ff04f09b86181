// The daemon as an operator uses it: a real `crawld serve` process on loopback, driven over its
// HTTP API, crawling an in-process testsite whose request log is the judge.
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "tests/daemon/daemon_helpers.hpp"

namespace crawld {
namespace {

using namespace test;

std::size_t server_requests(const testsite::server& s) { return s.requests().size(); }

bool has_target(const testsite::server& s, const std::string& target) {
  for (const auto& r : s.requests())
    if (r.target == target)
      return true;
  return false;
}

std::string submit_json(const daemon_process& d, const std::string& body) {
  auto r = d.post("/v1/jobs", body);
  EXPECT_TRUE(r);
  if (!r)
    return "";
  EXPECT_EQ(r->status, 201) << r->body;
  auto j = conf::parse_json(r->body);
  return j.ok() ? text_field(*j, "id") : "";
}

bool tool_exists(const char* name) {
  return std::system((std::string("command -v ") + name + " >/dev/null 2>&1").c_str()) == 0;
}

TEST(daemon, job_counters_rise_pause_holds_every_request_resume_add_urls_cancel) {
  auto site = start_site(2, 400, 25ms);
  ASSERT_TRUE(site);
  temp_dir dir;
  daemon_process d(dir, 28711);
  auto origin = site->model().origin(0);
  auto id = submit_json(d, R"({"name": "pause-test", "crawl": {"seeds": [")" + origin +
                               R"(/"], "concurrency": 4, "per_host": 2}})");
  ASSERT_EQ(id, "1");
  auto path = "/v1/jobs/" + id;

  // Counters rise.
  std::uint64_t first = 0;
  ASSERT_TRUE(eventually([&] { return (first = field(d.get_json(path), "pages")) >= 10; }, 20s));
  ASSERT_TRUE(eventually([&] { return field(d.get_json(path), "pages") > first; }, 10s));
  EXPECT_EQ(text_field(d.get_json(path), "name"), "pause-test");

  // Pause: once the requests in flight finished, the server sees nothing more.
  auto p = d.post(path + "/pause");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, 200) << p->body;
  ASSERT_TRUE(eventually([&] { return field(d.get_json(path), "in_flight") == 0; }, 10s));
  auto before = server_requests(*site);
  auto pages_before = field(d.get_json(path), "pages");
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(server_requests(*site), before) << "requests reached the server while the job was paused";
  auto paused = d.get_json(path);
  EXPECT_EQ(text_field(paused, "state"), "paused");
  EXPECT_EQ(field(paused, "pages"), pages_before);
  EXPECT_GT(field(paused, "queued"), 0u) << "the pause test needs work left in the queue";
  std::printf("paused with %llu pages done, %llu queued; server saw %zu requests during 1.5 s of pause\n",
              static_cast<unsigned long long>(pages_before),
              static_cast<unsigned long long>(field(paused, "queued")), server_requests(*site) - before);

  // Resume: requests flow again.
  auto r = d.post(path + "/resume");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(eventually([&] { return server_requests(*site) > before; }, 10s));

  // Add URLs: the in-scope one is fetched, the off-site one rejected with its reason.
  auto a = d.post(path + "/urls", R"({"urls": [")" + origin + R"(/added-by-test?n=1", "http://127.0.0.250:9/x", "not a url"]})");
  ASSERT_TRUE(a);
  ASSERT_EQ(a->status, 200) << a->body;
  auto aj = conf::parse_json(a->body);
  ASSERT_TRUE(aj.ok());
  EXPECT_EQ(field(*aj, "accepted"), 1u);
  auto rej = aj->find("rejected");
  ASSERT_TRUE(rej);
  ASSERT_EQ(rej->items.size(), 2u) << a->body;
  EXPECT_EQ(text_field(rej->items[0], "reason"), "off_site");
  EXPECT_TRUE(eventually([&] { return has_target(*site, "/added-by-test?n=1"); }, 20s))
    << "the added URL never reached the server";

  // Cancel.
  auto c = d.post(path + "/cancel");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->status, 200);
  EXPECT_TRUE(eventually([&] { return text_field(d.get_json(path), "state") == "cancelled"; }, 20s));
  auto jobs = d.get_json("/v1/jobs");
  ASSERT_TRUE(jobs.find("jobs"));
  EXPECT_EQ(jobs.find("jobs")->items.size(), 1u);
  // A control call on an ended job is a conflict, not a crash.
  auto late = d.post(path + "/pause");
  ASSERT_TRUE(late);
  EXPECT_EQ(late->status, 409);
  EXPECT_EQ(d.stop(), 0);
}

TEST(daemon, metrics_pass_promtool_check_and_name_the_job) {
  auto site = start_site(1, 60, 0ms);
  ASSERT_TRUE(site);
  temp_dir dir;
  daemon_process d(dir, 28712);
  // Submitted as a job file (TOML body).
  auto sub = d.post("/v1/jobs", "name = \"toml-job\"\n[crawl]\nseeds = [\"" + site->model().origin(0) + "/\"]\n",
                    "application/toml");
  ASSERT_TRUE(sub);
  ASSERT_EQ(sub->status, 201) << sub->body;
  EXPECT_EQ(sub->get_header_value("Location"), "/v1/jobs/1");
  std::string id = "1";
  EXPECT_EQ(text_field(d.get_json("/v1/jobs/1"), "name"), "toml-job");
  ASSERT_TRUE(eventually([&] { return text_field(d.get_json("/v1/jobs/" + id), "state") == "finished"; }, 30s));
  auto m = d.get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_NE(m->body.find("crawld_job_pages_total{job=\"1\"} "), std::string::npos) << m->body;
  EXPECT_NE(m->body.find("crawld_fetch_latency_seconds_bucket{le=\"+Inf\"} "), std::string::npos);
  EXPECT_NE(m->body.find("crawld_jobs{state=\"finished\"} 1"), std::string::npos);
  if (!tool_exists("promtool"))
    GTEST_SKIP() << "promtool (Debian package prometheus) not installed";
  write_text(dir / "metrics.txt", m->body);
  std::string cmd = "promtool check metrics < " + (dir / "metrics.txt") + " > " + (dir / "promtool.out") + " 2>&1";
  int rc = std::system(cmd.c_str());
  auto verdict = read_text(dir / "promtool.out");
  std::printf("promtool check metrics: exit %d, output: '%s'\n", WEXITSTATUS(rc), verdict.c_str());
  EXPECT_EQ(rc, 0) << verdict;
  EXPECT_EQ(verdict, "") << "promtool reported lint problems";
}

TEST(daemon, restarted_daemon_finishes_the_job_that_was_running) {
  auto site = start_site(1, 200, 20ms);
  ASSERT_TRUE(site);
  temp_dir dir;
  std::string id;
  {
    daemon_process d(dir, 28713);
    id = submit_json(d, R"({"name": "survivor", "crawl": {"seeds": [")" + site->model().origin(0) +
                            R"(/"], "concurrency": 2, "per_host": 2}})");
    ASSERT_FALSE(id.empty());
    ASSERT_TRUE(eventually([&] { return field(d.get_json("/v1/jobs/" + id), "pages") >= 10; }, 20s));
    EXPECT_EQ(d.stop(), 0);  // SIGTERM mid-job
    EXPECT_EQ(read_text(d.state_dir() + "/jobs/" + id + "/state"), "running\n");
  }
  auto seen_before = server_requests(*site);
  daemon_process d2(dir, 28713);
  auto path = "/v1/jobs/" + id;
  EXPECT_EQ(text_field(d2.get_json(path), "name"), "survivor");
  ASSERT_TRUE(eventually([&] { return text_field(d2.get_json(path), "state") == "finished"; }, 90s))
    << "state: " << text_field(d2.get_json(path), "state");
  EXPECT_GT(server_requests(*site), seen_before) << "the restarted job made no request";
  auto done = d2.get_json(path);
  EXPECT_GT(field(done, "pages"), 0u);
  EXPECT_EQ(field(done, "queued"), 0u);
  EXPECT_TRUE(eventually([&] { return read_text(d2.state_dir() + "/jobs/" + id + "/state") == "finished\n"; }, 10s))
    << "the end was not persisted";
}

TEST(daemon, paused_job_stays_paused_across_a_restart_until_resumed) {
  auto site = start_site(1, 300, 20ms);
  ASSERT_TRUE(site);
  temp_dir dir;
  std::string id;
  {
    daemon_process d(dir, 28720);
    id = submit_json(d, R"({"crawl": {"seeds": [")" + site->model().origin(0) + R"(/"], "concurrency": 2}})");
    ASSERT_FALSE(id.empty());
    ASSERT_TRUE(eventually([&] { return field(d.get_json("/v1/jobs/" + id), "pages") >= 5; }, 20s));
    auto p = d.post("/v1/jobs/" + id + "/pause");
    ASSERT_TRUE(p);
    ASSERT_EQ(p->status, 200);
    ASSERT_TRUE(eventually([&] { return field(d.get_json("/v1/jobs/" + id), "in_flight") == 0; }, 10s));
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(d.stop(), 0);
    std::printf("SIGTERM with a paused job: daemon exited after %lld ms\n",
                static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count()));
    std::fflush(stdout);  // before the next daemon is forked
  }
  auto before = server_requests(*site);
  daemon_process d(dir, 28720);
  auto path = "/v1/jobs/" + id;
  EXPECT_EQ(text_field(d.get_json(path), "state"), "paused");
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(server_requests(*site), before) << "the restarted paused job made requests";
  auto r = d.post(path + "/resume");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(eventually([&] { return text_field(d.get_json(path), "state") == "finished"; }, 90s));
  EXPECT_GT(server_requests(*site), before);
}

TEST(daemon, unauthenticated_malformed_and_unknown_calls_are_rejected_and_the_daemon_survives) {
  temp_dir dir;
  daemon_process d(dir, 28714);
  auto c = d.client();
  const std::string job = R"({"crawl": {"seeds": ["http://127.0.0.1:9/"]}})";
  // No token, wrong token, token of another length.
  auto r = c.Post("/v1/jobs", job, "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  for (auto bad : {"Bearer test-token-5a1f0d", "Bearer x", "test-token-5a1f0c", "Basic dGVzdA=="}) {
    r = c.Post("/v1/jobs", {{"Authorization", bad}}, job, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401) << bad;
  }
  r = c.Post("/v1/jobs/1/pause", "", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(d.get_json("/v1/jobs").find("jobs")->items.size(), 0u) << "an unauthenticated call made a job";

  // Malformed JSON: 400 naming the position.
  r = d.post("/v1/jobs", R"({"crawl": {"seeds": ["http://x/"],}})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("bad JSON: line 1, column"), std::string::npos) << r->body;
  // Malformed TOML and a misspelt key: 400 with the job file's messages.
  r = d.post("/v1/jobs", "[crawl\nseeds = 1", "application/toml");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  r = d.post("/v1/jobs", "[crawl]\nseeds = [\"http://127.0.0.1:9/\"]\nmax_dept = 2\n", "application/toml");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("did you mean 'max_depth'?"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("\"line\":3"), std::string::npos) << r->body;
  r = d.post("/v1/jobs", R"({"crawl": {"seeds": null}})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  r = d.post("/v1/jobs", R"([1, 2])");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  // Hostile bodies: deep nesting, invalid UTF-16 escapes, binary junk, a body over the cap.
  r = d.post("/v1/jobs", std::string(50000, '['));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  r = d.post("/v1/jobs", R"({"name": "\ud800", "crawl": {}})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  r = d.post("/v1/jobs", std::string("\x00\xff\xfe{\"", 5), "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  r = d.post("/v1/jobs", std::string(100 * 1024, ' '));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  // Unknown job and endpoint.
  for (auto path : {"/v1/jobs/42", "/v1/jobs/abc", "/v1/jobs/99999999999999999999"}) {
    auto g = d.get(path);
    ASSERT_TRUE(g);
    EXPECT_EQ(g->status, 404) << path;
  }
  r = d.post("/v1/jobs/42/cancel");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  r = d.post("/v1/jobs/42/urls", R"({"urls": []})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  auto g = d.get("/v1/nothing");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->status, 404);
  // Random bytes at every endpoint that reads a body (fixed seed, bounded).
  std::uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 300; ++i) {
    std::string junk;
    for (int k = 0; k < 1 + i % 97; ++k) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      junk += static_cast<char>(i % 3 == 0 ? "{}[]\",:0123456789.eE-tfnul\\u "[x % 29] : static_cast<char>(x));
    }
    auto type = i % 2 ? "application/json" : "application/toml";
    auto jr = d.post(i % 4 < 2 ? "/v1/jobs" : "/v1/jobs/1/urls", junk, type);
    ASSERT_TRUE(jr) << "the daemon stopped answering after body " << i;
    EXPECT_TRUE(jr->status == 400 || jr->status == 404 || jr->status == 201) << jr->status << " for body " << i;
  }
  // Still alive.
  auto h = d.get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  // Nothing rejected used up a job id.
  EXPECT_EQ(submit_json(d, job), "1");
  EXPECT_EQ(d.stop(), 0);
}

TEST(daemon, refuses_a_non_loopback_address_without_a_token_and_reports_config_errors_with_position) {
  temp_dir dir;
  write_text(dir / "open.toml", "listen = \"0.0.0.0\"\nport = 28715\nstate_dir = \"" + (dir / "s") +
                                    "\"\ntoken_env = \"CRAWLD_TEST_NO_SUCH_VAR\"\n");
  auto r = run({"serve", "--config", dir / "open.toml"}, 20s);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("without a token"), std::string::npos) << r.err;

  write_text(dir / "typo.toml", "port = 28716\nstate_dri = \"/tmp/x\"\nmax_connections = \"many\"\n");
  r = run({"serve", "--config", dir / "typo.toml"}, 20s);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("typo.toml:2:1: unknown key 'state_dri'; did you mean 'state_dir'?"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("typo.toml:3:19: 'max_connections' must be an integer"), std::string::npos) << r.err;
}

TEST(daemon, token_is_generated_owner_only_when_none_is_configured_on_loopback) {
  temp_dir dir;
  write_text(dir / "c.toml", "port = 28717\nstate_dir = \"" + (dir / "s") + "\"\ntoken_env = \"CRAWLD_TEST_NO_SUCH_VAR\"\n");
  child p({"serve", "--config", dir / "c.toml"});
  httplib::Client c("127.0.0.1", 28717);
  ASSERT_TRUE(eventually([&] { auto r = c.Get("/healthz"); return r && r->status == 200; }, 10s));
  struct stat st {};
  ASSERT_EQ(::stat((dir / "s/token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto token = read_text(dir / "s/token");
  token.pop_back();
  EXPECT_EQ(token.size(), 48u);
  auto r = c.Post("/v1/jobs", "{}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  r = c.Post("/v1/jobs", {{"Authorization", "Bearer " + token}}, R"({"crawl": {"seeds": ["http://127.0.0.1:9/"]}})",
             "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201) << r->body;
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(60s).exit_code, 0);
}

TEST(daemon, max_jobs_bounds_running_jobs_not_ended_ones) {
  auto site = start_site(1, 300, 50ms);
  ASSERT_TRUE(site);
  temp_dir dir;
  daemon_process d(dir, 28721, "max_jobs = 1\n");
  const std::string job = R"({"crawl": {"seeds": [")" + site->model().origin(0) + R"(/"], "concurrency": 1}})";
  auto id = submit_json(d, job);
  ASSERT_EQ(id, "1");
  auto second = d.post("/v1/jobs", job);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 429) << second->body;
  ASSERT_TRUE(d.post("/v1/jobs/1/cancel"));
  ASSERT_TRUE(eventually([&] { return text_field(d.get_json("/v1/jobs/1"), "state") == "cancelled"; }, 20s));
  EXPECT_EQ(submit_json(d, job), "2");
  EXPECT_EQ(d.stop(), 0);
}

TEST(daemon, sighup_reopens_the_log_file_after_rotation) {
  temp_dir dir;
  daemon_process d(dir, 28719);
  EXPECT_NE(read_text(dir / "crawld.log").find("listening on http://127.0.0.1:28719/"), std::string::npos);
  std::filesystem::rename(dir / "crawld.log", dir / "crawld.log.1");
  d.signal(SIGHUP);
  ASSERT_TRUE(eventually([&] { return read_text(dir / "crawld.log").find("log reopened") != std::string::npos; }, 10s))
    << "no new log file after SIGHUP";
  auto r = d.post("/v1/jobs", R"({"name": "after-rotation", "crawl": {"seeds": ["http://127.0.0.1:9/"]}})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  EXPECT_TRUE(eventually([&] { return read_text(dir / "crawld.log").find("after-rotation") != std::string::npos; }, 10s));
  EXPECT_EQ(read_text(dir / "crawld.log.1").find("after-rotation"), std::string::npos);
  EXPECT_EQ(d.stop(), 0);
}

TEST(daemon, status_page_in_headless_chromium_shows_the_running_job) {
  if (!tool_exists("chromium"))
    GTEST_SKIP() << "chromium not installed";
  auto site = start_site(1, 400, 60ms);
  ASSERT_TRUE(site);
  temp_dir dir;
  daemon_process d(dir, 28718);
  auto id = submit_json(d, R"({"name": "shown-in-chromium", "crawl": {"seeds": [")" + site->model().origin(0) +
                               R"(/"], "concurrency": 2, "per_host": 1}})");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(eventually([&] { return field(d.get_json("/v1/jobs/" + id), "pages") >= 3; }, 20s));
  auto page = d.get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->body.find("http://"), std::string::npos) << "the page must not load anything from elsewhere";
  EXPECT_EQ(page->body.find("https://"), std::string::npos);
  std::string flags = "--headless --no-sandbox --disable-gpu --disable-background-networking "
                      "--user-data-dir=" + (dir / "chromium") + " --virtual-time-budget=4000 ";
  std::string url = "http://127.0.0.1:28718/";
  std::string dom_cmd = "timeout 90 chromium " + flags + "--dump-dom " + url + " > " + (dir / "dom.html") + " 2>/dev/null";
  ASSERT_EQ(std::system(dom_cmd.c_str()), 0);
  auto dom = read_text(dir / "dom.html");
  EXPECT_NE(dom.find("id=\"job-" + id + "\""), std::string::npos) << dom.substr(0, 3000);
  EXPECT_NE(dom.find("shown-in-chromium"), std::string::npos);
  EXPECT_NE(dom.find("127.0.0."), std::string::npos) << "top hosts not rendered";
  // A screenshot for people; kept next to the build when CRAWLD_SCREENSHOT names a path.
  const char* keep = std::getenv("CRAWLD_SCREENSHOT");
  std::string shot = keep ? keep : dir / "status.png";
  std::string shot_cmd = "timeout 90 chromium " + flags + "--window-size=900,700 --screenshot=" + shot + " " + url +
                         " >/dev/null 2>&1";
  ASSERT_EQ(std::system(shot_cmd.c_str()), 0);
  EXPECT_GT(std::filesystem::file_size(shot), 5000u);
  std::printf("status page screenshot: %s (%ju bytes)\n", shot.c_str(),
              static_cast<std::uintmax_t>(std::filesystem::file_size(shot)));
}

}  // namespace
}  // namespace crawld
