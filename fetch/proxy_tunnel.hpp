#pragma once
/// https through an HTTP proxy: a CONNECT tunnel (RFC 9110 9.3.6) that fetch::session hands to
/// cpp-httplib, which then runs TLS and HTTP/1.1 over it exactly as for a direct https connection
/// (same SNI, certificate and host-name verification against the same CA settings, same request
/// and response handling, so the session's response contract is unchanged).
///
/// Why not cpp-httplib's own proxy support for https: in 0.11.4, SSLClient::connect_with_proxy
/// runs the CONNECT through ClientImpl::process_request while send_ holds socket_mutex_, and
/// process_request locks socket_mutex_ again (a plain std::mutex) to close the socket whenever the
/// proxy's reply says `Connection: close` or is HTTP/1.0 other than "Connection established" -
/// which is how a proxy refuses (tinyproxy 1.11's 401/407). Checked on this machine: with good
/// credentials the request works; with wrong ones the thread hangs for ever (no timeout helps),
/// so one refusal would freeze a fetcher. The tunnel is therefore
/// opened here, on our own socket, and given to httplib through its one socket hook: the virtual
/// ClientImpl::create_and_connect_socket, overridden by the client `make_tunnel_client` returns.
/// httplib then believes it made a direct connection and runs SSLClient::initialize_ssl on it.
///
/// Credentials go only to the proxy (Proxy-Authorization on the CONNECT, never to the origin
/// server) and never appear in a message.
///
/// Thread-safety: `open_tunnel` is reentrant; a tunnel client, like any httplib client, is used by
/// one thread at a time. Everything here blocks: call it from a fetcher's (detached) thread only.
#include <chrono>
#include <memory>
#include <string>

namespace httplib {
class ClientImpl;
}

namespace crawld::fetch {

/// An HTTP proxy taken apart (see session.hpp's options::proxy).
struct proxy_endpoint {
  std::string host;            ///< name or address, IPv6 without brackets
  int port = 0;
  std::string user, password;  ///< percent-decoded; an empty user sends no Proxy-Authorization
};

enum class tunnel_failure {
  none,
  connect,  ///< the proxy could not be reached (refused, unreachable, name did not resolve)
  timeout,  ///< connecting to the proxy or waiting for its reply took past the deadline
  auth,     ///< the proxy refused the credentials (407; or 401, as tinyproxy 1.11 answers)
  refused,  ///< any other non-2xx answer to CONNECT (`status`, e.g. 403 for a port not allowed)
  network,  ///< reset, closed, or a malformed reply
};

struct tunnel_result {
  int fd = -1;  ///< the connected socket with the tunnel open (blocking), owned by the caller
  tunnel_failure failure = tunnel_failure::none;
  int status = 0;       ///< the proxy's status code, when it answered
  std::string message;  ///< one line on failure ("proxy 127.0.0.1:3128 answered CONNECT with 403
                        ///< Forbidden"); never contains the credentials
};

/// "Basic " + base64(user ":" password) (RFC 7617).
std::string basic_credentials(const std::string& user, const std::string& password);

/// Connects to `proxy` (within `connect_timeout`), sends `CONNECT target HTTP/1.1` (`target` is
/// "host:port", IPv6 in brackets) with Proxy-Authorization when a user is set, and reads the
/// proxy's reply head, never past its blank line (the bytes after it belong to the tunnel).
/// Success is any 2xx. Gives up at `deadline` (connect, send and reply together) and on a reply
/// head over 16 KiB. Never throws.
tunnel_result open_tunnel(const proxy_endpoint& proxy, const std::string& target,
                          std::chrono::milliseconds connect_timeout,
                          std::chrono::steady_clock::time_point deadline);

/// An httplib::SSLClient for https://host:port (host without brackets) whose connections are
/// CONNECT tunnels through `proxy`. Configure it like any SSLClient (verification, CA file,
/// timeouts, keep-alive): a kept-alive tunnel is reused, a closed one is re-opened by the next
/// request. Do not call set_proxy on it.
std::unique_ptr<httplib::ClientImpl> make_tunnel_client(const std::string& host, int port, proxy_endpoint proxy);

/// Before each request on a tunnel client: the deadline for opening a tunnel (the request's total
/// deadline) and the connect timeout; also forgets the last failure. No-op for other clients.
void prepare_tunnel(httplib::ClientImpl& client, std::chrono::milliseconds connect_timeout,
                    std::chrono::steady_clock::time_point deadline);

/// The failed tunnel of the last request on `client` (failure none: no tunnel failed, or not a
/// tunnel client).
tunnel_result last_tunnel_failure(const httplib::ClientImpl& client);

}  // namespace crawld::fetch
