#include "storage/store.hpp"

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdarg>
#include <cstring>
#include <exception>
#include <filesystem>
#include <system_error>

#include "storage/crc32c_shim.hpp"

namespace crawld::storage {
namespace {

namespace fs = std::filesystem;

// Index into store::cfs_.
enum cf_index : std::size_t { cf_pages, cf_frontier, cf_seen, cf_hosts, cf_meta, cf_count };
const char* const cf_names[cf_count] = {"pages", "frontier", "seen", "hosts", "meta"};

constexpr const char* meta_format_key = "format_version";
constexpr const char* meta_created_key = "created_at";

/// Discards RocksDB's info log. Used by read-only opens: creating a logger in the store
/// directory would rotate the running writer's LOG file out from under it.
class null_logger : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char*, va_list) override {}
  void Logv(const rocksdb::InfoLogLevel, const char*, va_list) override {}
};

// RocksDB options, chosen for a crawler that must stay under ~150 MB RSS in total on a small
// machine that also needs file descriptors for sockets:
// - max_open_files 256 (open_options) for the writer: table readers are bounded; the rest of the fd budget
//   is for sockets. Read-only opens keep all files open instead (see make_db_options).
// - db_write_buffer_size 40 MB caps all memtables together; `pages` gets a 16 MB write buffer
//   (bodies are large, fewer and larger L0 files), the small CFs 4 MB.
// - one 8 MB LRU block cache per store, shared by all CFs, with index and filter blocks charged
//   to it so they do not grow unbounded beside it; full scans do not fill it (fill_cache=false).
// - LZ4 for every CF except meta and the unused default: cheap on CPU, and `pages` holds HTML
//   that compresses well.
//   16 KB blocks for `pages` compress better; point lookups (`seen`, `get_page`) get a
//   10 bits/key Bloom filter.
// - `pages` keeps records of 2 KB or more in blob files (RocksDB's integrated BlobDB), bodies
//   LZ4-compressed before they reach the store (see make_cf_options). Measured on the 16-host
//   synthetic web (bench/run.sh corpus, 55k pages): crawl CPU -14% to -18%, LZ4 recompression in
//   compactions having been the largest user-space cost.
// - WAL on, no sync per batch: each write reaches the OS, so a process crash loses nothing and
//   a machine crash loses at most what came after the last `sync()` (fsync of the WAL, called
//   at checkpoints); the crawl re-fetches those pages. max_total_wal_size 64 MB forces flushes of
//   rarely written CFs so their old WAL files can be deleted.
// - 2 background jobs: the machine has 2 cores.
// - info LOG limited to 4 files of 4 MB.
constexpr std::size_t block_cache_bytes = 8u << 20;

rocksdb::DBOptions make_db_options(bool read_only, int max_open_files) {
  rocksdb::DBOptions o;
  o.max_open_files = max_open_files;
  o.max_background_jobs = 2;
  o.db_write_buffer_size = 40u << 20;
  o.max_total_wal_size = 64u << 20;
  o.allow_concurrent_memtable_write = false;  // `pages` has a vector memtable (make_cf_options)
  o.keep_log_file_num = 4;
  o.max_log_file_size = 4u << 20;
  if (read_only) {
    o.info_log = std::make_shared<null_logger>();
    // Open every table file up front and keep it open: the writer beside us may compact and
    // delete files mid-scan, and an open descriptor keeps a deleted file readable. A reader is
    // short-lived (`crawld stats`), so the extra descriptors are affordable there.
    o.max_open_files = -1;
  }
  return o;
}

rocksdb::CompressionType fast_compression() {
  const auto supported = rocksdb::GetSupportedCompressions();
  const bool lz4 =
      std::find(supported.begin(), supported.end(), rocksdb::kLZ4Compression) != supported.end();
  return lz4 ? rocksdb::kLZ4Compression : rocksdb::kNoCompression;
}

/// The host part of a `frontier` key (host_key '\0' seq), NUL included. Used only as the memtable's
/// insert-hint prefix: a batch's inserts for one host land next to each other (new URLs at the
/// end of the host's range), so the skiplist starts from the last insert of that host instead of
/// its top level.
class frontier_host_prefix : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "crawld.frontier_host_prefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    const void* nul = std::memchr(key.data(), '\0', key.size());
    const std::size_t n = nul ? static_cast<std::size_t>(static_cast<const char*>(nul) - key.data()) + 1 : key.size();
    return rocksdb::Slice(key.data(), n);
  }
  bool InDomain(const rocksdb::Slice&) const override { return true; }
};

rocksdb::ColumnFamilyOptions make_cf_options(const std::string& name,
                                             const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions o;
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = cache;
  t.cache_index_and_filter_blocks = true;
  t.pin_l0_filter_and_index_blocks_in_cache = true;
  o.max_write_buffer_number = 2;
  if (name == "meta" || name == rocksdb::kDefaultColumnFamilyName) {  // small, rarely written
    o.write_buffer_size = 1u << 20;
    o.compression = rocksdb::kNoCompression;
  } else {
    o.write_buffer_size = name == "pages" ? 16u << 20 : 4u << 20;
    o.compression = fast_compression();
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    if (name == "frontier")
      o.memtable_insert_with_hint_prefix_extractor = std::make_shared<frontier_host_prefix>();
    if (name == "pages") {
      t.block_size = 16u << 10;
      // Bodies go to blob files; compactions then move only keys and small blob references
      // instead of decompressing and recompressing every body per level. The blobs are not
      // compressed again: the parsers LZ4 the bodies (page.hpp compress_body), so the WAL, the
      // memtable and the flush carry ~2.3x fewer bytes and the one writer thread does not
      // compress (A/B on the 16x2000 web: crawl CPU -10%, store 262 MB vs 246 MB).
      o.enable_blob_files = true;
      o.min_blob_size = 2048;
      o.blob_file_size = 64u << 20;
      o.blob_compression_type = rocksdb::kNoCompression;
      // A vector memtable: records are appended and sorted once, when the memtable is flushed.
      // Nothing reads `pages` during a crawl but a cluster hand-over's key scan and the odd
      // get_page (each of those then sorts a copy, ~2,000 records). The skiplist cost ~13,500
      // instructions per record (callgrind: whole 16x300 crawl 3.07G -> 2.98G instructions).
      o.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
    }
  }
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  // Memtable arena blocks below glibc's mmap threshold (256 KiB, actors/malloc_tuning.cpp): at the
  // default (1/8 of the write buffer, 2 MB for `pages`) every block was a fresh mmap, so every
  // body written paid page faults and zeroing; from the heap, blocks reuse freed memory. A/B on
  // the 16x2000 web: system CPU 3.3-3.8 -> 2.4-2.8 s per crawl, RSS the same.
  o.arena_block_size = 128u << 10;
  return o;
}

std::string in_quotes(const std::string& dir) {
  return "'" + dir + "'";
}

/// "store 'DIR': what", the form of every error after a successful open.
error store_error(const std::string& dir, const std::string& what) {
  return make_error("store " + in_quotes(dir) + ": " + what);
}

bool is_lock_conflict(const rocksdb::Status& s) {
  if (!s.IsIOError()) return false;
  const std::string m = s.ToString();
  // "While open a file for lock: ...: Permission denied" is an access problem, not a conflict.
  return m.find("lock") != std::string::npos && m.find("open a file for lock") == std::string::npos;
}

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

/// scheme://host[:port] of a URL: everything before the first '/', '?' or '#' after "://".
std::string origin_of(const std::string& url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return "(no host)";
  return url.substr(0, url.find_first_of("/?#", scheme_end + 3));
}

rocksdb::ReadOptions scan_options() {
  rocksdb::ReadOptions r;
  r.fill_cache = false;  // a full scan would evict the working set of the crawl
  return r;
}

/// Opens `dir` read-only (its column families `cfs`, nothing written) and checks meta
/// `format_version`: an error when absent, garbled or newer than this crawld's.
result<void> read_format_version(const std::string& dir, const std::vector<std::string>& cfs) {
  const std::string q = in_quotes(dir);
  rocksdb::DBOptions o = make_db_options(true, -1);
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (const auto& name : cfs) descs.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s = rocksdb::DB::OpenForReadOnly(o, dir, descs, &handles, &raw);
  if (!s.ok()) return make_error("cannot open store " + q + ": " + s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string version;
  rocksdb::Status gs = rocksdb::Status::NotFound();
  for (std::size_t i = 0; i < cfs.size(); ++i)
    if (cfs[i] == "meta") gs = db->Get(rocksdb::ReadOptions(), handles[i], meta_format_key, &version);
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  if (gs.IsNotFound()) return make_error(q + " is not a crawld store (no format_version in meta)");
  if (!gs.ok()) return make_error("cannot open store " + q + ": " + gs.ToString());
  int v = 0;
  const auto [end, perr] = std::from_chars(version.data(), version.data() + version.size(), v);
  if (perr != std::errc() || end != version.data() + version.size() || v < 1)
    return make_error("cannot open store " + q + ": invalid format_version '" + version + "'");
  if (v > format_version)
    return make_error("cannot open store " + q + ": store format " + std::to_string(v) +
                      " is newer than this crawld supports (" + std::to_string(format_version) +
                      ")");
  return {};
}

}  // namespace

result<std::unique_ptr<store>> store::open(const std::string& dir, open_options opts) try {
  if (dir.empty()) return make_error("no store directory given");
  (void)crc32c_shim_linked();  // the reference links the hardware CRC32C into every binary
  const std::string q = in_quotes(dir);
  const bool may_create = opts.create && !opts.read_only;

  // Decide between "create a new store" and "open an existing one" before RocksDB touches
  // anything, so a foreign directory is never modified.
  bool fresh = false;
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (st.type() == fs::file_type::not_found) {
    if (!may_create) return make_error("no crawl store at " + q);
    fs::create_directories(dir, ec);
    if (ec) return make_error("cannot create store directory " + q + ": " + ec.message());
    fresh = true;
  } else if (ec) {
    return make_error("cannot open store " + q + ": " + ec.message());
  } else if (!fs::is_directory(st)) {
    return make_error(q + " is not a crawld store (not a directory)");
  } else if (!fs::exists(fs::path(dir) / "CURRENT", ec)) {
    if (ec) return make_error("cannot open store " + q + ": " + ec.message());
    const bool empty = fs::is_empty(dir, ec);
    if (ec) return make_error("cannot read store directory " + q + ": " + ec.message());
    if (!empty) return make_error(q + " is not a crawld store (no CURRENT file)");
    if (!may_create) return make_error("no crawl store at " + q);
    fresh = true;
  }

  rocksdb::DBOptions db_opts = make_db_options(opts.read_only, opts.max_open_files);
  std::vector<std::string> existing;
  if (!fresh) {
    const rocksdb::Status s = rocksdb::DB::ListColumnFamilies(db_opts, dir, &existing);
    if (!s.ok()) return make_error("cannot open store " + q + ": " + s.ToString());
    if (std::find(existing.begin(), existing.end(), "meta") == existing.end())
      return make_error(q + " is not a crawld store (no format_version in meta)");
  }
  if (!fresh && !opts.read_only) {
    // A read-write open replays the WAL and writes a new MANIFEST and OPTIONS file before the
    // format check below could refuse the store: check the format read-only first, so a store
    // of a newer crawld is left exactly as it was.
    if (auto v = read_format_version(dir, existing); !v) return v.err();
  }
  const auto exists_already = [&](const std::string& name) {
    return std::find(existing.begin(), existing.end(), name) != existing.end();
  };

  // Descriptors: default, our CFs, then (read-write only) any CF a newer crawld added, since a
  // read-write open must name them all. Such a store carries a newer format_version, which the
  // check below refuses.
  const auto cache = rocksdb::NewLRUCache(block_cache_bytes);
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  descs.emplace_back(rocksdb::kDefaultColumnFamilyName,
                     make_cf_options(rocksdb::kDefaultColumnFamilyName, cache));
  for (const char* name : cf_names) {
    if (opts.read_only && !exists_already(name))
      return make_error(q + " is not a crawld store (no column family '" + name + "')");
    descs.emplace_back(name, make_cf_options(name, cache));
  }
  if (!opts.read_only) {
    for (const auto& name : existing) {
      const bool known =
          name == rocksdb::kDefaultColumnFamilyName ||
          std::find(std::begin(cf_names), std::end(cf_names), name) != std::end(cf_names);
      if (!known) descs.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
  }

  db_opts.create_if_missing = fresh;
  db_opts.create_missing_column_families = !opts.read_only;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s = opts.read_only
                                ? rocksdb::DB::OpenForReadOnly(db_opts, dir, descs, &handles, &raw)
                                : rocksdb::DB::Open(db_opts, dir, descs, &handles, &raw);
  if (!s.ok()) {
    if (!opts.read_only && is_lock_conflict(s))
      return make_error("store " + q + " is locked by another crawld process");
    return make_error("cannot open store " + q + ": " + s.ToString());
  }

  std::unique_ptr<store> out(new store());
  out->dir_ = dir;
  out->read_only_ = opts.read_only;
  out->db_.reset(raw);
  // Keep our five handles; release the rest now (their CFs stay open inside the DB).
  out->cfs_.assign(handles.begin() + 1, handles.begin() + 1 + cf_count);
  raw->DestroyColumnFamilyHandle(handles[0]);
  for (std::size_t i = 1 + cf_count; i < handles.size(); ++i)
    raw->DestroyColumnFamilyHandle(handles[i]);

  rocksdb::ColumnFamilyHandle* meta = out->cfs_[cf_meta];
  // A new store: its format version and creation time, synced before anything else is written.
  const auto initialize = [&]() -> result<std::unique_ptr<store>> {
    rocksdb::WriteBatch batch;
    batch.Put(meta, meta_format_key, std::to_string(format_version));
    batch.Put(meta, meta_created_key, std::to_string(now_ms()));
    rocksdb::WriteOptions w;
    w.sync = true;
    const rocksdb::Status ws = raw->Write(w, &batch);
    if (!ws.ok()) return make_error("cannot initialize store " + q + ": " + ws.ToString());
    return result<std::unique_ptr<store>>(std::move(out));
  };
  if (fresh) return initialize();

  std::string version;
  const rocksdb::Status gs = raw->Get(rocksdb::ReadOptions(), meta, meta_format_key, &version);
  if (gs.IsNotFound()) {
    // A creation killed between RocksDB creating the column families and our first write leaves
    // them (and default) all empty: that is an empty crawld store (initialized now unless read-only), not a
    // foreign database.
    const auto empty_cf = [&](rocksdb::ColumnFamilyHandle* h) {
      std::unique_ptr<rocksdb::Iterator> it(raw->NewIterator(rocksdb::ReadOptions(), h));
      it->SeekToFirst();
      return !it->Valid() && it->status().ok();
    };
    // (RocksDB creates the column families one by one, so any subset of ours may exist.)
    const bool no_foreign = std::all_of(existing.begin(), existing.end(), [](const std::string& n) {
      return n == rocksdb::kDefaultColumnFamilyName ||
             std::find(std::begin(cf_names), std::end(cf_names), n) != std::end(cf_names);
    });
    if (!no_foreign || !empty_cf(raw->DefaultColumnFamily()) ||
        !std::all_of(out->cfs_.begin(), out->cfs_.end(), empty_cf))
      return make_error(q + " is not a crawld store (no format_version in meta)");
    if (opts.read_only) return result<std::unique_ptr<store>>(std::move(out));
    return initialize();
  }
  if (!gs.ok()) return make_error("cannot open store " + q + ": " + gs.ToString());
  int v = 0;
  const auto [end, perr] = std::from_chars(version.data(), version.data() + version.size(), v);
  if (perr != std::errc() || end != version.data() + version.size() || v < 1)
    return make_error("cannot open store " + q + ": invalid format_version '" + version + "'");
  if (v > format_version) {
    return make_error("cannot open store " + q + ": store format " + std::to_string(v) +
                      " is newer than this crawld supports (" + std::to_string(format_version) +
                      ")");
  }
  if (v < format_version && !opts.read_only) {
    // This writer may add records an older crawld cannot read (format 2: LZ4 bodies): say so
    // before writing any, so that crawld refuses the store instead of failing on single pages.
    rocksdb::WriteOptions w;
    w.sync = true;
    const rocksdb::Status ws = raw->Put(w, meta, meta_format_key, std::to_string(format_version));
    if (!ws.ok()) return make_error("cannot upgrade store " + q + ": " + ws.ToString());
  }
  return result<std::unique_ptr<store>>(std::move(out));
} catch (const std::exception& e) {
  return make_error("cannot open store " + in_quotes(dir) + ": " + e.what());
}

store::~store() {
  if (!db_) return;
  for (auto* h : cfs_) db_->DestroyColumnFamilyHandle(h);
  cfs_.clear();
  db_->Close();  // status ignored: nothing useful to do in a destructor; the WAL has the data
}

result<void> store::put_pages(const std::vector<page_record>& pages) try {
  if (read_only_) return make_error("store " + in_quotes(dir_) + " is open read-only");
  rocksdb::WriteBatch batch;
  for (const auto& p : pages) {
    if (p.url.empty()) return store_error(dir_, "cannot store a page without url");
    page_record packed = p;
    compress_body(packed);
    const rocksdb::Status s = batch.Put(cfs_[cf_pages], page_key(p), encode(packed));
    if (!s.ok()) return store_error(dir_, "cannot batch page '" + p.url + "': " + s.ToString());
  }
  const rocksdb::Status s = db_->Write(rocksdb::WriteOptions(), &batch);
  if (!s.ok()) return store_error(dir_, "cannot write pages: " + s.ToString());
  return {};
} catch (const std::exception& e) {
  return store_error(dir_, std::string("cannot write pages: ") + e.what());
}

result<std::optional<page_record>> store::get_page(const std::string& url) const try {
  rocksdb::PinnableSlice value;
  const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cfs_[cf_pages], url, &value);
  if (s.IsNotFound()) return std::optional<page_record>();
  if (!s.ok()) return store_error(dir_, "cannot read page '" + url + "': " + s.ToString());
  auto page = decode(std::string_view(value.data(), value.size()));
  if (!page) return store_error(dir_, "corrupt record for '" + url + "': " + page.message());
  return std::optional<page_record>(std::move(page).value());
} catch (const std::exception& e) {
  return store_error(dir_, "cannot read page '" + url + "': " + e.what());
}

result<void> store::for_each_page(const std::function<bool(const page_record&)>& fn) const try {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(scan_options(), cfs_[cf_pages]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto page = decode(std::string_view(it->value().data(), it->value().size()));
    if (!page) {
      return store_error(dir_,
                         "corrupt record for '" + it->key().ToString() + "': " + page.message());
    }
    if (!fn(*page)) return {};
  }
  if (!it->status().ok()) return store_error(dir_, "cannot scan pages: " + it->status().ToString());
  return {};
} catch (const std::exception& e) {
  return store_error(dir_, std::string("cannot scan pages: ") + e.what());
}

result<void> store::put_meta(const std::string& key, const std::string& value) try {
  if (read_only_) return make_error("store " + in_quotes(dir_) + " is open read-only");
  if (auto f = failed(); !f) return f;
  rocksdb::WriteOptions w;
  w.sync = true;  // meta is rare and describes the whole crawl: make it durable at once
  const rocksdb::Status s = db_->Put(w, cfs_[cf_meta], key, value);
  if (!s.ok()) return store_error(dir_, "cannot write meta '" + key + "': " + s.ToString());
  return {};
} catch (const std::exception& e) {
  return store_error(dir_, "cannot write meta '" + key + "': " + e.what());
}

std::optional<std::string> store::get_meta(const std::string& key) const {
  try {
    std::string value;
    if (db_->Get(rocksdb::ReadOptions(), cfs_[cf_meta], key, &value).ok()) return value;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

result<store_stats> store::stats() const try {
  store_stats st;
  bool first = true;
  auto done = for_each_page([&](const page_record& p) {
    ++st.pages;
    st.body_bytes += p.body.size();
    st.wire_bytes += p.wire_bytes;
    if (first || p.fetched_at_ms < st.first_fetch_ms) st.first_fetch_ms = p.fetched_at_ms;
    if (first || p.fetched_at_ms > st.last_fetch_ms) st.last_fetch_ms = p.fetched_at_ms;
    first = false;
    ++st.by_outcome[p.outcome];
    ++st.by_status[std::to_string(p.status)];
    ++st.by_host[origin_of(p.url)];
    return true;
  });
  if (!done) return done.err();
  return st;
} catch (const std::exception& e) {
  return store_error(dir_, std::string("cannot compute stats: ") + e.what());
}

void store::mark_failed(const std::string& message) {
  std::lock_guard<std::mutex> g(failed_mutex_);
  if (failed_.empty()) failed_ = message.empty() ? std::string("a write failed") : message;
}

result<void> store::failed() const {
  std::lock_guard<std::mutex> g(failed_mutex_);
  if (failed_.empty()) return {};
  return make_error(failed_);
}

result<void> store::sync() try {
  if (read_only_) return {};
  if (auto f = failed(); !f) return f;
  const rocksdb::Status s = db_->FlushWAL(true);
  if (!s.ok()) return store_error(dir_, "cannot sync: " + s.ToString());
  return {};
} catch (const std::exception& e) {
  return store_error(dir_, std::string("cannot sync: ") + e.what());
}

store::memory store::memory_usage() const {
  memory m;
  std::uint64_t v = 0;
  for (auto* h : cfs_) {
    if (db_->GetIntProperty(h, "rocksdb.cur-size-all-mem-tables", &v)) m.memtables += v;
    if (db_->GetIntProperty(h, "rocksdb.estimate-table-readers-mem", &v)) m.table_readers += v;
  }
  if (!cfs_.empty() && db_->GetIntProperty(cfs_[0], "rocksdb.block-cache-usage", &v)) m.block_cache = v;
  return m;
}

}  // namespace crawld::storage
