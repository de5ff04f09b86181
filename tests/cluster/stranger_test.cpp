// A process that is not a member speaks CAF to the coordinator's published actor, the way an
// attacker on the network could: its join with a guessed secret is refused, and batches of URLs
// with a forged member token are refused too (the URL never reaches the web server).
#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/messages.hpp"
#include "tests/cluster/cluster_helpers.hpp"

namespace crawld {
namespace {

using namespace test;

// The wire names of the cluster's messages (actors/cluster.cpp).
using cl_join_atom = caf::atom_constant<caf::atom("cljoin")>;
using cl_batch_atom = caf::atom_constant<caf::atom("clbatch")>;

TEST(cluster, a_stranger_cannot_join_nor_send_urls_with_a_forged_token) {
  auto site = start_site(2, 20);
  ASSERT_TRUE(site);
  temp_dir dir;
  write_text(dir / "secret", "stranger-test-secret\n");
  coordinator_process coord(dir, 31796, 31797, dir / "secret");
  node_process n1(dir, "n1", coord.join_address(), dir / "secret");
  ASSERT_TRUE(eventually([&] { return coord.members() == 2; }, 20s));

  caf::actor_system_config cfg;
  actors::configure_cluster(cfg);
  caf::actor_system sys{cfg};
  auto remote = sys.middleman().remote_actor("127.0.0.1", 31797);
  ASSERT_TRUE(remote) << sys.render(remote.error());
  caf::scoped_actor self{sys};

  bool accepted = true;
  std::string why;
  self->request(*remote, std::chrono::seconds(10), cl_join_atom::value, std::string("guessed"), std::string("stranger"),
                caf::actor_cast<caf::actor>(self))
    .receive([&](cl_join_atom, bool ok, std::string& text) { accepted = ok, why = text; },
             [&](caf::error& e) { why = sys.render(e); });
  EXPECT_FALSE(accepted);
  EXPECT_EQ(why, "wrong cluster secret");

  // Forged batches for job 1 (the job submitted next), claiming to come from each member.
  const std::string forged = site->model().origin(0) + "/forged-by-stranger";
  int refused = 0;
  for (const char* from : {"n1", "coordinator", "stranger"}) {
    std::vector<actors::url_task> batch{actors::url_task{forged, site->model().origin(0), 0, {}}};
    self->request(*remote, std::chrono::seconds(10), cl_batch_atom::value, std::string("1"), std::string(from),
                  std::string("00000000000000000000000000000000"), std::uint64_t{1}, batch)
      .receive([&](caf::message&) {}, [&](caf::error&) { ++refused; });
  }
  EXPECT_EQ(refused, 3);

  auto r = coord.post("/v1/jobs", "{\"crawl\": {\"seeds\": [\"" + site->model().origin(0) + "/\", \"" +
                                      site->model().origin(1) + "/\"], \"concurrency\": 4}}");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  ASSERT_TRUE(eventually([&] { return text_field(coord.get_json("/v1/jobs/1"), "state") == "finished"; }, 60s));
  for (const auto& q : site->requests())
    EXPECT_EQ(q.target.find("forged"), std::string::npos) << "a forged URL was fetched: " << q.target;
  auto cl = coord.get_json("/v1/cluster");
  EXPECT_EQ(field(cl, "rejected_joins"), 1u);
  std::uint64_t rejected_batches = 0;
  for (const auto& m : cl.find("members")->items)
    if (text_field(m, "name") == "coordinator")
      rejected_batches = field(m, "rejected_batches");
  EXPECT_EQ(rejected_batches, 3u);
}

}  // namespace
}  // namespace crawld
