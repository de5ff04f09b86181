#include "parse/scope.hpp"

#include <algorithm>
#include <exception>

namespace crawld::parse {
namespace {

bool is_ip(const std::string& host) {
  if (!host.empty() && host[0] == '[') return true;
  // The URL parser turns any host whose last label is numeric into an IPv4 address.
  size_t dot = host.rfind('.');
  std::string_view last = dot == std::string::npos ? std::string_view(host)
                                                   : std::string_view(host).substr(dot + 1);
  return !last.empty() && std::all_of(last.begin(), last.end(), [](char c) {
    return c >= '0' && c <= '9';
  });
}

void add_unique(std::vector<std::string>& v, std::string s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(std::move(s));
}

}  // namespace

result<void> regex_guard(std::string_view p) {
  auto digits_at = [&](std::size_t i) {
    std::size_t n = 0;
    while (i + n < p.size() && p[i + n] >= '0' && p[i + n] <= '9') ++n;
    return n;
  };
  bool in_class = false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\') {
      if (!in_class && digits_at(i + 1) > 4)
        return make_error("back-reference number too large (more than 4 digits)");
      ++i;  // the escaped character is literal
    } else if (in_class) {
      in_class = c != ']';
    } else if (c == '[') {
      in_class = true;
      if (i + 1 < p.size() && p[i + 1] == ']') ++i;  // "[]...]": the first ']' is literal
    } else if (c == '{') {
      std::size_t n = digits_at(i + 1);
      std::size_t m = i + 1 + n < p.size() && p[i + 1 + n] == ',' ? digits_at(i + 2 + n) : 0;
      if (n > 4 || m > 4)
        return make_error("repetition count too large (more than 4 digits)");
    }
  }
  return {};
}

namespace {

result<std::vector<std::shared_ptr<const std::regex>>> compile(
    const std::vector<std::string>& patterns, const char* what) {
  std::vector<std::shared_ptr<const std::regex>> out;
  for (const auto& p : patterns) {
    if (auto g = regex_guard(p); !g)
      return make_error(std::string("bad ") + what + " regex '" + p + "': " + g.message());
    try {
      out.push_back(std::make_shared<const std::regex>(p, std::regex::ECMAScript));
    } catch (const std::exception& e) {
      return make_error(std::string("bad ") + what + " regex '" + p + "': " + e.what());
    }
  }
  return out;
}

bool search_any(const std::vector<std::shared_ptr<const std::regex>>& res, const std::string& s) {
  for (const auto& re : res) {
    try {
      if (std::regex_search(s, *re)) return true;
    } catch (const std::exception&) {
      // regex_search can throw on pathological backtracking (error_complexity/error_stack):
      // treat as no match.
    }
  }
  return false;
}

}  // namespace

const char* to_string(scope_verdict v) {
  switch (v) {
    case scope_verdict::in_scope: return "in_scope";
    case scope_verdict::bad_scheme: return "bad_scheme";
    case scope_verdict::off_site: return "off_site";
    case scope_verdict::excluded: return "excluded";
    case scope_verdict::not_included: return "not_included";
    case scope_verdict::too_deep: return "too_deep";
  }
  return "unknown";
}

result<scope> scope::make(const std::vector<std::string>& seed_urls,
                          const std::vector<std::string>& allow_domains,
                          const std::vector<std::string>& include,
                          const std::vector<std::string>& exclude, int max_depth) {
  scope s;
  for (const auto& seed : seed_urls) {
    auto u = parse_url(seed);
    if (!u || (u->scheme != "http" && u->scheme != "https"))
      return make_error("bad seed URL '" + seed + "': not an absolute http(s) URL");
    add_unique(s.hosts_, u->host);
  }
  for (const auto& d : allow_domains) {
    std::string_view name = d;
    if (name.substr(0, 2) == "*.") name.remove_prefix(2);
    else if (name.substr(0, 1) == ".") name.remove_prefix(1);
    // A bare host only; parsed as an http URL's host: lower-cases, applies IDNA, canonicalizes
    // IP addresses.
    bool bare = !name.empty() && name.find_first_of("/\\?#@") == std::string_view::npos &&
                (name[0] == '[' || name.find(':') == std::string_view::npos);
    auto u = bare ? parse_url("http://" + std::string(name) + "/") : std::nullopt;
    if (!u || u->path != "/" || u->port != -1 || u->host.empty())
      return make_error("bad domain '" + d + "'");
    if (is_ip(u->host)) add_unique(s.hosts_, u->host);
    else add_unique(s.domains_, u->host);
  }
  auto inc = compile(include, "include");
  if (!inc) return inc.err();
  auto exc = compile(exclude, "exclude");
  if (!exc) return exc.err();
  s.include_ = std::move(*inc);
  s.exclude_ = std::move(*exc);
  s.max_depth_ = max_depth;
  return s;
}

scope_verdict scope::check(const url& u, int depth) const {
  if (u.scheme != "http" && u.scheme != "https") return scope_verdict::bad_scheme;
  bool on_site = std::find(hosts_.begin(), hosts_.end(), u.host) != hosts_.end();
  if (!on_site && !is_ip(u.host)) {
    for (const auto& d : domains_) {
      if (u.host == d || (u.host.size() > d.size() && u.host.compare(u.host.size() - d.size(),
                                                                     d.size(), d) == 0 &&
                          u.host[u.host.size() - d.size() - 1] == '.')) {
        on_site = true;
        break;
      }
    }
  }
  if (!on_site) return scope_verdict::off_site;
  if (!exclude_.empty() || !include_.empty()) {
    std::string n = normalize(u);
    if (search_any(exclude_, n)) return scope_verdict::excluded;
    if (!include_.empty() && !search_any(include_, n)) return scope_verdict::not_included;
  }
  if (max_depth_ >= 0 && depth > max_depth_) return scope_verdict::too_deep;
  return scope_verdict::in_scope;
}

}  // namespace crawld::parse
