// Membership changes of a running cluster crawl with real processes (docs/cluster.md): a
// newcomer that dies right after its join, whose handed-over URLs must not be lost.
#include <random>

#include "tests/cluster/cluster_helpers.hpp"

namespace crawld {
namespace {

using namespace test;

/// A name for the newcomer that wins at least `min_hosts` hosts from `names` (host ports vary).
std::string newcomer_name(const testsite::server& site, int hosts, std::vector<std::string> names, int min_hosts,
                          int first = 3) {
  for (int k = first; k < first + 60; ++k) {
    auto n = "n" + std::to_string(k);
    auto with = names;
    with.push_back(n);
    int won = 0;
    for (int i = 0; i < hosts; ++i)
      won += owner(site, i, with) == n;
    if (won >= min_hosts)
      return n;
  }
  return "n3";
}

std::size_t requests_by(const testsite::server& site, const std::string& member) {
  std::size_t n = 0;
  for (const auto& r : site.requests())
    n += member_of(r.user_agent) == member;
  return n;
}

bool fetched_by(const testsite::server& site, const std::string& member) { return requests_by(site, member) > 0; }

TEST(cluster_membership, a_newcomer_killed_right_after_its_join_loses_none_of_the_urls_handed_to_it) {
  constexpr int hosts = 8;
  auto site = start_site(hosts, 100, 5ms);
  ASSERT_TRUE(site);
  temp_dir dir;
  auto single = single_node_pages(*site, hosts, dir);
  ASSERT_GT(single.size(), 300u);
  const std::vector<std::string> three = {"coordinator", "n1", "n2"};
  const auto victim_name = newcomer_name(*site, hosts, three, 2);

  auto secret = write_secret(dir, "secret", "newcomer-dies-secret");
  coordinator_process coord(dir, 31810, 31811, secret);
  node_process n1(dir, "n1", coord.join_address(), secret);
  node_process n2(dir, "n2", coord.join_address(), secret);
  ASSERT_TRUE(eventually([&] { return coord.members() == 3; }, 20s));
  std::mt19937 rng(20261129);
  const std::uint64_t join_at = 40 + rng() % 40;       // pages crawled before the join
  const auto kill_after = std::chrono::milliseconds(rng() % 30);  // after its first request
  auto id = submit(coord, "{\"crawl\": {\"seeds\": [" + seeds_json(*site, hosts) +
                              "], \"concurrency\": 4, \"per_host\": 1}}");
  ASSERT_EQ(id, "1");
  auto pages = [&] {
    return member_pages(coord, "coordinator") + member_pages(coord, "n1") + member_pages(coord, "n2");
  };
  ASSERT_TRUE(eventually([&] { return pages() >= join_at; }, 60s));
  node_process victim(dir, victim_name, coord.join_address(), secret);
  ASSERT_TRUE(eventually([&] { return coord.members() == 4; }, 20s));
  // Its first request means it holds URLs handed over by the old owners of its hosts.
  ASSERT_TRUE(eventually([&] { return fetched_by(*site, victim_name); }, 20s)) << victim_name << " never fetched";
  std::this_thread::sleep_for(kill_after);
  victim.proc().signal(SIGKILL);
  ASSERT_TRUE(eventually([&] { return coord.members() == 3; }, 30s)) << "the coordinator did not notice the death";
  EXPECT_NE(text_field(coord.get_json("/v1/jobs/1"), "state"), "finished") << "the death did not land mid-crawl";
  ASSERT_TRUE(eventually([&] { return text_field(coord.get_json("/v1/jobs/1"), "state") == "finished"; }, 120s))
    << "state: " << text_field(coord.get_json("/v1/jobs/1"), "state");
  EXPECT_EQ(n1.stop().exit_code, 0);
  EXPECT_EQ(n2.stop().exit_code, 0);
  EXPECT_EQ(coord.stop(), 0);
  (void)victim.proc().wait(30s);

  auto [all, repeats] = union_of({coord.store("1"), n1.store("1"), n2.store("1"), victim.store("1")});
  std::size_t missing = 0;
  for (const auto& u : single)
    missing += all.count(u) ? 0 : 1;
  std::size_t extra = 0;
  for (const auto& u : all)
    extra += single.count(u) ? 0 : 1;
  EXPECT_EQ(missing, 0u) << "pages of the single-process crawl that no member stored";
  EXPECT_EQ(extra, 0u) << "pages no single-process crawl stores";
  std::printf("newcomer %s joined at %llu pages, killed %lld ms after its first request: single %zu, union %zu, "
              "missing %zu, repeats %zu, the newcomer stored %zu\n",
              victim_name.c_str(), static_cast<unsigned long long>(join_at), static_cast<long long>(kill_after.count()),
              single.size(), all.size(), missing, repeats, stored_pages(victim.store("1")).size());
}

TEST(cluster_membership, pause_and_resume_on_the_coordinator_reach_every_member_and_its_job_shows_the_members) {
  constexpr int hosts = 4;
  auto site = start_site(hosts, 100, 5ms);
  ASSERT_TRUE(site);
  temp_dir dir;
  const auto node = newcomer_name(*site, hosts, {"coordinator"}, 1, 1);  // owns a host: it fetches
  auto secret = write_secret(dir, "secret", "pause-secret");
  coordinator_process coord(dir, 31812, 31813, secret);
  node_process n(dir, node, coord.join_address(), secret);
  ASSERT_TRUE(eventually([&] { return coord.members() == 2; }, 20s));
  auto id = submit(coord, "{\"crawl\": {\"seeds\": [" + seeds_json(*site, hosts) +
                              "], \"concurrency\": 4, \"per_host\": 1}}");
  ASSERT_EQ(id, "1");
  ASSERT_TRUE(eventually([&] { return requests_by(*site, node) >= 10; }, 60s)) << node << " never fetched";
  auto r = coord.post("/v1/jobs/1/pause", "");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  std::this_thread::sleep_for(1s);  // requests in flight at the pause finish
  auto node_before = requests_by(*site, node), all_before = site->requests().size();
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(requests_by(*site, node), node_before) << "the node kept fetching while the job was paused";
  EXPECT_EQ(site->requests().size(), all_before) << "a member kept fetching while the job was paused";
  auto job = coord.get_json("/v1/jobs/1");
  EXPECT_EQ(text_field(job, "state"), "paused");
  auto cl = job.find("cluster");
  ASSERT_TRUE(cl) << "GET /v1/jobs/1 has no cluster fields";
  auto members = cl->find("members");
  ASSERT_TRUE(members);
  std::map<std::string, std::uint64_t> pages;
  for (const auto& m : members->items)
    pages[text_field(m, "name")] = field(m, "pages");
  EXPECT_EQ(pages.size(), 2u);
  EXPECT_GT(pages[node], 0u) << "the job's cluster figures do not show the node's pages";
  EXPECT_EQ(field(*cl, "forwarded"), field(*cl, "acked"));  // paused long enough for every ack

  r = coord.post("/v1/jobs/1/resume", "");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_TRUE(eventually([&] { return requests_by(*site, node) > node_before; }, 20s)) << "the node did not resume";
  ASSERT_TRUE(eventually([&] { return text_field(coord.get_json("/v1/jobs/1"), "state") == "finished"; }, 120s));
  EXPECT_EQ(n.stop().exit_code, 0);
  EXPECT_EQ(coord.stop(), 0);
  auto log = read_text(dir / (node + ".log"));
  EXPECT_NE(log.find("job 1 paused by the coordinator"), std::string::npos) << log;
  EXPECT_NE(log.find("job 1 resumed by the coordinator"), std::string::npos) << log;
}

}  // namespace
}  // namespace crawld
