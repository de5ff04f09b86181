#include "parse/links.hpp"

#include <gumbo.h>

#include <initializer_list>
#include <unordered_set>

namespace crawld::parse {
namespace {

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool ascii_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool html_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

/// Nesting depth beyond which start tags are dropped before parsing (browsers cap the DOM depth
/// at about this: Blink uses 512).
constexpr int max_nesting = 512;

bool one_of(std::string_view name, std::initializer_list<std::string_view> names) {
  for (auto n : names)
    if (name == n) return true;
  return false;
}

/// Gumbo 0.10.1 spends time linear in the open-element depth on every start tag, so a hostile
/// page of nested tags costs quadratic time (100k nested divs: ~30 s). This cheap tag scanner
/// estimates the depth (over-estimating is harmless) and, when it would exceed `max_nesting`,
/// returns a copy without the start tags that lie deeper, keeping every tag link extraction reads
/// (a, area, base, link, meta) and raw-text elements (whose content must not become markup).
/// nullopt: the document is shallow enough to parse as is.
std::optional<std::string> limit_nesting(std::string_view html) {
  struct drop { size_t begin, end; };
  std::vector<drop> drops;
  int depth = 0;
  size_t i = 0;
  const size_t n = html.size();
  while ((i = html.find('<', i)) != std::string_view::npos) {
    const size_t tag_begin = i;
    if (html.compare(i, 4, "<!--") == 0) {
      size_t e = html.find("-->", i + 4);
      i = e == std::string_view::npos ? n : e + 3;
      continue;
    }
    if (i + 1 < n && (html[i + 1] == '!' || html[i + 1] == '?')) {
      size_t e = html.find('>', i);
      i = e == std::string_view::npos ? n : e + 1;
      continue;
    }
    bool end_tag = i + 1 < n && html[i + 1] == '/';
    size_t name_begin = i + (end_tag ? 2 : 1);
    if (name_begin >= n || !ascii_alpha(html[name_begin])) {
      i = name_begin;
      continue;
    }
    size_t j = name_begin;
    while (j < n && !html_space(html[j]) && html[j] != '/' && html[j] != '>') ++j;
    std::string name = lower(html.substr(name_begin, j - name_begin));
    // Find the tag's '>', skipping quoted attribute values.
    char quote = 0;
    bool after_eq = false;
    for (; j < n; ++j) {
      char c = html[j];
      if (quote) {
        if (c == quote) quote = 0;
      } else if (c == '>') {
        break;
      } else if (after_eq && (c == '"' || c == '\'')) {
        quote = c;
      }
      if (!quote && !html_space(c)) after_eq = c == '=';
    }
    const size_t tag_end = j < n ? j + 1 : n;
    i = tag_end;
    if (end_tag) {
      if (depth > 0) --depth;
      continue;
    }
    if (name == "plaintext") break;  // everything after is text
    if (one_of(name, {"script", "style", "textarea", "title", "xmp", "iframe", "noembed",
                      "noframes"})) {
      // Raw text: skip to the matching end tag.
      std::string close = "</" + name;
      size_t k = tag_end;
      for (;;) {
        k = html.find("</", k);
        if (k == std::string_view::npos) { k = n; break; }
        if (lower(html.substr(k, close.size())) == close) break;
        k += 2;
      }
      i = k;
      continue;
    }
    // Void elements and those whose end tag is implied by a sibling do not deepen the tree.
    if (one_of(name, {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                      "param", "source", "track", "wbr", "p", "li", "dt", "dd", "option",
                      "optgroup", "tr", "td", "th", "tbody", "thead", "tfoot", "colgroup", "rb",
                      "rt", "rtc", "rp", "html", "head", "body", "a"}))
      continue;
    if (++depth > max_nesting) drops.push_back({tag_begin, tag_end});
  }
  if (drops.empty()) return std::nullopt;
  std::string out;
  out.reserve(html.size());
  size_t pos = 0;
  for (const drop& d : drops) {
    out.append(html.substr(pos, d.begin - pos));
    pos = d.end;
  }
  out.append(html.substr(pos));
  return out;
}

/// Owns a gumbo parse tree.
class gumbo_doc {
 public:
  explicit gumbo_doc(std::string_view html) {
    options_ = kGumboDefaultOptions;
    options_.max_errors = 0;  // we never read parse errors; don't spend memory recording them
    out_ = gumbo_parse_with_options(&options_, html.data(), html.size());
  }
  ~gumbo_doc() {
    if (out_) gumbo_destroy_output(&options_, out_);
  }
  gumbo_doc(const gumbo_doc&) = delete;
  gumbo_doc& operator=(const gumbo_doc&) = delete;

  const GumboNode* root() const { return out_ ? out_->document : nullptr; }

 private:
  GumboOptions options_;
  GumboOutput* out_ = nullptr;
};

/// True when the token list `s` (split on ASCII whitespace and, if `commas`, on ',') contains
/// `token`, ASCII case-insensitively.
bool has_token(std::string_view s, std::string_view token, bool commas = false) {
  auto sep = [&](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || (commas && c == ',');
  };
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && sep(s[i])) ++i;
    size_t j = i;
    while (j < s.size() && !sep(s[j])) ++j;
    if (j > i && lower(s.substr(i, j - i)) == token) return true;
    i = j;
  }
  return false;
}

const char* attr(const GumboElement& e, const char* name) {
  const GumboAttribute* a = gumbo_get_attribute(&e.attributes, name);
  return a ? a->value : nullptr;
}

bool followable(const url& u) { return u.scheme == "http" || u.scheme == "https"; }

}  // namespace

const char* to_string(skip_reason r) {
  switch (r) {
    case skip_reason::nofollow: return "nofollow";
    case skip_reason::meta_nofollow: return "meta_nofollow";
    case skip_reason::bad_url: return "bad_url";
    case skip_reason::unsupported_scheme: return "unsupported_scheme";
  }
  return "unknown";
}

page_links extract_links(std::string_view html, const url& page_url) {
  page_links out;
  auto limited = limit_nesting(html);
  gumbo_doc doc(limited ? std::string_view(*limited) : html);

  // One iterative pre-order walk collects the elements that matter; the base URL applies to all
  // links, including those before <base>, so links are resolved afterwards.
  std::vector<const GumboElement*> anchors, canonicals;
  const GumboElement* base_el = nullptr;
  std::vector<const GumboNode*> stack;
  if (doc.root()) stack.push_back(doc.root());
  while (!stack.empty()) {
    const GumboNode* n = stack.back();
    stack.pop_back();
    const GumboVector* children = nullptr;
    if (n->type == GUMBO_NODE_DOCUMENT) {
      children = &n->v.document.children;
    } else if (n->type == GUMBO_NODE_ELEMENT || n->type == GUMBO_NODE_TEMPLATE) {
      const GumboElement& e = n->v.element;
      children = &e.children;
      switch (e.tag) {
        case GUMBO_TAG_A:
        case GUMBO_TAG_AREA:
          if (attr(e, "href")) anchors.push_back(&e);
          break;
        case GUMBO_TAG_BASE:
          if (!base_el && attr(e, "href")) base_el = &e;
          break;
        case GUMBO_TAG_LINK:
          if (attr(e, "href") && attr(e, "rel") && has_token(attr(e, "rel"), "canonical"))
            canonicals.push_back(&e);
          break;
        case GUMBO_TAG_META: {
          const char* name = attr(e, "name");
          const char* content = attr(e, "content");
          if (name && content && lower(name) == "robots") {
            bool none = has_token(content, "none", true);
            out.meta_nofollow |= none || has_token(content, "nofollow", true);
            out.meta_noindex |= none || has_token(content, "noindex", true);
          }
          break;
        }
        default:
          break;
      }
    }
    if (children)
      for (unsigned i = children->length; i > 0; --i)
        stack.push_back(static_cast<const GumboNode*>(children->data[i - 1]));
  }

  url base = page_url;
  if (base_el) {
    auto b = parse_url(attr(*base_el, "href"), &page_url);
    if (b && !b->opaque_path) base = std::move(*b);
  }
  out.base = normalize(base);

  if (!canonicals.empty()) {
    auto c = parse_url(attr(*canonicals.front(), "href"), &base);
    if (c && followable(*c)) out.canonical = normalize(*c);
  }

  std::unordered_set<std::string> seen;
  for (const GumboElement* e : anchors) {
    std::string href = attr(*e, "href");
    if (out.meta_nofollow) {
      out.skipped.push_back({std::move(href), skip_reason::meta_nofollow});
      continue;
    }
    const char* rel = attr(*e, "rel");
    if (rel && has_token(rel, "nofollow")) {
      out.skipped.push_back({std::move(href), skip_reason::nofollow});
      continue;
    }
    auto u = parse_url(href, &base);
    if (!u) {
      out.skipped.push_back({std::move(href), skip_reason::bad_url});
      continue;
    }
    if (!followable(*u)) {
      out.skipped.push_back({std::move(href), skip_reason::unsupported_scheme});
      continue;
    }
    std::string n = normalize(*u);
    if (seen.insert(n).second) out.follow.push_back(std::move(n));
  }
  return out;
}

}  // namespace crawld::parse
