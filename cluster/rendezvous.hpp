#pragma once
/// Rendezvous (highest-random-weight) hashing of hosts onto cluster nodes.
///
/// Every host key ("scheme://host:port") belongs to exactly one node of the current set: the node
/// whose weight(node, host) is highest (ties broken by the smaller node id). Adding a node moves
/// to it only the hosts it now wins (about 1/(n+1) of them); removing a node moves only that
/// node's hosts, each to its next-highest node. No virtual nodes, no ring state: the owner is a
/// pure function of (host, node set), so every node computes the same answer without talking.
///
/// Hashes are fixed across builds and platforms (FNV-1a 64 with a splitmix64 finaliser), because
/// nodes built separately must agree. Not cryptographic: a stranger who can choose host names can
/// skew the split, which costs balance, never correctness.
///
/// Thread-safety: a const object may be shared; mutation needs external synchronisation.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace crawld::cluster {

/// Stable 64-bit hash of `s`.
std::uint64_t hash_string(std::string_view s);

/// The weight of `host_hash` on the node whose id hashes to `node_hash`.
std::uint64_t weight(std::uint64_t node_hash, std::uint64_t host_hash);

class rendezvous {
 public:
  /// Adds a node; false if `id` is already present.
  bool add(std::string id);
  /// Removes a node; false if it was not present.
  bool remove(std::string_view id);
  bool contains(std::string_view id) const;
  std::size_t size() const { return nodes_.size(); }
  /// Node ids in ascending order.
  std::vector<std::string> nodes() const;

  /// The node owning `host_key`, or an empty string when there are no nodes. O(nodes).
  const std::string& owner(std::string_view host_key) const;
  /// Same, for a host hash computed once with hash_string (the queue keeps it per host).
  const std::string& owner_of_hash(std::uint64_t host_hash) const;

 private:
  struct node {
    std::string id;
    std::uint64_t hash;
  };
  std::vector<node> nodes_;  ///< sorted by id
  std::string none_;
};

}  // namespace crawld::cluster
