#include "storage/mirror.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "parse/html_scan.hpp"
#include "parse/url.hpp"
#include "parse/utf8.hpp"

namespace crawld::storage {
namespace {

constexpr std::size_t max_name = 200;   // bytes of one file or directory name
constexpr std::size_t kept_prefix = 160; // bytes kept before "~hash" in a long name
constexpr int max_redirect_hops = 10;

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  return lower(c) - 'a' + 10;
}
bool unreserved(char c) { return alnum(c) || c == '-' || c == '.' || c == '_' || c == '~'; }
bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

void append_escape(std::string& out, unsigned char b) {
  static const char digits[] = "0123456789ABCDEF";
  out += '%';
  out += digits[b >> 4];
  out += digits[b & 15];
}

bool ends_with_ci(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  for (std::size_t i = 0; i < suffix.size(); ++i)
    if (lower(s[s.size() - suffix.size() + i]) != suffix[i]) return false;
  return true;
}

/// Bytes written as %XX in a file name: unsafe on Linux or Windows, or meaningful to us
/// ('@' separates the query, '/' separates directories).
bool unsafe_in_name(unsigned char b) {
  if (b < 0x20 || b >= 0x7F) return true;
  switch (b) {
    case '\\': case ':': case '*': case '?': case '"': case '<': case '>': case '|':
    case '@': case '/':
      return true;
    default:
      return false;
  }
}

/// One URL component (segment, host or query) as file-name text: escapes of unreserved
/// characters decoded, other escapes kept as literal "%XX", unsafe bytes escaped.
std::string name_text(std::string_view s, bool keep_at = false) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%' && i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
      const char d = static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      if (unreserved(d)) {
        out += d;
      } else {
        append_escape(out, static_cast<unsigned char>(d));
      }
      i += 2;
    } else if (unsafe_in_name(static_cast<unsigned char>(c)) && !(keep_at && c == '@')) {
      append_escape(out, static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out;
}

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

/// `name` (stem, query and all) capped at `max_name` bytes with `ext` appended: a long name keeps
/// a prefix (never cutting an escape in two), then "~" and a hash of the whole name.
std::string capped(std::string name, std::string_view ext) {
  if (name.size() + ext.size() <= max_name) return name + std::string(ext);
  const std::uint64_t h = fnv1a(name + std::string(ext));
  std::size_t cut = kept_prefix;
  if (name[cut - 1] == '%') cut -= 1;
  else if (name[cut - 2] == '%') cut -= 2;
  name.resize(cut);
  static const char digits[] = "0123456789abcdef";
  name += '~';
  for (int shift = 60; shift >= 0; shift -= 4) name += digits[(h >> shift) & 15];
  return name + std::string(ext);
}

/// A directory name: never ".", ".." or empty.
std::string dir_name(std::string_view segment) {
  std::string s = name_text(segment);
  if (s.empty()) return "@";
  if (s == ".") return "%2E";
  if (s == "..") return "%2E%2E";
  return capped(std::move(s), "");
}

bool html_type(const page_record& p) {
  std::string ct;
  for (char c : p.content_type) {
    if (c == ';') break;
    if (!space(c)) ct += lower(c);
  }
  if (ct == "text/html" || ct == "application/xhtml+xml") return true;
  if (!ct.empty()) return false;
  std::size_t i = 0;
  while (i < p.body.size() && space(p.body[i])) ++i;
  std::string_view rest = std::string_view(p.body).substr(i, 14);
  return ends_with_ci(rest.substr(0, std::min<std::size_t>(rest.size(), 5)), "<html") ||
         ends_with_ci(rest, "<!doctype html");
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t e = s.find(sep, start);
    out.push_back(s.substr(start, e == std::string_view::npos ? std::string_view::npos : e - start));
    if (e == std::string_view::npos) return out;
    start = e + 1;
  }
}

// ---- HTML: a tokenizer that reports attribute byte ranges -------------------------------------

struct attribute {
  std::string name;             // lower-cased
  std::size_t name_begin = 0;
  std::size_t value_begin = 0;  // inside the quotes
  std::size_t value_end = 0;
  std::size_t end = 0;          // after the closing quote / value / name
  char quote = 0;               // '"', '\'' or 0 (unquoted or no value)
  bool has_value = false;
};

struct start_tag {
  std::string name;
  std::vector<attribute> attrs;  // first occurrence of each name only, as HTML keeps
};

/// From a tag name's first byte: reads the tag as the HTML tokenizer does. Returns the index
/// after '>', or npos when the input ends inside the tag (the tokenizer then emits nothing).
std::size_t scan_tag(std::string_view h, std::size_t i, start_tag& t) {
  const std::size_t n = h.size();
  t.name.clear();
  t.attrs.clear();
  while (i < n && !space(h[i]) && h[i] != '/' && h[i] != '>') t.name += lower(h[i++]);
  enum { before_name, name, after_name, before_value, dq, sq, unquoted, after_quoted } st =
      before_name;
  attribute a;
  auto finish = [&](std::size_t end) {
    a.end = end;
    for (const attribute& o : t.attrs)
      if (o.name == a.name) return;  // a duplicate is ignored
    t.attrs.push_back(a);
  };
  auto begin_attr = [&](std::size_t at) {
    a = attribute{};
    a.name_begin = at;
    a.name += lower(h[at]);
    st = name;
  };
  for (; i < n; ++i) {
    const char c = h[i];
    switch (st) {
      case before_name:
        if (c == '>') return i + 1;
        if (!space(c) && c != '/') begin_attr(i);
        break;
      case name:
        if (c == '>') { finish(i); return i + 1; }
        if (c == '/') { finish(i); st = before_name; }
        else if (space(c)) st = after_name;
        else if (c == '=') st = before_value;
        else a.name += lower(c);
        break;
      case after_name:
        if (c == '>') { finish(i); return i + 1; }
        if (c == '=') st = before_value;
        else if (c == '/') { finish(i); st = before_name; }
        else if (!space(c)) { finish(i); begin_attr(i); }
        break;
      case before_value:
        if (c == '>') {
          a.has_value = true;
          a.value_begin = a.value_end = i;
          finish(i);
          return i + 1;
        }
        if (space(c)) break;
        a.has_value = true;
        if (c == '"' || c == '\'') {
          a.quote = c;
          a.value_begin = i + 1;
          st = c == '"' ? dq : sq;
        } else {
          a.value_begin = i;
          st = unquoted;
        }
        break;
      case dq:
      case sq:
        if (c == a.quote) {
          a.value_end = i;
          finish(i + 1);
          st = after_quoted;
        }
        break;
      case unquoted:
        if (space(c) || c == '>') {
          a.value_end = i;
          finish(i);
          if (c == '>') return i + 1;
          st = before_name;
        }
        break;
      case after_quoted:
        if (c == '>') return i + 1;
        st = before_name;
        if (!space(c) && c != '/') begin_attr(i);
        break;
    }
  }
  return std::string_view::npos;
}



/// Calls `fn(tag)` for each start tag, in document order, skipping comments and raw text.
template <class Fn>
void for_each_start_tag(std::string_view h, Fn&& fn) {
  const std::size_t n = h.size();
  start_tag t;
  for (std::size_t i = 0;;) {
    const std::size_t lt = h.find('<', i);
    if (lt == std::string_view::npos || lt + 1 >= n) return;
    i = lt + 1;
    const char c = h[i];
    if (c == '!') { i = parse::html::skip_markup_declaration(h, i + 1); continue; }
    if (c == '?') { i = parse::html::after_gt(h, i); continue; }
    if (c == '/') {
      if (i + 1 < n && alnum(h[i + 1]) && !(h[i + 1] >= '0' && h[i + 1] <= '9')) {
        i = scan_tag(h, i + 1, t);
        if (i == std::string_view::npos) return;
      } else {
        i = parse::html::after_gt(h, i);  // "</>" and bogus comments
      }
      continue;
    }
    if (!alnum(c) || (c >= '0' && c <= '9')) continue;  // a '<' in text
    i = scan_tag(h, i, t);
    if (i == std::string_view::npos) return;
    fn(static_cast<const start_tag&>(t));
    if (t.name == "plaintext") return;
    for (std::string_view raw : {"script", "style", "title", "textarea", "xmp", "iframe",
                                 "noembed", "noframes"})
      if (t.name == raw) {
        i = parse::html::skip_raw_text(h, i, raw);
        break;
      }
  }
}

void append_scalar(std::string& out, unsigned long cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  parse::append_utf8(out, static_cast<std::uint32_t>(cp));
}

/// The attribute value with character references decoded: numeric ones and amp, lt, gt, quot,
/// apos, nbsp. false when it holds another named reference (we leave such a value alone).
bool decode_value(std::string_view v, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '&') { out += v[i]; continue; }
    std::size_t j = i + 1;
    if (j < v.size() && v[j] == '#') {
      bool hex = j + 1 < v.size() && (v[j + 1] == 'x' || v[j + 1] == 'X');
      std::size_t k = j + (hex ? 2 : 1);
      unsigned long cp = 0;
      std::size_t digits = 0;
      while (k < v.size() && (hex ? is_hex(v[k]) : (v[k] >= '0' && v[k] <= '9'))) {
        if (cp <= 0x10FFFF) cp = cp * (hex ? 16 : 10) + static_cast<unsigned long>(hex_value(v[k]));
        ++k;
        ++digits;
      }
      if (digits == 0) { out += '&'; continue; }
      append_scalar(out, cp);
      i = (k < v.size() && v[k] == ';') ? k : k - 1;
      continue;
    }
    std::size_t k = j;
    while (k < v.size() && alnum(v[k])) ++k;
    const std::string_view ref = v.substr(j, k - j);
    const bool semicolon = k < v.size() && v[k] == ';';
    static const std::pair<std::string_view, std::string_view> known[] = {
        {"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"},
        {"nbsp", "\xC2\xA0"}};
    bool done = false;
    for (auto& [name, text] : known)
      if (ref == name && (semicolon || (name != "apos" && (k == v.size() || v[k] != '=')))) {
        out += text;
        i = semicolon ? k : k - 1;
        done = true;
        break;
      }
    if (done) continue;
    if (semicolon && !ref.empty()) return false;
    out += '&';  // not a reference in an attribute value
  }
  return true;
}

/// `s` as the text of an attribute value quoted with `quote`.
std::string attr_escape(std::string_view s, char quote) {
  std::string out;
  for (char c : s) {
    if (c == '&') out += "&amp;";
    else if (c == quote && c == '"') out += "&quot;";
    else if (c == quote && c == '\'') out += "&#39;";
    else out += c;
  }
  return out;
}

const char* url_attribute(std::string_view tag) {
  for (std::string_view t : {"a", "area", "link"})
    if (tag == t) return "href";
  for (std::string_view t : {"img", "script", "iframe", "frame", "embed", "source", "audio",
                             "video", "track", "input"})
    if (tag == t) return "src";
  if (tag == "form") return "action";
  return nullptr;
}

struct edit {
  std::size_t begin, end;
  std::string text;
};

// ---- files ------------------------------------------------------------------------------------

/// Closes a descriptor it owns (not the root's).
struct fd_guard {
  int fd = -1;
  bool owned = false;
  ~fd_guard() {
    if (owned && fd >= 0) ::close(fd);
  }
  void reset(int f) {
    if (owned && fd >= 0) ::close(fd);
    fd = f;
    owned = true;
  }
};

std::string errno_text(int e) { return std::generic_category().message(e); }

/// Writes `data` to `rel` under the directory `root`, creating directories and never following
/// a symlink (each component is opened with O_NOFOLLOW relative to its parent). "" on success.
std::string write_file(int root, const std::string& rel, std::string_view data) {
  auto parts = split(rel, '/');
  for (auto p : parts)
    if (p.empty() || p == "." || p == ".." || p.find('\0') != std::string_view::npos)
      return "cannot write '" + rel + "': unsafe path";
  fd_guard dir;
  dir.fd = root;
  std::string sofar;
  for (std::size_t k = 0; k + 1 < parts.size(); ++k) {
    const std::string name(parts[k]);
    sofar += (sofar.empty() ? "" : "/") + name;
    if (::mkdirat(dir.fd, name.c_str(), 0755) != 0 && errno != EEXIST)
      return "cannot create directory '" + sofar + "': " + errno_text(errno);
    int fd = ::openat(dir.fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      const int e = errno;
      struct stat sb;
      if (::fstatat(dir.fd, name.c_str(), &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(sb.st_mode))
        return "cannot write '" + rel + "': '" + sofar + "' is a symlink (not followed)";
      return "cannot write '" + rel + "': '" + sofar + "': " + errno_text(e);
    }
    dir.reset(fd);
  }
  const std::string name(parts.back());
  int fd = ::openat(dir.fd, name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                    0644);
  if (fd < 0) {
    const int e = errno;
    if (e == ELOOP) return "cannot write '" + rel + "': it is a symlink (not followed)";
    return "cannot write '" + rel + "': " + errno_text(e);
  }
  fd_guard file;
  file.reset(fd);
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t w = ::write(fd, data.data() + done, data.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      return "cannot write '" + rel + "': " + errno_text(errno);
    }
    done += static_cast<std::size_t>(w);
  }
  file.fd = -1;
  if (::close(fd) != 0) return "cannot write '" + rel + "': " + errno_text(errno);
  return "";
}

}  // namespace

std::string mirror_path(std::string_view normalized_url, bool html) {
  auto u = parse::parse_url(normalized_url);
  if (!u || (u->scheme != "http" && u->scheme != "https") || u->host.empty() || u->opaque_path)
    return "";
  std::string host = u->host;
  if (u->port >= 0) host += "_" + std::to_string(u->port);
  std::string out = dir_name(host);

  std::string_view path = u->path;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  auto segments = split(path, '/');
  for (std::size_t k = 0; k + 1 < segments.size(); ++k) out += "/" + dir_name(segments[k]);

  std::string stem = name_text(segments.back());
  std::string ext;
  if (stem.empty()) {
    stem = "index";
    ext = ".html";
  } else if (html) {
    for (std::string_view e : {".html", ".htm"})
      if (ends_with_ci(stem, e) && stem.size() > e.size()) {
        ext = stem.substr(stem.size() - e.size());
        stem.resize(stem.size() - e.size());
        break;
      }
    if (ext.empty()) ext = ".html";
  } else {
    std::size_t dot = stem.rfind('.');
    if (dot != std::string::npos && dot > 0 && stem.size() - dot - 1 >= 1 &&
        stem.size() - dot - 1 <= 10) {
      bool word = true;
      for (std::size_t i = dot + 1; i < stem.size(); ++i) word = word && alnum(stem[i]);
      if (word) {
        ext = stem.substr(dot);
        stem.resize(dot);
      }
    }
  }
  if (stem == "." || stem == "..") stem = stem == "." ? "%2E" : "%2E%2E";  // before the query
  if (u->has_query) stem += "@" + name_text(u->query, true);
  out += "/" + capped(std::move(stem), ext);
  return out;
}

std::string relative_link(std::string_view from, std::string_view to) {
  auto f = split(from, '/'), t = split(to, '/');
  std::size_t common = 0;
  while (common + 1 < f.size() && common + 1 < t.size() && f[common] == t[common]) ++common;
  std::string rel;
  for (std::size_t k = common; k + 1 < f.size(); ++k) rel += "../";
  for (std::size_t k = common; k < t.size(); ++k) {
    if (k > common) rel += '/';
    for (char c : t[k]) {
      if (unreserved(c) || c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' ||
          c == ')' || c == '*' || c == '+' || c == ',' || c == ';' || c == '=' || c == '@')
        rel += c;
      else
        append_escape(rel, static_cast<unsigned char>(c));
    }
  }
  return rel;
}

std::string convert_links(std::string_view html, std::string_view page_url, std::string_view self,
                          const std::function<std::string(const std::string&)>& target_path,
                          std::uint64_t* converted, std::uint64_t* absolutized) {
  auto page = parse::parse_url(page_url);
  if (!page) return std::string(html);

  struct link {
    attribute a;
  };
  std::vector<link> links;
  std::vector<attribute> base_hrefs;
  for_each_start_tag(html, [&](const start_tag& t) {
    const char* wanted = t.name == "base" ? "href" : url_attribute(t.name);
    if (!wanted) return;
    for (const attribute& a : t.attrs)
      if (a.name == wanted && a.has_value) {
        if (t.name == "base") base_hrefs.push_back(a);
        else links.push_back({a});
      }
  });

  // The document's base URL: the first <base href> (resolved against the page), as browsers do.
  parse::url base = *page;
  std::string value;
  if (!base_hrefs.empty()) {
    const attribute& b = base_hrefs.front();
    if (decode_value(html.substr(b.value_begin, b.value_end - b.value_begin), value)) {
      auto r = parse::parse_url(value, &*page);
      if (r && !r->opaque_path) base = std::move(*r);
    }
  }

  std::vector<edit> edits;
  for (const attribute& b : base_hrefs) edits.push_back({b.name_begin, b.end, ""});
  for (const link& l : links) {
    const attribute& a = l.a;
    const std::string_view raw = html.substr(a.value_begin, a.value_end - a.value_begin);
    if (!decode_value(raw, value)) continue;
    auto u = parse::parse_url(value, &base);
    if (!u || (u->scheme != "http" && u->scheme != "https")) continue;
    const std::string target = target_path(parse::normalize(*u));
    std::string replacement;
    if (!target.empty()) {
      std::size_t first = value.find_first_not_of(" \t\n\r\f");
      if (target == self && first != std::string::npos && value[first] == '#') continue;
      replacement = relative_link(self, target);
      if (u->has_fragment) replacement += "#" + u->fragment;
      if (converted) ++*converted;
    } else {
      if (parse::parse_url(value)) continue;  // already absolute
      replacement = u->href();
      if (absolutized) ++*absolutized;
    }
    std::string text = a.quote ? attr_escape(replacement, a.quote)
                               : "\"" + attr_escape(replacement, '"') + "\"";
    if (text == raw) continue;
    edits.push_back({a.value_begin, a.value_end, std::move(text)});
  }
  std::sort(edits.begin(), edits.end(), [](const edit& x, const edit& y) { return x.begin < y.begin; });

  std::string out;
  out.reserve(html.size() + html.size() / 8);
  std::size_t at = 0;
  for (const edit& e : edits) {
    if (e.begin < at) continue;  // cannot happen: attributes do not overlap
    out.append(html.substr(at, e.begin - at));
    out += e.text;
    at = e.end;
  }
  out.append(html.substr(at));
  return out;
}

result<mirror_summary> write_mirror(const store& st, const mirror_options& o) {
  mirror_summary sum;
  if (o.out_dir.empty()) return make_error("mirror: no output directory given");
  std::error_code ec;
  std::filesystem::create_directories(o.out_dir, ec);
  if (ec) return make_error("cannot create output directory '" + o.out_dir + "': " + ec.message());
  const int root = ::open(o.out_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return make_error("cannot open output directory '" + o.out_dir + "': " + errno_text(errno));
  fd_guard root_guard;
  root_guard.reset(root);

  // Pass 1: which URL goes to which file, and where redirects lead.
  struct entry {
    std::string path;
    bool html = false;
  };
  std::unordered_map<std::string, entry> files;
  std::unordered_map<std::string, std::string> owner;  // path -> url
  std::unordered_map<std::string, std::string> redirects;
  auto r = st.for_each_page([&](const page_record& p) {
    if (!p.request.empty()) {
      ++sum.skipped["not_get"];  // a seed request's answer (POST ...) is not the URL's document
    } else if (p.status >= 300 && p.status < 400 && !p.location.empty()) {
      redirects.emplace(p.url, p.location);
      ++sum.redirects;
      ++sum.skipped["redirect"];
    } else if (p.status != 200) {
      ++sum.skipped["status"];
    } else if (p.body.empty()) {
      ++sum.skipped["no_body"];
    } else {
      const bool html = html_type(p);
      std::string path = mirror_path(p.url, html);
      if (path.empty()) {
        ++sum.skipped["bad_url"];
      } else if (!owner.emplace(path, p.url).second) {
        ++sum.skipped["path_collision"];
      } else {
        files.emplace(p.url, entry{std::move(path), html});
      }
    }
    return true;
  });
  if (!r) return r.err();

  // Pass 2: write every file; with link conversion, HTML files are only created here, so that
  // links in pass 3 point only at files that could be written.
  const bool convert = o.convert_links;
  auto failed = [&](const std::string& url, std::string message) {
    sum.errors.push_back(std::move(message));
    ++sum.skipped["write_error"];
    files.erase(url);
  };
  r = st.for_each_page([&](const page_record& p) {
    auto it = files.find(p.url);
    if (it == files.end() || p.status != 200 || p.body.empty()) return true;
    const bool later = convert && it->second.html;
    std::string err = write_file(root, it->second.path, later ? std::string_view() : p.body);
    if (!err.empty()) {
      failed(p.url, std::move(err));
    } else if (!later) {
      ++sum.files;
      sum.bytes += p.body.size();
    }
    return true;
  });
  if (!r) return r.err();
  if (!convert) return sum;

  // Pass 3: HTML with converted links.
  auto target_path = [&](const std::string& url) -> std::string {
    std::string k = url;
    for (int hop = 0; hop <= max_redirect_hops; ++hop) {
      if (auto f = files.find(k); f != files.end()) return f->second.path;
      auto rd = redirects.find(k);
      if (rd == redirects.end()) return "";
      k = rd->second;
    }
    return "";
  };
  r = st.for_each_page([&](const page_record& p) {
    auto it = files.find(p.url);
    if (it == files.end() || !it->second.html || p.status != 200 || p.body.empty()) return true;
    std::string doc = convert_links(p.body, p.url, it->second.path, target_path,
                                    &sum.links_converted, &sum.links_absolute);
    std::string err = write_file(root, it->second.path, doc);
    if (!err.empty()) {
      sum.errors.push_back(std::move(err));
      ++sum.skipped["write_error"];
    } else {
      ++sum.files;
      sum.bytes += doc.size();
    }
    return true;
  });
  if (!r) return r.err();
  return sum;
}

}  // namespace crawld::storage
