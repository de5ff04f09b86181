#include "conf/job_file.hpp"
#include "conf/seed_request.hpp"
#include "conf/suggest.hpp"

#include "parse/scope.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <regex>
#include <sstream>

#include <toml++/toml.h>

namespace crawld::conf {

std::string to_string(const job_error& e) {
  if (e.line <= 0)
    return e.file + ": " + e.message;
  return e.file + ":" + std::to_string(e.line) + ":" + std::to_string(e.column) + ": " + e.message;
}

namespace {

const char* type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
    case toml::node_type::array: return "array";
    case toml::node_type::table: return "table";
    default: return "nothing";
  }
}

/// Collects errors and knows the defaults against which single values are range-checked.
class checker {
 public:
  checker(std::string file, std::vector<job_error>& errors) : file_(std::move(file)), errors_(errors) {}

  /// Positions come with their source's name: the job file's, or a `--set` override's.
  void add(const toml::source_region& at, std::string message) {
    const std::string& file = at.path && !at.path->empty() ? *at.path : file_;
    errors_.push_back({file, static_cast<int>(at.begin.line), static_cast<int>(at.begin.column), std::move(message)});
  }

  /// Runs `validate` on default options (plus a placeholder seed) changed only by `set`, so
  /// validate's ranges apply to one value and its error can be placed at that value.
  void check(const toml::source_region& at, std::string_view key, const std::function<void(crawl_options&)>& set) {
    crawl_options probe;
    probe.seeds = {"http://example.invalid/"};
    set(probe);
    if (auto r = validate(probe); !r)
      add(at, "'" + std::string(key) + "' is out of range: " + r.message());
  }

  std::optional<std::int64_t> integer(std::string_view key, const toml::node& n) {
    if (auto v = n.as_integer())
      return v->get();
    add(n.source(), "'" + std::string(key) + "' must be an integer, got " + type_name(n));
    return std::nullopt;
  }

  /// An integer within [lo, hi] (own ranges: what `validate` does not check, and int overflow).
  std::optional<std::int64_t> integer(std::string_view key, const toml::node& n, std::int64_t lo, std::int64_t hi) {
    auto v = integer(key, n);
    if (v && (*v < lo || *v > hi)) {
      add(n.source(), "'" + std::string(key) + "' must be between " + std::to_string(lo) + " and " +
                          std::to_string(hi) + ", got " + std::to_string(*v));
      return std::nullopt;
    }
    return v;
  }

  /// An integer or a float, finite, within [lo, hi].
  std::optional<double> number(std::string_view key, const toml::node& n, double lo, double hi) {
    std::optional<double> v;
    if (auto i = n.as_integer())
      v = static_cast<double>(i->get());
    else if (auto f = n.as_floating_point())
      v = f->get();
    if (!v) {
      add(n.source(), "'" + std::string(key) + "' must be a number, got " + type_name(n));
      return std::nullopt;
    }
    if (!std::isfinite(*v) || *v < lo || *v > hi) {
      std::ostringstream msg;
      msg << "'" << key << "' must be between " << lo << " and " << hi << ", got " << *v;
      add(n.source(), msg.str());
      return std::nullopt;
    }
    return v;
  }

  std::optional<bool> boolean(std::string_view key, const toml::node& n) {
    if (auto v = n.as_boolean())
      return v->get();
    add(n.source(), "'" + std::string(key) + "' must be a boolean, got " + type_name(n));
    return std::nullopt;
  }

  std::optional<std::string> string(std::string_view key, const toml::node& n) {
    if (auto v = n.as_string())
      return v->get();
    add(n.source(), "'" + std::string(key) + "' must be a string, got " + type_name(n));
    return std::nullopt;
  }

  /// An array of strings; `each` sees every string with its position (to check it there).
  std::optional<std::vector<std::string>> strings(
      std::string_view key, const toml::node& n,
      const std::function<void(const std::string&, const toml::source_region&)>& each = {}) {
    auto arr = n.as_array();
    if (!arr) {
      add(n.source(), "'" + std::string(key) + "' must be an array of strings, got " + type_name(n));
      return std::nullopt;
    }
    std::vector<std::string> out;
    bool all = true;
    for (const auto& e : *arr) {
      if (auto s = e.as_string()) {
        out.push_back(s->get());
        if (each)
          each(out.back(), e.source());
      } else {
        add(e.source(), "'" + std::string(key) + "' must be an array of strings, got a " + type_name(e) + " in it");
        all = false;
      }
    }
    if (!all)
      return std::nullopt;
    return out;
  }

  void unknown_key(const toml::key& k, std::string_view where, const std::vector<std::string_view>& known) {
    std::string msg = "unknown key '" + std::string(k.str()) + "' " + std::string(where);
    if (auto near = nearest(k.str(), known); !near.empty())
      msg += "; did you mean '" + near + "'?";
    add(k.source(), msg);
  }

 private:
  std::string file_;
  std::vector<job_error>& errors_;
};

using handler = std::function<void(checker&, std::string_view key, const toml::key&, const toml::node&, crawl_options&)>;
using section = std::vector<std::pair<std::string_view, handler>>;

/// Dispatches every key of `t` to its handler; unknown keys are errors with a suggestion.
void walk(checker& c, const toml::table& t, const section& keys, std::string_view where, crawl_options& o) {
  std::vector<std::string_view> names;
  for (const auto& [name, h] : keys)
    names.push_back(name);
  for (const auto& [k, v] : t) {
    const auto& key = k;  // clang 14 (C++17) cannot capture a structured binding
    auto it = std::find_if(keys.begin(), keys.end(), [&](const auto& e) { return e.first == key.str(); });
    if (it == keys.end())
      c.unknown_key(k, where, names);
    else
      it->second(c, it->first, k, v, o);
  }
}

// Handler builders for the common shapes.

/// An int field whose range `validate` checks.
handler int_field(int crawl_options::*field) {
  return [field](checker& c, std::string_view key, const toml::key&, const toml::node& n, crawl_options& o) {
    auto v = c.integer(key, n, std::numeric_limits<int>::min(), std::numeric_limits<int>::max());
    if (!v)
      return;
    o.*field = static_cast<int>(*v);
    c.check(n.source(), key, [&](crawl_options& p) { p.*field = static_cast<int>(*v); });
  };
}

/// An int set through `set`, within [lo, hi] (for fields `validate` does not check).
template <class Set>
handler bounded_int(std::int64_t lo, std::int64_t hi, Set set) {
  return [=](checker& c, std::string_view key, const toml::key&, const toml::node& n, crawl_options& o) {
    if (auto v = c.integer(key, n, lo, hi))
      set(o, *v);
  };
}

/// A duration: a number in the key's unit (`ms_per_unit` milliseconds each), checked by `validate`.
handler duration(std::chrono::milliseconds crawl_options::*field, double ms_per_unit, double lo) {
  return [=](checker& c, std::string_view key, const toml::key&, const toml::node& n, crawl_options& o) {
    auto v = c.number(key, n, lo, 1e12 / ms_per_unit);  // ~30 years: keeps the cast defined
    if (!v)
      return;
    std::chrono::milliseconds ms(static_cast<long long>(*v * ms_per_unit));
    o.*field = ms;
    c.check(n.source(), key, [&](crawl_options& p) { p.*field = ms; });
  };
}

handler flag(bool crawl_options::*field) {
  return [field](checker& c, std::string_view key, const toml::key&, const toml::node& n, crawl_options& o) {
    if (auto v = c.boolean(key, n))
      o.*field = *v;
  };
}

handler regexes(std::vector<std::string> crawl_options::*field) {
  return [field](checker& c, std::string_view key, const toml::key&, const toml::node& n, crawl_options& o) {
    auto v = c.strings(key, n, [&](const std::string& s, const toml::source_region& at) {
      if (auto g = parse::regex_guard(s); !g) {
        c.add(at, "bad regex in '" + std::string(key) + "': '" + s + "': " + g.message());
        return;
      }
      try {
        std::regex re(s, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        c.add(at, "bad regex in '" + std::string(key) + "': '" + s + "': " + e.what());
      }
    });
    if (v)
      o.*field = std::move(*v);
  };
}

/// A string field of the HTTP session, checked by `validate` where it stands.
handler session_string(std::string crawl_options::*field) {
  return [field](checker& c, std::string_view key, const toml::key&, const toml::node& n, crawl_options& o) {
    auto v = c.string(key, n);
    if (!v)
      return;
    o.*field = *v;
    c.check(n.source(), key, [&](crawl_options& p) { p.*field = *v; });
  };
}

/// An array-of-strings field of the HTTP session; each entry checked by `validate` where it stands.
handler session_strings(std::vector<std::string> crawl_options::*field) {
  return [field](checker& c, std::string_view key, const toml::key&, const toml::node& n, crawl_options& o) {
    auto v = c.strings(key, n, [&](const std::string& s, const toml::source_region& at) {
      c.check(at, key, [&](crawl_options& p) { p.*field = {s}; });
    });
    if (v)
      o.*field = std::move(*v);
  };
}

/// A table of header name = value, in the order written.
std::vector<std::pair<std::string, std::string>> header_table(checker& c, std::string_view key, const toml::node& n) {
  std::vector<std::pair<std::string, std::string>> out;
  auto t = n.as_table();
  if (!t) {
    c.add(n.source(), "'" + std::string(key) + "' must be a table of name = value, got " + type_name(n));
    return out;
  }
  std::vector<std::pair<const toml::key*, const toml::node*>> entries;
  for (const auto& [hk, hv] : *t)
    entries.emplace_back(&hk, &hv);
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    const auto &x = a.first->source().begin, &y = b.first->source().begin;
    return std::tie(x.line, x.column) < std::tie(y.line, y.column);
  });
  for (const auto& entry : entries) {
    const toml::key* hk = entry.first;  // not a structured binding: clang 14 cannot capture one
    const toml::node* hv = entry.second;
    auto name = std::string(key) + "." + std::string(hk->str());
    auto value = c.string(name, *hv);
    if (!value)
      continue;
    c.check(hk->source(), name, [&](crawl_options& p) { p.headers = {{std::string(hk->str()), *value}}; });
    out.emplace_back(std::string(hk->str()), std::move(*value));
  }
  return out;
}

const section& crawl_section() {
  static const section s = {
      {"seeds",
       [](checker& c, std::string_view key, const toml::key&, const toml::node& n, crawl_options& o) {
         auto v = c.strings(key, n, [&](const std::string& url, const toml::source_region& at) {
           crawl_options probe;
           probe.seeds = {url};
           if (auto r = validate(probe); !r)
             c.add(at, "bad seed in 'seeds': " + r.message());
         });
         if (v)
           o.seeds = std::move(*v);
       }},
      {"max_depth", int_field(&crawl_options::max_depth)},
      {"max_pages", bounded_int(0, std::numeric_limits<std::int64_t>::max(),
                                [](crawl_options& o, std::int64_t v) { o.max_pages = static_cast<std::uint64_t>(v); })},
      {"max_pages_per_host",
       bounded_int(0, std::numeric_limits<std::int64_t>::max(),
                   [](crawl_options& o, std::int64_t v) { o.max_pages_per_host = static_cast<std::uint64_t>(v); })},
      {"concurrency", int_field(&crawl_options::concurrency)},
      {"per_host", int_field(&crawl_options::per_host)},
      {"delay_ms", duration(&crawl_options::delay, 1, -1e12)},
      {"db",
       [](checker& c, std::string_view key, const toml::key&, const toml::node& n, crawl_options& o) {
         if (auto v = c.string(key, n))
           o.db = std::move(*v);
       }},
      {"allow_domains",
       [](checker& c, std::string_view key, const toml::key&, const toml::node& n, crawl_options& o) {
         auto v = c.strings(key, n, [&](const std::string& d, const toml::source_region& at) {
           if (d.empty() || d.find_first_of("/: \t") != std::string::npos)
             c.add(at, "'allow_domains' entries must be domain names, got '" + d + "'");
         });
         if (v)
           o.allow_domains = std::move(*v);
       }},
      {"include", regexes(&crawl_options::include)},
      {"exclude", regexes(&crawl_options::exclude)},
      {"user_agent",
       [](checker& c, std::string_view key, const toml::key&, const toml::node& n, crawl_options& o) {
         if (auto v = c.string(key, n))
           o.user_agent = std::move(*v);
       }},
      {"headers",
       [](checker& c, std::string_view key, const toml::key&, const toml::node& n, crawl_options& o) {
         auto t = n.as_table();
         if (!t) {
           c.add(n.source(), "'" + std::string(key) + "' must be a table of name = value, got " + type_name(n));
           return;
         }
         // In the order written (the table itself is sorted by name).
         std::vector<std::pair<const toml::key*, const toml::node*>> entries;
         for (const auto& [hk, hv] : *t)
           entries.emplace_back(&hk, &hv);
         std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
           const auto &x = a.first->source().begin, &y = b.first->source().begin;
           return std::tie(x.line, x.column) < std::tie(y.line, y.column);
         });
         o.headers.clear();
         for (auto [hk, hv] : entries) {
           auto value = c.string("headers." + std::string(hk->str()), *hv);
           if (!value)
             continue;
           c.check(hk->source(), "headers." + std::string(hk->str()),
                   [&, hk = hk](crawl_options& p) { p.headers = {{std::string(hk->str()), *value}}; });
           o.headers.emplace_back(std::string(hk->str()), std::move(*value));
         }
       }},
      {"connect_timeout_s", duration(&crawl_options::connect_timeout, 1000, -1e12)},
      {"read_timeout_s", duration(&crawl_options::read_timeout, 1000, -1e12)},
      {"timeout_s", duration(&crawl_options::total_timeout, 1000, -1e12)},
      {"max_body_mib",
       [](checker& c, std::string_view key, const toml::key&, const toml::node& n, crawl_options& o) {
         auto v = c.number(key, n, 0, 1 << 20);
         if (!v)
           return;
         auto bytes = static_cast<std::size_t>(*v * 1048576);
         o.max_body_bytes = bytes;
         c.check(n.source(), key, [&](crawl_options& p) { p.max_body_bytes = bytes; });
       }},
      {"max_redirects", int_field(&crawl_options::max_redirects)},
      {"keep_non_html", flag(&crawl_options::keep_non_html_body)},
      {"parsers", bounded_int(0, 1024, [](crawl_options& o, std::int64_t v) { o.parsers = static_cast<int>(v); })},
      // WARC output (docs/storage.md).
      {"warc",
       [](checker& c, std::string_view key, const toml::key&, const toml::node& n, crawl_options& o) {
         if (auto v = c.string(key, n))
           o.warc = std::move(*v);
       }},
      {"warc_max_size",
       [](checker& c, std::string_view key, const toml::key&, const toml::node& n, crawl_options& o) {
         // Bytes as an integer, or a string with a K/M/G/T suffix ("1G").
         std::optional<std::uint64_t> v;
         if (auto i = n.as_integer()) {
           if (i->get() > 0)
             v = static_cast<std::uint64_t>(i->get());
           else
             c.add(n.source(), "'" + std::string(key) + "' must be positive, got " + std::to_string(i->get()));
         } else if (auto str = n.as_string()) {
           if (auto r = parse_size(str->get()); r && *r > 0)
             v = *r;
           else
             c.add(n.source(), "'" + std::string(key) + "': " + (r ? std::string("must be positive") : r.message()));
         } else {
           c.add(n.source(), "'" + std::string(key) + "' must be an integer or a size string like \"1G\", got " + type_name(n));
         }
         if (v)
           o.warc_max_size = *v;
       }},
      {"warc_dedup", flag(&crawl_options::warc_dedup)},
      // HTTP session (issue 6).
      {"contact", session_string(&crawl_options::contact)},
      {"cookies", flag(&crawl_options::cookies)},
      {"unsafe_cookies", flag(&crawl_options::unsafe_cookies)},
      {"seed_cookies", session_strings(&crawl_options::seed_cookies)},
      {"proxy", session_string(&crawl_options::proxy)},
      {"resolve", session_strings(&crawl_options::resolve)},
      {"dns_ttl_s", duration(&crawl_options::dns_ttl, 1000, -1e12)},
      {"ca_file", session_string(&crawl_options::ca_file)},
      {"insecure", flag(&crawl_options::insecure)},
      {"max_ratio", bounded_int(0, 1'000'000, [](crawl_options& o, std::int64_t v) { o.max_ratio = static_cast<std::size_t>(v); })},
      {"idle_timeout_s", duration(&crawl_options::idle_timeout, 1000, -1e12)},
      {"blocking_fetch", flag(&crawl_options::blocking_fetch)},
  };
  return s;
}

const section& politeness_section() {
  static const section s = {
      {"obey_robots", flag(&crawl_options::obey_robots)},
      {"robots_ttl_h", duration(&crawl_options::robots_ttl, 3600 * 1000, 0)},
      {"max_crawl_delay_s", duration(&crawl_options::max_crawl_delay, 1000, 0)},
      {"retries", int_field(&crawl_options::max_retries)},
      {"park_after", int_field(&crawl_options::park_after)},
      {"backoff_ms",
       [](checker& c, std::string_view key, const toml::key&, const toml::node& n, crawl_options& o) {
         // As --backoff: the cap grows with a larger first back-off.
         auto v = c.integer(key, n, 0, 1'000'000'000'000);
         if (!v)
           return;
         o.backoff_base = std::chrono::milliseconds(*v);
         o.backoff_max = std::max(o.backoff_max, o.backoff_base);
       }},
      {"sitemaps", flag(&crawl_options::sitemaps)},
      {"sitemap_probe", flag(&crawl_options::sitemap_probe)},
      {"politeness_key", session_string(&crawl_options::politeness_key)},  // "host" | "ip"
  };
  return s;
}

const section& traps_section() {
  static const section s = {
      {"max_url_length",
       bounded_int(0, std::numeric_limits<int>::max(),
                   [](crawl_options& o, std::int64_t v) { o.traps.max_url_length = static_cast<std::size_t>(v); })},
      {"max_path_segments", bounded_int(0, std::numeric_limits<int>::max(),
                                        [](crawl_options& o, std::int64_t v) { o.traps.max_path_segments = static_cast<int>(v); })},
      {"max_segment_repeats",
       bounded_int(0, std::numeric_limits<int>::max(),
                   [](crawl_options& o, std::int64_t v) { o.traps.max_segment_repeats = static_cast<int>(v); })},
      {"max_query_params", bounded_int(0, std::numeric_limits<int>::max(),
                                       [](crawl_options& o, std::int64_t v) { o.traps.max_query_params = static_cast<int>(v); })},
  };
  return s;
}

/// One [[domain]] table into a rule (fields are set on `o.domain_rules.back()`).
const section& domain_section() {
  static const section s = {
      {"glob",
       [](checker& c, std::string_view key, const toml::key&, const toml::node& n, crawl_options& o) {
         auto v = c.string(key, n);
         if (!v)
           return;
         if (v->empty())
           c.add(n.source(), "'glob' must not be empty");
         o.domain_rules.back().glob = std::move(*v);
       }},
      {"delay_ms",
       [](checker& c, std::string_view key, const toml::key&, const toml::node& n, crawl_options& o) {
         auto v = c.integer(key, n, std::numeric_limits<std::int64_t>::min(), 1'000'000'000'000);
         if (!v)
           return;
         std::chrono::milliseconds ms(*v);
         o.domain_rules.back().delay = ms;
         c.check(n.source(), key, [&](crawl_options& p) { p.domain_rules = {{"x", ms, std::nullopt}}; });
       }},
      {"per_host",
       [](checker& c, std::string_view key, const toml::key&, const toml::node& n, crawl_options& o) {
         auto v = c.integer(key, n, std::numeric_limits<int>::min(), std::numeric_limits<int>::max());
         if (!v)
           return;
         int ph = static_cast<int>(*v);
         o.domain_rules.back().per_host = ph;
         c.check(n.source(), key, [&](crawl_options& p) { p.domain_rules = {{"x", std::nullopt, ph}}; });
       }},
      {"headers",
       [](checker& c, std::string_view key, const toml::key&, const toml::node& n, crawl_options& o) {
         o.domain_rules.back().headers = header_table(c, key, n);
       }},
      {"proxy",
       [](checker& c, std::string_view key, const toml::key&, const toml::node& n, crawl_options& o) {
         auto v = c.string(key, n);
         if (!v)
           return;
         o.domain_rules.back().proxy = *v;
         c.check(n.source(), key, [&](crawl_options& p) {
           p.domain_rules = {{"x", std::nullopt, std::nullopt}};
           p.domain_rules.back().proxy = *v;
         });
       }},
  };
  return s;
}

void load_domains(checker& c, const toml::node& n, crawl_options& o) {
  auto arr = n.as_array();
  if (!arr || !arr->is_array_of_tables()) {
    c.add(n.source(), std::string("'domain' must be an array of tables ([[domain]]), got ") + type_name(n));
    return;
  }
  for (const auto& e : *arr) {
    const auto& t = *e.as_table();
    o.domain_rules.emplace_back();
    walk(c, t, domain_section(), "in [[domain]]", o);
    if (!t.contains("glob"))
      c.add(t.source(), "[[domain]] needs a 'glob' (host name pattern)");
  }
}

// ---- [[seed]]: seed requests with a method, headers and a body (docs/job-file.md) ----

/// A TOML value as Python's json.dumps(value, sort_keys=True) writes it (tables have their keys
/// sorted already). Dates and times have no JSON form: an error at the value.
bool to_json(checker& c, const toml::node& n, std::string& out) {
  if (auto s = n.as_string()) {
    auto q = json_dumps_string(s->get());
    if (!q) {
      c.add(n.source(), "'json': " + q.message());
      return false;
    }
    out += *q;
  } else if (auto i = n.as_integer()) {
    out += std::to_string(i->get());
  } else if (auto f = n.as_floating_point()) {
    auto d = json_dumps_double(f->get());
    if (!d) {
      c.add(n.source(), "'json': " + d.message());
      return false;
    }
    out += *d;
  } else if (auto b = n.as_boolean()) {
    out += b->get() ? "true" : "false";
  } else if (auto a = n.as_array()) {
    out += "[";
    bool first = true;
    for (const auto& e : *a) {
      if (!first)
        out += ", ";
      first = false;
      if (!to_json(c, e, out))
        return false;
    }
    out += "]";
  } else if (auto t = n.as_table()) {
    out += "{";
    bool first = true;
    for (const auto& [k, v] : *t) {
      if (!first)
        out += ", ";
      first = false;
      auto q = json_dumps_string(k.str());
      if (!q) {
        c.add(k.source(), "'json': key " + q.message());
        return false;
      }
      out += *q + ": ";
      if (!to_json(c, v, out))
        return false;
    }
    out += "}";
  } else {
    c.add(n.source(), std::string("'json' cannot hold a ") + type_name(n) + " (JSON has no such type)");
    return false;
  }
  return true;
}

/// One form value: a string or a number (Python's str() of it).
std::optional<std::string> form_value(checker& c, const std::string& name, const toml::node& n) {
  if (auto s = n.as_string())
    return s->get();
  if (auto i = n.as_integer())
    return std::to_string(i->get());
  if (auto f = n.as_floating_point()) {
    if (auto d = json_dumps_double(f->get()))
      return *d;
  }
  c.add(n.source(), "'" + name + "' must be a string, a number or an array of them, got " + type_name(n));
  return std::nullopt;
}

void load_seed(checker& c, const toml::table& t, crawl_options& o) {
  static const std::vector<std::string_view> keys = {"url", "method", "headers", "form", "json", "body", "content_type"};
  seed_request s;
  const toml::node* method_at = nullptr;
  const toml::node* body_at = nullptr;    // the first of form / json / body
  std::string body_key;
  const toml::node* type_at = nullptr;
  bool ok = true;
  auto one_body = [&](const toml::key& k, const toml::node& v) {
    if (body_at) {
      c.add(k.source(), "'" + std::string(k.str()) + "' and '" + body_key +
                            "' both give the body: use only one of form, json, body");
      ok = false;
      return false;
    }
    body_at = &v;
    body_key = std::string(k.str());
    return true;
  };
  // Keys in the order written, so errors come out in file order.
  std::vector<std::pair<const toml::key*, const toml::node*>> entries;
  for (const auto& [k, v] : t)
    entries.emplace_back(&k, &v);
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    const auto &x = a.first->source().begin, &y = b.first->source().begin;
    return std::tie(x.line, x.column) < std::tie(y.line, y.column);
  });
  for (const auto& entry : entries) {
    const toml::key& k = *entry.first;
    const toml::node& v = *entry.second;
    const auto key = k.str();
    if (key == "url") {
      auto u = c.string("url", v);
      if (!u) {
        ok = false;
        continue;
      }
      crawl_options probe;
      probe.seeds = {*u};
      if (auto r = validate(probe); !r) {
        c.add(v.source(), "bad seed in [[seed]] 'url': " + r.message());
        ok = false;
      }
      s.url = *u;
    } else if (key == "method") {
      auto m = c.string("method", v);
      if (!m) {
        ok = false;
        continue;
      }
      std::string up = *m;
      std::transform(up.begin(), up.end(), up.begin(), [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
      if (!known_method(up)) {
        c.add(v.source(), "'method' must be one of GET, POST, PUT, PATCH, DELETE, got '" + *m + "'");
        ok = false;
      }
      s.request.method = up;
      method_at = &v;
    } else if (key == "headers") {
      s.request.headers = header_table(c, "headers", v);
    } else if (key == "form") {
      if (!one_body(k, v))
        continue;
      auto ft = v.as_table();
      if (!ft) {
        c.add(v.source(), std::string("'form' must be a table of field = value, got ") + type_name(v));
        ok = false;
        continue;
      }
      std::vector<std::pair<std::string, std::string>> fields;
      for (const auto& [fk, fv] : *ft) {
        const std::string name = "form." + std::string(fk.str());
        if (auto a = fv.as_array()) {
          for (const auto& e : *a)
            if (auto val = form_value(c, name, e))
              fields.emplace_back(std::string(fk.str()), std::move(*val));
            else
              ok = false;
        } else if (auto val = form_value(c, name, fv)) {
          fields.emplace_back(std::string(fk.str()), std::move(*val));
        } else {
          ok = false;
        }
      }
      s.request.body = form_urlencode(fields);
      s.request.content_type = "application/x-www-form-urlencoded";
    } else if (key == "json") {
      if (!one_body(k, v))
        continue;
      std::string out;
      if (!to_json(c, v, out))
        ok = false;
      s.request.body = std::move(out);
      s.request.content_type = "application/json";
    } else if (key == "body") {
      if (!one_body(k, v))
        continue;
      auto b = c.string("body", v);
      if (!b) {
        ok = false;
        continue;
      }
      s.request.body = std::move(*b);
    } else if (key == "content_type") {
      auto ct = c.string("content_type", v);
      if (!ct) {
        ok = false;
        continue;
      }
      if (ct->empty() || ct->find_first_of("\r\n") != std::string::npos) {
        c.add(v.source(), "'content_type' must be a media type like \"text/plain\", got '" + *ct + "'");
        ok = false;
      }
      type_at = &v;
      s.request.content_type = std::move(*ct);  // a form or json body keeps this type
    } else {
      c.unknown_key(k, "in [[seed]]", keys);
      ok = false;
    }
  }
  if (type_at && body_key != "body" && body_at)
    s.request.content_type = type_at->as_string()->get();
  if (!t.contains("url")) {
    c.add(t.source(), "[[seed]] needs a 'url'");
    return;
  }
  if (body_key == "body" && !type_at) {
    c.add(body_at->source(), "'body' needs a 'content_type' (e.g. \"text/plain\")");
    ok = false;
  }
  if (type_at && !body_at) {
    c.add(type_at->source(), "'content_type' without a body: add form, json or body");
    ok = false;
  }
  if (!method_at)
    s.request.method = body_at ? "POST" : "GET";
  else if (ok && body_at && (s.request.method == "GET" || s.request.method == "DELETE")) {
    c.add(method_at->source(), "method " + s.request.method + " cannot send a body ('" + body_key +
                                   "'); use POST, PUT or PATCH");
    ok = false;
  }
  if (!ok)
    return;
  if (auto r = validate_seed_request(s); !r) {
    c.add(t.source(), "[[seed]]: " + r.message());
    return;
  }
  o.seed_requests.push_back(std::move(s));
}

void load_seeds(checker& c, const toml::node& n, crawl_options& o) {
  auto arr = n.as_array();
  if (!arr || !arr->is_array_of_tables()) {
    c.add(n.source(), std::string("'seed' must be an array of tables ([[seed]]), got ") + type_name(n));
    return;
  }
  o.seed_requests.clear();
  for (const auto& e : *arr)
    load_seed(c, *e.as_table(), o);
}

void load_document(checker& c, const toml::table& doc, job_load& out) {
  static const std::vector<std::string_view> tables = {"crawl", "politeness", "traps", "domain", "seed"};
  auto& o = out.options;
  for (const auto& [k, v] : doc) {
    auto key = k.str();
    if (key == "name") {
      if (auto s = c.string("name", v))
        out.name = std::move(*s);
    } else if (key == "domain") {
      load_domains(c, v, o);
    } else if (key == "seed") {
      load_seeds(c, v, o);
    } else if (key == "crawl" || key == "politeness" || key == "traps") {
      auto t = v.as_table();
      if (!t) {
        c.add(v.source(), "'" + std::string(key) + "' must be a table ([" + std::string(key) + "]), got " + type_name(v));
        continue;
      }
      const auto& s = key == "crawl" ? crawl_section() : key == "politeness" ? politeness_section() : traps_section();
      walk(c, *t, s, "in [" + std::string(key) + "]", o);
    } else if (v.is_table() || v.is_array_of_tables()) {
      std::string msg = "unknown table [" + std::string(key) + "]";
      if (auto near = nearest(key, tables); !near.empty())
        msg += "; did you mean [" + near + "]?";
      else
        msg += "; tables are [crawl], [politeness], [traps], [[domain]] and [[seed]]";
      c.add(k.source(), msg);
    } else {
      // A key written above its table is a common slip: name the table it belongs in.
      std::string msg = "unknown top-level key '" + std::string(key) + "'";
      std::string_view home;
      for (auto [table, s] : {std::pair{"crawl", &crawl_section()}, std::pair{"politeness", &politeness_section()},
                              std::pair{"traps", &traps_section()}})
        for (const auto& e : *s)
          if (e.first == key)
            home = table;
      if (!home.empty())
        msg += "; did you mean to put it under [" + std::string(home) + "]?";
      else if (auto near = nearest(key, {"name"}); !near.empty())
        msg += "; did you mean '" + near + "'?";
      c.add(k.source(), msg);
    }
  }
}

/// Merges `from` into `into`: tables merge key by key, anything else replaces.
void merge_into(toml::table& into, toml::table& from) {
  for (auto& [k, v] : from) {
    if (auto* sub = v.as_table()) {
      if (auto* have = into.get_as<toml::table>(k.str())) {
        merge_into(*have, *sub);
        continue;
      }
    }
    into.insert_or_assign(k, std::move(v));
  }
}

/// Parses one `--set` override; false (with an error) when it cannot be read.
bool parse_override(const std::string& text, toml::table& out, std::vector<job_error>& errors) {
  const std::string name = "--set " + text;
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    errors.push_back({name, 0, 0, "expected TABLE.KEY=VALUE (e.g. crawl.max_pages=100)"});
    return false;
  }
  try {
    out = toml::parse(text, name);
    return true;
  } catch (const toml::parse_error&) {
  }
  // Not TOML: take the value as a string, so `crawl.db=/tmp/x` needs no quotes.
  std::string quoted = "\"";
  for (char ch : text.substr(eq + 1)) {
    if (ch == '"' || ch == '\\')
      quoted += '\\';
    quoted += ch;
  }
  quoted += '"';
  try {
    out = toml::parse(text.substr(0, eq) + "=" + quoted, name);
    return true;
  } catch (const toml::parse_error& e) {
    errors.push_back({name, static_cast<int>(e.source().begin.line), static_cast<int>(e.source().begin.column),
                      std::string(e.description())});
    return false;
  }
}

}  // namespace

job_load load_job_string(std::string_view text, const std::string& name, const std::vector<std::string>& overrides) {
  job_load out;
  try {
    checker c(name, out.errors);
    toml::table doc;
    try {
      doc = toml::parse(text, name);
    } catch (const toml::parse_error& e) {
      out.errors.push_back({name, static_cast<int>(e.source().begin.line), static_cast<int>(e.source().begin.column),
                            std::string(e.description())});
      return out;
    }
    for (const auto& o : overrides) {
      toml::table t;
      if (parse_override(o, t, out.errors))
        merge_into(doc, t);
    }
    if (!out.errors.empty())
      return out;
    load_document(c, doc, out);
    // Cross-option checks; seeds may still come from the command line, so none is fine here.
    crawl_options final_check = out.options;
    if (final_check.seeds.empty())
      final_check.seeds = {"http://example.invalid/"};
    // Every value was checked where it stands, so with errors already found this would only
    // repeat one of them (or a consequence, like the empty glob of a [[domain]] without one).
    if (auto r = validate(final_check); !r && out.errors.empty())
      out.errors.push_back({name, 0, 0, r.message()});
  } catch (const std::exception& e) {
    out.errors.push_back({name, 0, 0, std::string("internal error: ") + e.what()});
  } catch (...) {
    out.errors.push_back({name, 0, 0, "internal error"});
  }
  std::stable_sort(out.errors.begin(), out.errors.end(), [](const job_error& a, const job_error& b) {
    auto key = [](const job_error& e) { return std::make_pair(e.line <= 0 ? std::numeric_limits<int>::max() : e.line, e.column); };
    return key(a) < key(b);
  });
  return out;
}

job_load load_job(const std::string& path, const std::vector<std::string>& overrides) {
  try {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      job_load out;
      out.errors.push_back({path, 0, 0, "cannot read job file"});
      return out;
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    return load_job_string(buf.str(), path, overrides);
  } catch (...) {
    job_load out;
    out.errors.push_back({path, 0, 0, "cannot read job file"});
    return out;
  }
}

}  // namespace crawld::conf
