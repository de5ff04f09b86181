#include "cluster/rendezvous.hpp"

#include <map>
#include <string>

#include <gtest/gtest.h>

namespace crawld::cluster {
namespace {

std::string host(int i) {
  return "http://h" + std::to_string(i) + ".example:80";
}

rendezvous with_nodes(int n) {
  rendezvous r;
  for (int i = 0; i < n; ++i)
    r.add("node-" + std::to_string(i));
  return r;
}

TEST(rendezvous, empty_set_owns_nothing) {
  rendezvous r;
  EXPECT_EQ(r.owner("http://a:80"), "");
}

TEST(rendezvous, duplicate_add_and_unknown_remove_are_refused) {
  rendezvous r;
  EXPECT_TRUE(r.add("a"));
  EXPECT_FALSE(r.add("a"));
  EXPECT_FALSE(r.remove("b"));
  EXPECT_TRUE(r.remove("a"));
  EXPECT_EQ(r.size(), 0u);
}

TEST(rendezvous, owner_does_not_depend_on_insertion_order) {
  rendezvous a, b;
  for (auto id : {"n1", "n2", "n3", "n4"})
    a.add(id);
  for (auto id : {"n4", "n2", "n1", "n3"})
    b.add(id);
  for (int i = 0; i < 2000; ++i)
    ASSERT_EQ(a.owner(host(i)), b.owner(host(i))) << host(i);
}

TEST(rendezvous, hashes_are_stable_across_builds) {
  // Nodes built separately must agree; these values pin the hash function.
  EXPECT_EQ(hash_string("example.com"), 0x559608f2ba07d7bfULL);
  EXPECT_NE(hash_string("a"), hash_string("b"));
  EXPECT_EQ(hash_string("http://127.0.0.10:8080"), hash_string(std::string("http://127.0.0.10:8080")));
}

TEST(rendezvous, adding_a_node_moves_hosts_only_to_it) {
  auto r = with_nodes(8);
  std::map<int, std::string> before;
  for (int i = 0; i < 20000; ++i)
    before[i] = r.owner(host(i));
  r.add("node-new");
  int moved = 0;
  for (auto& [i, o] : before) {
    auto now = r.owner(host(i));
    if (now != o) {
      ASSERT_EQ(now, "node-new");
      ++moved;
    }
  }
  // Expect about 1/9 of the hosts (2222); allow generous statistical slack.
  EXPECT_GT(moved, 1900);
  EXPECT_LT(moved, 2550);
}

TEST(rendezvous, removing_a_node_moves_only_its_hosts) {
  auto r = with_nodes(8);
  std::map<int, std::string> before;
  for (int i = 0; i < 20000; ++i)
    before[i] = r.owner(host(i));
  r.remove("node-3");
  for (auto& [i, o] : before) {
    auto now = r.owner(host(i));
    if (o == "node-3")
      EXPECT_NE(now, "node-3");
    else
      ASSERT_EQ(now, o) << host(i);
  }
}

TEST(rendezvous, hosts_spread_evenly) {
  auto r = with_nodes(16);
  std::map<std::string, int> count;
  const int hosts = 160000;
  for (int i = 0; i < hosts; ++i)
    ++count[r.owner(host(i))];
  ASSERT_EQ(count.size(), 16u);
  int max = 0;
  for (auto& [n, c] : count)
    max = std::max(max, c);
  EXPECT_LE(max, hosts / 16 * 1.05);  // sigma is ~0.8% of the mean here
}

}  // namespace
}  // namespace crawld::cluster
