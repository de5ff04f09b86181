// Parser actors (a round-robin pool on the cooperative scheduler; CPU work, no blocking I/O):
// classify the fetched hop, extract and scope-check its links (or its redirect target), hand the
// page record and the links to the queue (which stores them with the frontier change in one
// batch and tells the job); the queue's answer goes to the fetcher (which bounds the pages it has
// waiting here).
// Links come from the fast scan (parse/link_scan), gumbo when it is unsure; CRAWLD_LINK_PARSER=gumbo
// in the environment forces gumbo on every page (to compare the two on a real crawl).
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "actors/messages.hpp"
#include "parse/link_scan.hpp"
#include "parse/sitemap.hpp"

namespace crawld::actors {
namespace {

struct parser_state {
  parser_config cfg;
  bool force_gumbo = false;
  caf::actor queue, storage, job;
  // Hashes of followed links this parser handed to the queue (cfg.sent_slots; direct-mapped, a
  // slot keeps the last one): most links of a page point to pages already known, and sending
  // each again cost a task, its share of the message and a seen-set lookup in the one queue.
  std::vector<std::uint64_t> sent;
};

/// Whether `url` (a followed link) was handed to the queue by this parser before; notes it.
bool sent_before(parser_state& st, std::string_view url) {
  if (st.cfg.sent_slots == 0)
    return false;
  if (st.sent.empty())
    st.sent.assign(st.cfg.sent_slots, 0);
  std::uint64_t h = std::hash<std::string_view>{}(url);
  h += h == 0;  // 0 marks an empty slot
  auto& slot = st.sent[h & (st.sent.size() - 1)];
  if (slot == h)
    return true;
  slot = h;
  return false;
}

storage::page_record make_record(fetched_page& p, fetch::outcome o) {
  storage::page_record rec;
  rec.url = p.task.url;
  rec.final_url = p.task.url;
  rec.status = p.resp.status;
  rec.outcome = fetch::to_string(o);
  rec.headers = std::move(p.resp.headers);
  rec.content_type = std::move(p.resp.content_type);
  rec.fetched_at_ms = p.fetched_at_ms;
  rec.duration_us = p.resp.elapsed.count();
  rec.depth = p.task.depth;
  rec.redirect_chain = p.task.chain;
  rec.location = p.redirect_to;
  rec.wire_bytes = p.resp.wire_bytes;
  rec.truncated = p.resp.error == fetch::fetch_error::too_large;
  rec.request = p.task.request;
  return rec;
}

caf::behavior parser(caf::stateful_actor<parser_state>* self, parser_config cfg, caf::actor queue,
                     caf::actor storage, caf::actor job) {
  self->state.cfg = std::move(cfg);
  self->state.queue = std::move(queue);
  self->state.storage = std::move(storage);
  self->state.job = std::move(job);
  const char* lp = std::getenv("CRAWLD_LINK_PARSER");
  self->state.force_gumbo = lp && std::strcmp(lp, "gumbo") == 0;
  return {
    [self](parse_atom, fetched_page& p) -> caf::result<caf::ok_atom> {
      auto& st = self->state;
      auto o = fetch::classify(p.resp);
      page_done done;
      done.seed = p.task.depth == 0 && p.task.chain.empty() && p.task.kind == 0;
      done.unreachable = p.resp.status == 0 && (o == fetch::outcome::network_error || o == fetch::outcome::timeout);
      done.event = fetch_event{p.task.url, o, p.resp.status, p.resp.wire_bytes, p.resp.elapsed,
                               p.resp.error_message.empty() ? p.redirect_to : p.resp.error_message};

      bool retryable = o == fetch::outcome::timeout || o == fetch::outcome::network_error ||
                       o == fetch::outcome::server_error || p.resp.status == 429;
      if (retryable && p.task.attempt < st.cfg.max_retries) {
        auto t = std::move(p.task);
        ++t.attempt;
        self->send(st.queue, retry_atom::value, std::move(t), std::move(done));
        return caf::ok_atom::value;
      }

      std::vector<url_task> links;
      std::map<std::string, std::uint64_t> rejected;
      // `parsed`: `target` already parsed (a page's links: page_links::follow_urls), else null.
      auto consider = [&](std::string target, const parse::url* parsed, int depth,
                          std::vector<std::string> chain, task_kind kind,
                          std::string request = {}) {
        const bool page_link = parsed != nullptr;  // not a redirect target or a sitemap's URL
        std::optional<parse::url> own;
        if (!parsed) {
          own = parse::parse_url(target);
          if (!own) {
            ++rejected["bad_url"];
            return;
          }
          parsed = &*own;
        }
        const parse::url& u = *parsed;
        auto verdict = st.cfg.scope->check(u, depth);
        if (verdict != parse::scope_verdict::in_scope) {
          ++rejected[parse::to_string(verdict)];
          return;
        }
        auto trap = parse::check_trap(u, target, st.cfg.traps);
        if (trap != parse::trap_verdict::ok) {
          ++rejected[parse::to_string(trap)];
          return;
        }
        if (page_link && sent_before(st, target)) {  // the queue has it already
          ++rejected["duplicate"];
          return;
        }
        links.push_back(url_task{std::move(target), u.host_key(), depth, std::move(chain),
                                 static_cast<std::uint8_t>(kind), 0});
        links.back().request = std::move(request);
      };
      auto rec = make_record(p, o);
      auto kind = static_cast<task_kind>(p.task.kind);
      if (o == fetch::outcome::redirect) {
        if (p.redirect_to.empty()) {
          ++rejected["bad_redirect"];
        } else if (static_cast<int>(p.task.chain.size()) >= st.cfg.max_redirects) {
          ++rejected["redirect_limit"];
        } else {
          auto chain = p.task.chain;
          chain.push_back(p.task.url);
          // RFC 9110 15.4: 307 and 308 repeat the request (method, headers, body) at the target;
          // 303 means GET; a POST answered 301/302 becomes a GET too, as browsers do (15.4.2-3
          // allow it), while other methods keep theirs there.
          const int sc = p.resp.status;
          const bool keep = !p.task.request.empty() &&
                            (sc == 307 || sc == 308 ||
                             ((sc == 301 || sc == 302) && request_method(p.task.request) != "POST"));
          consider(p.redirect_to, nullptr, p.task.depth, std::move(chain), kind,
                   keep ? p.task.request : std::string());
        }
      } else if (o == fetch::outcome::ok && kind == task_kind::sitemap) {
        if (auto sm = parse::parse_sitemap(p.resp.body)) {
          bool index = sm->kind == parse::sitemap_kind::index;
          rec.outlinks = static_cast<std::uint32_t>(sm->urls.size());
          if (sm->invalid > 0)
            rejected["bad_url"] += sm->invalid;
          for (auto& l : sm->urls)
            consider(std::move(l), nullptr, index ? p.task.depth : p.task.depth + 1, {},
                     index ? task_kind::sitemap : task_kind::page);
        } else {
          done.event.detail = sm.message();
        }
        p.resp.body.clear();  // the listed URLs are what matters; sitemaps can be 50 MB
      } else if (o == fetch::outcome::ok && p.resp.is_html() &&
                 (st.cfg.max_depth < 0 || p.task.depth < st.cfg.max_depth)) {
        // (At the depth limit every link would be too deep: skip the parse.)
        auto base = parse::parse_url(p.task.url);
        if (base) {
          auto pl = parse::extract_links_fast(p.resp.body, *base, st.force_gumbo);
          rec.outlinks = static_cast<std::uint32_t>(pl.follow.size() + pl.skipped.size());
          if (pl.canonical)
            rec.canonical = *pl.canonical;
          for (const auto& s : pl.skipped)
            ++rejected[parse::to_string(s.reason)];
          for (std::size_t i = 0; i < pl.follow.size(); ++i)
            consider(std::move(pl.follow[i]), &pl.follow_urls[i], p.task.depth + 1, {},
                     task_kind::page);
        }
      }
      if (o == fetch::outcome::ok || o == fetch::outcome::too_large) {
        rec.body = std::move(p.resp.body);
        storage::compress_body(rec);  // here, on every core, rather than in the one store writer
      }
      done.rejected.assign(rejected.begin(), rejected.end());
      // A host counts as failing on transport errors and 5xx; a 404 is the page's problem.
      bool host_failed = retryable;

      // The queue writes the record, the outlinks' admission and the URL's removal from the
      // frontier in one batch (crash-safe resume), tells the job, and answers the fetcher
      // (delegated: its acknowledgement does not pass through here again).
      self->delegate(st.queue, done_atom::value, std::move(p.task), host_failed, std::move(links),
                     std::move(rec), std::move(done));
      return caf::delegated<caf::ok_atom>{};
    },
  };
}

}  // namespace

caf::actor spawn_parser_pool(caf::actor_system& sys, int n, parser_config cfg, caf::actor queue,
                             caf::actor storage, caf::actor job) {
  auto factory = [&sys, cfg, queue, storage, job] {
    return sys.spawn(parser, cfg, queue, storage, job);
  };
  return caf::actor_pool::make(sys.dummy_execution_unit(), static_cast<size_t>(n), factory,
                               caf::actor_pool::round_robin());
}

}  // namespace crawld::actors
