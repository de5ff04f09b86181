#pragma once
/// An event-driven HTTP/1.1 client for plain-http GETs: one thread waits in epoll on every
/// connection of a crawl, so a page costs a few system calls and no thread switch of its own
/// (the blocking `session` costs each fetcher thread a sleep in poll per response).
///
/// It does what `session::get` does for a plain-http URL without a proxy, with the same options
/// and the same `response` (status, headers ordered by name and without empty-valued fields as
/// cpp-httplib gives them, content type, decoded body cut at max_body_bytes, wire bytes, errors;
/// a message may add a detail in parentheses after the session's): the same request header fields (Host,
/// User-Agent, Accept-Encoding, Accept, the job's and the host's extra headers, Cookie from the
/// jar), Set-Cookie stored in the jar, non-HTML bodies drained up to 64 KiB then the connection
/// dropped, the decompression caps, the header cap (fetch_error::network, "response headers exceed
/// N bytes"), connect / read / total timeouts, keep-alive connections kept per host (idle ones
/// closed past `pool_limits` or when the server closes them), and one retry on a fresh connection
/// when a reused one fails before any response byte. What it does not do is left to a session:
/// https, proxies, raw capture (WARC), requests with a method or body, and host names not yet in
/// the resolver's cache (getaddrinfo blocks) — see `route`.
///
/// Thread-safety: `route`, `get` and the counters may be called from any thread. Callbacks run on
/// the client's thread, one at a time: keep them short (they hold up every connection).
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "fetch/connection_pool.hpp"
#include "fetch/session.hpp"
#include "parse/url.hpp"

namespace crawld::fetch {

class event_client {
 public:
  using callback = std::function<void(response)>;

  /// Starts the client's thread. `opts` as for a session (capture_raw and proxies are not served:
  /// `route` says nullopt); `limits` bound its idle keep-alive connections.
  explicit event_client(options opts, pool_limits limits = {});
  /// Completes requests still in flight with fetch_error::network ("client stopped"), closes every
  /// connection and joins the thread.
  ~event_client();
  event_client(const event_client&) = delete;
  event_client& operator=(const event_client&) = delete;

  /// The numeric address to connect to for `u` when this client serves it: http scheme, a host,
  /// no proxy for the host (the job's or its rule's), no raw capture, and an address known without
  /// a look-up (an IP literal, a --resolve override, a live resolver cache entry; without a
  /// resolver only IP literals). nullopt: fetch it with a session.
  std::optional<std::string> route(const parse::url& u) const;

  /// GET `u` (one hop) from `address` (from `route`). `done` is called exactly once, on the
  /// client's thread, with the response session::get would give. Never throws (an allocation
  /// failure aside).
  void get(const parse::url& u, std::string address, callback done);

  const options& opts() const;
  /// TCP connections opened so far (for tests and metrics: keep-alive reuse shows here).
  std::size_t connections_opened() const;
  /// Idle keep-alive connections held now.
  std::size_t idle() const;

 private:
  struct loop;
  // Shared with the client's thread, which keeps it alive until it has ended: the client may be
  // destroyed from one of its own callbacks (the thread then finishes on its own).
  std::shared_ptr<loop> loop_;
};

}  // namespace crawld::fetch
