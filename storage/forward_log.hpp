#pragma once
/// A cluster member's log of the URLs it forwarded to other members and that they acknowledged
/// (docs/cluster.md, "Forwarding and acknowledgement"), kept in the job's store so that its memory
/// does not grow with the URLs forwarded: when a member dies its log is read back in bounded
/// chunks and routed again; when it leaves after a complete hand-over its log is dropped.
///
/// Layout: in the store's `meta` column family, key "fwdlog" '\0' target '\0' seq (8 bytes
/// big-endian) -> host_key '\0' encode_entry (storage/frontier.hpp). Member names never contain '\0', so one
/// target's entries are contiguous and in append order. Nothing else reads those keys.
///
/// Durability: appends are written at once (WAL on, no fsync). The log only matters while its
/// owner lives (a member that crashes is handled as a death by the others), so opening a log
/// drops what an earlier process left.
///
/// Thread-safety: none; one owner (the job's queue actor, detached) uses it. Errors name the store.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "storage/frontier.hpp"
#include "storage/store.hpp"

namespace crawld::storage {

class forward_log {
 public:
  /// Opens the log in `db`, dropping entries an earlier process left. The log does not keep the
  /// store open (weak reference): its owner closes it; calls after that fail.
  static result<std::unique_ptr<forward_log>> open(std::shared_ptr<store> db);

  /// Appends `entries` (their seq is ignored) to `target`'s log, in one write.
  result<void> append(const std::string& target, const std::vector<frontier_entry>& entries);

  struct chunk {
    std::vector<frontier_entry> entries;  ///< in append order; empty: nothing after `after`
    std::uint64_t last = 0;               ///< position of the last entry: the next `after`
  };
  /// Up to `max` entries of `target`'s log after position `after` (0: from the first).
  result<chunk> read(const std::string& target, std::uint64_t after, std::size_t max) const;
  /// Removes `target`'s whole log.
  result<void> drop(const std::string& target);
  /// Entries appended to `target` by this process and not dropped.
  std::uint64_t size(const std::string& target) const;

 private:
  explicit forward_log(const std::shared_ptr<store>& db) : db_(db) {}
  result<std::shared_ptr<store>> db() const;
  std::weak_ptr<store> db_;
  std::map<std::string, std::uint64_t> next_;   // target -> next position
  std::map<std::string, std::uint64_t> count_;  // target -> entries held
};

}  // namespace crawld::storage
