#include "fetch/resolver.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>

namespace crawld::fetch {

namespace {

std::string to_lower(std::string_view s) {
  std::string r(s);
  std::transform(r.begin(), r.end(), r.begin(), [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
  return r;
}

std::string unbracket(std::string_view h) {
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') return std::string(h.substr(1, h.size() - 2));
  return std::string(h);
}

bool is_numeric(const std::string& h) {
  in_addr a4{};
  in6_addr a6{};
  return ::inet_pton(AF_INET, h.c_str(), &a4) == 1 || ::inet_pton(AF_INET6, h.c_str(), &a6) == 1;
}

}  // namespace

result<resolve_override> parse_resolve_override(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return make_error("--resolve must look like HOST:PORT:ADDR (" + why + "), got '" + std::string(text) + "'");
  };
  // HOST may be a bracketed IPv6 literal, ADDR too: split on the first ':' after HOST.
  if (text.empty()) return bad("empty");
  std::size_t host_end = text.front() == '[' ? text.find(']') + 1 : text.find(':');
  if (host_end == 0 || host_end == std::string_view::npos || host_end >= text.size() ||
      text[host_end] != ':')
    return bad("no host");
  auto rest = text.substr(host_end + 1);
  auto colon = rest.find(':');
  if (colon == std::string_view::npos || colon == 0) return bad("no port");
  auto port_text = rest.substr(0, colon);
  if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return bad("bad port");
  resolve_override o;
  o.host = to_lower(text.substr(0, host_end));
  o.port = std::stoi(std::string(port_text));
  o.address = unbracket(rest.substr(colon + 1));
  if (o.port < 1 || o.port > 65535) return bad("port out of range");
  if (!is_numeric(o.address)) return bad("ADDR must be a numeric IPv4 or IPv6 address");
  return o;
}

resolver::resolver(std::vector<resolve_override> overrides, std::chrono::milliseconds ttl,
                   std::chrono::milliseconds negative_ttl, std::size_t max_entries)
    : overrides_(std::move(overrides)), ttl_(ttl), negative_ttl_(negative_ttl), max_entries_(max_entries) {}

std::optional<result<std::string>> resolver::cached(const std::string& host_in, int port) const {
  const std::string host = to_lower(host_in);
  for (const auto& o : overrides_)
    if (o.port == port && o.host == host) return result<std::string>(o.address);
  std::string bare = unbracket(host);
  if (is_numeric(bare)) return result<std::string>(std::move(bare));
  const auto now = clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(bare);
  if (it == cache_.end() || it->second.expires <= now) return std::nullopt;
  if (it->second.address.empty()) return result<std::string>(make_error(it->second.error));
  return result<std::string>(it->second.address);
}

result<std::string> resolver::resolve(const std::string& host_in, int port) {
  if (auto known = cached(host_in, port)) return std::move(*known);
  const std::string bare = unbracket(to_lower(host_in));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  entry e;
  const int rc = ::getaddrinfo(bare.c_str(), nullptr, &hints, &res);
  if (rc != 0 || !res) {
    e.error = "cannot resolve '" + bare + "': " + (rc != 0 ? ::gai_strerror(rc) : "no address");
    e.expires = clock::now() + negative_ttl_;
  } else {
    char buf[INET6_ADDRSTRLEN] = {};
    const void* addr = res->ai_family == AF_INET6
                           ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(res->ai_addr)->sin6_addr)
                           : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr);
    if (::inet_ntop(res->ai_family, addr, buf, sizeof buf)) e.address = buf;
    else e.error = "cannot resolve '" + bare + "': bad address";
    e.expires = clock::now() + (e.address.empty() ? negative_ttl_ : ttl_);
  }
  if (res) ::freeaddrinfo(res);
  std::lock_guard<std::mutex> lock(mu_);
  ++lookups_;
  if (cache_.size() >= max_entries_) cache_.clear();
  cache_[bare] = e;
  if (e.address.empty()) return make_error(e.error);
  return e.address;
}

std::size_t resolver::lookups() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lookups_;
}

}  // namespace crawld::fetch
