// TLS between members (caf::openssl): a coordinator and a node with certificates signed by one
// CA (made here with the openssl command line) crawl together; a node without TLS cannot join,
// and its failed attempt before a job does not cost the cluster a member.
#include <cstdlib>

#include "tests/cluster/cluster_helpers.hpp"

namespace crawld {
namespace {

using namespace test;

bool sh(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0; }

TEST(cluster, members_talk_tls_and_a_node_without_tls_cannot_join_nor_disturb_them) {
  if (!sh("command -v openssl"))
    GTEST_SKIP() << "openssl (Debian package openssl) not installed";
  temp_dir dir;
  auto d = std::string(dir / "");
  ASSERT_TRUE(sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + d + "ca.key -out " + d +
                 "ca.pem -days 2 -subj /CN=crawld-test-ca"));
  ASSERT_TRUE(sh("openssl req -newkey rsa:2048 -nodes -keyout " + d + "member.key -out " + d +
                 "member.csr -subj /CN=127.0.0.1"));
  ASSERT_TRUE(sh("openssl x509 -req -in " + d + "member.csr -CA " + d + "ca.pem -CAkey " + d +
                 "ca.key -CAcreateserial -out " + d + "member.pem -days 2"));
  std::vector<std::string> tls = {"--cluster-cert", d + "member.pem", "--cluster-key", d + "member.key",
                                  "--cluster-ca", d + "ca.pem"};
  auto site = start_site(3, 20);
  ASSERT_TRUE(site);
  write_text(dir / "secret", "tls-test-secret\n");
  coordinator_process coord(dir, 31802, 31803, dir / "secret", tls);
  node_process n1(dir, "n1", coord.join_address(), dir / "secret", tls);
  ASSERT_TRUE(eventually([&] { return coord.members() == 2; }, 20s)) << "the TLS node did not join";
  // A node without TLS fails its handshake, before the job: that failure must not disturb the
  // members' connections later (CAF 0.17 left it in OpenSSL's error queue: actors/cluster_tls_shim.cpp).
  node_process plain(dir, "plain", coord.join_address(), dir / "secret");
  auto r = plain.proc().wait(30s);
  EXPECT_EQ(r.exit_code, 1) << "a node without TLS: " << r.err;
  EXPECT_EQ(coord.members(), 2u) << "n1's log:\n" << read_text(dir / "n1.log");

  auto sub = coord.post("/v1/jobs", "{\"crawl\": {\"seeds\": [\"" + site->model().origin(0) + "/\", \"" +
                                        site->model().origin(1) + "/\", \"" + site->model().origin(2) + "/\"]}}");
  ASSERT_TRUE(sub);
  ASSERT_EQ(sub->status, 201) << sub->body;
  ASSERT_TRUE(eventually([&] { return text_field(coord.get_json("/v1/jobs/1"), "state") == "finished"; }, 60s));
  // URLs crossed between the members over TLS (every member admits every seed and forwards
  // those of hosts it does not own), and every batch was acknowledged.
  std::uint64_t forwarded = 0, acked = 0;
  auto cl = coord.get_json("/v1/cluster");
  for (const auto& m : cl.find("members")->items) {
    forwarded += field(m, "forwarded");
    acked += field(m, "acked");
  }
  EXPECT_EQ(coord.members(), 2u) << "a member was lost; n1's log:\n" << read_text(dir / "n1.log")
                                 << "coordinator's log:\n" << read_text(dir / "coord.log");
  EXPECT_GT(forwarded, 0u);
  EXPECT_EQ(forwarded, acked);
  std::set<std::string> members;
  for (const auto& q : site->requests()) {
    auto p = q.user_agent.find("crawld-node/");
    members.insert(p == std::string::npos ? "" : q.user_agent.substr(p + 12));
  }
  EXPECT_EQ(members.count(""), 0u);
  std::printf("TLS cluster: requests from %zu members; a plain node exited %d: %s", members.size(), r.exit_code,
              r.err.c_str());
}

}  // namespace
}  // namespace crawld
