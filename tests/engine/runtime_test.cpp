// Many jobs on one runtime: one global bound on requests in flight, independent ends.
#include "tests/engine/helpers.hpp"

namespace crawld {
namespace {

using namespace test;
using namespace std::chrono_literals;

TEST(runtime, jobs_together_stay_within_the_global_connection_bound) {
  auto srv = start_site(2, 80, testsite::server_options{std::chrono::milliseconds(20)});
  ASSERT_TRUE(srv);
  actors::runtime rt(3);
  std::vector<actors::job_handle> jobs;
  for (int host = 0; host < 2; ++host) {
    auto o = options_for(*srv, 0);
    o.seeds = {srv->model().origin(host) + "/"};
    o.concurrency = 8;
    o.per_host = 8;
    auto j = rt.start_job(o);
    ASSERT_TRUE(j.ok()) << j.message();
    jobs.push_back(*j);
  }
  for (auto& j : jobs) {
    auto r = j.wait(60s);
    ASSERT_TRUE(r) << "job did not end";
    ASSERT_TRUE(*r) << r->message();
    EXPECT_FALSE((*r)->interrupted);
    EXPECT_GT((*r)->pages, 20u);
    auto s = j.snapshot();
    EXPECT_EQ(s.phase, actors::job_phase::finished);
    EXPECT_EQ(s.prog.pages, (*r)->pages);
    EXPECT_EQ(s.latency.count, (*r)->pages) << "every requested URL is in the latency histogram";
    EXPECT_EQ(s.hosts.size(), 1u);
  }
  std::printf("2 jobs x concurrency 8 under a global bound of 3: at most %d requests in flight at the server\n",
              srv->max_in_flight_total());
  EXPECT_LE(srv->max_in_flight_total(), 3);
  EXPECT_GE(srv->max_in_flight_total(), 2) << "the bound was never approached: the test shows nothing";
}

TEST(runtime, cancelled_job_ends_interrupted_and_other_job_finishes) {
  auto srv = start_site(2, 150, testsite::server_options{std::chrono::milliseconds(30)});
  ASSERT_TRUE(srv);
  actors::runtime rt(8);
  auto o = options_for(*srv, 0);
  o.concurrency = 2;
  o.seeds = {srv->model().origin(0) + "/"};
  auto a = rt.start_job(o);
  o.seeds = {srv->model().origin(1) + "/"};
  o.max_pages = 20;
  auto b = rt.start_job(o);
  ASSERT_TRUE(a.ok() && b.ok());
  std::this_thread::sleep_for(300ms);
  a->cancel();
  auto ra = a->wait(30s);
  ASSERT_TRUE(ra && *ra);
  EXPECT_TRUE((*ra)->interrupted);
  EXPECT_EQ(a->snapshot().phase, actors::job_phase::cancelled);
  EXPECT_FALSE(a->add_urls({srv->model().origin(0) + "/x"}).ok()) << "URLs added to an ended job";
  auto rb = b->wait(60s);
  ASSERT_TRUE(rb && *rb);
  EXPECT_FALSE((*rb)->interrupted);
  EXPECT_EQ((*rb)->pages, 20u);
}

}  // namespace
}  // namespace crawld
