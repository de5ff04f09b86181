#pragma once
/// The crawl frontier and seen-set, kept in the crawl store's RocksDB column families so that
/// memory does not grow with the number of URLs known, and so that a crawl can resume.
///
/// Layout (docs/architecture.md, "Frontier and seen-set"):
/// - `seen`:     request key -> "" for every request ever admitted (the seen-set). The key is the
///               normalized URL for a plain GET, and request_key(url, request) (storage/page.hpp)
///               for a seed request with a method and body, so those are deduplicated apart. In front of it
///               an in-memory blocked Bloom filter of fixed size (`bloom_urls` x 10 bits, 7 hashes in
///               one 512-bit block per key; filled
///               from `seen` at open) answers "new" for most new URLs without touching RocksDB;
///               a "maybe" goes to a fixed-size cache of keys known to be seen (128-bit
///               fingerprints, 4-way set-associative, `seen_cache_slots` x 16 bytes: a link to a page already
///               seen, the common case, is answered without a Get), then to the URLs added since
///               the last commit, then a RocksDB Get. Past `bloom_urls` URLs the filter's false
///               positives grow (more Gets), never its memory.
/// - `frontier`: host_key '\0' seq(8 bytes big-endian) -> entry, for every admitted URL not yet
///               finished. Keys sort by host then admission order, so a host's URLs come back FIFO.
/// - `hosts`:    host_key -> next seq and admitted count (for max_pages_per_host after a resume).
/// - `meta`:     `frontier_taken` (URLs taken out of the frontier so far, for max_pages) and
///               `frontier_known` (URLs ever admitted).
///
/// Memory: per host a window of at most `window` entries is held; the rest stay on disk and are
/// read back in batches when the window runs dry. Entries admitted since the last commit that did
/// not fit a window are also kept (as staged) until that commit's batch is written, so a window
/// refills from them without writing the batch first (at most `batch_ops` entries). Per host a
/// few counters are kept for every host that was ever admitted a URL in this process or has
/// entries on disk.
///
/// Durability: writes go to a pending WriteBatch, written by `commit` (WAL on, not fsynced) or
/// handed by `commit_in_background` to a writer thread (storage/batch_writer.hpp). A
/// finished URL's page record, the admission of its outlinks (seen + frontier puts) and its own
/// removal from the frontier are in the same batch, so the store is always a consistent cut: after
/// a process crash (kill -9) everything committed is there, and everything after the last commit
/// is as if it never happened (those URLs are still in the frontier and get fetched again).
/// `sync` fsyncs the WAL (power loss keeps what was committed before it). Batches are written in
/// the order committed, one at a time; reads (`known`, window refills) see a batch in flight
/// as committed whether or not its write has finished.
///
/// Thread-safety: none; one owner (the queue actor, detached) uses it. Its writer thread touches
/// only the batch in flight.
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/result.hpp"
#include "storage/page.hpp"
#include "storage/store.hpp"

namespace rocksdb {
class WriteBatch;
}

namespace crawld::storage {

class batch_writer;

struct frontier_entry {
  std::string url;       ///< normalized
  std::string host_key;  ///< scheme://host:port
  std::int32_t depth = 0;
  std::vector<std::string> chain;  ///< URLs that redirected here
  std::uint8_t kind = 0;           ///< actors::task_kind
  std::uint64_t seq = 0;           ///< position within the host; 0 = not in the frontier
  std::uint8_t attempt = 0;        ///< retries so far (memory only: a resumed crawl starts over)
  std::string request{};           ///< encoded request spec (base/request.hpp); "" = plain GET
};

struct frontier_config {
  std::size_t window = 64;        ///< entries per host held in memory
  std::size_t batch_ops = 8192;   ///< `add`/`finish` commit on their own past this many writes
  bool store_pages = true;        ///< false: page records given to `finish` are dropped
  std::uint64_t bloom_urls = 8'000'000;  ///< seen-set filter sized for this many URLs (10 MB)
  std::size_t seen_cache_slots = 1u << 18;  ///< seen-key fingerprints cached (16 bytes each; 0 = none)
};

class frontier {
 public:
  /// Opens over `db` (kept alive by the frontier): scans the frontier's keys once to count each
  /// host's pending entries (a resumed crawl) and reads the counters. Errors name the store.
  static result<std::unique_ptr<frontier>> open(std::shared_ptr<store> db, frontier_config cfg = {});
  ~frontier();
  frontier(const frontier&) = delete;
  frontier& operator=(const frontier&) = delete;

  /// Whether the request with seen key `key` (a normalized URL for a plain GET, else
  /// request_key(url, request)) was ever admitted (this run or an earlier one on the same store).
  result<bool> known(const std::string& key);
  /// Admits `e` (its seq is assigned) unless its request key is known: returns false then. Marks it seen
  /// and queues it last on its host.
  result<bool> add(frontier_entry e);
  /// Removes and returns the first entry of `host`'s queue (reading from disk when its window is
  /// empty); nullopt when the host has none. The entry stays on disk until `finish`.
  result<std::optional<frontier_entry>> pop(const std::string& host);
  /// Puts a popped entry back first in its host's queue (a retry); memory only.
  void push_front(frontier_entry e);
  /// Finishes a popped entry: removes it from the frontier and, in the same batch, stores `rec`
  /// (when given and store_pages). `admitted` outlinks added before this call and after the last
  /// commit go in the same batch.
  result<void> finish(const frontier_entry& e, const page_record* rec);
  /// Cluster hand-over (docs/cluster.md): removes a popped and finished entry's request key from
  /// the seen-set (in the pending batch), so the same request is admitted again by a later
  /// `add` after the next `commit` (until then `known` may still answer true). For URLs handed
  /// to another member that may die before fetching them. The Bloom filter keeps its bits (a
  /// later `known` costs a RocksDB Get, never a wrong answer); the seen cache drops the key.
  void forget(const frontier_entry& e);
  /// Cluster hand-over: marks request key `key` seen without queueing it (a page a leaving member
  /// fetched, so that this member does not fetch it again). Returns false when it was known.
  result<bool> mark_seen(const std::string& key);
  /// Keys of the stored page records (a normalized URL, or request_key for a seed request) after
  /// `after` in key order ("" = from the first), at most `max`: read in bounded chunks by a
  /// leaving member. Commits the pending batch first.
  result<std::vector<std::string>> page_keys(const std::string& after, std::size_t max);
  /// Puts meta `key` = `value` into the pending batch: written by the next commit, atomically
  /// with the page records and frontier changes staged before it (the job's cookie jar goes this
  /// way, so a finished page is never on disk without the cookies its response set).
  void stage_meta(const std::string& key, const std::string& value);
  /// Writes the pending batch (no fsync), after any batch in flight: everything committed so far
  /// is in RocksDB when it returns.
  result<void> commit();
  /// Hands the pending batch to the writer thread and returns without waiting for its write
  /// (it waits for the previous background batch first). A failed write is returned by the
  /// next commit of either kind, and the store is marked failed (store::mark_failed) as soon as
  /// it happens.
  result<void> commit_in_background();
  /// Commits and fsyncs the WAL.
  result<void> sync();

  /// Entries of `host` not yet popped (window + disk).
  std::uint64_t pending(const std::string& host) const;
  /// Entries not yet popped, all hosts.
  std::uint64_t pending_total() const { return pending_total_; }
  /// Hosts with pending entries (at open: from the disk scan).
  std::vector<std::string> hosts_with_work() const;
  /// URLs admitted to `host` ever (this store).
  std::uint64_t admitted(const std::string& host) const;
  /// URLs ever admitted (the seen-set's size).
  std::uint64_t known_total() const { return known_; }
  /// RocksDB Gets on `seen` so far: "maybe" answers that neither cache could settle.
  std::uint64_t seen_lookups() const { return seen_lookups_; }
  /// URLs popped and finished ever, counted by `count_taken` (max_pages across resumes).
  std::uint64_t taken() const { return taken_; }
  void count_taken(std::int64_t delta);
  /// Entries in memory windows (for tests and the RSS benchmark).
  std::size_t in_memory() const;
  /// Batches written so far (`commit`s that had something to write, whoever called them).
  std::uint64_t writes() const { return writes_; }
  /// Bytes held in memory by the seen-set filter and the per-host windows (estimated).
  std::uint64_t memory_bytes() const;
  /// The store it writes to (the cluster's forward log shares it).
  std::shared_ptr<store> db() const { return db_; }
  /// The store's RocksDB memory (store::memory_usage).
  store::memory store_memory() const { return db_->memory_usage(); }

 private:
  struct host_state {
    std::deque<frontier_entry> window;
    std::uint64_t next_seq = 1;   // seq given to the next add
    std::uint64_t read_seq = 1;   // disk entries at or after this seq are not in the window
    std::uint64_t on_disk = 0;    // entries not in the window (committed, or staged)
    std::deque<frontier_entry> staged;  // the part of on_disk not written yet, in seq order
    std::uint64_t admitted = 0;
    bool dirty = false;           // hosts row to write at the next commit
  };

  frontier() = default;
  result<void> refill(const std::string& key, host_state& h);
  result<void> refill_committed(const std::string& key, host_state& h);
  result<void> maybe_commit();
  void stage_counters();  // hosts rows and counters into the pending batch
  result<void> submit();  // hands the pending batch over; the previous one must be settled
  void settle();          // after a wait: the batch in flight is on disk (or failed)
  result<void> written(result<void> r) const;  // a writer's error, naming the store

  std::shared_ptr<store> db_;
  frontier_config cfg_;
  std::unordered_map<std::string, host_state> hosts_;
  std::unique_ptr<rocksdb::WriteBatch> batch_;
  std::size_t batch_ops_ = 0;
  std::unordered_set<std::string> batch_seen_;  // URLs admitted since the last commit
  std::unordered_set<std::string> inflight_seen_;  // URLs admitted in the batch in flight
  // Per host, the last seq admitted in the batch in flight: its staged entries up to it leave
  // `staged` once that batch is written.
  std::vector<std::pair<std::string, std::uint64_t>> inflight_hosts_;
  struct alignas(64) bloom_block {  // one cache line: all of a key's bits are in one block
    std::uint64_t w[8];
  };
  std::vector<bloom_block> bloom_;              // seen-set filter, fixed size
  using fingerprint = std::pair<std::uint64_t, std::uint64_t>;
  std::vector<fingerprint> seen_cache_;         // fingerprints of keys known seen; {0,0} = empty
  bool bloom_maybe(const fingerprint& h) const;
  void bloom_add(const fingerprint& h);
  result<bool> known(const std::string& key, const fingerprint& h);  // h = url_hashes(key)
  std::size_t seen_set(const fingerprint& h) const;  // index of the first slot of h's set
  bool cached_seen(const fingerprint& h) const;
  void cache_seen(const fingerprint& h);
  void uncache_seen(const fingerprint& h);
  std::uint64_t pending_total_ = 0;
  std::uint64_t known_ = 0, taken_ = 0, seen_lookups_ = 0, writes_ = 0;
  bool counters_dirty_ = false;
  std::vector<std::string> dirty_hosts_;  // hosts whose row changed since the last commit
  std::unique_ptr<batch_writer> writer_;  // after db_: stopped before the store is let go
};

/// Encoding of a frontier value (exposed for tests). decode rejects truncated bytes. Version 1
/// (url, depth, kind, chain) is written for plain GETs, so such stores stay readable by older
/// crawld; version 2 appends the request spec. decode reads both.
std::string encode_entry(const frontier_entry& e);
result<frontier_entry> decode_entry(std::string_view bytes);

}  // namespace crawld::storage
