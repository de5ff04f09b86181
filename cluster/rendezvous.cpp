#include "cluster/rendezvous.hpp"

#include <algorithm>

namespace crawld::cluster {

namespace {

std::uint64_t mix(std::uint64_t z) {
  // splitmix64 finaliser: full avalanche, so nearby inputs give unrelated weights.
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

std::uint64_t hash_string(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return mix(h);
}

std::uint64_t weight(std::uint64_t node_hash, std::uint64_t host_hash) {
  return mix(node_hash ^ mix(host_hash));
}

bool rendezvous::add(std::string id) {
  auto it = std::lower_bound(nodes_.begin(), nodes_.end(), id,
                             [](const node& n, const std::string& k) { return n.id < k; });
  if (it != nodes_.end() && it->id == id)
    return false;
  auto h = hash_string(id);
  nodes_.insert(it, node{std::move(id), h});
  return true;
}

bool rendezvous::remove(std::string_view id) {
  auto it = std::find_if(nodes_.begin(), nodes_.end(), [&](const node& n) { return n.id == id; });
  if (it == nodes_.end())
    return false;
  nodes_.erase(it);
  return true;
}

bool rendezvous::contains(std::string_view id) const {
  return std::any_of(nodes_.begin(), nodes_.end(), [&](const node& n) { return n.id == id; });
}

std::vector<std::string> rendezvous::nodes() const {
  std::vector<std::string> out;
  out.reserve(nodes_.size());
  for (const auto& n : nodes_)
    out.push_back(n.id);
  return out;
}

const std::string& rendezvous::owner(std::string_view host_key) const {
  return owner_of_hash(hash_string(host_key));
}

const std::string& rendezvous::owner_of_hash(std::uint64_t host_hash) const {
  const node* best = nullptr;
  std::uint64_t best_w = 0;
  for (const auto& n : nodes_) {  // ascending ids: a tie keeps the smaller id
    auto w = weight(n.hash, host_hash);
    if (!best || w > best_w) {
      best = &n;
      best_w = w;
    }
  }
  return best ? best->id : none_;
}

}  // namespace crawld::cluster
