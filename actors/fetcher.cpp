// A fetcher: a detached actor (its own thread, since cpp-httplib blocks) that loops
// next URL (queue) -> permit (semaphore) -> GET one hop -> release permit and host slot ->
// hand the page to a parser. It keeps at most `window` pages waiting at the parsers; past that it
// waits for their acknowledgement before taking another URL, so memory stays bounded.
#include <ctime>

#include "actors/messages.hpp"

namespace crawld::actors {
namespace {

struct fetcher_state {
  std::unique_ptr<fetch::session> session;
  caf::actor queue, semaphore, limiter, parser;
  int window = 2;
  int outstanding = 0;   // pages sent to parsers, not yet acknowledged
  bool blocked = false;  // waiting for an acknowledgement before the next URL
  bool done = false;     // the queue has no more work
};

using fetcher_actor = caf::stateful_actor<fetcher_state>*;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// Retry-After as delay-seconds (RFC 9110 10.2.3); an HTTP-date or garbage gives 0 for now.
std::int64_t retry_after_ms(const fetch::response& r) {
  auto v = r.header("Retry-After");
  if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos)
    return 0;
  return std::stoll(v) * 1000;
}

fetched_page fetch_one(fetcher_actor self, url_task& t) {
  fetched_page p;
  p.fetched_at_ms = now_ms();
  auto u = parse::parse_url(t.url);
  if (!u) {
    p.resp.error = fetch::fetch_error::unsupported;
    p.resp.error_message = "not a URL";
  } else {
    p.resp = self->state.session->get(*u);
    if (p.resp.is_redirect()) {
      auto loc = p.resp.header("Location");
      if (auto target = loc.empty() ? std::nullopt : parse::parse_url(loc, &*u))
        if (target->scheme == "http" || target->scheme == "https")
          p.redirect_to = parse::normalize(*target);
    }
  }
  p.task = std::move(t);
  return p;
}

void step(fetcher_actor self);

void maybe_quit(fetcher_actor self) {
  if (self->state.done && self->state.outstanding == 0)
    self->quit();
}

void on_task(fetcher_actor self, url_task& t) {
  if (t.url.empty()) {
    self->state.done = true;
    maybe_quit(self);
    return;
  }
  self->request(self->state.semaphore, caf::infinite, acquire_atom::value)
    .then([self, t = std::move(t)](caf::ok_atom) mutable {
      auto& st = self->state;
      auto page = fetch_one(self, t);
      self->send(st.semaphore, release_atom::value);
      self->send(st.limiter, release_atom::value, page.task.host_key, page.resp.status,
                 retry_after_ms(page.resp));
      ++st.outstanding;
      self->request(st.parser, caf::infinite, parse_atom::value, std::move(page))
        .then(
          [self](caf::ok_atom) {
            --self->state.outstanding;
            if (self->state.blocked) {
              self->state.blocked = false;
              step(self);
            }
            maybe_quit(self);
          },
          [self](caf::error&) {
            --self->state.outstanding;
            self->state.done = true;
            maybe_quit(self);
          });
      step(self);
    });
}

void step(fetcher_actor self) {
  auto& st = self->state;
  if (st.done)
    return maybe_quit(self);
  if (st.outstanding >= st.window) {
    st.blocked = true;
    return;
  }
  self->request(st.queue, caf::infinite, next_atom::value)
    .then([self](url_task& t) { on_task(self, t); },
          [self](caf::error&) {
            self->state.done = true;
            maybe_quit(self);
          });
}

caf::behavior fetcher(fetcher_actor self, fetch::options opts, std::shared_ptr<fetch::connection_pool> pool,
                      int window, caf::actor queue, caf::actor semaphore, caf::actor limiter,
                      caf::actor parser) {
  auto& st = self->state;
  st.session = std::make_unique<fetch::session>(std::move(opts), std::move(pool));
  st.window = window;
  st.queue = std::move(queue);
  st.semaphore = std::move(semaphore);
  st.limiter = std::move(limiter);
  st.parser = std::move(parser);
  return {
    [self](go_atom) { step(self); },
  };
}

}  // namespace

caf::actor spawn_fetcher(caf::actor_system& sys, fetch::options opts,
                         std::shared_ptr<fetch::connection_pool> pool, int window, caf::actor queue,
                         caf::actor semaphore, caf::actor limiter, caf::actor parser) {
  return sys.spawn<caf::detached>(fetcher, std::move(opts), std::move(pool), window, std::move(queue),
                                  std::move(semaphore), std::move(limiter), std::move(parser));
}

}  // namespace crawld::actors
