// A fetcher loops: next URL (queue -> permit at the semaphore -> the limiter's gate, one answer)
// -> GET one hop -> release host slot and permit (one message, to the limiter) -> hand the page to
// a parser. By address (per_ip) it takes the permit and passes the gate itself, after resolving
// the host. It keeps at most `window` pages waiting at the parsers; past that it waits for their
// acknowledgement before taking another URL, so memory stays bounded.
//
// Two ways to run the GET. With an event client (plain http, no proxy, no WARC: job.cpp decides),
// the fetcher is a scheduled actor: the client's epoll thread does the I/O and answers with a
// message, so a page costs no thread of its own. What that client does not serve (https, proxies
// by rule, request seeds, sitemaps, robots.txt, names not yet resolved) goes to a detached helper
// with a blocking session, spawned on first use. Without an event client the fetcher itself is
// detached and blocks in its session (cpp-httplib), as every fetch did before.
#include <ctime>

#include "actors/messages.hpp"
#include "fetch/event_client.hpp"
#include "fetch/retry_after.hpp"

namespace crawld::actors {
namespace {

struct fetcher_state {
  std::unique_ptr<fetch::session> session;  // detached fetcher only
  fetch::options opts;                      // for the helper's session (scheduled fetcher)
  std::shared_ptr<fetch::connection_pool> pool;
  std::shared_ptr<fetch::event_client> fast;  // null: a detached fetcher that blocks
  caf::actor helper;                          // blocking fetches of a scheduled fetcher
  url_task in_flight;                         // the task whose response the event client owes
  std::int64_t in_flight_at_ms = 0;
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

/// Sends `c` to the WARC writer (when archiving); its acknowledgement may resume the fetcher.
void archive(fetcher_actor self, warc_capture c) {
  auto& st = self->state;
  if (!st.warc || !c.raw || c.raw->response_head.empty())
    return;
  ++st.warc_pending;
  auto ack = [self] {
    --self->state.warc_pending;
    resume(self);
  };
  self->request(st.warc, caf::infinite, warc_atom::value, std::move(c))
    .then([ack](caf::ok_atom) { ack(); }, [ack](caf::error&) { ack(); });
}

/// The Location target of a redirect, normalized; "" when none or not http(s).
std::string redirect_target(const fetch::response& r, const parse::url& from) {
  if (!r.is_redirect())
    return {};
  auto loc = r.header("Location");
  if (auto target = loc.empty() ? std::nullopt : parse::parse_url(loc, &from))
    if (target->scheme == "http" || target->scheme == "https")
      return parse::normalize(*target);
  return {};
}

fetched_page fetch_one(fetch::session& ses, url_task& t) {
  fetched_page p;
  p.fetched_at_ms = now_ms();
  auto u = parse::parse_url(t.url);
  auto kind = static_cast<task_kind>(t.kind);
  if (!u) {
    p.resp.error = fetch::fetch_error::unsupported;
    p.resp.error_message = "not a URL";
  } else {
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
    p.redirect_to = redirect_target(p.resp, *u);
  }
  p.task = std::move(t);
  return p;
}

/// Fetches robots.txt, following up to five redirects itself (they are not crawl URLs).
robots_result fetch_robots(fetch::session& ses, const url_task& t, fetch::response& last,
                           std::vector<warc_capture>& hops_seen) {
  auto u = parse::parse_url(t.url);
  int hops = 0;
  while (u) {
    auto at = now_ms();
    last = ses.get_any(*u, robots_max_bytes);
    if (last.raw && !last.raw->response_head.empty())
      hops_seen.push_back(warc_capture{u->href(), at, last.raw});
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

robots_fetch run_robots(fetch::session& ses, const url_task& t) {
  robots_fetch f;
  fetch::response last;
  f.result = fetch_robots(ses, t, last, f.hops);
  f.status = last.status;
  f.retry_after = retry_after_ms(last);
  return f;
}

void robots_done(fetcher_actor self, const url_task& t, const std::string& address, robots_fetch& f) {
  for (auto& c : f.hops)
    archive(self, std::move(c));
  release_host(self, t.host_key, address, f.status, f.result.temporary, f.retry_after);
  self->send(self->state.queue, robots_atom::value, t.host_key, std::move(f.result));
  step(self);
}

/// The fetch of a page is over: archive, release the host, hand the page to a parser, go on.
void pass_on(fetcher_actor self, fetched_page& page, const std::string& address) {
  auto& st = self->state;
  if (page.resp.raw)
    archive(self, warc_capture{page.task.url, page.fetched_at_ms, page.resp.raw});
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

/// The blocking half of a scheduled fetcher: a detached actor with a session.
struct helper_state {
  std::unique_ptr<fetch::session> session;
};

caf::behavior fetch_helper(caf::stateful_actor<helper_state>* self, fetch::options opts,
                           std::shared_ptr<fetch::connection_pool> pool) {
  self->state.session = std::make_unique<fetch::session>(std::move(opts), std::move(pool));
  return {
    [self](fetch_atom, url_task& t) -> fetched_page { return fetch_one(*self->state.session, t); },
    [self](robots_atom, url_task& t) -> robots_fetch { return run_robots(*self->state.session, t); },
  };
}

caf::actor& helper(fetcher_actor self) {
  auto& st = self->state;
  if (!st.helper)
    st.helper = self->spawn<caf::detached + caf::linked>(fetch_helper, st.opts, st.pool);
  return st.helper;
}

void fetch_and_pass_on(fetcher_actor self, url_task& t, const std::string& address) {
  auto& st = self->state;
  const auto kind = static_cast<task_kind>(t.kind);
  if (!st.fast) {  // a detached fetcher: block here
    if (kind == task_kind::robots) {
      auto f = run_robots(*st.session, t);
      return robots_done(self, t, address, f);
    }
    auto page = fetch_one(*st.session, t);
    return pass_on(self, page, address);
  }
  if (kind == task_kind::robots) {
    self->request(helper(self), caf::infinite, robots_atom::value, t)
      .then([self, t, address](robots_fetch& f) { robots_done(self, t, address, f); },
            [self](caf::error&) {
              self->state.done = true;
              maybe_quit(self);
            });
    return;
  }
  std::optional<parse::url> u;
  std::optional<std::string> route;
  if (kind != task_kind::sitemap && t.request.empty() && (u = parse::parse_url(t.url)))
    route = st.fast->route(*u);
  if (!route) {
    self->request(helper(self), caf::infinite, fetch_atom::value, std::move(t))
      .then([self, address](fetched_page& page) { pass_on(self, page, address); },
            [self](caf::error&) {
              self->state.done = true;
              maybe_quit(self);
            });
    return;
  }
  st.in_flight = std::move(t);
  st.in_flight_at_ms = now_ms();
  // A weak handle: the client's thread must never hold the last reference to this actor.
  auto weak = caf::actor_cast<caf::weak_actor_ptr>(self);
  st.fast->get(*u, std::move(*route), [weak, address](fetch::response r) {
    if (auto strong = caf::actor_cast<caf::actor>(weak))
      caf::anon_send(strong, fetch_atom::value, std::move(r), address);
  });
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
                      caf::actor parser, bool per_ip, std::shared_ptr<fetch::event_client> fast) {
  auto& st = self->state;
  st.per_ip = per_ip;
  st.fast = std::move(fast);
  if (st.fast) {
    st.opts = std::move(opts);
    st.pool = std::move(pool);
  } else {
    st.session = std::make_unique<fetch::session>(std::move(opts), std::move(pool));
  }
  st.window = window;
  st.queue = std::move(queue);
  st.semaphore = std::move(semaphore);
  st.limiter = std::move(limiter);
  st.parser = std::move(parser);
  return {
    [self](go_atom) { step(self); },
    [self](warc_atom, caf::actor w) { self->state.warc = std::move(w); },
    [self](fetch_atom, fetch::response& r, const std::string& address) {
      auto& st = self->state;
      fetched_page page;
      page.fetched_at_ms = st.in_flight_at_ms;
      page.resp = std::move(r);
      page.task = std::move(st.in_flight);
      if (page.resp.is_redirect())
        if (auto u = parse::parse_url(page.task.url))
          page.redirect_to = redirect_target(page.resp, *u);
      pass_on(self, page, address);
    },
  };
}

}  // namespace

caf::actor spawn_fetcher(caf::actor_system& sys, fetch::options opts,
                         std::shared_ptr<fetch::connection_pool> pool, int window, caf::actor queue,
                         caf::actor semaphore, caf::actor limiter, caf::actor parser, bool per_ip,
                         std::shared_ptr<fetch::event_client> fast) {
  if (fast)
    return sys.spawn(fetcher, std::move(opts), std::move(pool), window, std::move(queue), std::move(semaphore),
                     std::move(limiter), std::move(parser), per_ip, std::move(fast));
  return sys.spawn<caf::detached>(fetcher, std::move(opts), std::move(pool), window, std::move(queue),
                                  std::move(semaphore), std::move(limiter), std::move(parser), per_ip, nullptr);
}

}  // namespace crawld::actors
