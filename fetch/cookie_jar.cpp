#include "fetch/cookie_jar.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <limits>
#include <sstream>

#include "base/ascii.hpp"

namespace crawld::fetch {

namespace {

std::string to_lower(std::string_view s) {
  std::string r(s);
  std::transform(r.begin(), r.end(), r.begin(), ascii_lower);
  return r;
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

std::int64_t unix_seconds(cookie_jar::clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::int64_t unix_micros(cookie_jar::clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

/// RFC 6265 5.1.4 default-path of a request path.
std::string default_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return "/";
  auto last = path.rfind('/');
  if (last == 0) return "/";
  return std::string(path.substr(0, last));
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool is_delimiter(char c) {
  auto u = static_cast<unsigned char>(c);
  return u == 0x09 || (u >= 0x20 && u <= 0x2f) || (u >= 0x3b && u <= 0x40) || (u >= 0x5b && u <= 0x60) ||
         (u >= 0x7b && u <= 0x7e);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// Leading 1..max digits of `tok` (followed by a non-digit or the end), into `v`.
bool leading_digits(std::string_view tok, std::size_t min, std::size_t max, int& v, std::size_t& used) {
  used = 0;
  v = 0;
  while (used < tok.size() && is_digit(tok[used]) && used <= max) v = v * 10 + (tok[used++] - '0');
  return used >= min && used <= max;
}

}  // namespace

bool parse_cookie_date(std::string_view text, std::int64_t& out) {
  bool found_time = false, found_day = false, found_month = false, found_year = false;
  int hour = 0, minute = 0, second = 0, day = 0, month = 0, year = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_delimiter(text[i])) ++i;
    std::size_t j = i;
    while (j < text.size() && !is_delimiter(text[j])) ++j;
    std::string_view tok = text.substr(i, j - i);
    i = j;
    if (tok.empty()) continue;
    std::size_t used = 0;
    int v = 0;
    if (!found_time) {  // hms-time: 1*2DIGIT ":" 1*2DIGIT ":" 1*2DIGIT ( non-digit *OCTET )
      int h, m, s;
      std::string_view t = tok;
      if (leading_digits(t, 1, 2, h, used) && used < t.size() && t[used] == ':') {
        t.remove_prefix(used + 1);
        if (leading_digits(t, 1, 2, m, used) && used < t.size() && t[used] == ':') {
          t.remove_prefix(used + 1);
          if (leading_digits(t, 1, 2, s, used)) {
            found_time = true;
            hour = h, minute = m, second = s;
            continue;
          }
        }
      }
    }
    if (!found_day && leading_digits(tok, 1, 2, v, used)) {
      found_day = true;
      day = v;
      continue;
    }
    if (!found_month && tok.size() >= 3) {
      static const char* const months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                           "jul", "aug", "sep", "oct", "nov", "dec"};
      bool hit = false;
      for (int k = 0; k < 12; ++k)
        if (iequals(tok.substr(0, 3), months[k])) {
          found_month = true;
          month = k + 1;
          hit = true;
          break;
        }
      if (hit) continue;
    }
    if (!found_year && leading_digits(tok, 2, 4, v, used)) {
      found_year = true;
      year = v;
      continue;
    }
  }
  if (found_year && year >= 70 && year <= 99) year += 1900;
  if (found_year && year >= 0 && year <= 69) year += 2000;
  if (!found_day || !found_month || !found_year || !found_time) return false;
  if (day < 1 || day > 31 || year < 1601 || hour > 23 || minute > 59 || second > 59) return false;
  static const int month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (day > month_days[month - 1]) return false;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap) return false;
  out = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 + hour * 3600 +
        minute * 60 + second;
  return true;
}

bool is_ip_address(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') return true;
  in_addr a{};
  const std::string h(host);
  return ::inet_pton(AF_INET, h.c_str(), &a) == 1;
}

bool domain_match(std::string_view host, std::string_view domain) {
  if (iequals(host, domain)) return true;
  if (is_ip_address(host) || domain.empty() || host.size() <= domain.size()) return false;
  return host[host.size() - domain.size() - 1] == '.' && iequals(host.substr(host.size() - domain.size()), domain);
}

bool path_match(std::string_view request_path, std::string_view cookie_path) {
  if (request_path == cookie_path) return true;
  if (request_path.size() > cookie_path.size() && request_path.substr(0, cookie_path.size()) == cookie_path)
    return cookie_path.back() == '/' || request_path[cookie_path.size()] == '/';
  return false;
}

cookie_jar::cookie_jar(bool allow_ip_hosts, std::size_t max_cookies, std::size_t max_per_domain)
    : allow_ip_hosts_(allow_ip_hosts), max_cookies_(max_cookies), max_per_domain_(max_per_domain) {}

bool cookie_jar::set(const parse::url& u, std::string_view set_cookie, clock::time_point now, std::string* why) {
  return store(u, set_cookie, now, allow_ip_hosts_, why);
}

bool cookie_jar::seed(const parse::url& u, std::string_view set_cookie, std::string* why) {
  return store(u, set_cookie, clock::now(), true, why);
}

bool cookie_jar::store(const parse::url& u, std::string_view line, clock::time_point now, bool allow_ip,
                       std::string* why) {
  auto refuse = [why](std::string reason) {
    if (why) *why = std::move(reason);
    return false;
  };
  const std::string host = to_lower(u.host);
  if (host.empty()) return refuse("URL has no host");
  if (!allow_ip && is_ip_address(host)) return refuse("cookies from IP-address hosts are refused (unsafe_cookies is off)");
  if (has_control(line)) return refuse("control character in Set-Cookie");

  // 5.2: name=value pair, then attributes.
  auto semi = line.find(';');
  std::string_view pair = line.substr(0, semi);
  std::string_view attrs = semi == std::string_view::npos ? std::string_view{} : line.substr(semi + 1);
  auto eq = pair.find('=');
  if (eq == std::string_view::npos) return refuse("Set-Cookie without '='");
  cookie c;
  c.name = std::string(trim_ows(pair.substr(0, eq)));
  c.value = std::string(trim_ows(pair.substr(eq + 1)));
  if (c.name.empty()) return refuse("Set-Cookie with an empty name");

  std::optional<std::int64_t> max_age, expires;
  std::string domain_attr;
  bool has_domain = false;
  std::string path_attr;
  while (!attrs.empty()) {
    auto next = attrs.find(';');
    std::string_view av = attrs.substr(0, next);
    attrs = next == std::string_view::npos ? std::string_view{} : attrs.substr(next + 1);
    auto e = av.find('=');
    std::string_view name = trim_ows(av.substr(0, e));
    std::string_view value = e == std::string_view::npos ? std::string_view{} : trim_ows(av.substr(e + 1));
    if (iequals(name, "expires")) {
      std::int64_t t;
      if (parse_cookie_date(value, t)) expires = t;
    } else if (iequals(name, "max-age")) {
      if (value.empty()) continue;
      bool neg = value.front() == '-';
      std::string_view digits = neg ? value.substr(1) : value;
      if (digits.empty() || !std::all_of(digits.begin(), digits.end(), is_digit)) continue;
      std::int64_t v = 0;
      for (char ch : digits) {
        if (v > std::numeric_limits<std::int64_t>::max() / 20) break;  // saturate
        v = v * 10 + (ch - '0');
      }
      max_age = neg ? -v : v;
    } else if (iequals(name, "domain")) {
      if (value.empty()) continue;
      if (value.front() == '.') value.remove_prefix(1);
      domain_attr = to_lower(value);
      has_domain = true;
    } else if (iequals(name, "path")) {
      if (value.empty() || value.front() != '/') continue;
      path_attr = std::string(value);
    } else if (iequals(name, "secure")) {
      c.secure = true;
    } else if (iequals(name, "httponly")) {
      c.http_only = true;
    }
  }

  // 5.3: expiry (Max-Age wins), domain, path.
  const std::int64_t now_s = unix_seconds(now);
  if (max_age) {
    c.persistent = true;
    c.expires = *max_age <= 0 ? std::numeric_limits<std::int64_t>::min()
                              : (*max_age > std::numeric_limits<std::int64_t>::max() - now_s
                                     ? std::numeric_limits<std::int64_t>::max()
                                     : now_s + *max_age);
  } else if (expires) {
    c.persistent = true;
    c.expires = *expires;
  }
  if (has_domain && !domain_attr.empty()) {
    if (domain_attr.find('.') == std::string::npos && domain_attr != host)
      return refuse("Domain '" + domain_attr + "' is a bare top-level label");
    if (!domain_match(host, domain_attr))
      return refuse("Domain '" + domain_attr + "' does not match host '" + host + "'");
    if (domain_attr == host && domain_attr.find('.') == std::string::npos) {
      c.host_only = true;  // a bare label equal to the host (e.g. "localhost"): host-only
    } else {
      c.host_only = false;
    }
    c.domain = c.host_only ? host : domain_attr;
  } else {
    c.host_only = true;
    c.domain = host;
  }
  c.path = path_attr.empty() ? default_path(u.path) : path_attr;
  if (c.secure && u.scheme != "https") return refuse("Secure cookie from a non-https response");

  std::lock_guard<std::mutex> lock(mu_);
  // 5.3 step 11: replace the cookie of the same name, domain and path, keeping its creation time.
  std::int64_t created = 0;
  for (auto it = cookies_.begin(); it != cookies_.end(); ++it)
    if (it->name == c.name && it->domain == c.domain && it->path == c.path) {
      created = it->created;
      cookies_.erase(it);
      changes_.fetch_add(1, std::memory_order_release);
      break;
    }
  if (c.persistent && c.expires <= now_s) return true;  // deleted (or never stored)
  changes_.fetch_add(1, std::memory_order_release);
  if (created == 0) {
    created = std::max(unix_micros(now), last_created_ + 1);
    last_created_ = created;
  }
  c.created = created;
  cookies_.push_back(std::move(c));
  // Limits: drop expired cookies, then the oldest of the domain, then the oldest overall.
  const auto& added = cookies_.back().domain;
  auto count_domain = [&] {
    return static_cast<std::size_t>(
        std::count_if(cookies_.begin(), cookies_.end(), [&](const cookie& k) { return k.domain == added; }));
  };
  if (cookies_.size() > max_cookies_ || count_domain() > max_per_domain_)
    cookies_.erase(std::remove_if(cookies_.begin(), cookies_.end(),
                                  [&](const cookie& k) { return k.persistent && k.expires <= now_s; }),
                   cookies_.end());
  const std::string domain = added;
  while (count_domain() > max_per_domain_) {
    auto oldest = cookies_.end();
    for (auto it = cookies_.begin(); it != cookies_.end(); ++it)
      if (it->domain == domain && (oldest == cookies_.end() || it->created < oldest->created)) oldest = it;
    cookies_.erase(oldest);
  }
  while (cookies_.size() > max_cookies_) {
    auto oldest = std::min_element(cookies_.begin(), cookies_.end(),
                                   [](const cookie& a, const cookie& b) { return a.created < b.created; });
    cookies_.erase(oldest);
  }
  return true;
}

std::string cookie_jar::header_for(const parse::url& u, clock::time_point now) const {
  const std::string host = to_lower(u.host);
  const std::string path = u.path.empty() ? "/" : u.path;
  const bool https = u.scheme == "https";
  const std::int64_t now_s = unix_seconds(now);
  std::vector<const cookie*> hits;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& c : cookies_) {
    if (c.persistent && c.expires <= now_s) continue;
    if (c.host_only ? host != c.domain : !domain_match(host, c.domain)) continue;
    if (!path_match(path, c.path)) continue;
    if (c.secure && !https) continue;
    hits.push_back(&c);
  }
  std::stable_sort(hits.begin(), hits.end(), [](const cookie* a, const cookie* b) {
    if (a->path.size() != b->path.size()) return a->path.size() > b->path.size();
    return a->created < b->created;
  });
  std::string out;
  for (const cookie* c : hits) {
    if (!out.empty()) out += "; ";
    out += c->name;
    out += '=';
    out += c->value;
  }
  return out;
}

std::size_t cookie_jar::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cookies_.size();
}

std::vector<cookie> cookie_jar::all() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cookies_;
}

std::string cookie_jar::serialize(clock::time_point now) const {
  const std::int64_t now_s = unix_seconds(now);
  std::ostringstream out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& c : cookies_) {
    if (c.persistent && c.expires <= now_s) continue;
    out << c.name << '\t' << c.value << '\t' << c.domain << '\t' << c.path << '\t' << (c.host_only ? 1 : 0)
        << (c.secure ? 1 : 0) << (c.http_only ? 1 : 0) << (c.persistent ? 1 : 0) << '\t' << c.expires << '\t'
        << c.created << '\n';
  }
  return out.str();
}

result<void> cookie_jar::load(std::string_view text) {
  std::vector<cookie> loaded;
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty()) continue;
    std::vector<std::string> f;
    std::size_t pos = 0;
    while (true) {
      auto tab = line.find('\t', pos);
      f.emplace_back(line.substr(pos, tab == std::string_view::npos ? std::string_view::npos : tab - pos));
      if (tab == std::string_view::npos) break;
      pos = tab + 1;
    }
    auto bad = [&] { return make_error("stored cookie jar: bad line " + std::to_string(line_no)); };
    if (f.size() != 7 || f[0].empty() || f[2].empty() || f[3].empty() || f[4].size() != 4) return bad();
    cookie c;
    c.name = f[0];
    c.value = f[1];
    c.domain = f[2];
    c.path = f[3];
    c.host_only = f[4][0] == '1';
    c.secure = f[4][1] == '1';
    c.http_only = f[4][2] == '1';
    c.persistent = f[4][3] == '1';
    try {
      c.expires = std::stoll(f[5]);
      c.created = std::stoll(f[6]);
    } catch (...) {
      return bad();
    }
    loaded.push_back(std::move(c));
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& c : loaded) {
    auto same = std::find_if(cookies_.begin(), cookies_.end(), [&](const cookie& k) {
      return k.name == c.name && k.domain == c.domain && k.path == c.path;
    });
    if (same != cookies_.end()) *same = c;
    else cookies_.push_back(c);
    last_created_ = std::max(last_created_, c.created);
  }
  if (!loaded.empty()) changes_.fetch_add(1, std::memory_order_release);
  return {};
}

}  // namespace crawld::fetch
