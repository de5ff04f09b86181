#include "parse/link_scan.hpp"

#include <algorithm>
#include <atomic>
#include <iterator>

#include "parse/html_scan.hpp"
#include "parse/utf8.hpp"

namespace crawld::parse {
namespace {

using html::after_gt;
using html::skip_markup_declaration;
using html::skip_raw_text;
using html::space;

constexpr std::size_t npos = std::string_view::npos;

struct entity {
  const char* name;
  const char* value;
};
const entity entities[] = {
#include "parse/html_entities.inc"
};

/// The UTF-8 value of the named reference `name` (with its ';' if any), or nullptr.
const char* find_entity(std::string_view name) {
  auto it = std::lower_bound(std::begin(entities), std::end(entities), name,
                             [](const entity& e, std::string_view n) { return std::string_view(e.name) < n; });
  return it != std::end(entities) && std::string_view(it->name) == name ? it->value : nullptr;
}

bool ascii_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool ascii_digit(char c) { return c >= '0' && c <= '9'; }
bool ascii_alnum(char c) { return ascii_alpha(c) || ascii_digit(c); }
char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equals_ci_both(std::string_view a, std::string_view b) {
  for (std::size_t k = 0; k < a.size(); ++k)
    if (ascii_lower(a[k]) != ascii_lower(b[k])) return false;
  return true;
}

bool equals_ci(std::string_view s, std::string_view lower_name) {
  if (s.size() != lower_name.size()) return false;
  for (std::size_t k = 0; k < s.size(); ++k)
    if (ascii_lower(s[k]) != lower_name[k]) return false;
  return true;
}

/// Code points gumbo's input stream replaces with U+FFFD (utf8_is_invalid_code_point).
bool gumbo_invalid(std::uint32_t c) {
  return (c >= 0x1 && c <= 0x8) || c == 0xB || (c >= 0xE && c <= 0x1F) || (c >= 0x7F && c <= 0x9F) ||
         (c >= 0xFDD0 && c <= 0xFDEF) || (c & 0xFFFF) == 0xFFFE || (c & 0xFFFF) == 0xFFFF;
}

/// Length of the well-formed UTF-8 sequence at v[i] (lead byte >= 0x80) that gumbo keeps as is,
/// or 0 when gumbo would replace something there.
std::size_t kept_utf8(std::string_view v, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(v[i]);
  std::size_t len;
  std::uint32_t cp, min;
  if (b0 >= 0xC2 && b0 <= 0xDF) { len = 2; cp = b0 & 0x1F; min = 0x80; }
  else if (b0 >= 0xE0 && b0 <= 0xEF) { len = 3; cp = b0 & 0x0F; min = 0x800; }
  else if (b0 >= 0xF0 && b0 <= 0xF4) { len = 4; cp = b0 & 0x07; min = 0x10000; }
  else return 0;
  if (i + len > v.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(v[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || gumbo_invalid(cp)) return 0;
  return len;
}

/// gumbo's numeric reference replacements for 0x80..0x9F (windows-1252; five stay as they are).
const std::uint32_t c1_table[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

/// At v[i] == '&' in an attribute value: appends what gumbo makes of the reference (or a literal
/// '&') and returns the index after what was consumed; npos when unsure.
std::size_t char_ref(std::string_view v, std::size_t i, std::string& out) {
  const std::size_t n = v.size();
  std::size_t j = i + 1;
  if (j < n && v[j] == '#') {
    std::size_t k = j + 1;
    const bool hex = k < n && (v[k] == 'x' || v[k] == 'X');
    if (hex) ++k;
    auto digit = [hex](char c) -> int {
      if (ascii_digit(c)) return c - '0';
      if (hex && c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (hex && c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    if (k >= n || digit(v[k]) < 0) {  // "&#" without digits: literal
      out += '&';
      return i + 1;
    }
    std::uint64_t cp = 0;
    for (; k < n && digit(v[k]) >= 0; ++k) {
      cp = cp * (hex ? 16 : 10) + static_cast<std::uint64_t>(digit(v[k]));
      if (cp > 0x7FFFFFFF) return npos;  // gumbo's int arithmetic overflows here
    }
    if (k < n && v[k] == ';') ++k;
    std::uint32_t c = static_cast<std::uint32_t>(cp);
    if (c == 0) c = 0xFFFD;
    else if (c >= 0x80 && c <= 0x9F) c = c1_table[c - 0x80];
    else if ((c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF) c = 0xFFFD;
    append_utf8(out, c);
    return k;
  }
  std::size_t e = j;
  while (e < n && ascii_alnum(v[e])) ++e;
  if (e == j) {
    out += '&';
    return i + 1;
  }
  std::string name(v.substr(j, e - j));
  if (e < n && v[e] == ';') {
    name += ';';
    if (const char* val = find_entity(name)) {
      out += val;
      return e + 1;
    }
    name.pop_back();
  }
  // The longest legacy (no-semicolon) name that prefixes the run; in an attribute it is decoded
  // only when what follows it is neither '=' nor alphanumeric.
  for (std::size_t len = std::min<std::size_t>(name.size(), 6); len > 0; --len) {
    const char* val = find_entity(std::string_view(name).substr(0, len));
    if (!val) continue;
    const std::size_t after = j + len;
    if (after < n && (v[after] == '=' || ascii_alnum(v[after]))) break;
    out += val;
    return after;
  }
  out += '&';
  return i + 1;
}

/// Decodes the raw attribute value `v` (between its delimiters) as gumbo does. False: unsure.
bool decode_value(std::string_view v, std::string& out) {
  out.clear();
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size();) {
    const auto c = static_cast<unsigned char>(v[i]);
    if (c >= 0x20 && c < 0x7F && c != '&') {
      std::size_t k = i + 1;  // a run of plain ASCII
      while (k < v.size()) {
        const auto d = static_cast<unsigned char>(v[k]);
        if (d < 0x20 || d >= 0x7F || d == '&') break;
        ++k;
      }
      out.append(v.data() + i, k - i);
      i = k;
    } else if (c == '&') {
      i = char_ref(v, i, out);
      if (i == npos) return false;
    } else if (c == '\r') {
      out += '\n';
      i += (i + 1 < v.size() && v[i + 1] == '\n') ? 2 : 1;
    } else if (c == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else if (c == '\t' || c == '\n' || c == '\f') {
      out += static_cast<char>(c);
      ++i;
    } else if (c >= 0x80) {
      const std::size_t len = kept_utf8(v, i);
      if (len == 0) return false;
      out.append(v.data() + i, len);
      i += len;
    } else {
      return false;  // a control character gumbo replaces
    }
  }
  return true;
}

/// An attribute the scan wants from a tag: `name` lower-case; the first occurrence wins.
struct attr_slot {
  std::string_view name;
  bool found = false;
  std::string_view value;  ///< raw, between its quotes (or unquoted)
};

/// A name gumbo might rewrite (NUL, control characters, bytes it does not keep as UTF-8), so that
/// two different spellings could become one name.
bool unusual_name(std::string_view name) {
  for (std::size_t k = 0; k < name.size();) {
    const auto c = static_cast<unsigned char>(name[k]);
    if (c >= 0x20 && c < 0x7F) {
      ++k;
    } else if (c >= 0x80) {
      const std::size_t len = kept_utf8(name, k);
      if (len == 0) return true;
      k += len;
    } else {
      return true;
    }
  }
  return false;
}

/// From just after a tag name (at the delimiter): scans the attributes as the tokenizer does and
/// records the raw values of `slots`. Returns the index after the tag's '>', or npos at end of input
/// (the tokenizer then emits nothing). With slots (a tag that matters), sets `unsure` where gumbo's
/// attribute list may differ from the tokenizer's: gumbo 0.10.1 with max_errors = 0 (as
/// parse/links.cpp runs it) keeps a duplicate attribute name without a value in its buffer and
/// prefixes it to the next attribute's name ("<a n n href=x>" has an attribute "nhref").
std::size_t scan_attributes(std::string_view h, std::size_t i, attr_slot* slots, int nslots,
                            bool& unsure) {
  const std::size_t n = h.size();
  std::size_t name_b = 0, name_e = 0, value_b = 0;
  constexpr int max_names = 32;
  std::string_view names[max_names];
  int nnames = 0;
  auto finish = [&](std::string_view value, bool has_value) {
    if (nslots == 0) return;
    std::string_view name = h.substr(name_b, name_e - name_b);
    if (unusual_name(name) || nnames == max_names) {
      unsure = true;
      return;
    }
    for (int k = 0; k < nnames; ++k)
      if (names[k].size() == name.size() && equals_ci_both(names[k], name)) {
        if (!has_value) unsure = true;
        return;  // a duplicate: the first wins
      }
    names[nnames++] = name;
    for (int k = 0; k < nslots; ++k)
      if (equals_ci(name, slots[k].name)) {
        slots[k].found = true;
        slots[k].value = value;
        return;
      }
  };
  enum { before_name, attr_name, after_name, before_value, unquoted, after_quoted } st = before_name;
  for (; i < n; ++i) {
    const char c = h[i];
    switch (st) {
      case before_name:
        if (c == '>') return i + 1;
        if (!space(c) && c != '/') {  // '=' here starts a name too
          st = attr_name;
          name_b = i;
        }
        break;
      case attr_name:
        if (c == '>') {
          name_e = i;
          finish({}, false);
          return i + 1;
        }
        if (space(c) || c == '/') {
          name_e = i;
          st = after_name;
          if (c == '/') {
            finish({}, false);
            st = before_name;
          }
        } else if (c == '=') {
          name_e = i;
          st = before_value;
        }
        break;
      case after_name:
        if (space(c)) break;
        if (c == '=') {
          st = before_value;
          break;
        }
        finish({}, false);
        if (c == '>') return i + 1;
        if (c == '/') {
          st = before_name;
        } else {
          st = attr_name;
          name_b = i;
        }
        break;
      case before_value:
        if (space(c)) break;
        if (c == '"' || c == '\'') {
          const std::size_t q = h.find(c, i + 1);
          if (q == npos) return npos;
          finish(h.substr(i + 1, q - i - 1), true);
          i = q;
          st = after_quoted;
        } else if (c == '>') {
          finish({}, false);
          return i + 1;
        } else {
          value_b = i;
          st = unquoted;
        }
        break;
      case unquoted:
        if (c == '>') {
          finish(h.substr(value_b, i - value_b), true);
          return i + 1;
        }
        if (space(c)) {
          finish(h.substr(value_b, i - value_b), true);
          st = before_name;
        }
        break;
      case after_quoted:
        if (c == '>') return i + 1;
        if (space(c) || c == '/') {
          st = before_name;
        } else {
          st = attr_name;
          name_b = i;
        }
        break;
    }
  }
  return npos;
}

enum class tag_kind { other, a, area, base, link, meta, raw, plaintext };

tag_kind classify(std::string_view name, char* lower_buf) {
  if (name.size() > 9) return tag_kind::other;
  for (std::size_t k = 0; k < name.size(); ++k) lower_buf[k] = ascii_lower(name[k]);
  std::string_view l(lower_buf, name.size());
  switch (l.size()) {
    case 1: return l == "a" ? tag_kind::a : tag_kind::other;
    case 3: return l == "xmp" ? tag_kind::raw : tag_kind::other;
    case 4:
      if (l == "area") return tag_kind::area;
      if (l == "base") return tag_kind::base;
      if (l == "link") return tag_kind::link;
      if (l == "meta") return tag_kind::meta;
      return tag_kind::other;
    case 5: return (l == "style" || l == "title") ? tag_kind::raw : tag_kind::other;
    case 6: return (l == "script" || l == "iframe") ? tag_kind::raw : tag_kind::other;
    case 7: return l == "noembed" ? tag_kind::raw : tag_kind::other;
    case 8: return (l == "textarea" || l == "noframes") ? tag_kind::raw : tag_kind::other;
    case 9: return l == "plaintext" ? tag_kind::plaintext : tag_kind::other;
    default: return tag_kind::other;
  }
}

std::atomic<std::uint64_t> fast_count{0}, fallback_count{0}, forced_count{0};

}  // namespace

std::optional<raw_links> scan_raw_links(std::string_view h) {
  raw_links out;
  const std::size_t n = h.size();
  char lower_buf[9];
  std::string v1, v2;
  for (std::size_t i = 0;;) {
    const std::size_t lt = h.find('<', i);
    if (lt == npos || lt + 1 >= n) break;
    i = lt + 1;
    const char c = h[i];
    if (c == '!') {
      i = skip_markup_declaration(h, i + 1);
      continue;
    }
    if (c == '?') {
      i = after_gt(h, i);
      continue;
    }
    const bool end_tag = c == '/';
    if (end_tag) {
      if (i + 1 >= n) break;
      if (!ascii_alpha(h[i + 1])) {  // "</>" is dropped, "</1..." is a bogus comment
        i = after_gt(h, i + 1);
        continue;
      }
      ++i;
    } else if (!ascii_alpha(c)) {
      continue;  // a '<' in text
    }
    const std::size_t name_b = i;
    while (i < n && !space(h[i]) && h[i] != '/' && h[i] != '>') ++i;
    if (i >= n) break;
    const std::string_view name = h.substr(name_b, i - name_b);
    const tag_kind kind = end_tag ? tag_kind::other : classify(name, lower_buf);
    attr_slot slots[2];
    int nslots = 0;
    switch (kind) {
      case tag_kind::a:
      case tag_kind::area:
      case tag_kind::link:
        slots[0].name = "href";
        slots[1].name = "rel";
        nslots = 2;
        break;
      case tag_kind::base:
        slots[0].name = "href";
        nslots = 1;
        break;
      case tag_kind::meta:
        slots[0].name = "name";
        slots[1].name = "content";
        nslots = 2;
        break;
      default:
        break;
    }
    bool unsure = false;
    const std::size_t tag_end = scan_attributes(h, i, slots, nslots, unsure);
    if (tag_end == npos) break;
    if (unsure) return std::nullopt;
    i = tag_end;
    switch (kind) {
      case tag_kind::a:
      case tag_kind::area:
        if (slots[0].found) {
          if (!decode_value(slots[0].value, v1)) return std::nullopt;
          raw_link l{v1, std::nullopt};
          if (slots[1].found) {
            if (!decode_value(slots[1].value, v2)) return std::nullopt;
            l.rel = v2;
          }
          out.anchors.push_back(std::move(l));
        }
        break;
      case tag_kind::base:
        if (!out.base_href && slots[0].found) {
          if (!decode_value(slots[0].value, v1)) return std::nullopt;
          out.base_href = v1;
        }
        break;
      case tag_kind::link:
        if (!out.canonical_href && slots[0].found && slots[1].found) {
          if (!decode_value(slots[1].value, v2)) return std::nullopt;
          if (rel_is_canonical(v2)) {
            if (!decode_value(slots[0].value, v1)) return std::nullopt;
            out.canonical_href = v1;
          }
        }
        break;
      case tag_kind::meta:
        if (slots[0].found && slots[1].found) {
          if (!decode_value(slots[0].value, v1) || !decode_value(slots[1].value, v2))
            return std::nullopt;
          apply_meta(out, v1, v2);
        }
        break;
      case tag_kind::raw:
        i = skip_raw_text(h, i, std::string_view(lower_buf, name.size()));
        break;
      case tag_kind::plaintext:
        return out;  // the rest is text
      case tag_kind::other:
        break;
    }
  }
  return out;
}

std::optional<page_links> scan_links(std::string_view html, const url& page_url) {
  auto raw = scan_raw_links(html);
  if (!raw) return std::nullopt;
  return resolve_links(std::move(*raw), page_url);
}

page_links extract_links_fast(std::string_view html, const url& page_url, bool force_gumbo,
                              link_path* path) {
  if (!force_gumbo) {
    if (auto l = scan_links(html, page_url)) {
      fast_count.fetch_add(1, std::memory_order_relaxed);
      if (path) *path = link_path::fast;
      return std::move(*l);
    }
    fallback_count.fetch_add(1, std::memory_order_relaxed);
    if (path) *path = link_path::gumbo_fallback;
  } else {
    forced_count.fetch_add(1, std::memory_order_relaxed);
    if (path) *path = link_path::gumbo_forced;
  }
  return extract_links(html, page_url);
}

link_scan_counts link_scan_stats() {
  link_scan_counts c;
  c.fast = fast_count.load(std::memory_order_relaxed);
  c.fallback = fallback_count.load(std::memory_order_relaxed);
  c.forced = forced_count.load(std::memory_order_relaxed);
  return c;
}

namespace {

std::string show(const std::vector<std::string>& v) {
  std::string s = "[";
  for (const auto& x : v) s += (s.size() > 1 ? ", " : "") + x;
  return s + "]";
}

}  // namespace

links_comparison links_agree(std::string_view html, const url& page_url) {
  links_comparison r;
  auto fast = scan_links(html, page_url);
  if (!fast) {
    r.unsure = true;
    return r;
  }
  const page_links ref = extract_links(html, page_url);
  auto differ = [&r](std::string what) {
    r.agree = false;
    r.difference = std::move(what);
  };
  if (fast->follow != ref.follow || fast->follow_urls != ref.follow_urls) {
    differ("follow: fast " + show(fast->follow) + " gumbo " + show(ref.follow));
  } else if (fast->skipped.size() != ref.skipped.size()) {
    differ("skipped: fast " + std::to_string(fast->skipped.size()) + " gumbo " +
           std::to_string(ref.skipped.size()));
  } else if (fast->canonical != ref.canonical) {
    differ("canonical: fast " + fast->canonical.value_or("(none)") + " gumbo " +
           ref.canonical.value_or("(none)"));
  } else if (fast->base != ref.base) {
    differ("base: fast " + fast->base + " gumbo " + ref.base);
  } else if (fast->meta_nofollow != ref.meta_nofollow || fast->meta_noindex != ref.meta_noindex) {
    differ("meta robots flags differ");
  } else {
    for (std::size_t k = 0; k < ref.skipped.size(); ++k)
      if (fast->skipped[k].href != ref.skipped[k].href ||
          fast->skipped[k].reason != ref.skipped[k].reason) {
        differ("skipped[" + std::to_string(k) + "]: fast " + fast->skipped[k].href + " (" +
               to_string(fast->skipped[k].reason) + ") gumbo " + ref.skipped[k].href + " (" +
               to_string(ref.skipped[k].reason) + ")");
        break;
      }
  }
  return r;
}

}  // namespace crawld::parse
