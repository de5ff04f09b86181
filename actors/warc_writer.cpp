// The WARC writer actor: a detached actor (its own thread: gzip and write(2) block) that owns the
// crawl's storage::warc_writer. Per capture it writes a request record, then a response record
// (WARC-Concurrent-To the request) or, with dedup, a revisit record when the same payload was
// already archived under an earlier record. It answers each capture once written, so fetchers
// keep at most a small window of captures in memory. A write error (full disk, ...) is sent to
// the job, which stops the crawl; later captures are dropped.
#include <unordered_map>

#include "actors/messages.hpp"

namespace crawld::actors {
namespace {

struct archived {
  std::string uri, id;
  std::int64_t date_ms = 0;
};

struct warc_state {
  std::shared_ptr<storage::warc_writer> w;
  bool dedup = false;
  caf::actor job;
  bool failed = false;
  std::unordered_map<std::string, archived> payloads;  // payload digest -> first record (dedup)
};

using warc_actor = caf::stateful_actor<warc_state>*;

void fail(warc_actor self, const std::string& message) {
  auto& st = self->state;
  st.failed = true;
  self->send(st.job, fail_atom::value, "WARC: " + message);
}

void write_capture(warc_actor self, const warc_capture& c) {
  auto& st = self->state;
  const auto& raw = *c.raw;
  auto req = st.w->write_request(c.uri, c.date_ms, raw.request);
  if (!req)
    return fail(self, req.message());
  std::string response = raw.response_head + raw.body;
  std::string digest;
  // Only complete 2xx payloads are deduplicated (a repeated error page is not worth a reference).
  bool dedupable = st.dedup && raw.truncated.empty() && raw.response_head.compare(0, 5, "HTTP/") == 0 &&
                   raw.response_head.size() > 9 && raw.response_head[9] == '2';
  if (dedupable) {
    std::string payload = storage::http_payload(response);
    dedupable = !payload.empty();  // empty bodies (redirects, 204) are not worth a reference
    digest = storage::warc_sha1_digest(payload);
  }
  if (dedupable) {
    if (auto it = st.payloads.find(digest); it != st.payloads.end()) {
      storage::warc_revisit r;
      r.target_uri = c.uri;
      r.date_ms = c.date_ms;
      r.http_response_head = raw.response_head;
      r.payload_digest = digest;
      r.refers_to_uri = it->second.uri;
      r.refers_to_date_ms = it->second.date_ms;
      r.refers_to_id = it->second.id;
      if (auto v = st.w->write_revisit(r, *req); !v)
        fail(self, v.message());
      return;
    }
  }
  storage::warc_fields extra;
  if (!raw.truncated.empty())
    extra.emplace_back("WARC-Truncated", raw.truncated);
  auto id = st.w->write_response(c.uri, c.date_ms, response, *req, extra);
  if (!id)
    return fail(self, id.message());
  if (dedupable)
    st.payloads.emplace(digest, archived{c.uri, *id, c.date_ms});
}

caf::behavior warc_behavior(warc_actor self, std::shared_ptr<storage::warc_writer> w, bool dedup,
                            caf::actor job) {
  self->state.w = std::move(w);
  self->state.dedup = dedup;
  self->state.job = std::move(job);
  return {
    [self](warc_atom, const warc_capture& c) {
      if (self->state.w && !self->state.failed && c.raw)
        write_capture(self, c);
      return caf::ok_atom::value;
    },
    [self](close_atom) -> caf::result<caf::ok_atom> {
      auto& st = self->state;
      caf::result<caf::ok_atom> res{caf::ok_atom::value};
      if (st.w) {
        auto synced = st.w->sync();
        auto closed = st.w->close();
        if (!synced || !closed)
          res = caf::make_error(caf::sec::runtime_error,
                                "WARC: " + (!synced ? synced.message() : closed.message()));
        st.w.reset();
      }
      self->quit();
      return res;
    },
  };
}

}  // namespace

caf::actor spawn_warc_writer(caf::actor_system& sys, std::shared_ptr<storage::warc_writer> w,
                             bool dedup, caf::actor job) {
  return sys.spawn<caf::detached>(warc_behavior, std::move(w), dedup, std::move(job));
}

}  // namespace crawld::actors
