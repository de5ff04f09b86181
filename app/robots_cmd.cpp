// `crawld robots`: read or fetch a robots.txt and print the verdict for each URL.
#include "app/robots_cmd.hpp"

#include <cctype>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>

#include "app/commands.hpp"
#include "fetch/robots.hpp"
#include "fetch/session.hpp"
#include "parse/url.hpp"

namespace crawld::app {
namespace {

constexpr int max_redirects = 5;                   // RFC 9309 2.3.1.2: follow at least five
constexpr std::size_t max_robots_bytes = 512'000;  // RFC 9309 2.5: only this much is parsed

bool is_http_url(const std::string& s) {
  auto starts = [&](const char* p) {
    const std::string prefix(p);
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
    return true;
  };
  return starts("http://") || starts("https://");
}

struct loaded {
  fetch::robots_fetch result;
  std::string summary;  // how the source was obtained, one line
  bool failed = false;  // could not be read or fetched
};

std::optional<loaded> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return std::nullopt;
  const auto text = buf.str();
  loaded l;
  l.result = {fetch::robots::parse(text), false};
  l.summary = "robots.txt: " + path + ", " + std::to_string(text.size()) + " bytes";
  return l;
}

loaded fetch_url(const parse::url& start, const std::string& user_agent) {
  fetch::options o;
  o.user_agent = user_agent;
  o.keep_non_html_body = true;  // robots.txt is text/plain
  o.max_body_bytes = max_robots_bytes;
  o.connect_timeout = std::chrono::seconds(10);
  o.read_timeout = std::chrono::seconds(20);
  o.total_timeout = std::chrono::seconds(30);
  fetch::session s(o);

  loaded l;
  parse::url at = start;
  std::string chain;
  for (int hop = 0;; ++hop) {
    const auto r = s.get(at);
    const bool got = r.status > 0 && (r.error == fetch::fetch_error::none ||
                                      r.error == fetch::fetch_error::too_large);
    if (!got) {
      l.failed = true;
      l.result = fetch::robots_from_response(r.status, false, "");
      l.summary = "cannot fetch " + at.href() + ": " +
                  (r.error_message.empty() ? fetch::to_string(r.error) : r.error_message);
      return l;
    }
    if (r.is_redirect() && hop < max_redirects) {
      const auto location = r.header("Location");
      const auto next = location.empty() ? std::nullopt : parse::parse_url(location, &at);
      if (next && (next->scheme == "http" || next->scheme == "https")) {
        chain += at.href() + " -> ";
        at = *next;
        continue;
      }
    }
    l.result = fetch::robots_from_response(r.status, true, r.body);
    std::ostringstream os;
    os << "robots.txt: " << chain << at.href() << ": HTTP " << r.status;
    if (r.status >= 200 && r.status < 300)
      os << ", " << r.body.size() << " bytes" << (r.error == fetch::fetch_error::too_large ? " (cut)" : "");
    else if (l.result.temporary)
      os << ": unreachable, everything disallowed until a later fetch succeeds";
    else if (r.is_redirect())
      os << ": too many redirects or no usable Location, no restrictions";
    else
      os << ": unavailable, no restrictions";
    l.summary = os.str();
    return l;
  }
}

std::string seconds_text(std::chrono::milliseconds ms) {
  std::ostringstream os;
  os << ms.count() / 1000;
  if (const auto frac = ms.count() % 1000) os << '.' << std::setw(3) << std::setfill('0') << frac;
  auto s = os.str();
  if (s.find('.') != std::string::npos)
    while (s.back() == '0') s.pop_back();
  return s + " s";
}

std::string reason(const fetch::robots_verdict& v, const std::string& target) {
  std::string group = v.group.empty() ? "" : ", group " + v.group;
  if (v.rule) {
    std::string where = v.rule->line > 0 ? " at line " + std::to_string(v.rule->line)
                                         : " (robots.txt unreachable)";
    return (v.rule->allow ? "allow: " : "disallow: ") + v.rule->pattern + where + group;
  }
  if (target.compare(0, target.find('?'), "/robots.txt") == 0)
    return "robots.txt itself is always allowed" + group;
  return "no rule matched" + group;
}

}  // namespace

int cmd_robots(const std::string& source, const std::string& agent,
               const std::vector<std::string>& urls) {
  std::vector<parse::url> parsed;
  for (const auto& u : urls) {
    auto p = parse::parse_url(u);
    if (!p || (p->scheme != "http" && p->scheme != "https")) {
      print_error("not a valid http(s) URL: '" + u + "'");
      return 2;
    }
    parsed.push_back(std::move(*p));
  }
  const auto token = fetch::product_token(agent);
  if (token.empty()) {
    print_error("no product token in user agent '" + agent + "' (letters, digits, '-', '_')");
    return 2;
  }

  loaded l;
  if (is_http_url(source)) {
    const auto u = parse::parse_url(source);
    if (!u) {
      print_error("not a valid URL: '" + source + "'");
      return 1;
    }
    l = fetch_url(*u, agent);
    if (l.failed) print_error(l.summary);
  } else {
    auto f = read_file(source);
    if (!f) {
      print_error("cannot read '" + source + "'");
      return 1;
    }
    l = std::move(*f);
  }

  const auto& rules = l.result.rules;
  if (!l.failed) std::cout << l.summary << '\n';
  std::cout << "agent: " << token << '\n';
  if (const auto delay = rules.crawl_delay(token))
    std::cout << "crawl-delay: " << seconds_text(*delay) << '\n';
  else
    std::cout << "crawl-delay: none\n";
  for (const auto& s : rules.sitemaps()) std::cout << "sitemap: " << s << '\n';

  for (std::size_t i = 0; i < parsed.size(); ++i) {
    const auto target = parsed[i].request_target();
    const auto v = rules.check(token, target);
    std::cout << std::left << std::setw(10) << (v.allowed ? "allowed" : "disallowed") << ' '
              << urls[i] << "    (" << reason(v, target) << ")\n";
  }
  return l.failed ? 1 : 0;
}

}  // namespace crawld::app
