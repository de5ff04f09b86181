#include "fetch/session.hpp"

#include <httplib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <optional>
#include <string_view>

#include "base/ascii.hpp"
#include "fetch/decoder.hpp"
#include "fetch/proxy_tunnel.hpp"
#include "fetch/response_reader.hpp"
#include "fetch/header_cap.hpp"
#include "fetch/watchdog.hpp"

namespace crawld::fetch {

const char* to_string(fetch_error e) {
  switch (e) {
    case fetch_error::none: return "none";
    case fetch_error::connect: return "connect";
    case fetch_error::timeout: return "timeout";
    case fetch_error::network: return "network";
    case fetch_error::too_large: return "too_large";
    case fetch_error::bad_encoding: return "bad_encoding";
    case fetch_error::unsupported: return "unsupported";
    case fetch_error::proxy_auth: return "proxy_auth";
    case fetch_error::dns: return "dns";
    case fetch_error::tls: return "tls";
  }
  return "unknown";
}

namespace {

using steady = std::chrono::steady_clock;

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

/// A small subset of the WHATWG MIME sniffing rules for HTML: after whitespace (and a UTF-8 BOM),
/// one of a few tags followed by a space or '>', or a comment.
bool looks_like_html(std::string_view body) {
  if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);
  while (!body.empty() && (body.front() == ' ' || body.front() == '\t' || body.front() == '\n' ||
                           body.front() == '\r' || body.front() == '\f'))
    body.remove_prefix(1);
  if (body.substr(0, 4) == "<!--") return true;
  static const char* const tags[] = {"<!doctype html", "<html", "<head", "<body", "<script",
                                     "<iframe", "<title", "<style", "<table", "<div", "<p",
                                     "<a", "<h1", "<br", "<b", "<font"};
  for (const char* tag : tags) {
    const std::string_view t(tag);
    if (istarts_with(body, t) && body.size() > t.size() &&
        (body[t.size()] == ' ' || body[t.size()] == '>'))
      return true;
  }
  return false;
}

/// The Host header: the serialized host with the port only when it is not the default.
std::string host_header(const parse::url& u) {
  return u.port == -1 ? u.host : u.host + ":" + std::to_string(u.port);
}

/// host:port with the effective port (a CONNECT target).
std::string host_header_with_port(const parse::url& u) { return u.host + ":" + std::to_string(u.effective_port()); }

}  // namespace

bool has_header(const header_list& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& kv) { return iequals(kv.first, name); });
}

std::string response::header(const std::string& name) const {
  for (const auto& [key, value] : headers)
    if (iequals(key, name)) return value;
  return {};
}

bool response::is_html() const {
  if (content_type == "text/html" || content_type == "application/xhtml+xml") return true;
  return content_type.empty() && looks_like_html(body);
}

namespace {

/// A proxy URL taken apart; user and password percent-decoded.
using proxy_spec = proxy_endpoint;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
        hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// ---- raw capture (options::capture_raw), see raw_exchange in session.hpp ----

/// Request line + headers as cpp-httplib writes them: it adds `Accept: */*` when absent and
/// writes its (case-insensitively sorted) header map in order.
std::string raw_request(const std::string& method, const std::string& target, httplib::Headers h,
                        const std::string& body) {
  if (h.find("Accept") == h.end()) h.emplace("Accept", "*/*");
  // As cpp-httplib's write_request: a body gets Content-Length (and text/plain when no type was
  // given); a bodiless POST, PUT or PATCH gets Content-Length: 0.
  if (!body.empty()) {
    if (h.find("Content-Type") == h.end()) h.emplace("Content-Type", "text/plain");
    if (h.find("Content-Length") == h.end()) h.emplace("Content-Length", std::to_string(body.size()));
  } else if ((method == "POST" || method == "PUT" || method == "PATCH") && h.find("Content-Length") == h.end()) {
    h.emplace("Content-Length", "0");
  }
  std::string s = method + " " + target + " HTTP/1.1\r\n";  // url_encode is off: sent as given
  for (const auto& [k, v] : h) s += k + ": " + v + "\r\n";
  return s + "\r\n" + body;
}

std::string raw_response_head(const httplib::Response& res) {
  std::string s = (res.version.empty() ? std::string("HTTP/1.1") : res.version) + " " +
                  std::to_string(res.status);
  if (!res.reason.empty()) s += " " + res.reason;
  s += "\r\n";
  for (const auto& [k, v] : res.headers) s += k + ": " + v + "\r\n";
  return s + "\r\n";
}

/// True when the last transfer-coding of the response is chunked.
bool chunked(const httplib::Response& res) {
  std::string_view v;
  const std::string te = res.get_header_value("Transfer-Encoding");
  v = te;
  if (auto comma = v.rfind(','); comma != std::string_view::npos) v.remove_prefix(comma + 1);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return iequals(v, "chunked");
}

/// `body` framed as one chunk and the last chunk (nothing but the last chunk when empty).
std::string one_chunk(const std::string& body) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", body.size());
  return body.empty() ? std::string("0\r\n\r\n") : size + body + "\r\n0\r\n\r\n";
}

result<proxy_spec> parse_proxy(const std::string& text) {
  auto u = parse::parse_url(text);
  if (!u || u->scheme != "http" || u->host.empty())
    return make_error("proxy must look like http://[user:pass@]host:port, got '" + redact_proxy(text) + "'");
  proxy_spec p;
  p.host = u->host;
  if (p.host.size() > 2 && p.host.front() == '[') p.host = p.host.substr(1, p.host.size() - 2);
  p.port = u->effective_port();
  p.user = percent_decode(u->username);
  p.password = percent_decode(u->password);
  return p;
}

/// Asks the proxy for a CONNECT tunnel to `target` and returns its status code (0 when it cannot
/// tell), so that a 401 through a proxy for an http URL is told apart: only the proxy answers it.
int probe_connect_status(const proxy_spec& p, const std::string& target, std::chrono::milliseconds timeout) {
  auto t = open_tunnel(p, target, timeout, steady::now() + timeout);
  if (t.fd >= 0) ::close(t.fd);
  return t.status;
}

bool is_auth_refusal(int connect_status) { return connect_status == 401 || connect_status == 407; }

/// `opts.proxy` or the host's rule proxy ("direct": none); "" = direct.
std::string effective_proxy(const options& o, const host_settings& hs) {
  if (hs.proxy == "direct") return {};
  return hs.proxy.empty() ? o.proxy : hs.proxy;
}

/// `address` is where to connect ("" = let httplib resolve `u`'s host); `proxy` null = direct.
std::unique_ptr<httplib::ClientImpl> make_client(const parse::url& u, const options& o, const proxy_spec* proxy,
                                                 const std::string& address) {
  std::string host = u.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const int port = u.effective_port();
  std::unique_ptr<httplib::ClientImpl> c;
  if (u.scheme == "https") {
    // Through a proxy: a CONNECT tunnel of our own (httplib's deadlocks, see proxy_tunnel.hpp),
    // then the same TLS set-up and verification as a direct connection.
    if (proxy)
      c = make_tunnel_client(host, port, *proxy);
    else
      c = std::make_unique<httplib::SSLClient>(host, port);
    c->enable_server_certificate_verification(!o.insecure);
    if (!o.ca_file.empty()) c->set_ca_cert_path(o.ca_file.c_str());
  } else {
    c = std::make_unique<httplib::ClientImpl>(host, port);
  }
  if (proxy && u.scheme == "http") {
    c->set_proxy(proxy->host.c_str(), proxy->port);
    if (!proxy->user.empty()) c->set_proxy_basic_auth(proxy->user.c_str(), proxy->password.c_str());
  } else if (!address.empty() && address != host) {
    c->set_hostname_addr_map({{host, address}});
  }
  c->set_connection_timeout(std::min(o.connect_timeout, o.total_timeout));
  c->set_read_timeout(std::min(o.read_timeout, o.total_timeout));
  c->set_write_timeout(std::min(o.read_timeout, o.total_timeout));
  c->set_keep_alive(true);
  // Our request targets are already WHATWG-normalized and percent-encoded; cpp-httplib's own
  // encoding would turn '+' into %2B (changing a query's meaning) and re-encode , ; '.
  c->set_url_encode(false);
  c->set_follow_location(false);
  c->set_decompress(false);
  return c;
}

/// One request on one client, filling `r`. Returns httplib's error for the caller's retry choice.
/// The job's headers, then the host's (replacing those of the same name).
header_list merged_headers(const options& o, const host_settings& hs) {
  if (hs.headers.empty()) return o.headers;
  header_list out;
  for (const auto& kv : o.headers)
    if (!has_header(hs.headers, kv.first)) out.push_back(kv);
  out.insert(out.end(), hs.headers.begin(), hs.headers.end());
  return out;
}

/// `extra` with `over` appended, replacing entries of the same name (case-insensitive).
header_list override_headers(const header_list& extra, const header_list& over) {
  if (over.empty()) return extra;
  header_list out;
  for (const auto& kv : extra)
    if (!has_header(over, kv.first)) out.push_back(kv);
  out.insert(out.end(), over.begin(), over.end());
  return out;
}

}  // namespace

header_list request_fields(const options& o, const host_settings& hs, const parse::url& u, const header_list& over) {
  const header_list extra = override_headers(merged_headers(o, hs), over);
  header_list h;
  if (!has_header(extra, "Host")) h.emplace_back("Host", host_header(u));
  if (!has_header(extra, "User-Agent")) h.emplace_back("User-Agent", o.user_agent);
  if (!has_header(extra, "Accept-Encoding")) h.emplace_back("Accept-Encoding", "gzip, deflate, br");
  h.insert(h.end(), extra.begin(), extra.end());
  if (o.cookies && !has_header(extra, "Cookie")) {
    auto c = o.cookies->header_for(u);
    if (!c.empty()) h.emplace_back("Cookie", std::move(c));
  }
  return h;
}

namespace {

httplib::Error run_once(httplib::ClientImpl& client, const parse::url& u, const options& o,
                        const host_settings& hs, steady::time_point started, response& r,
                        const request_spec* req) {
  header_list over;
  if (req) {
    over = req->headers;
    if (!req->content_type.empty() && !has_header(over, "Content-Type"))
      over.emplace_back("Content-Type", req->content_type);
  }
  httplib::Headers h;
  for (auto& kv : request_fields(o, hs, u, over)) h.emplace(std::move(kv.first), std::move(kv.second));
  if (o.capture_raw) {
    r.raw = std::make_shared<raw_exchange>();
    r.raw->request = req ? raw_request(req->method, u.request_target(), h, req->body)
                         : raw_request("GET", u.request_target(), h, {});
  }
  bool raw_cut = false, raw_chunked = false;

  response_reader reader(o, u, started, r);
  auto last_io = steady::now();

  // cpp-httplib keeps every header line until the blank line: a byte cap on that phase, released
  // when the headers are complete (header_cap.hpp). The socket is the open one, or the one httplib
  // connects (its socket-options callback, reset to httplib's default when this request ends).
  header_watch headers_watch = watch_headers(o.max_header_bytes, [&client] { client.stop(); });
  struct socket_options_reset {
    httplib::ClientImpl& c;
    ~socket_options_reset() { c.set_socket_options(httplib::default_socket_options); }
  } reset_socket_options{client};
  client.set_socket_options([&headers_watch](socket_t sock) {
    httplib::default_socket_options(sock);
    headers_watch.set_fd(static_cast<int>(sock), true);
  });
  if (client.is_socket_open()) headers_watch.set_fd(static_cast<int>(client.socket()), false);

  auto on_response = [&](const httplib::Response& res) {
    headers_watch.release();
    last_io = steady::now();
    if (r.raw) {
      r.raw->response_head = raw_response_head(res);
      raw_chunked = chunked(res);
    }
    return reader.on_head(res.status, header_list(res.headers.begin(), res.headers.end()));
  };

  auto on_body = [&](const char* data, std::size_t n) {
    last_io = steady::now();
    if (r.raw && !raw_cut) {
      auto& raw = r.raw->body;
      raw.append(data, std::min(n, o.max_body_bytes - raw.size()));
      if (r.wire_bytes + n > o.max_body_bytes) {
        r.wire_bytes += n;
        raw_cut = true;
        if (reader.keep_body())
          reader.set_stop(fetch_error::too_large,
                          "body exceeds " + std::to_string(o.max_body_bytes) + " bytes on the wire");
        return false;
      }
    }
    return reader.on_body(data, n);
  };

  // Nothing may unwind through httplib: a throwing callback cancels the request instead.
  auto guard = [&](auto&& callback) {
    try {
      return callback();
    } catch (const std::exception& e) {
      reader.set_stop(fetch_error::network, std::string("internal error: ") + e.what());
      return false;
    }
  };
  const httplib::ResponseHandler response_handler = [&](const httplib::Response& res) {
    return guard([&] { return on_response(res); });
  };
  const httplib::ContentReceiver content_receiver = [&](const char* data, std::size_t n) {
    return guard([&] { return on_body(data, n); });
  };
  // httplib's timeouts are per read: the watchdog holds the total timeout over the status line
  // and headers too (a server dripping header bytes, or sending header lines forever).
  auto watchdog = arm_watchdog(started + o.total_timeout, [&client] { client.stop(); });
  httplib::Result res = [&] {
    if (!req) return client.Get(u.request_target(), h, response_handler, content_receiver);
    // The general form of what Get does, with our method and body.
    httplib::Request hr;
    hr.method = req->method;
    hr.path = u.request_target();
    hr.headers = h;
    hr.body = req->body;
    hr.response_handler = response_handler;
    hr.content_receiver = [&content_receiver](const char* data, std::size_t n, std::uint64_t, std::uint64_t) {
      return content_receiver(data, n);
    };
    return client.send(hr);
  }();
  headers_watch.release();
  if (headers_watch.fired() && res.error() != httplib::Error::Success && reader.stop() == fetch_error::none) {
    r.error = fetch_error::network;
    r.error_message = "response headers exceed " + std::to_string(o.max_header_bytes) + " bytes";
    return res.error();
  }
  if (watchdog.fired() && res.error() != httplib::Error::Success && reader.stop() == fetch_error::none) {
    r.error = fetch_error::timeout;
    r.error_message = "total timeout of " + std::to_string(o.total_timeout.count()) + " ms exceeded";
    return res.error();
  }
  const httplib::Error err = res.error();
  const std::string what = httplib::to_string(err);
  if (err == httplib::Error::Success && r.status == 0)
    guard([&] { return on_response(res.value()); });  // 204: httplib skips the response handler
  if (r.raw && r.raw->response_head.empty() && err == httplib::Error::Success)
    r.raw->response_head = raw_response_head(res.value());  // 204: httplib skips the handler
  if (r.raw && !r.raw->response_head.empty()) {
    if (raw_chunked) r.raw->body = one_chunk(r.raw->body);
    if (raw_cut) r.raw->truncated = "length";
  }
  switch (err) {
    case httplib::Error::Success:
      reader.on_complete();
      break;
    case httplib::Error::Canceled:
      r.error = reader.stop();
      r.error_message = reader.stop_message();
      break;
    case httplib::Error::Connection:
    case httplib::Error::BindIPAddress:
      r.error = fetch_error::connect;
      r.error_message = "cannot connect to " + u.host_key() + " (" + what + ")";
      break;
    case httplib::Error::SSLConnection:
    case httplib::Error::SSLServerVerification:
    case httplib::Error::SSLLoadingCerts:
      r.error = fetch_error::tls;
      r.error_message = "TLS with " + u.host_key() + " failed (" + what + ")";
      break;
    case httplib::Error::ConnectionTimeout:
      r.error = fetch_error::timeout;
      r.error_message = "connect to " + u.host_key() + " timed out";
      break;
    case httplib::Error::Read:
    case httplib::Error::Write: {
      // httplib does not tell a timeout from a reset: a read/write that failed after waiting at
      // least the read timeout since the last byte is taken as a timeout.
      const auto quiet = steady::now() - last_io;
      const auto limit = std::min(o.read_timeout, o.total_timeout);
      if (quiet + std::chrono::milliseconds(20) >= limit) {
        r.error = fetch_error::timeout;
        r.error_message = "no data from " + u.host_key() + " for " +
                          std::to_string(limit.count()) + " ms";
      } else {
        r.error = fetch_error::network;
        r.error_message = what + " error talking to " + u.host_key();
      }
      break;
    }
    default:
      r.error = fetch_error::network;
      r.error_message = what + " error talking to " + u.host_key();
      break;
  }
  if (r.raw && !r.raw->response_head.empty() && r.raw->truncated.empty() &&
      err != httplib::Error::Success) {
    switch (r.error) {
      case fetch_error::timeout: r.raw->truncated = "time"; break;
      case fetch_error::too_large:
      case fetch_error::none: r.raw->truncated = "length"; break;  // a cap, or a quiet discard
      case fetch_error::network:
      case fetch_error::connect: r.raw->truncated = "disconnect"; break;
      default: r.raw->truncated = "unspecified"; break;
    }
  }
  return err;
}

}  // namespace

std::string redact_proxy(const std::string& proxy) {
  const auto scheme_end = proxy.find("://");
  const auto start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const auto at = proxy.rfind('@');
  if (at == std::string::npos || at < start) return proxy;
  return proxy.substr(0, start) + "***@" + proxy.substr(at + 1);
}

result<void> check_proxy(const std::string& proxy) {
  auto p = parse_proxy(proxy);
  if (!p) return p.err();
  return {};
}

session::session(options opts, std::shared_ptr<connection_pool> pool)
    : opts_(std::move(opts)), pool_(std::move(pool)) {
  if (!pool_) {
    pool_limits l;
    l.max_idle_per_host = opts_.max_idle_clients;
    l.max_idle_total = opts_.max_idle_clients;
    pool_ = std::make_shared<connection_pool>(l);
  }
}

session::~session() = default;

response session::get(const parse::url& u) { return get_with(u, opts_); }

response session::send(const parse::url& u, const request_spec& req) {
  if (req.method == "GET" && req.body.empty() && req.headers.empty()) return get_with(u, opts_);
  return get_with(u, opts_, &req);
}

response session::get_any(const parse::url& u, std::size_t max_body) {
  options o = opts_;
  o.keep_non_html_body = true;
  o.max_body_bytes = max_body;
  return get_with(u, o);
}

response session::get_with(const parse::url& u, const options& opts, const request_spec* req) {
  const auto started = steady::now();
  response r;
  try {
    if (u.scheme != "http" && u.scheme != "https") {
      r.error = fetch_error::unsupported;
      r.error_message = "unsupported scheme '" + u.scheme + "'";
    } else if (u.host.empty()) {
      r.error = fetch_error::connect;
      r.error_message = "URL has no host";
    } else {
      const std::string key = u.host_key();
      const host_settings hs = opts.for_host ? opts.for_host(u.host) : host_settings{};
      const std::string proxy_text = effective_proxy(opts, hs);
      std::optional<proxy_spec> proxy;
      if (!proxy_text.empty()) {
        auto p = parse_proxy(proxy_text);
        if (!p) {
          r.error = fetch_error::connect;
          r.error_message = p.message();
          r.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - started);
          return r;
        }
        proxy = std::move(*p);
      }
      auto client = pool_->checkout(key);
      const bool reused = client && client->is_socket_open();
      std::string address;
      if (!client && !proxy && opts.dns) {
        auto a = opts.dns->resolve(u.host, u.effective_port());
        if (!a) {
          r.error = fetch_error::dns;
          r.error_message = a.message();
          r.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - started);
          return r;
        }
        address = std::move(*a);
      }
      if (!client) client = make_client(u, opts, proxy ? &*proxy : nullptr, address);
      const auto attempt_started = steady::now();
      const auto tunnel_timeout = std::min(opts.connect_timeout, opts.total_timeout);
      prepare_tunnel(*client, tunnel_timeout, started + opts.total_timeout);
      httplib::Error err = run_once(*client, u, opts, hs, started, r, req);
      // A kept-alive connection the server closed meanwhile fails before any byte arrives:
      // retry once on a fresh connection (not after a timeout, which would only double the wait).
      const bool stale = reused && r.status == 0 && r.wire_bytes == 0 &&
                         (err == httplib::Error::Read || err == httplib::Error::Write ||
                          err == httplib::Error::Unknown) &&
                         r.error != fetch_error::timeout &&
                         steady::now() - attempt_started < opts.read_timeout;
      if (stale) {
        if (!proxy && opts.dns && address.empty())
          if (auto a = opts.dns->resolve(u.host, u.effective_port())) address = std::move(*a);
        client = make_client(u, opts, proxy ? &*proxy : nullptr, address);
        r = response{};
        prepare_tunnel(*client, tunnel_timeout, started + opts.total_timeout);
        err = run_once(*client, u, opts, hs, started, r, req);
      }
      if (proxy && u.scheme == "https") {
        // The tunnel's own failures; once it is open, errors are the origin server's (TLS, HTTP).
        const auto t = last_tunnel_failure(*client);
        switch (t.failure) {
          case tunnel_failure::none: break;
          case tunnel_failure::auth: r.error = fetch_error::proxy_auth; break;
          case tunnel_failure::timeout: r.error = fetch_error::timeout; break;
          case tunnel_failure::connect:
          case tunnel_failure::refused: r.error = fetch_error::connect; break;
          case tunnel_failure::network: r.error = fetch_error::network; break;
        }
        if (t.failure != tunnel_failure::none) {
          r.status = 0;
          r.error_message = t.message;
        } else if (r.error != fetch_error::none) {
          r.error_message += " (through proxy " + proxy->host + ":" + std::to_string(proxy->port) + ")";
        }
      } else if (proxy) {
        const std::string via = " (through proxy " + proxy->host + ":" + std::to_string(proxy->port) + ")";
        // 407 is the proxy's; some proxies (tinyproxy 1.11) answer bad credentials with a 401,
        // so a 401 through a proxy is checked with a CONNECT probe, which only the proxy answers.
        if (r.status == 407 ||
            (r.status == 401 && is_auth_refusal(probe_connect_status(
                                    *proxy, host_header_with_port(u), std::min(opts.connect_timeout, opts.read_timeout))))) {
          r.error = fetch_error::proxy_auth;
          r.error_message = "proxy refused the credentials (" + std::to_string(r.status) + ")" + via;
        } else if (err == httplib::Error::Connection) {
          r.error_message = "cannot connect to proxy " + proxy->host + ":" + std::to_string(proxy->port);
        } else if (r.error != fetch_error::none) {
          r.error_message += via;
        }
      }
      // Only a connection that finished its response cleanly is reused.
      if (err == httplib::Error::Success && r.error == fetch_error::none)
        pool_->checkin(key, std::move(client));
    }
    if (!opts.keep_non_html_body && !r.is_html()) r.body.clear();
  } catch (const std::exception& e) {
    r.error = fetch_error::network;
    r.error_message = std::string("internal error: ") + e.what();
  } catch (...) {
    r.error = fetch_error::network;
    r.error_message = "internal error";
  }
  r.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - started);
  return r;
}

}  // namespace crawld::fetch
