// The storage actor: a detached actor (its own thread; RocksDB calls block) that batches pages
// into one write per 256 pages, 8 MiB or 100 ms, whichever comes first. `flush` writes and syncs
// the WAL; `close` also closes the store. A failed write is reported to the job, which stops the
// crawl (a full disk must not lose data silently).
#include <vector>

#include "actors/messages.hpp"

namespace crawld::actors {
namespace {

constexpr std::size_t batch_pages = 256;
constexpr std::size_t batch_bytes = 8u << 20;
constexpr auto batch_age = std::chrono::milliseconds(100);

struct storage_state {
  std::shared_ptr<storage::store> db;  // null: pages are counted, not stored
  caf::actor job;
  std::vector<storage::page_record> batch;
  std::size_t bytes = 0;
  bool timer = false;
  bool failed = false;
};

using storage_actor = caf::stateful_actor<storage_state>*;

void write_batch(storage_actor self) {
  auto& st = self->state;
  if (st.batch.empty())
    return;
  if (st.db && !st.failed) {
    auto r = st.db->put_pages(st.batch);
    if (!r) {
      st.failed = true;
      self->send(st.job, fail_atom::value, "storage: " + r.message());
    }
  }
  st.batch.clear();
  st.bytes = 0;
}

caf::behavior storage_behavior(storage_actor self, std::shared_ptr<storage::store> db, caf::actor job) {
  self->state.db = std::move(db);
  self->state.job = std::move(job);
  return {
    [self](store_atom, storage::page_record& rec) {
      auto& st = self->state;
      st.bytes += rec.body.size() + rec.url.size() + 256;
      st.batch.push_back(std::move(rec));
      if (st.batch.size() >= batch_pages || st.bytes >= batch_bytes) {
        write_batch(self);
      } else if (!st.timer) {
        st.timer = true;
        self->delayed_send(self, batch_age, tick_atom::value);
      }
      return caf::ok_atom::value;
    },
    [self](tick_atom) {
      self->state.timer = false;
      write_batch(self);
    },
    [self](meta_atom, const std::string& key, const std::string& value) {
      if (self->state.db && !self->state.failed)
        self->state.db->put_meta(key, value);
    },
    [self](flush_atom) -> caf::result<caf::ok_atom> {
      write_batch(self);
      auto& st = self->state;
      if (st.db && !st.failed) {
        if (auto r = st.db->sync(); !r)
          return caf::make_error(caf::sec::runtime_error, "storage: " + r.message());
      }
      return caf::ok_atom::value;
    },
    [self](close_atom) -> caf::result<caf::ok_atom> {
      write_batch(self);
      auto& st = self->state;
      caf::result<caf::ok_atom> res{caf::ok_atom::value};
      if (st.db && !st.failed)
        if (auto r = st.db->sync(); !r)
          res = caf::make_error(caf::sec::runtime_error, "storage: " + r.message());
      st.db.reset();
      self->quit();
      return res;
    },
  };
}

}  // namespace

caf::actor spawn_storage(caf::actor_system& sys, std::shared_ptr<storage::store> st, caf::actor job) {
  return sys.spawn<caf::detached>(storage_behavior, std::move(st), std::move(job));
}

}  // namespace crawld::actors
