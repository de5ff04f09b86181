#pragma once
/// A blocking HTTP/1.1 client session for one fetcher: one keep-alive cpp-httplib client per
/// host (scheme://host:port), a small LRU of them, run-time timeouts, and a body decoded under a cap.
///
/// `get` performs exactly one request (no redirect following: the caller follows hops itself so
/// that every hop is scope- and robots-checked and recorded). It sends
/// `Accept-Encoding: gzip, deflate, br`, streams the body and decodes it incrementally; when the
/// decoded size would exceed `max_body_bytes` it stops reading, keeps the first
/// `max_body_bytes` bytes and reports `fetch_error::too_large`, so a large or bomb-like body is
/// never held whole in memory. Bodies of non-HTML responses are discarded unless
/// `keep_non_html_body` is set (only headers are kept). A request that fails on a reused
/// keep-alive connection before any response byte arrived is retried once on a fresh connection.
///
/// Session features (options below, "HTTP session"): a shared cookie jar (Cookie sent, Set-Cookie
/// stored), per-host extra headers and proxy from the job's domain rules (`for_host`), an HTTP
/// proxy with basic auth (absolute-form requests for http, a CONNECT tunnel for https, see
/// proxy_tunnel.hpp; a 407 is fetch_error::proxy_auth, another refused CONNECT fetch_error::connect), host names resolved through a shared `resolver` (overrides, cache;
/// a failure is fetch_error::dns), and TLS verified against the system CA store or `ca_file`
/// (`insecure` turns verification off; handshake and verification failures are
/// fetch_error::tls). Proxy credentials never appear in error messages (see redact_proxy).
///
/// Thread-safety: a session is used by one thread at a time (each fetcher owns one).
#include <chrono>
#include <functional>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/request.hpp"
#include "fetch/connection_pool.hpp"
#include "fetch/cookie_jar.hpp"
#include "fetch/resolver.hpp"
#include "parse/url.hpp"

namespace crawld::fetch {

using header_list = std::vector<std::pair<std::string, std::string>>;

/// What a job's domain rule changes for one host.
struct host_settings {
  header_list headers;  ///< sent after the job's headers, replacing those of the same name
  std::string proxy;    ///< "" = the job's proxy; "direct" = no proxy for this host
};

struct options {
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds read_timeout{30'000};
  std::chrono::milliseconds total_timeout{60'000};  ///< whole request, headers to last byte;
                                                     ///< checked as data arrives (a stalled read
                                                     ///< ends at min(read, total) timeout)
  std::size_t max_body_bytes = 16u << 20;            ///< cap on the decoded body
  /// Cap on the bytes read for the status line and headers (fetch/header_cap.hpp): past it the
  /// request fails with fetch_error::network, "response headers exceed N bytes". Not applied to
  /// a new connection through an https proxy tunnel (its socket is not seen).
  std::size_t max_header_bytes = 256u << 10;
  bool keep_non_html_body = false;
  std::string user_agent = "crawld";
  header_list headers;                               ///< extra request headers
  std::size_t max_idle_clients = 8;                  ///< idle clients of a session's own pool
  /// Raw capture for archives (WARC): fill `response::raw` (see `raw_exchange`). Also reads the
  /// bodies of non-HTML responses (up to max_body_bytes) instead of discarding them early.
  bool capture_raw = false;

  // HTTP session (cookies, per-host settings, proxy, DNS, TLS).
  std::shared_ptr<cookie_jar> cookies;               ///< null: no Cookie sent, Set-Cookie ignored
  std::function<host_settings(const std::string& host)> for_host;  ///< null: none
  std::string proxy;                                 ///< "http://[user:pass@]host:port"; "" = direct
  std::shared_ptr<resolver> dns;                     ///< null: cpp-httplib resolves by itself
  std::string ca_file;                               ///< PEM CA bundle; "" = system store
  bool insecure = false;                             ///< no certificate / host-name verification
  /// Decompression-bomb guard: past `ratio_floor_bytes` decoded, the decoded body may be at most
  /// `max_ratio` times the bytes received so far (0 = no ratio cap); beyond, too_large.
  std::size_t max_ratio = 0;
  std::size_t ratio_floor_bytes = 1u << 20;
};

/// `proxy` with its user and password replaced by "***" (for logs and error messages).
std::string redact_proxy(const std::string& proxy);
/// Checks a proxy URL ("http://[user:pass@]host:port"); the error never shows the credentials.
result<void> check_proxy(const std::string& proxy);

enum class fetch_error {
  none,
  connect,      ///< connection refused / unreachable / DNS failure
  timeout,      ///< connect, read or total timeout
  network,      ///< connection reset, malformed response, other transport failure
  too_large,    ///< decoded body exceeded max_body_bytes (body holds the first bytes)
  bad_encoding, ///< Content-Encoding stream is corrupt
  unsupported,  ///< scheme not http/https
  proxy_auth,   ///< the proxy refused our credentials (407)
  dns,          ///< the host name did not resolve
  tls,          ///< TLS handshake or certificate / host-name verification failed
};
const char* to_string(fetch_error e);

/// One exchange as it went over the wire, as far as cpp-httplib lets us see it (capture_raw).
/// - `request`: request line + headers + blank line (+ the request body, for a request with
///   one), exactly as sent: rebuilt from the headers
///   handed to cpp-httplib plus the ones it adds (`Accept: */*`), in its order (sorted by name,
///   case-insensitively) and with its percent-encoding of the path (' ' ' + , ; and non-ASCII
///   bytes); tests/fetch/raw_capture_test.cpp compares it with the bytes a server received.
/// - `response_head`: status line + headers + blank line, rebuilt from what cpp-httplib parsed:
///   names and values as received, but header order sorted by name (repeated names keep their
///   order), whitespace around values and obsolete line folding normalised, the reason phrase
///   as received.
/// - `body`: the body as received, still content-encoded (gzip, br, ...), cut at max_body_bytes.
///   cpp-httplib removes a chunked transfer-coding before we see the bytes, so a chunked body is
///   re-framed here as one chunk + the last chunk (original chunk sizes, extensions and trailers
///   are lost; the payload is identical).
struct raw_exchange {
  std::string request;
  std::string response_head;  ///< empty when no response arrived
  std::string body;
  /// Why the body is not complete: "" (complete), "length" (cut at the cap), "time" (timeout),
  /// "disconnect" (connection failed mid-body), "unspecified" (stopped for another reason).
  std::string truncated;
};

struct response {
  int status = 0;                   ///< 0 when no response was received
  header_list headers;              ///< as received; ordered by name (cpp-httplib keeps them in a
                                    ///< case-insensitive multimap), repeated names in wire order
  std::string content_type;         ///< media type, lower-case, no parameters ("text/html")
  std::string body;                 ///< decoded body (possibly cut; empty for skipped non-HTML)
  std::uint64_t wire_bytes = 0;     ///< body bytes received on the wire (before decoding)
  fetch_error error = fetch_error::none;
  std::string error_message;        ///< human-readable detail when error != none
  std::chrono::microseconds elapsed{0};
  std::shared_ptr<raw_exchange> raw;  ///< only with options::capture_raw and a sent request

  /// First header value for `name` (case-insensitive), "" if absent.
  std::string header(const std::string& name) const;
  bool is_html() const;
  bool is_redirect() const { return status >= 300 && status < 400 && status != 304; }
};

/// Whether `headers` has a field `name` (ASCII case-insensitive).
bool has_header(const header_list& headers, std::string_view name);

/// The header fields a request of `u` sends, both clients alike (Accept aside, which a client adds
/// when absent): Host, User-Agent and Accept-Encoding unless given, the job's extra headers, the
/// host's (`hs`) and then `over` (a request's own), each replacing fields of the same name
/// (case-insensitive), and Cookie from the jar unless given.
header_list request_fields(const options& o, const host_settings& hs, const parse::url& u,
                           const header_list& over = {});

class session {
 public:
  /// Uses `pool` for keep-alive clients (shared by the fetchers of a crawl); without one, the
  /// session has its own pool of `opts.max_idle_clients`.
  explicit session(options opts, std::shared_ptr<connection_pool> pool = nullptr);
  ~session();
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  /// GET `u` (one hop). Never throws.
  response get(const parse::url& u);
  /// GET `u` keeping the body whatever its media type (robots.txt, sitemaps), decoded and cut at
  /// `max_body` bytes (then error too_large, the first bytes kept).
  response get_any(const parse::url& u, std::size_t max_body);
  /// `req.method` `u` (one hop) with `req`'s headers (after the job's and the host's, replacing
  /// those of the same name) and body (Content-Type `req.content_type`, Content-Length set; a
  /// POST/PUT/PATCH without body sends Content-Length: 0). Everything else as `get`: cookies,
  /// proxy, resolver, caps, raw capture (the body is part of raw_exchange::request). Like `get`,
  /// a request that fails on a reused keep-alive connection before any response byte is sent
  /// again once on a fresh connection, whatever the method (the crawl's retries would send it
  /// again anyway). Never throws.
  response send(const parse::url& u, const request_spec& req);

  const options& opts() const { return opts_; }

 private:
  response get_with(const parse::url& u, const options& o, const request_spec* req = nullptr);
  options opts_;
  std::shared_ptr<connection_pool> pool_;
};

}  // namespace crawld::fetch
