#include "storage/frontier.hpp"

#include <rocksdb/db.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <charconv>
#include <exception>
#include <utility>

#include "storage/batch_writer.hpp"

namespace crawld::storage {
namespace {

constexpr const char* meta_taken = "frontier_taken";
constexpr const char* meta_known = "frontier_known";

void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t get_u64(std::string_view in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

void put_str(std::string& out, const std::string& s) {
  put_u64(out, s.size());
  out += s;
}

bool get_str(std::string_view& in, std::string& s) {
  if (in.size() < 8)
    return false;
  auto n = get_u64(in);
  in.remove_prefix(8);
  if (n > in.size())
    return false;
  s.assign(in.data(), n);
  in.remove_prefix(n);
  return true;
}

/// host_key '\0' seq: host keys never contain '\0', so a host's keys are contiguous and ordered.
std::string entry_key(const std::string& host, std::uint64_t seq) {
  std::string k = host;
  k.push_back('\0');
  put_u64(k, seq);
  return k;
}

std::string host_value(std::uint64_t next_seq, std::uint64_t admitted) {
  std::string v;
  put_u64(v, next_seq);
  put_u64(v, admitted);
  return v;
}

std::uint64_t parse_u64(const std::optional<std::string>& s) {
  std::uint64_t v = 0;
  if (s)
    std::from_chars(s->data(), s->data() + s->size(), v);
  return v;
}

std::string quoted(const store& db) { return "store '" + db.dir() + "'"; }

constexpr int bloom_hashes = 7;

/// RocksDB counts into its thread-local perf context on every operation by default (PerfLevel
/// kEnableCount): TLS lookups in a shared library, ~1.4% of crawl CPU on the queue's thread,
/// for counters nobody reads. Off for the calling thread, once.
void disable_perf_counters() {
  thread_local bool done = false;
  if (!done) {
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
    done = true;
  }
}
constexpr std::size_t seen_cache_ways = 4;  // slots per set of the seen cache (a power of two)

/// Two independent 64-bit hashes of a URL (FNV-1a, and a multiplicative hash with another basis
/// and multiplier), each through a murmur-style finalizer: FNV's high bits hardly depend on the
/// last characters, which are where a site's URLs differ. In memory only (filter and cache).
std::pair<std::uint64_t, std::uint64_t> url_hashes(std::string_view url) {
  std::uint64_t a = 1469598103934665603ull, b = 0x9e3779b97f4a7c15ull;
  for (unsigned char c : url) {
    a = (a ^ c) * 1099511628211ull;
    b = (b ^ c) * 0xff51afd7ed558ccdull;
  }
  const auto fmix = [](std::uint64_t x) {
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 29;
    return x;
  };
  return {fmix(a), fmix(b) | 1};
}

}  // namespace

std::string encode_entry(const frontier_entry& e) {
  std::string out;
  out.push_back(e.request.empty() ? 1 : 2);  // version
  put_str(out, e.url);
  put_u64(out, static_cast<std::uint32_t>(e.depth));
  out.push_back(static_cast<char>(e.kind));
  put_u64(out, e.chain.size());
  for (const auto& c : e.chain)
    put_str(out, c);
  if (!e.request.empty())
    put_str(out, e.request);
  return out;
}

result<frontier_entry> decode_entry(std::string_view in) {
  frontier_entry e;
  auto bad = [] { return make_error("corrupt frontier entry"); };
  if (in.empty() || (in[0] != 1 && in[0] != 2))
    return bad();
  const bool with_request = in[0] == 2;
  in.remove_prefix(1);
  if (!get_str(in, e.url) || in.size() < 9)
    return bad();
  e.depth = static_cast<std::int32_t>(static_cast<std::uint32_t>(get_u64(in)));
  in.remove_prefix(8);
  e.kind = static_cast<std::uint8_t>(in[0]);
  in.remove_prefix(1);
  if (in.size() < 8)
    return bad();
  auto n = get_u64(in);
  in.remove_prefix(8);
  if (n > in.size())
    return bad();
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string c;
    if (!get_str(in, c))
      return bad();
    e.chain.push_back(std::move(c));
  }
  if (with_request && (!get_str(in, e.request) || e.request.empty()))
    return bad();
  if (!in.empty())
    return bad();
  return e;
}

result<std::unique_ptr<frontier>> frontier::open(std::shared_ptr<store> db, frontier_config cfg) try {
  if (!db || db->read_only())
    return make_error("the frontier needs a writable store");
  std::unique_ptr<frontier> f(new frontier());
  f->db_ = std::move(db);
  f->cfg_ = cfg;
  if (f->cfg_.window == 0)
    f->cfg_.window = 1;
  f->batch_ = std::make_unique<rocksdb::WriteBatch>();
  f->writer_ = std::make_unique<batch_writer>(
      f->db_->rocks(), [db = f->db_.get(), name = quoted(*f->db_)](const std::string& msg) {
        db->mark_failed(name + ": cannot write pages and frontier: " + msg);
      });
  f->bloom_.assign(std::max<std::uint64_t>(f->cfg_.bloom_urls, 1024) * 10 / 512 + 1, bloom_block{});
  if (f->cfg_.seen_cache_slots > 0) {  // a power of two, so a set is a mask away
    std::size_t n = seen_cache_ways;
    while (n < f->cfg_.seen_cache_slots)
      n <<= 1;
    f->seen_cache_.assign(n, fingerprint{0, 0});
  }
  auto* rdb = f->db_->rocks();
  // The seen-set filter, from every URL seen so far (a resumed crawl).
  {
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(rdb->NewIterator(ro, f->db_->handle(store::column::seen)));
    for (it->SeekToFirst(); it->Valid(); it->Next())
      f->bloom_add(url_hashes(std::string_view(it->key().data(), it->key().size())));
    if (!it->status().ok())
      return make_error(quoted(*f->db_) + ": cannot read the seen-set: " + it->status().ToString());
  }
  // Hosts rows: next seq and admitted count.
  {
    std::unique_ptr<rocksdb::Iterator> it(rdb->NewIterator(rocksdb::ReadOptions(), f->db_->handle(store::column::hosts)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto v = it->value();
      if (v.size() != 16)
        return make_error(quoted(*f->db_) + ": corrupt hosts row '" + it->key().ToString() + "'");
      auto& h = f->hosts_[it->key().ToString()];
      h.next_seq = get_u64(std::string_view(v.data(), 8));
      h.admitted = get_u64(std::string_view(v.data() + 8, 8));
      h.read_seq = h.next_seq;
    }
    if (!it->status().ok())
      return make_error(quoted(*f->db_) + ": cannot read hosts: " + it->status().ToString());
  }
  // Pending entries per host (keys only matter; values are read lazily by refill).
  {
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(rdb->NewIterator(ro, f->db_->handle(store::column::frontier)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto k = it->key();
      if (k.size() < 9 || k[k.size() - 9] != '\0')
        return make_error(quoted(*f->db_) + ": corrupt frontier key");
      std::string host(k.data(), k.size() - 9);
      auto seq = get_u64(std::string_view(k.data() + k.size() - 8, 8));
      auto& h = f->hosts_[host];
      if (h.on_disk == 0 || seq < h.read_seq)
        h.read_seq = seq;
      if (seq >= h.next_seq)
        h.next_seq = seq + 1;
      ++h.on_disk;
      ++f->pending_total_;
    }
    if (!it->status().ok())
      return make_error(quoted(*f->db_) + ": cannot read the frontier: " + it->status().ToString());
  }
  for (auto& [k, h] : f->hosts_)
    if (h.on_disk == 0)
      h.read_seq = h.next_seq;
  f->known_ = parse_u64(f->db_->get_meta(meta_known));
  f->taken_ = parse_u64(f->db_->get_meta(meta_taken));
  return result<std::unique_ptr<frontier>>(std::move(f));
} catch (const std::exception& e) {
  return make_error("cannot open the frontier: " + std::string(e.what()));
}

frontier::~frontier() {
  if (db_ && writer_)
    (void)commit();
}

// Blocked: h1 picks a 512-bit block (multiply-shift, no division), h2's 63 upper bits give the 7
// bit positions in it (9 bits each). One cache miss per lookup instead of 7 (perf: bloom_maybe
// was 1.2% of crawl CPU); at 10 bits per key the false-positive rate goes from ~0.8% to ~1%.
bool frontier::bloom_maybe(const fingerprint& h) const {
  const auto& b = bloom_[static_cast<std::size_t>((static_cast<unsigned __int128>(h.first) * bloom_.size()) >> 64)];
  std::uint64_t bits = h.second >> 1;
  for (int i = 0; i < bloom_hashes; ++i, bits >>= 9)
    if (!(b.w[(bits & 511) >> 6] & (1ull << (bits & 63))))
      return false;
  return true;
}

void frontier::bloom_add(const fingerprint& h) {
  auto& b = bloom_[static_cast<std::size_t>((static_cast<unsigned __int128>(h.first) * bloom_.size()) >> 64)];
  std::uint64_t bits = h.second >> 1;
  for (int i = 0; i < bloom_hashes; ++i, bits >>= 9)
    b.w[(bits & 511) >> 6] |= 1ull << (bits & 63);
}

// The cache is 4-way set-associative: a fingerprint may sit in any slot of its set, so keys
// whose sets collide evict each other only when a set is full (direct-mapped, ~20% of the keys
// of a 57k-URL crawl in 2^18 slots were evicted and cost a Get each time they were linked again).
// h2 is odd (never 0), so an empty slot {0,0} matches nothing.
std::size_t frontier::seen_set(const fingerprint& h) const {
  const std::size_t sets = seen_cache_.size() / seen_cache_ways;
  return ((h.first ^ (h.second >> 17)) & (sets - 1)) * seen_cache_ways;
}

bool frontier::cached_seen(const fingerprint& h) const {
  if (seen_cache_.empty())
    return false;
  const fingerprint* set = seen_cache_.data() + seen_set(h);
  for (std::size_t i = 0; i < seen_cache_ways; ++i)
    if (set[i] == h)
      return true;
  return false;
}

void frontier::cache_seen(const fingerprint& h) {
  if (seen_cache_.empty())
    return;
  fingerprint* set = seen_cache_.data() + seen_set(h);
  for (std::size_t i = 0; i < seen_cache_ways; ++i)
    if (set[i] == h || set[i] == fingerprint{0, 0}) {
      set[i] = h;
      return;
    }
  set[(h.second >> 3) & (seen_cache_ways - 1)] = h;  // full: a victim chosen by the new key's bits
}

void frontier::uncache_seen(const fingerprint& h) {
  if (seen_cache_.empty())
    return;
  fingerprint* set = seen_cache_.data() + seen_set(h);
  for (std::size_t i = 0; i < seen_cache_ways; ++i)
    if (set[i] == h)
      set[i] = fingerprint{0, 0};
}

result<bool> frontier::known(const std::string& key) { return known(key, url_hashes(key)); }

result<bool> frontier::known(const std::string& key, const fingerprint& h) {
  if (!bloom_maybe(h))
    return false;
  if (cached_seen(h) || batch_seen_.count(key) || inflight_seen_.count(key))
    return true;
  rocksdb::PinnableSlice v;
  disable_perf_counters();
  ++seen_lookups_;
  auto s = db_->rocks()->Get(rocksdb::ReadOptions(), db_->handle(store::column::seen), key, &v);
  if (s.IsNotFound())
    return false;
  if (!s.ok())
    return make_error(quoted(*db_) + ": cannot read the seen-set: " + s.ToString());
  cache_seen(h);
  return true;
}

result<bool> frontier::add(frontier_entry e) {
  // The seen key: the URL itself for a plain GET (no copy on the common path), else the request key.
  std::string keyed;
  if (!e.request.empty())
    keyed = request_key(e.url, e.request);
  const std::string& key = e.request.empty() ? e.url : keyed;  // used before `e` is moved below
  const auto fp = url_hashes(key);
  auto k = known(key, fp);
  if (!k)
    return k.err();
  if (*k)
    return false;
  auto& h = hosts_[e.host_key];
  e.seq = h.next_seq++;
  ++h.admitted;
  if (!h.dirty)
    dirty_hosts_.push_back(e.host_key);
  h.dirty = true;
  ++known_;
  counters_dirty_ = true;
  batch_->Put(db_->handle(store::column::seen), key, rocksdb::Slice());
  batch_->Put(db_->handle(store::column::frontier), entry_key(e.host_key, e.seq), encode_entry(e));
  batch_ops_ += 2;
  batch_seen_.insert(key);
  bloom_add(fp);
  cache_seen(fp);
  ++pending_total_;
  if (h.on_disk == 0 && h.window.size() < cfg_.window) {
    h.read_seq = e.seq + 1;
    h.window.push_back(std::move(e));
  } else {
    ++h.on_disk;
    h.staged.push_back(std::move(e));
  }
  if (auto r = maybe_commit(); !r)
    return r.err();
  return true;
}

// The committed entries come first (their seqs are lower), read from disk; then the staged ones,
// from memory: no commit on the way (perf: refills had been writing ~900 extra small batches per
// 55k-page crawl, on the path that hands URLs to fetchers).
result<void> frontier::refill(const std::string& key, host_state& h) {
  if (h.on_disk > h.staged.size())
    if (auto r = refill_committed(key, h); !r)
      return r;
  while (h.window.size() < cfg_.window && !h.staged.empty()) {
    h.read_seq = h.staged.front().seq + 1;
    h.window.push_back(std::move(h.staged.front()));
    h.staged.pop_front();
    --h.on_disk;
  }
  return {};
}

result<void> frontier::refill_committed(const std::string& key, host_state& h) {
  const std::uint64_t committed = h.on_disk - h.staged.size();
  disable_perf_counters();  // the writes have their own thread (batch_writer turns them off there)
  rocksdb::ReadOptions ro;
  std::string upper = key;
  upper.push_back('\1');
  rocksdb::Slice ub(upper);
  ro.iterate_upper_bound = &ub;
  std::unique_ptr<rocksdb::Iterator> it(db_->rocks()->NewIterator(ro, db_->handle(store::column::frontier)));
  // At most the committed entries: those of a batch in flight may be on disk already, and they
  // come from `staged`.
  const std::uint64_t max = std::min<std::uint64_t>(cfg_.window, committed);
  std::size_t n = 0;
  for (it->Seek(entry_key(key, h.read_seq)); it->Valid() && n < max; it->Next(), ++n) {
    auto k = it->key();
    auto d = decode_entry(std::string_view(it->value().data(), it->value().size()));
    if (!d)
      return make_error(quoted(*db_) + ": " + d.message() + " for host " + key);
    d->host_key = key;
    d->seq = get_u64(std::string_view(k.data() + k.size() - 8, 8));
    h.read_seq = d->seq + 1;
    h.window.push_back(std::move(*d));
  }
  if (!it->status().ok())
    return make_error(quoted(*db_) + ": cannot read the frontier: " + it->status().ToString());
  if (n == 0)  // counters disagree with the disk: trust the disk
    n = committed;
  h.on_disk -= std::min<std::uint64_t>(n, committed);
  return {};
}

result<std::optional<frontier_entry>> frontier::pop(const std::string& host) {
  auto it = hosts_.find(host);
  if (it == hosts_.end())
    return std::optional<frontier_entry>();
  auto& h = it->second;
  if (h.window.empty())
    if (auto r = refill(host, h); !r)
      return r.err();
  if (h.window.empty())
    return std::optional<frontier_entry>();
  auto e = std::move(h.window.front());
  h.window.pop_front();
  --pending_total_;
  return std::optional<frontier_entry>(std::move(e));
}

void frontier::push_front(frontier_entry e) {
  auto& h = hosts_[e.host_key];
  h.window.push_front(std::move(e));
  ++pending_total_;
}

result<void> frontier::finish(const frontier_entry& e, const page_record* rec) {
  if (e.seq != 0) {
    batch_->Delete(db_->handle(store::column::frontier), entry_key(e.host_key, e.seq));
    ++batch_ops_;
  }
  if (rec && cfg_.store_pages) {
    if (rec->url.empty())
      return make_error(quoted(*db_) + ": cannot store a page without url");
    const std::string keyed = rec->request.empty() ? std::string() : page_key(*rec);
    const rocksdb::Slice key = rec->request.empty() ? rocksdb::Slice(rec->url) : rocksdb::Slice(keyed);
    const auto parts = encode_parts(*rec);  // the body goes into the batch once, not via a string
    const rocksdb::Slice pieces[] = {parts.head, rocksdb::Slice(parts.body.data(), parts.body.size()), parts.tail};
    batch_->Put(db_->handle(store::column::pages), rocksdb::SliceParts(&key, 1), rocksdb::SliceParts(pieces, 3));
    batch_ops_ += 1 + rec->body.size() / 4096;
  }
  return maybe_commit();
}

void frontier::forget(const frontier_entry& e) {
  const std::string key = e.request.empty() ? e.url : request_key(e.url, e.request);
  batch_->Delete(db_->handle(store::column::seen), key);
  ++batch_ops_;
  batch_seen_.erase(key);
  inflight_seen_.erase(key);
  uncache_seen(url_hashes(key));  // else the seen cache would keep answering "seen"
}

result<bool> frontier::mark_seen(const std::string& key) {
  const auto fp = url_hashes(key);
  auto k = known(key, fp);
  if (!k)
    return k.err();
  if (*k)
    return false;
  ++known_;
  counters_dirty_ = true;
  batch_->Put(db_->handle(store::column::seen), key, rocksdb::Slice());
  ++batch_ops_;
  batch_seen_.insert(key);
  bloom_add(fp);
  cache_seen(fp);
  if (auto r = maybe_commit(); !r)
    return r.err();
  return true;
}

result<std::vector<std::string>> frontier::page_keys(const std::string& after, std::size_t max) {
  if (auto r = commit(); !r)
    return r.err();
  std::vector<std::string> keys;
  std::unique_ptr<rocksdb::Iterator> it(db_->rocks()->NewIterator(rocksdb::ReadOptions(), db_->handle(store::column::pages)));
  if (after.empty())
    it->SeekToFirst();
  else
    it->Seek(after);
  for (; it->Valid() && keys.size() < max; it->Next()) {
    if (!after.empty() && it->key() == rocksdb::Slice(after))
      continue;
    keys.emplace_back(it->key().data(), it->key().size());
  }
  if (!it->status().ok())
    return make_error(quoted(*db_) + ": cannot read the pages: " + it->status().ToString());
  return keys;
}

void frontier::count_taken(std::int64_t delta) {
  taken_ = static_cast<std::uint64_t>(static_cast<std::int64_t>(taken_) + delta);
  counters_dirty_ = true;
}

result<void> frontier::maybe_commit() {
  if (batch_ops_ >= cfg_.batch_ops)
    return commit_in_background();
  return {};
}

void frontier::stage_meta(const std::string& key, const std::string& value) {
  batch_->Put(db_->handle(store::column::meta), key, value);
  batch_ops_ += 1 + value.size() / 4096;
}

result<void> frontier::written(result<void> r) const {
  if (r)
    return r;
  return make_error(quoted(*db_) + ": cannot write pages and frontier: " + r.message());
}

void frontier::stage_counters() {
  for (const auto& k : dirty_hosts_) {  // not a walk over all hosts: a crawl may know millions
    auto& h = hosts_[k];
    batch_->Put(db_->handle(store::column::hosts), k, host_value(h.next_seq, h.admitted));
    h.dirty = false;
    if (!h.staged.empty())  // every add dirties its host, so this covers all staged entries
      inflight_hosts_.emplace_back(k, h.staged.back().seq);
  }
  dirty_hosts_.clear();
  if (counters_dirty_) {
    batch_->Put(db_->handle(store::column::meta), meta_known, std::to_string(known_));
    batch_->Put(db_->handle(store::column::meta), meta_taken, std::to_string(taken_));
    counters_dirty_ = false;
  }
}

result<void> frontier::submit() try {
  stage_counters();
  if (batch_->Count() == 0)
    return {};
  batch_ops_ = 0;
  batch_seen_.swap(inflight_seen_);  // inflight_seen_ was settled (empty)
  ++writes_;
  return written(writer_->submit(batch_));
} catch (const std::exception& e) {
  auto msg = quoted(*db_) + ": cannot write pages and frontier: " + e.what();
  db_->mark_failed(msg);
  return make_error(msg);
}

void frontier::settle() {
  inflight_seen_.clear();
  for (const auto& [k, last] : inflight_hosts_) {
    auto& st = hosts_[k].staged;
    while (!st.empty() && st.front().seq <= last)
      st.pop_front();
  }
  inflight_hosts_.clear();
}

result<void> frontier::commit() {
  auto r = commit_in_background();
  if (!r)
    return r;
  r = written(writer_->wait());
  settle();
  return r;
}

result<void> frontier::commit_in_background() {
  auto r = written(writer_->wait());
  settle();
  if (r)
    r = submit();
  if (!r) {  // the store is marked failed: drop what cannot be written rather than pile it up
    batch_->Clear();
    batch_ops_ = 0;
    batch_seen_.clear();
  }
  return r;
}

result<void> frontier::sync() {
  if (auto r = commit(); !r)  // after a failed write, the store's sync returns that failure
    return r;
  return db_->sync();
}

std::uint64_t frontier::pending(const std::string& host) const {
  auto it = hosts_.find(host);
  return it == hosts_.end() ? 0 : it->second.window.size() + it->second.on_disk;
}

std::vector<std::string> frontier::hosts_with_work() const {
  std::vector<std::string> out;
  for (const auto& [k, h] : hosts_)
    if (!h.window.empty() || h.on_disk > 0)
      out.push_back(k);
  return out;
}

std::uint64_t frontier::admitted(const std::string& host) const {
  auto it = hosts_.find(host);
  return it == hosts_.end() ? 0 : it->second.admitted;
}

std::uint64_t frontier::memory_bytes() const {
  std::uint64_t n = bloom_.size() * sizeof(bloom_block) + seen_cache_.size() * sizeof(fingerprint);
  for (const auto& [k, h] : hosts_) {
    n += sizeof(h) + 2 * k.size();
    for (const auto* q : {&h.window, &h.staged})
      for (const auto& e : *q)
        n += sizeof(e) + e.url.capacity() + e.host_key.capacity();
  }
  return n;
}

std::size_t frontier::in_memory() const {
  std::size_t n = 0;
  for (const auto& [k, h] : hosts_)
    n += h.window.size();
  return n;
}

}  // namespace crawld::storage
