// Rendezvous hashing at cluster scale, simulated: how evenly N nodes split H hosts, and how many
// hosts move when a node joins or leaves. Prints figures; asserts nothing (see tests/cluster).
//
//   rendezvous_sim [nodes=16] [hosts=1000000]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unordered_map>
#include <vector>

#include "cluster/rendezvous.hpp"

using crawld::cluster::hash_string;
using crawld::cluster::rendezvous;

namespace {

std::vector<int> assign(const rendezvous& r, const std::vector<std::uint64_t>& hosts,
                        const std::unordered_map<std::string, int>& index) {
  std::vector<int> owner(hosts.size());
  for (std::size_t i = 0; i < hosts.size(); ++i)
    owner[i] = index.at(r.owner_of_hash(hosts[i]));
  return owner;
}

void print_balance(const char* label, const std::vector<int>& owner, int nodes) {
  std::vector<std::size_t> count(static_cast<std::size_t>(nodes), 0);
  for (int o : owner)
    ++count[static_cast<std::size_t>(o)];
  auto [mn, mx] = std::minmax_element(count.begin(), count.end());
  double mean = static_cast<double>(owner.size()) / nodes;
  std::printf("%-22s nodes=%2d  min=%zu  max=%zu  mean=%.0f  max/mean=%.4f\n", label, nodes, *mn,
              *mx, mean, *mx / mean);
}

}  // namespace

int main(int argc, char** argv) {
  int nodes = argc > 1 ? std::atoi(argv[1]) : 16;
  long hosts_n = argc > 2 ? std::atol(argv[2]) : 1000000;
  if (nodes < 1 || hosts_n < 1) {
    std::fprintf(stderr, "usage: rendezvous_sim [nodes>=1] [hosts>=1]\n");
    return 2;
  }
  std::vector<std::uint64_t> hosts(static_cast<std::size_t>(hosts_n));
  for (long i = 0; i < hosts_n; ++i)
    hosts[static_cast<std::size_t>(i)] =
      hash_string("https://host-" + std::to_string(i) + ".example:443");

  rendezvous r;
  std::unordered_map<std::string, int> index;
  for (int i = 0; i <= nodes; ++i)
    index["node-" + std::to_string(i)] = i;
  for (int i = 0; i < nodes; ++i)
    r.add("node-" + std::to_string(i));

  auto t0 = std::chrono::steady_clock::now();
  auto before = assign(r, hosts, index);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  print_balance("initial", before, nodes);
  std::printf("%-22s %.0f lookups/s (%d nodes)\n", "lookup speed", hosts_n / secs, nodes);

  r.add("node-" + std::to_string(nodes));
  auto after = assign(r, hosts, index);
  print_balance("after join", after, nodes + 1);
  long moved = 0, wrong = 0;
  for (std::size_t i = 0; i < hosts.size(); ++i)
    if (after[i] != before[i]) {
      ++moved;
      if (after[i] != nodes)
        ++wrong;  // a host moved between two old nodes: must never happen
    }
  std::printf("%-22s moved=%ld (%.4f of hosts; ideal 1/%d = %.4f), moved between old nodes=%ld\n",
              "join", moved, static_cast<double>(moved) / hosts_n, nodes + 1, 1.0 / (nodes + 1),
              wrong);

  r.remove("node-0");
  auto gone = assign(r, hosts, index);
  long moved_leave = 0, wrong_leave = 0;
  for (std::size_t i = 0; i < hosts.size(); ++i)
    if (gone[i] != after[i]) {
      ++moved_leave;
      if (after[i] != 0)
        ++wrong_leave;
    }
  std::printf("%-22s moved=%ld (%.4f of hosts), moved that node-0 did not own=%ld\n", "leave node-0",
              moved_leave, static_cast<double>(moved_leave) / hosts_n, wrong_leave);
  return wrong || wrong_leave ? 1 : 0;
}
