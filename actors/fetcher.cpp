// A fetcher: a detached actor (its own thread, since cpp-httplib blocks) that loops
// next URL (queue -> permit at the semaphore -> the limiter's gate, one answer) -> GET one hop ->
// release host slot and permit (one message, to the limiter) -> hand the page to a parser. By
// address (per_ip) it takes the permit and passes the gate itself, after resolving the host.
// It keeps at most `window` pages waiting at the parsers; past that it waits for their
// acknowledgement before taking another URL, so memory stays bounded.
#include <ctime>

#include "actors/messages.hpp"
#include "fetch/retry_after.hpp"

namespace crawld::actors {
namespace {

struct fetcher_state {
  std::unique_ptr<fetch::session> session;
  caf::actor queue, semaphore, limiter, parser;
  caf::actor warc;       // WARC writer, when the crawl archives (set by the job before `go`)
  int warc_pending = 0;  // captures sent to it, not yet written
  int window = 2;
  int outstanding = 0;   // pages sent to parsers, not yet acknowledged
  bool blocked = false;  // waiting for an acknowledgement before the next URL
  bool done = false;     // the queue has no more work
  bool per_ip = false;   // pass the limiter's gate with the resolved address (--politeness-key ip)
};

using fetcher_actor = caf::stateful_actor<fetcher_state>*;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// Retry-After in milliseconds, -1 when absent or invalid.
std::int64_t retry_after_ms(const fetch::response& r) {
  auto v = fetch::parse_retry_after(r.header("Retry-After"), std::chrono::system_clock::now(),
                                    std::chrono::hours(1));
  return v ? v->count() : -1;
}

constexpr std::size_t robots_max_bytes = 512u << 10;  // RFC 9309 asks for at least 500 KiB
constexpr std::size_t sitemap_max_bytes = 50u << 20;  // sitemaps.org limit
constexpr int robots_max_hops = 5;                    // RFC 9309 2.3.1.2

void resume(fetcher_actor self);

/// Sends the raw exchange of `r` to the WARC writer (when archiving and a response arrived).
void archive(fetcher_actor self, std::string uri, std::int64_t date_ms, const fetch::response& r) {
  auto& st = self->state;
  if (!st.warc || !r.raw || r.raw->response_head.empty())
    return;
  ++st.warc_pending;
  auto ack = [self] {
    --self->state.warc_pending;
    resume(self);
  };
  self->request(st.warc, caf::infinite, warc_atom::value, warc_capture{std::move(uri), date_ms, r.raw})
    .then([ack](caf::ok_atom) { ack(); }, [ack](caf::error&) { ack(); });
}

fetched_page fetch_one(fetcher_actor self, url_task& t) {
  fetched_page p;
  p.fetched_at_ms = now_ms();
  auto u = parse::parse_url(t.url);
  auto kind = static_cast<task_kind>(t.kind);
  if (!u) {
    p.resp.error = fetch::fetch_error::unsupported;
    p.resp.error_message = "not a URL";
  } else {
    auto& ses = *self->state.session;
    if (!t.request.empty()) {  // a seed request with a method and body
      auto req = decode_request(t.request);
      if (req) {
        p.resp = ses.send(*u, *req);
      } else {
        p.resp.error = fetch::fetch_error::unsupported;
        p.resp.error_message = req.message();
      }
    } else {
      p.resp = kind == task_kind::sitemap ? ses.get_any(*u, sitemap_max_bytes) : ses.get(*u);
    }
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

/// Fetches robots.txt, following up to five redirects itself (they are not crawl URLs).
robots_result fetch_robots(fetcher_actor self, const url_task& t, fetch::response& last) {
  auto u = parse::parse_url(t.url);
  int hops = 0;
  while (u) {
    auto at = now_ms();
    last = self->state.session->get_any(*u, robots_max_bytes);
    archive(self, u->href(), at, last);
    if (!last.is_redirect() || hops++ == robots_max_hops)
      break;
    auto loc = last.header("Location");
    auto next = loc.empty() ? std::nullopt : parse::parse_url(loc, &*u);
    if (!next || (next->scheme != "http" && next->scheme != "https"))
      break;
    u = std::move(next);
  }
  bool got_response = last.status != 0 && last.error != fetch::fetch_error::timeout &&
                      last.error != fetch::fetch_error::connect && last.error != fetch::fetch_error::network &&
                      last.error != fetch::fetch_error::proxy_auth && last.error != fetch::fetch_error::dns &&
                      last.error != fetch::fetch_error::tls;
  auto rf = fetch::robots_from_response(last.status, got_response, last.body);
  robots_result r;
  r.rules = std::make_shared<const fetch::robots>(std::move(rf.rules));
  r.temporary = rf.temporary;
  r.no_response = !got_response;
  if (!got_response)
    switch (auto o = fetch::classify(last)) {
      case fetch::outcome::timeout:
      case fetch::outcome::proxy_auth:
      case fetch::outcome::dns_error:
      case fetch::outcome::tls_error: r.failure = o; break;
      default: r.failure = fetch::outcome::network_error; break;
    }
  r.detail = got_response ? "HTTP " + std::to_string(last.status) : last.error_message;
  return r;
}

void step(fetcher_actor self);
void fetch_and_pass_on(fetcher_actor self, url_task& t, const std::string& address);

/// The address `t`'s host resolves to, for politeness by address; "" when it does not resolve
/// (the URL then fails with dns_error on its own, under its host's budget). Blocks on a resolver
/// cache miss: fine here, a fetcher is a detached actor.
std::string politeness_address(fetcher_actor self, const url_task& t) {
  const auto& dns = self->state.session->opts().dns;
  auto u = parse::parse_url(t.url);
  if (!dns || !u)
    return {};
  auto a = dns->resolve(u->host, u->effective_port());
  return a ? *a : std::string();
}

/// Tells the limiter a request of `key` finished (with its address when it passed the gate by one);
/// the limiter returns the permit to the semaphore.
void release_host(fetcher_actor self, const std::string& key, const std::string& address, int status,
                  bool failed, std::int64_t retry_after) {
  if (address.empty())
    self->send(self->state.limiter, release_atom::value, key, status, failed, retry_after);
  else
    self->send(self->state.limiter, release_atom::value, key, status, failed, retry_after, address);
}

void maybe_quit(fetcher_actor self) {
  if (self->state.done && self->state.outstanding == 0 && self->state.warc_pending == 0)
    self->quit();
}

/// After an acknowledgement (parser or WARC writer): take the next URL if that was the wait.
void resume(fetcher_actor self) {
  auto& st = self->state;
  if (st.blocked && st.outstanding < st.window && st.warc_pending < st.window) {
    st.blocked = false;
    step(self);
  }
  maybe_quit(self);
}

void on_task(fetcher_actor self, url_task& t) {
  if (t.url.empty()) {
    self->state.done = true;
    maybe_quit(self);
    return;
  }
  if (!self->state.per_ip)  // the queue sent it through the semaphore and the gate already
    return fetch_and_pass_on(self, t, {});
  self->request(self->state.semaphore, caf::infinite, acquire_atom::value)
    .then([self, t = std::move(t)](caf::ok_atom) mutable {
      auto key = t.host_key;
      auto address = politeness_address(self, t);
      self->request(self->state.limiter, caf::infinite, started_atom::value, key, address)
        .then([self, t = std::move(t), address](caf::ok_atom) mutable { fetch_and_pass_on(self, t, address); });
    });
}

void fetch_and_pass_on(fetcher_actor self, url_task& t, const std::string& address) {
  auto& st = self->state;
  if (static_cast<task_kind>(t.kind) == task_kind::robots) {
    fetch::response last;
    auto r = fetch_robots(self, t, last);
    release_host(self, t.host_key, address, last.status, r.temporary, retry_after_ms(last));
    self->send(st.queue, robots_atom::value, t.host_key, std::move(r));
    return step(self);
  }
  auto page = fetch_one(self, t);
  archive(self, page.task.url, page.fetched_at_ms, page.resp);
  page.resp.raw.reset();  // the parser does not need it
  auto o = fetch::classify(page.resp);
  bool failed = o == fetch::outcome::timeout || o == fetch::outcome::network_error ||
                o == fetch::outcome::server_error || page.resp.status == 429;
  release_host(self, page.task.host_key, address, page.resp.status, failed, retry_after_ms(page.resp));
  ++st.outstanding;
  self->request(st.parser, caf::infinite, parse_atom::value, std::move(page))
    .then(
      [self](caf::ok_atom) {
        --self->state.outstanding;
        resume(self);
      },
      [self](caf::error&) {
        --self->state.outstanding;
        self->state.done = true;
        maybe_quit(self);
      });
  step(self);
}

void step(fetcher_actor self) {
  auto& st = self->state;
  if (st.done)
    return maybe_quit(self);
  if (st.outstanding >= st.window || st.warc_pending >= st.window) {
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
                      caf::actor parser, bool per_ip) {
  auto& st = self->state;
  st.per_ip = per_ip;
  st.session = std::make_unique<fetch::session>(std::move(opts), std::move(pool));
  st.window = window;
  st.queue = std::move(queue);
  st.semaphore = std::move(semaphore);
  st.limiter = std::move(limiter);
  st.parser = std::move(parser);
  return {
    [self](go_atom) { step(self); },
    [self](warc_atom, caf::actor w) { self->state.warc = std::move(w); },
  };
}

}  // namespace

caf::actor spawn_fetcher(caf::actor_system& sys, fetch::options opts,
                         std::shared_ptr<fetch::connection_pool> pool, int window, caf::actor queue,
                         caf::actor semaphore, caf::actor limiter, caf::actor parser, bool per_ip) {
  return sys.spawn<caf::detached>(fetcher, std::move(opts), std::move(pool), window, std::move(queue),
                                  std::move(semaphore), std::move(limiter), std::move(parser), per_ip);
}

}  // namespace crawld::actors
