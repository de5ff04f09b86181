// robots.txt parsing and matching (RFC 9309); see robots.hpp for the contract.
#include "fetch/robots.hpp"

#include <cstddef>
#include <cstdint>

#include "base/ascii.hpp"

namespace crawld::fetch {
namespace {

constexpr std::size_t max_parsed_bytes = 500 * 1024;

bool is_space(char c) { return c == ' ' || c == '\t'; }

bool is_token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

/// Leading run of token characters (no trimming).
std::string_view leading_token(std::string_view s) {
  std::size_t n = 0;
  while (n < s.size() && is_token_char(s[n])) ++n;
  return s.substr(0, n);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

/// Octets a URL never holds raw: percent-encoded when seen in a pattern or target.
bool must_encode(unsigned char c) {
  return c >= 0x80 || c <= 0x20 || c == 0x7f || c == '"' || c == '<' || c == '>';
}

void append_escape(std::string& out, unsigned char c) {
  static const char digits[] = "0123456789ABCDEF";
  out += '%';
  out += digits[c >> 4];
  out += digits[c & 0xf];
}

/// The canonical form shared by patterns and targets (see robots.hpp). In it a raw '*' is always
/// the wildcard and a raw '$' always the end anchor: a literal '*' or '$' (any '*' or '$' of a
/// target, a '$' not at the end of a pattern) is written %2A / %24, as RFC 9309 2.2.3 asks, so
/// that the pattern "/a-%2A" matches the target "/a-*".
std::string canonical(std::string_view s, bool pattern) {
  std::string out;
  out.reserve(s.size() + 8);
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '%' && i + 2 < s.size()) {
      const int hi = hex_value(s[i + 1]);
      const int lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        const auto decoded = static_cast<unsigned char>(hi * 16 + lo);
        if (is_unreserved(decoded))
          out += static_cast<char>(decoded);
        else
          append_escape(out, decoded);
        i += 2;
        continue;
      }
    }
    const bool literal_special =
        (c == '*' && !pattern) || (c == '$' && (!pattern || i + 1 != s.size()));
    if (must_encode(c) || literal_special)
      append_escape(out, c);
    else
      out += static_cast<char>(c);
  }
  return out;
}

/// Does `pattern` (canonical; '*' wildcard, trailing '$' anchor) match a prefix of `target`
/// (canonical)? Greedy: the first '*'-free segment must be a prefix, every later one is taken at
/// its leftmost occurrence after the previous one, and with '$' the last one must end the target.
/// Leftmost placement never loses a match, so there is no backtracking.
bool matches(std::string_view pattern, std::string_view target) {
  bool anchored = false;
  if (!pattern.empty() && pattern.back() == '$') {
    anchored = true;
    pattern.remove_suffix(1);
  }
  const auto star = pattern.find('*');
  if (star == std::string_view::npos) {
    if (anchored) return target == pattern;
    return target.substr(0, pattern.size()) == pattern;
  }
  const auto head = pattern.substr(0, star);
  if (target.substr(0, head.size()) != head) return false;
  std::size_t pos = head.size();  // next unmatched octet of target
  pattern.remove_prefix(star + 1);

  std::string_view tail;  // with '$': the segment after the last '*', which must end the target
  std::size_t end = target.size();
  if (anchored) {
    const auto last = pattern.rfind('*');
    tail = last == std::string_view::npos ? pattern : pattern.substr(last + 1);
    pattern = last == std::string_view::npos ? std::string_view() : pattern.substr(0, last);
    if (tail.size() > end - pos) return false;
    if (target.substr(end - tail.size()) != tail) return false;
    end -= tail.size();
  }
  const auto middle = target.substr(0, end);
  while (!pattern.empty()) {
    const auto next = pattern.find('*');
    const auto segment = pattern.substr(0, next);
    pattern = next == std::string_view::npos ? std::string_view() : pattern.substr(next + 1);
    if (segment.empty()) continue;
    const auto at = middle.find(segment, pos);
    if (at == std::string_view::npos) return false;
    pos = at + segment.size();
  }
  return true;
}

enum class key_kind { unknown, user_agent, allow, disallow, crawl_delay, sitemap };

key_kind classify_key(std::string_view key) {
  struct name {
    const char* text;
    key_kind kind;
  };
  static const name names[] = {
      {"user-agent", key_kind::user_agent}, {"useragent", key_kind::user_agent},
      {"user agent", key_kind::user_agent}, {"allow", key_kind::allow},
      {"disallow", key_kind::disallow},     {"dissallow", key_kind::disallow},
      {"dissalow", key_kind::disallow},     {"disalow", key_kind::disallow},
      {"disallaw", key_kind::disallow},     {"crawl-delay", key_kind::crawl_delay},
      {"crawldelay", key_kind::crawl_delay}, {"crawl delay", key_kind::crawl_delay},
      {"sitemap", key_kind::sitemap},       {"site-map", key_kind::sitemap},
  };
  for (const auto& n : names)
    if (iequals(key, n.text)) return n.kind;
  return key_kind::unknown;
}

/// "5", "0.5", "1.", ".25" -> milliseconds (fraction truncated); nullopt for anything else,
/// and for 1e9 seconds or more.
std::optional<std::chrono::milliseconds> parse_delay(std::string_view v) {
  std::size_t i = 0;
  std::int64_t seconds = 0;
  std::size_t int_digits = 0;
  while (i < v.size() && v[i] >= '0' && v[i] <= '9') {
    if (seconds == 0 && v[i] == '0') {
      ++i;
      ++int_digits;
      continue;
    }
    seconds = seconds * 10 + (v[i] - '0');
    if (seconds >= 1'000'000'000) return std::nullopt;
    ++i;
    ++int_digits;
  }
  std::int64_t millis = 0;
  std::size_t frac_digits = 0;
  if (i < v.size() && v[i] == '.') {
    ++i;
    std::int64_t scale = 100;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9') {
      millis += (v[i] - '0') * scale;
      scale /= 10;
      ++i;
      ++frac_digits;
    }
  }
  if (i != v.size() || int_digits + frac_digits == 0) return std::nullopt;
  return std::chrono::milliseconds(seconds * 1000 + millis);
}

bool is_global_name(std::string_view value) {
  return !value.empty() && value[0] == '*' && (value.size() == 1 || is_space(value[1]));
}

}  // namespace

robots robots::parse(std::string_view text) {
  robots r;
  if (text.size() > max_parsed_bytes) {
    const bool cut_mid_line = text[max_parsed_bytes] != '\n' && text[max_parsed_bytes] != '\r';
    text = text.substr(0, max_parsed_bytes);
    if (cut_mid_line) {
      const auto last_end = text.find_last_of("\r\n");
      text = last_end == std::string_view::npos ? std::string_view() : text.substr(0, last_end + 1);
    }
  }
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);

  bool in_agent_run = false;  // the previous group line was a user-agent line
  int line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto eol = text.find_first_of("\r\n", pos);
    std::string_view line = text.substr(pos, eol == std::string_view::npos ? text.npos : eol - pos);
    if (eol == std::string_view::npos)
      pos = text.size();
    else
      pos = eol + ((text[eol] == '\r' && eol + 1 < text.size() && text[eol + 1] == '\n') ? 2 : 1);
    ++line_no;

    const auto hash = line.find('#');
    if (hash != std::string_view::npos) line = line.substr(0, hash);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const auto kind = classify_key(trim_ows(line.substr(0, colon)));
    const auto value = trim_ows(line.substr(colon + 1));

    switch (kind) {
      case key_kind::unknown:
        break;
      case key_kind::sitemap:
        if (!value.empty()) r.sitemaps_.emplace_back(value);
        break;
      case key_kind::user_agent: {
        if (!in_agent_run) r.groups_.emplace_back();
        in_agent_run = true;
        const auto name = is_global_name(value) ? std::string_view("*") : leading_token(value);
        if (!name.empty()) r.groups_.back().names.emplace_back(name);
        break;
      }
      case key_kind::allow:
      case key_kind::disallow:
      case key_kind::crawl_delay: {
        in_agent_run = false;
        if (r.groups_.empty()) break;  // before any user-agent line: in no group
        auto& g = r.groups_.back();
        if (kind == key_kind::crawl_delay) {
          if (!g.delay) g.delay = parse_delay(value);
          break;
        }
        if (value.empty()) break;
        entry e;
        e.rule.allow = kind == key_kind::allow;
        e.rule.pattern = std::string(value);
        e.rule.line = line_no;
        e.canonical = canonical(value, true);
        if (e.canonical[0] != '/' && e.canonical[0] != '*') e.canonical.insert(0, 1, '/');
        g.rules.push_back(std::move(e));
        break;
      }
    }
  }
  return r;
}

robots robots::allow_all() { return robots(); }

robots robots::disallow_all() {
  robots r;
  group g;
  g.names.emplace_back("*");
  entry e;
  e.rule.allow = false;
  e.rule.pattern = "/";
  e.rule.line = 0;
  e.canonical = "/";
  g.rules.push_back(std::move(e));
  r.groups_.push_back(std::move(g));
  return r;
}

std::vector<const robots::group*> robots::select(std::string_view agent, std::string* name) const {
  std::vector<const group*> out;
  const auto token = leading_token(trim_ows(agent));
  if (!token.empty()) {
    for (const auto& g : groups_)
      for (const auto& n : g.names)
        if (n != "*" && iequals(n, token)) {
          if (out.empty() && name) *name = n;
          out.push_back(&g);
          break;
        }
  }
  if (!out.empty()) return out;
  for (const auto& g : groups_)
    for (const auto& n : g.names)
      if (n == "*") {
        if (out.empty() && name) *name = n;
        out.push_back(&g);
        break;
      }
  return out;
}

robots_verdict robots::check(std::string_view agent, std::string_view path) const {
  robots_verdict v;
  const auto groups = select(agent, &v.group);
  if (groups.empty()) return v;
  const std::string target = path.empty() ? std::string("/") : canonical(path, false);
  if (target.compare(0, target.find('?'), "/robots.txt") == 0) return v;

  const entry* best = nullptr;
  for (const auto* g : groups)
    for (const auto& e : g->rules) {
      if (best) {
        if (e.canonical.size() < best->canonical.size()) continue;
        if (e.canonical.size() == best->canonical.size() && (best->rule.allow || !e.rule.allow))
          continue;
      }
      if (matches(e.canonical, target)) best = &e;
    }
  if (best) {
    v.allowed = best->rule.allow;
    v.rule = best->rule;
  }
  return v;
}

std::optional<std::chrono::milliseconds> robots::crawl_delay(std::string_view agent) const {
  for (const auto* g : select(agent, nullptr))
    if (g->delay) return g->delay;
  return std::nullopt;
}

robots_fetch robots_from_response(int status, bool got_response, std::string_view body) {
  if (got_response && status >= 200 && status < 300) return {robots::parse(body), false};
  if (got_response && status >= 300 && status < 500 && status != 429)
    return {robots::allow_all(), false};
  return {robots::disallow_all(), true};
}

std::string product_token(std::string_view user_agent) {
  while (!user_agent.empty() && is_space(user_agent.front())) user_agent.remove_prefix(1);
  return std::string(leading_token(user_agent));
}

}  // namespace crawld::fetch
