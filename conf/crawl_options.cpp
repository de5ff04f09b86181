#include "conf/crawl_options.hpp"

#include <cctype>
#include <arpa/inet.h>

#include "parse/url.hpp"

namespace crawld::conf {

bool glob_match(std::string_view p, std::string_view t) {
  // Iterative matcher with one backtrack point: linear in practice, never exponential.
  std::size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  while (ti < t.size()) {
    if (pi < p.size() && (p[pi] == '?' || lower(p[pi]) == lower(t[ti]))) {
      ++pi;
      ++ti;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

const domain_rule* match_rule(const std::vector<domain_rule>& rules, std::string_view host) {
  for (const auto& r : rules)
    if (glob_match(r.glob, host))
      return &r;
  return nullptr;
}

std::string default_user_agent(std::string_view version, std::string_view contact) {
  std::string ua = "crawld/" + std::string(version);
  if (!contact.empty()) ua += " (+" + std::string(contact) + ")";
  return ua;
}

std::string redact_proxy_url(std::string_view proxy) {
  const auto scheme_end = proxy.find("://");
  const auto start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const auto at = proxy.rfind('@');
  if (at == std::string_view::npos || at < start) return std::string(proxy);
  return std::string(proxy.substr(0, start)) + "***@" + std::string(proxy.substr(at + 1));
}

namespace {

result<void> check_proxy_url(const std::string& proxy, const std::string& what) {
  auto u = parse::parse_url(proxy);
  if (!u || u->scheme != "http" || u->host.empty() || (u->path != "/" && !u->path.empty()) || u->has_query)
    return make_error(what + " must look like http://[user:pass@]host:port, got '" + redact_proxy_url(proxy) + "'");
  return {};
}

bool numeric_address(std::string a) {
  if (a.size() > 2 && a.front() == '[' && a.back() == ']') a = a.substr(1, a.size() - 2);
  unsigned char buf[16];
  return ::inet_pton(AF_INET, a.c_str(), buf) == 1 || ::inet_pton(AF_INET6, a.c_str(), buf) == 1;
}

result<void> check_session(const crawl_options& o) {
  if (!o.contact.empty()) {
    auto u = parse::parse_url(o.contact);
    if (!u || (u->scheme != "http" && u->scheme != "https" && u->scheme != "mailto"))
      return make_error("--contact must be an http(s) or mailto URL, got '" + o.contact + "'");
  }
  if (!o.proxy.empty())
    if (auto r = check_proxy_url(o.proxy, "--proxy"); !r) return r;
  for (const auto& r : o.domain_rules)
    if (!r.proxy.empty() && r.proxy != "direct")
      if (auto c = check_proxy_url(r.proxy, "domain rule '" + r.glob + "': proxy"); !c) return c;
  for (const auto& text : o.resolve) {
    // HOST:PORT:ADDR, HOST and ADDR possibly bracketed IPv6.
    const auto host_end = !text.empty() && text.front() == '[' ? text.find(']') + 1 : text.find(':');
    const auto port_end = host_end == 0 || host_end == std::string::npos || host_end >= text.size()
                              ? std::string::npos : text.find(':', host_end + 1);
    bool ok = port_end != std::string::npos && text[host_end] == ':';
    if (ok) {
      const auto port = text.substr(host_end + 1, port_end - host_end - 1);
      ok = !port.empty() && port.size() <= 5 && port.find_first_not_of("0123456789") == std::string::npos &&
           std::stoi(port) >= 1 && std::stoi(port) <= 65535 && numeric_address(text.substr(port_end + 1));
    }
    if (!ok) return make_error("--resolve must look like HOST:PORT:ADDR (ADDR numeric), got '" + text + "'");
  }
  for (const auto& c : o.seed_cookies) {
    const auto sp = c.find(' ');
    auto u = sp == std::string::npos ? std::nullopt : parse::parse_url(c.substr(0, sp));
    if (!u || (u->scheme != "http" && u->scheme != "https") || c.find('=', sp) == std::string::npos)
      return make_error("--cookie must look like 'URL NAME=VALUE[; attributes]', got '" + c + "'");
  }
  if (o.dns_ttl.count() < 0) return make_error("--dns-ttl must not be negative");
  if (o.idle_timeout.count() < 0) return make_error("--idle-timeout must not be negative");
  if (o.max_ratio > 1'000'000) return make_error("--max-ratio must be at most 1000000");
  for (const auto& r : o.domain_rules)
    for (const auto& [k, v] : r.headers)
      if (k.empty() || k.find_first_of(":\r\n ") != std::string::npos || v.find_first_of("\r\n") != std::string::npos)
        return make_error("domain rule '" + r.glob + "': bad header name or value: '" + k + "'");
  return {};
}

}  // namespace

result<void> validate_seed_request(const seed_request& s) {
  auto u = parse::parse_url(s.url);
  if (!u)
    return make_error("not a valid URL: '" + s.url + "'");
  if (u->scheme != "http" && u->scheme != "https")
    return make_error("seed URL must be http or https: '" + s.url + "'");
  const auto& r = s.request;
  if (!known_method(r.method))
    return make_error("method must be one of GET, POST, PUT, PATCH, DELETE, got '" + r.method + "'");
  if ((r.method == "GET" || r.method == "DELETE") && !r.body.empty())
    return make_error(r.method + " with a body: a body needs POST, PUT or PATCH");
  if (!r.body.empty() && r.content_type.empty())
    return make_error("a request body needs a content type");
  if (r.content_type.find_first_of("\r\n") != std::string::npos)
    return make_error("bad content type: '" + r.content_type + "'");
  for (const auto& [k, v] : r.headers)
    if (k.empty() || k.find_first_of(":\r\n \t") != std::string::npos || v.find_first_of("\r\n") != std::string::npos)
      return make_error("bad header name or value: '" + k + "'");
  return {};
}

result<void> validate(const crawl_options& o) {
  if (o.seeds.empty() && o.seed_requests.empty())
    return make_error("no seed URL given");
  for (const auto& s : o.seed_requests)
    if (auto r = validate_seed_request(s); !r)
      return make_error("seed request " + s.request.method + " " + s.url + ": " + r.message());
  for (const auto& s : o.seeds) {
    auto u = parse::parse_url(s);
    if (!u)
      return make_error("not a valid URL: '" + s + "'");
    if (u->scheme != "http" && u->scheme != "https")
      return make_error("seed URL must be http or https: '" + s + "'");
  }
  if (o.concurrency < 1 || o.concurrency > 4096)
    return make_error("--concurrency must be between 1 and 4096, got " + std::to_string(o.concurrency));
  if (o.per_host < 1 || o.per_host > 1024)
    return make_error("--per-host must be between 1 and 1024, got " + std::to_string(o.per_host));
  if (o.delay.count() < 0)
    return make_error("--delay must not be negative");
  if (o.max_depth < -1)
    return make_error("--depth must be -1 (unlimited) or more");
  auto positive = [](std::chrono::milliseconds d) { return d.count() > 0; };
  if (!positive(o.connect_timeout) || !positive(o.read_timeout) || !positive(o.total_timeout))
    return make_error("timeouts must be positive");
  if (o.max_body_bytes == 0)
    return make_error("--max-body must be positive");
  if (o.max_redirects < 0 || o.max_redirects > 100)
    return make_error("--max-redirects must be between 0 and 100");
  if (o.max_retries < 0 || o.max_retries > 10)
    return make_error("--retries must be between 0 and 10");
  if (o.park_after < 1)
    return make_error("--park-after must be at least 1");
  if (o.robots_attempts < 1)
    return make_error("robots attempts must be at least 1");
  if (o.backoff_base.count() < 0 || o.backoff_max < o.backoff_base)
    return make_error("back-off base must be >= 0 and <= its maximum");
  for (const auto& r : o.domain_rules) {
    if (r.glob.empty())
      return make_error("domain rule with an empty glob");
    if (r.per_host && (*r.per_host < 1 || *r.per_host > 1024))
      return make_error("domain rule '" + r.glob + "': per-host must be between 1 and 1024");
    if (r.delay && r.delay->count() < 0)
      return make_error("domain rule '" + r.glob + "': delay must not be negative");
  }
  if (o.politeness_key != "host" && o.politeness_key != "ip")
    return make_error("--politeness-key must be 'host' or 'ip', got '" + o.politeness_key + "'");
  if (o.warc_max_size == 0)
    return make_error("--warc-max-size must be positive");
  for (const auto& [k, v] : o.headers)
    if (k.empty() || k.find_first_of(":\r\n ") != std::string::npos || v.find_first_of("\r\n") != std::string::npos)
      return make_error("bad header name or value: '" + k + "'");
  if (auto r = check_session(o); !r)
    return r;
  return {};
}

result<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t v = 0;
  std::size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    if (v > (std::uint64_t(1) << 50))
      return make_error("size '" + std::string(text) + "' is too large");
    v = v * 10 + static_cast<std::uint64_t>(text[i] - '0');
  }
  if (i == 0)
    return make_error("size must be a number with an optional K, M, G or T suffix, got '" +
                      std::string(text) + "'");
  std::string unit;
  for (; i < text.size(); ++i)
    unit += static_cast<char>(std::toupper(static_cast<unsigned char>(text[i])));
  int shift = -1;
  if (unit.empty() || unit == "B") shift = 0;
  else if (unit == "K" || unit == "KB" || unit == "KIB") shift = 10;
  else if (unit == "M" || unit == "MB" || unit == "MIB") shift = 20;
  else if (unit == "G" || unit == "GB" || unit == "GIB") shift = 30;
  else if (unit == "T" || unit == "TB" || unit == "TIB") shift = 40;
  if (shift < 0)
    return make_error("size must be a number with an optional K, M, G or T suffix, got '" +
                      std::string(text) + "'");
  if (shift > 0 && v > (std::uint64_t(1) << (62 - shift)))
    return make_error("size '" + std::string(text) + "' is too large");
  return v << shift;
}

}  // namespace crawld::conf
