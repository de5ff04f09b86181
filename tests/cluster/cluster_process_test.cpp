// A cluster of real crawld processes on loopback (a coordinator and two nodes, all crawling)
// against an in-process testsite whose request log names the member behind every request
// (the User-Agent carries "crawld-node/<name>"). Judged against a single-process crawl.
#include <map>
#include <random>

#include "tests/cluster/cluster_helpers.hpp"

namespace crawld {
namespace {

using namespace test;

std::string seeds_json(const testsite::server& site, int hosts) {
  std::string s;
  for (int i = 0; i < hosts; ++i)
    s += (i ? ",\"" : "\"") + site.model().origin(i) + "/\"";
  return s;
}

std::string member_of(const std::string& user_agent) {
  auto p = user_agent.find("crawld-node/");
  return p == std::string::npos ? "" : user_agent.substr(p + 12);
}

/// host index -> members that sent it a request.
/// host index -> members that sent it a request (requests after the first `skip`).
std::map<int, std::set<std::string>> fetchers_by_host(const testsite::server& site, std::size_t skip) {
  std::map<int, std::set<std::string>> by;
  auto log = site.requests();
  for (std::size_t i = skip; i < log.size(); ++i)
    by[log[i].host].insert(member_of(log[i].user_agent));
  return by;
}

std::set<std::string> single_node_pages(const testsite::server& site, int hosts, const temp_dir& dir) {
  std::vector<std::string> args = {"crawl"};
  for (int i = 0; i < hosts; ++i)
    args.push_back(site.model().origin(i) + "/");
  for (const char* a : {"--db", "", "-q", "--concurrency", "8", "--per-host", "2"})
    args.push_back(a);
  args[hosts + 2] = dir / "single";
  auto r = run(args, 120s);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return stored_pages(dir / "single");
}

std::string write_secret(const temp_dir& dir, const std::string& name, const std::string& secret) {
  auto path = dir / name;
  write_text(path, secret + "\n");
  return path;
}

std::string submit(const coordinator_process& c, const std::string& body) {
  auto r = c.post("/v1/jobs", body);
  EXPECT_TRUE(r);
  if (!r)
    return "";
  EXPECT_EQ(r->status, 201) << r->body;
  auto j = conf::parse_json(r->body);
  return j.ok() ? text_field(*j, "id") : "";
}

TEST(cluster, three_members_store_the_single_node_page_set_and_no_host_is_fetched_by_two) {
  constexpr int hosts = 6;
  auto site = start_site(hosts, 40);
  ASSERT_TRUE(site);
  temp_dir dir;
  auto single = single_node_pages(*site, hosts, dir);
  ASSERT_GT(single.size(), 100u);
  auto skip = site->requests().size();  // the single-node crawl's requests

  auto secret = write_secret(dir, "secret", "s3cret-for-the-cluster-test");
  coordinator_process coord(dir, 28790, 28791, secret);
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

  // Stop everything, then read the stores.
  EXPECT_EQ(n1.stop().exit_code, 0);
  EXPECT_EQ(n2.stop().exit_code, 0);
  EXPECT_EQ(coord.stop(), 0);
  std::set<std::string> all;
  std::size_t total = 0;
  for (const auto& store : {coord.store("1"), n1.store("1"), n2.store("1")}) {
    auto pages = stored_pages(store);
    EXPECT_FALSE(pages.empty()) << store << " holds no page: a member crawled nothing";
    total += pages.size();
    all.insert(pages.begin(), pages.end());
  }
  EXPECT_EQ(total, all.size()) << "a page was stored by two members";
  EXPECT_EQ(all, single);
  std::printf("single node: %zu pages; cluster: %zu pages over 3 stores\n", single.size(), all.size());

  for (const auto& [host, members] : fetchers_by_host(*site, skip)) {
    EXPECT_EQ(members.size(), 1u) << "host " << host << " was fetched by " << members.size() << " members";
    EXPECT_EQ(members.count(""), 0u) << "a request without a member name";
  }
}

TEST(cluster, a_node_with_the_wrong_secret_is_refused_and_exits_non_zero) {
  temp_dir dir;
  auto secret = write_secret(dir, "secret", "the-right-secret");
  auto wrong = write_secret(dir, "wrong", "the-wrong-secret");
  coordinator_process coord(dir, 28792, 28793, secret);
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
