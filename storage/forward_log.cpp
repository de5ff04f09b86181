#include "storage/forward_log.hpp"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

namespace crawld::storage {
namespace {

const std::string prefix("fwdlog\0", 7);

std::string target_prefix(const std::string& target) {
  std::string k = prefix + target;
  k.push_back('\0');
  return k;
}

std::string entry_key(const std::string& target, std::uint64_t pos) {
  std::string k = target_prefix(target);
  for (int i = 7; i >= 0; --i)
    k.push_back(static_cast<char>((pos >> (8 * i)) & 0xff));
  return k;
}

std::string quoted(const store& db) { return "store '" + db.dir() + "'"; }

/// One past the last key starting with `p` (p never ends in 0xff here: it ends in '\0').
std::string upper_of(std::string p) {
  p.back() = static_cast<char>(p.back() + 1);
  return p;
}

}  // namespace

result<std::unique_ptr<forward_log>> forward_log::open(std::shared_ptr<store> db) {
  if (!db)
    return make_error("no store for the forward log");
  std::unique_ptr<forward_log> l(new forward_log(db));
  auto s = db->rocks()->DeleteRange(rocksdb::WriteOptions(), db->handle(store::column::meta), prefix, upper_of(prefix));
  if (!s.ok())
    return make_error(quoted(*db) + ": cannot clear the forward log: " + s.ToString());
  return l;
}

result<std::shared_ptr<store>> forward_log::db() const {
  auto d = db_.lock();
  if (!d)
    return make_error("the forward log's store is closed");
  return d;
}

result<void> forward_log::append(const std::string& target, const std::vector<frontier_entry>& entries) {
  auto d = this->db();
  if (!d)
    return d.err();
  const auto& db = *d;
  if (entries.empty())
    return {};
  auto& next = next_[target];
  rocksdb::WriteBatch b;
  for (const auto& e : entries)
    b.Put(db->handle(store::column::meta), entry_key(target, ++next), e.host_key + '\0' + encode_entry(e));
  auto s = db->rocks()->Write(rocksdb::WriteOptions(), &b);
  if (!s.ok())
    return make_error(quoted(*db) + ": cannot write the forward log: " + s.ToString());
  count_[target] += entries.size();
  return {};
}

result<forward_log::chunk> forward_log::read(const std::string& target, std::uint64_t after, std::size_t max) const {
  auto d = this->db();
  if (!d)
    return d.err();
  const auto& db = *d;
  chunk c;
  c.last = after;
  auto upper = upper_of(target_prefix(target));
  rocksdb::Slice ub(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &ub;
  std::unique_ptr<rocksdb::Iterator> it(db->rocks()->NewIterator(ro, db->handle(store::column::meta)));
  const auto tp = target_prefix(target);
  for (it->Seek(entry_key(target, after + 1)); it->Valid() && c.entries.size() < max; it->Next()) {
    auto k = it->key();
    if (k.size() != tp.size() + 8)
      continue;
    std::uint64_t pos = 0;
    for (std::size_t i = tp.size(); i < k.size(); ++i)
      pos = (pos << 8) | static_cast<unsigned char>(k[i]);
    std::string_view v(it->value().data(), it->value().size());
    auto nul = v.find('\0');
    auto d = nul == std::string_view::npos ? result<frontier_entry>(make_error("no host")) : decode_entry(v.substr(nul + 1));
    if (!d)
      return make_error(quoted(*db) + ": forward log: " + d.message());
    d->host_key = std::string(v.substr(0, nul));
    c.entries.push_back(std::move(*d));
    c.last = pos;
  }
  if (!it->status().ok())
    return make_error(quoted(*db) + ": cannot read the forward log: " + it->status().ToString());
  return c;
}

result<void> forward_log::drop(const std::string& target) {
  auto d = this->db();
  if (!d)
    return d.err();
  const auto& db = *d;
  auto p = target_prefix(target);
  auto s = db->rocks()->DeleteRange(rocksdb::WriteOptions(), db->handle(store::column::meta), p, upper_of(p));
  if (!s.ok())
    return make_error(quoted(*db) + ": cannot drop the forward log: " + s.ToString());
  count_.erase(target);
  return {};
}

std::uint64_t forward_log::size(const std::string& target) const {
  auto it = count_.find(target);
  return it == count_.end() ? 0 : it->second;
}

}  // namespace crawld::storage
