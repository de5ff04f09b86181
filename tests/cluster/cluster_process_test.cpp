// A cluster of real crawld processes on loopback (a coordinator and two nodes, all crawling)
// against an in-process testsite whose request log names the member behind every request
// (the User-Agent carries "crawld-node/<name>"). Judged against a single-process crawl.
#include <cstdlib>
#include <map>
#include <random>

#include "cluster/rendezvous.hpp"
#include "tests/cluster/cluster_helpers.hpp"

namespace crawld {
namespace {

using namespace test;

TEST(cluster, three_members_store_the_single_node_page_set_and_no_host_is_fetched_by_two) {
  constexpr int hosts = 6;
  auto site = start_site(hosts, 40);
  ASSERT_TRUE(site);
  temp_dir dir;
  auto single = single_node_pages(*site, hosts, dir);
  ASSERT_GT(single.size(), 100u);
  auto skip = site->requests().size();  // the single-node crawl's requests

  auto secret = write_secret(dir, "secret", "s3cret-for-the-cluster-test");
  coordinator_process coord(dir, 31790, 31791, secret);
  node_process n1(dir, "n1", coord.join_address(), secret);
  node_process n2(dir, "n2", coord.join_address(), secret);
  ASSERT_TRUE(eventually([&] { return coord.members() == 3; }, 20s)) << "members: " << coord.members();

  auto id = submit(coord, "{\"name\": \"three\", \"crawl\": {\"seeds\": [" + seeds_json(*site, hosts) +
                              "], \"concurrency\": 8, \"per_host\": 2}}");
  ASSERT_EQ(id, "1");
  ASSERT_TRUE(eventually([&] { return text_field(coord.get_json("/v1/jobs/1"), "state") == "finished"; }, 120s))
    << "state: " << text_field(coord.get_json("/v1/jobs/1"), "state");
  auto cl = coord.get_json("/v1/cluster");
  std::uint64_t forwarded = 0, acked = 0;
  for (const auto& m : cl.find("members")->items) {
    forwarded += field(m, "forwarded");
    acked += field(m, "acked");
    std::printf("member %s: pages %llu hosts %llu forwarded %llu acked %llu received %llu\n",
                text_field(m, "name").c_str(), static_cast<unsigned long long>(field(m, "pages")),
                static_cast<unsigned long long>(field(m, "hosts")), static_cast<unsigned long long>(field(m, "forwarded")),
                static_cast<unsigned long long>(field(m, "acked")), static_cast<unsigned long long>(field(m, "received")));
  }
  EXPECT_GT(forwarded, 0u) << "no URL crossed members: the test does not exercise forwarding";
  EXPECT_EQ(forwarded, acked);
  // The cluster's metrics are valid Prometheus text (promtool, when installed, is the judge).
  auto m = coord.get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("crawld_cluster_members 3\n"), std::string::npos) << m->body;
  EXPECT_NE(m->body.find("crawld_cluster_node_forwarded_urls{node=\"n1\"} "), std::string::npos);
  if (std::system("command -v promtool >/dev/null 2>&1") == 0) {
    write_text(dir / "metrics.txt", m->body);
    std::string cmd = "promtool check metrics < " + (dir / "metrics.txt") + " > " + (dir / "promtool.out") + " 2>&1";
    int rc = std::system(cmd.c_str());
    EXPECT_EQ(rc, 0) << read_text(dir / "promtool.out");
    EXPECT_EQ(read_text(dir / "promtool.out"), "") << "promtool reported lint problems";
  }

  // Stop everything, then read the stores.
  EXPECT_EQ(n1.stop().exit_code, 0);
  EXPECT_EQ(n2.stop().exit_code, 0);
  EXPECT_EQ(coord.stop(), 0);
  const std::vector<std::string> names = {"coordinator", "n1", "n2"};
  std::map<std::string, int> owned;
  for (int i = 0; i < hosts; ++i)
    ++owned[owner(*site, i, names)];
  std::set<std::string> all;
  std::size_t total = 0;
  std::vector<std::pair<std::string, std::string>> stores = {
    {"coordinator", coord.store("1")}, {"n1", n1.store("1")}, {"n2", n2.store("1")}};
  for (const auto& [name, store] : stores) {
    auto pages = stored_pages(store);
    EXPECT_EQ(pages.empty(), owned[name] == 0) << name << " owns " << owned[name] << " hosts, stored " << pages.size();
    total += pages.size();
    all.insert(pages.begin(), pages.end());
  }
  EXPECT_EQ(total, all.size()) << "a page was stored by two members";
  EXPECT_EQ(all, single);
  std::printf("single node: %zu pages; cluster: %zu pages over 3 stores; hosts owned: coordinator %d, n1 %d, n2 %d\n",
              single.size(), all.size(), owned["coordinator"], owned["n1"], owned["n2"]);

  // Every host was fetched (robots.txt included) by exactly the member rendezvous names.
  auto by = fetchers_by_host(*site, skip);
  EXPECT_EQ(by.size(), static_cast<std::size_t>(hosts));
  for (const auto& [host, members] : by)
    EXPECT_EQ(members, std::set<std::string>{owner(*site, host, names)}) << "host " << host;
}

struct loss_outcome {
  std::size_t repeats = 0;        // pages stored by two members
  std::uint64_t handed = 0;       // URLs the leaver reported handed over (SIGTERM)
  std::uint64_t received = 0;     // URLs the survivors received after the signal
};

std::uint64_t received_total(const coordinator_process& c) {
  std::uint64_t n = 0;
  auto j = c.get_json("/v1/cluster");  // find() points into it
  if (auto m = j.find("members"))
    for (const auto& x : m->items)
      n += field(x, "received");
  return n;
}

/// Loses a node mid-crawl by `sig` (SIGKILL: death; SIGTERM: clean leave) and checks that nothing
/// was lost and that hosts moved only as rendezvous says.
void lose_a_node_mid_crawl(int sig, int http_port, int cluster_port, loss_outcome* out = nullptr) {
  constexpr int hosts = 8;
  auto site = start_site(hosts, 100, 5ms);
  ASSERT_TRUE(site);
  temp_dir dir;
  auto single = single_node_pages(*site, hosts, dir);
  ASSERT_GT(single.size(), 300u);
  auto skip = site->requests().size();

  auto secret = write_secret(dir, "secret", "kill-nine-secret");
  coordinator_process coord(dir, http_port, cluster_port, secret);
  node_process n1(dir, "n1", coord.join_address(), secret);
  node_process n2(dir, "n2", coord.join_address(), secret);
  ASSERT_TRUE(eventually([&] { return coord.members() == 3; }, 20s));
  // The victim: the node owning more hosts (host ports vary between runs).
  const std::vector<std::string> names = {"coordinator", "n1", "n2"};
  int owned1 = 0, owned2 = 0;
  for (int i = 0; i < hosts; ++i) {
    owned1 += owner(*site, i, names) == "n1";
    owned2 += owner(*site, i, names) == "n2";
  }
  ASSERT_GT(owned1 + owned2, 0) << "the coordinator owns every host: nothing to kill";
  auto& victim = owned2 >= owned1 ? n2 : n1;
  auto& survivor = owned2 >= owned1 ? n1 : n2;
  const auto victim_name = victim.name();
  std::vector<std::string> after = {"coordinator", survivor.name()};
  // The kill point: a seeded page count of the victim, so the run is reproducible.
  std::mt19937 rng(20261129);
  std::uint64_t kill_at = 15 + rng() % 30;
  auto id = submit(coord, "{\"crawl\": {\"seeds\": [" + seeds_json(*site, hosts) +
                              "], \"concurrency\": 4, \"per_host\": 1}}");
  ASSERT_EQ(id, "1");
  ASSERT_TRUE(eventually([&] { return member_pages(coord, victim_name) >= kill_at; }, 60s))
    << victim_name << " never reached " << kill_at;
  auto victim_pages = member_pages(coord, victim_name);
  auto received_before = received_total(coord);
  victim.proc().signal(sig);
  auto killed = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return coord.members() == 2; }, 30s)) << "the coordinator did not notice the loss";
  auto noticed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed).count();
  EXPECT_NE(text_field(coord.get_json("/v1/jobs/1"), "state"), "finished") << "the kill did not land mid-crawl";
  ASSERT_TRUE(eventually([&] { return text_field(coord.get_json("/v1/jobs/1"), "state") == "finished"; }, 120s))
    << "state: " << text_field(coord.get_json("/v1/jobs/1"), "state");
  auto received_after = received_total(coord);
  auto cluster_status = coord.get_json("/v1/cluster");
  auto departed = cluster_status.find("departed");
  ASSERT_TRUE(departed);
  EXPECT_EQ(departed->items.size(), 1u);
  EXPECT_EQ(survivor.stop().exit_code, 0);
  EXPECT_EQ(coord.stop(), 0);
  auto victim_exit = victim.proc().wait(60s).exit_code;
  std::uint64_t handed = 0;
  if (sig == SIGTERM) {
    EXPECT_EQ(victim_exit, 0) << "a clean leave exits 0";
    auto log = read_text(dir / (victim_name + ".log"));
    auto p = log.find("handed ");
    ASSERT_NE(p, std::string::npos) << "the leaver did not hand its URLs over; its log:\n" << log;
    handed = std::strtoull(log.c_str() + p + 7, nullptr, 10);
    EXPECT_GT(handed, 0u) << "the leaver had URLs queued but handed none over";
    // Its URLs arrived (committed) at their new owners: the survivors' received counters grew by at least as many.
    EXPECT_GE(received_after - received_before, handed);
  }

  const auto [all, repeats] = union_of({coord.store("1"), n1.store("1"), n2.store("1")});
  EXPECT_EQ(all, single);
  std::size_t missing = 0;
  for (const auto& u : single)
    missing += all.count(u) ? 0 : 1;
  std::printf("%s %s at %llu pages (seeded point %llu); noticed after %lld ms; single node %zu pages, "
              "union %zu, missing %zu, repeats (pages stored twice) %zu; handed over %llu, survivors received %llu "
              "after the signal\n",
              sig == SIGKILL ? "killed" : "SIGTERM (leave)", victim_name.c_str(), static_cast<unsigned long long>(victim_pages), static_cast<unsigned long long>(kill_at),
              static_cast<long long>(noticed_ms), single.size(), all.size(), missing, repeats,
              static_cast<unsigned long long>(handed), static_cast<unsigned long long>(received_after - received_before));
  if (out)
    *out = loss_outcome{repeats, handed, received_after - received_before};
  std::fflush(stdout);  // before the next child process is forked
  // A survivor's host was fetched by its owner only; the victim's hosts by the victim (before
  // its death) and their new owner among the survivors (after), nobody else.
  for (const auto& [host, members] : fetchers_by_host(*site, skip)) {
    auto before = owner(*site, host, names), now = owner(*site, host, after);
    std::set<std::string> allowed = {before, now};
    for (const auto& m : members)
      EXPECT_TRUE(allowed.count(m)) << "host " << host << " fetched by " << m;
    if (before != victim_name) {
      EXPECT_EQ(members, std::set<std::string>{before}) << "host " << host;
    }
  }
}

TEST(cluster, a_node_killed_mid_crawl_loses_nothing_the_survivors_and_its_store_hold_the_single_node_set) {
  lose_a_node_mid_crawl(SIGKILL, 31794, 31795);
}

TEST(cluster, a_node_leaving_on_sigterm_hands_its_urls_over_loses_nothing_and_repeats_less_than_a_death) {
  loss_outcome death, leave;
  lose_a_node_mid_crawl(SIGKILL, 31798, 31799, &death);
  lose_a_node_mid_crawl(SIGTERM, 31798, 31799, &leave);
  EXPECT_LT(leave.repeats, death.repeats) << "a clean leave re-fetched as much as a death";
}

TEST(cluster, a_node_joining_mid_crawl_takes_only_the_hosts_it_wins_and_nothing_is_lost) {
  constexpr int hosts = 8;
  auto site = start_site(hosts, 100, 5ms);
  ASSERT_TRUE(site);
  temp_dir dir;
  auto single = single_node_pages(*site, hosts, dir);
  auto skip = site->requests().size();
  const std::vector<std::string> before = {"coordinator", "n1"}, after = {"coordinator", "n1", "n2"};
  int won = 0;
  for (int i = 0; i < hosts; ++i)
    won += owner(*site, i, after) == "n2";

  auto secret = write_secret(dir, "secret", "join-secret");
  coordinator_process coord(dir, 31800, 31801, secret);
  node_process n1(dir, "n1", coord.join_address(), secret);
  ASSERT_TRUE(eventually([&] { return coord.members() == 2; }, 20s));
  auto id = submit(coord, "{\"crawl\": {\"seeds\": [" + seeds_json(*site, hosts) +
                              "], \"concurrency\": 4, \"per_host\": 1}}");
  ASSERT_EQ(id, "1");
  ASSERT_TRUE(eventually([&] { return member_pages(coord, "coordinator") + member_pages(coord, "n1") >= 60; }, 60s));
  node_process n2(dir, "n2", coord.join_address(), secret);
  ASSERT_TRUE(eventually([&] { return coord.members() == 3; }, 20s));
  EXPECT_NE(text_field(coord.get_json("/v1/jobs/1"), "state"), "finished") << "the join did not land mid-crawl";
  ASSERT_TRUE(eventually([&] { return text_field(coord.get_json("/v1/jobs/1"), "state") == "finished"; }, 120s));
  EXPECT_EQ(n2.stop().exit_code, 0);
  EXPECT_EQ(n1.stop().exit_code, 0);
  EXPECT_EQ(coord.stop(), 0);

  const auto [all, repeats] = union_of({coord.store("1"), n1.store("1"), n2.store("1")});
  EXPECT_EQ(all, single);
  // n2 fetched only hosts it wins; a host it did not win was fetched by its one owner only.
  std::set<int> n2_hosts;
  for (const auto& [host, members] : fetchers_by_host(*site, skip)) {
    auto old_owner = owner(*site, host, before), new_owner = owner(*site, host, after);
    if (members.count("n2")) {
      EXPECT_EQ(new_owner, "n2") << "n2 fetched host " << host << " which it does not win";
      n2_hosts.insert(host);
    }
    if (new_owner != "n2") {
      EXPECT_EQ(members, std::set<std::string>{old_owner}) << "host " << host << " moved but n2 did not win it";
    } else {
      for (const auto& m : members)
        EXPECT_TRUE(m == old_owner || m == "n2") << "host " << host << " fetched by " << m;
    }
  }
  std::printf("join mid-crawl: n2 wins %d of %d hosts and fetched from %zu; union %zu of %zu, repeats %zu\n", won,
              hosts, n2_hosts.size(), all.size(), single.size(), repeats);
}

TEST(cluster, a_job_with_max_pages_ends_when_every_member_reached_its_cap) {
  auto site = start_site(3, 60);
  ASSERT_TRUE(site);
  temp_dir dir;
  auto secret = write_secret(dir, "secret", "max-pages-secret");
  coordinator_process coord(dir, 31804, 31805, secret);
  node_process n1(dir, "n1", coord.join_address(), secret);
  ASSERT_TRUE(eventually([&] { return coord.members() == 2; }, 20s));
  auto id = submit(coord, "{\"crawl\": {\"seeds\": [" + seeds_json(*site, 3) + "], \"max_pages\": 10}}");
  ASSERT_EQ(id, "1");
  EXPECT_TRUE(eventually([&] { return text_field(coord.get_json("/v1/jobs/1"), "state") == "finished"; }, 60s))
    << "a capped cluster job never ended";
  EXPECT_LE(field(coord.get_json("/v1/jobs/1"), "pages"), 10u);
}

TEST(cluster, a_node_with_the_wrong_secret_is_refused_and_exits_non_zero) {
  temp_dir dir;
  auto secret = write_secret(dir, "secret", "the-right-secret");
  auto wrong = write_secret(dir, "wrong", "the-wrong-secret");
  coordinator_process coord(dir, 31792, 31793, secret);
  node_process bad(dir, "intruder", coord.join_address(), wrong);
  auto r = bad.proc().wait(30s);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("wrong cluster secret"), std::string::npos) << r.err;
  EXPECT_EQ(coord.members(), 1u);
  EXPECT_EQ(field(coord.get_json("/v1/cluster"), "rejected_joins"), 1u);
  // And a good one still joins.
  node_process good(dir, "n1", coord.join_address(), secret);
  EXPECT_TRUE(eventually([&] { return coord.members() == 2; }, 20s));
}

}  // namespace
}  // namespace crawld
