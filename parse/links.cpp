#include "parse/links.hpp"

#include "parse/html_scan.hpp"
#include "parse/url_resolver.hpp"

#include <gumbo.h>

#include <initializer_list>
#include <unordered_set>

namespace crawld::parse {
namespace {

using html::after_gt;
using html::end_tag_at;
using html::skip_markup_declaration;
using html::skip_raw_text;
using html::starts_with_ci;
bool tag_space(char c) { return html::space(c); }

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool ascii_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

bool one_of(std::string_view name, std::initializer_list<std::string_view> names) {
  for (auto n : names)
    if (name == n) return true;
  return false;
}

/// From the start of a tag name: scans the tag as the tokenizer does (attribute quoting
/// included). Sets `name` (lower-cased) and returns the index after '>', or npos at end of input
/// (the tokenizer then emits nothing).
size_t scan_tag(std::string_view h, size_t i, std::string& name) {
  const size_t n = h.size();
  name.clear();
  while (i < n && !tag_space(h[i]) && h[i] != '/' && h[i] != '>') name += ascii_lower(h[i++]);
  enum { before_name, attr_name, after_name, before_value, dq, sq, unquoted, after_quoted } st =
      before_name;
  for (; i < n; ++i) {
    const char c = h[i];
    switch (st) {
      case before_name:
        if (c == '>') return i + 1;
        if (!tag_space(c) && c != '/') st = attr_name;  // '=' here starts a name too
        break;
      case attr_name:
        if (c == '>') return i + 1;
        if (tag_space(c)) st = after_name;
        else if (c == '/') st = before_name;  // self-closing start tag state: '=' next starts a name
        else if (c == '=') st = before_value;
        break;
      case after_name:
        if (c == '>') return i + 1;
        if (c == '=') st = before_value;
        else if (c == '/') st = before_name;
        else if (!tag_space(c)) st = attr_name;
        break;
      case before_value:
        if (c == '>') return i + 1;
        if (c == '"') st = dq;
        else if (c == '\'') st = sq;
        else if (!tag_space(c)) st = unquoted;
        break;
      case dq:
        if (c == '"') st = after_quoted;
        break;
      case sq:
        if (c == '\'') st = after_quoted;
        break;
      case unquoted:
        if (c == '>') return i + 1;
        if (tag_space(c)) st = before_name;
        break;
      case after_quoted:
        if (c == '>') return i + 1;
        st = before_name;
        if (!tag_space(c) && c != '/') st = attr_name;
        break;
    }
  }
  return std::string_view::npos;
}


/// Gumbo 0.10.1 (unmaintained) aborts on some malformed trees (an assert on
/// "<table><svg><select><title><select><td>") and spends time linear in the open-element depth
/// on each start tag (100k nested divs: ~30 s). Links need only a few elements, so this removes
/// every start tag except those of a, area, base, link and meta and of elements whose content is
/// not markup (script, style, title, textarea, xmp, iframe, noembed, noframes, plaintext); end
/// tags stay (stray ones are ignored). Scanning follows the tokenizer's tag, comment and raw-text
/// rules, so the tags gumbo sees are unchanged; it then builds a flat tree: no tables, foreign
/// content, templates or deep nesting. nullopt: nothing to remove.
std::optional<std::string> flatten(std::string_view h) {
  std::string out;
  size_t copied = 0;
  bool dropped = false;
  std::string name;
  const size_t n = h.size();
  for (size_t i = 0;;) {
    const size_t lt = h.find('<', i);
    if (lt == std::string_view::npos || lt + 1 >= n) break;
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
    const size_t tag_end = scan_tag(h, i, name);
    if (tag_end == std::string_view::npos) break;
    i = tag_end;
    if (end_tag) continue;
    if (one_of(name, {"a", "area", "base", "link", "meta"})) continue;
    if (name == "plaintext") break;
    if (one_of(name, {"script", "style", "title", "textarea", "xmp", "iframe", "noembed",
                      "noframes"})) {
      i = skip_raw_text(h, i, name);
      continue;
    }
    if (!dropped) out.reserve(h.size());
    dropped = true;
    out.append(h.substr(copied, lt - copied));
    // A space where the tag was: without it a '<' just before the tag would glue to the text after
    // it ("<<i>a href>" would become the tag "<a href>").
    out += ' ';
    copied = tag_end;
  }
  if (!dropped) return std::nullopt;
  out.append(h.substr(copied));
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

void apply_meta(raw_links& raw, std::string_view name, std::string_view content) {
  if (lower(name) != "robots") return;
  bool none = has_token(content, "none", true);
  raw.meta_nofollow |= none || has_token(content, "nofollow", true);
  raw.meta_noindex |= none || has_token(content, "noindex", true);
}

bool rel_is_canonical(std::string_view rel) { return has_token(rel, "canonical"); }

page_links extract_links(std::string_view html, const url& page_url) {
  auto flat = flatten(html);
  gumbo_doc doc(flat ? std::string_view(*flat) : html);

  // One iterative pre-order walk collects the elements that matter; the base URL applies to all
  // links, including those before <base>, so links are resolved afterwards (resolve_links).
  raw_links raw;
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
          // Error recovery clones open <a> elements; a clone is not another link.
          if (attr(e, "href") &&
              !(n->parse_flags & (GUMBO_INSERTION_RECONSTRUCTED_FORMATTING_ELEMENT |
                                  GUMBO_INSERTION_ADOPTION_AGENCY_CLONED))) {
            const char* rel = attr(e, "rel");
            raw.anchors.push_back({attr(e, "href"), rel ? std::optional<std::string>(rel) : std::nullopt});
          }
          break;
        case GUMBO_TAG_BASE:
          if (!raw.base_href && attr(e, "href")) raw.base_href = attr(e, "href");
          break;
        case GUMBO_TAG_LINK:
          if (!raw.canonical_href && attr(e, "href") && attr(e, "rel") &&
              rel_is_canonical(attr(e, "rel")))
            raw.canonical_href = attr(e, "href");
          break;
        case GUMBO_TAG_META: {
          const char* name = attr(e, "name");
          const char* content = attr(e, "content");
          if (name && content) apply_meta(raw, name, content);
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
  return resolve_links(std::move(raw), page_url);
}

page_links resolve_links(raw_links raw, const url& page_url) {
  page_links out;
  out.meta_nofollow = raw.meta_nofollow;
  out.meta_noindex = raw.meta_noindex;
  url base = page_url;
  if (raw.base_href) {
    auto b = parse_url(*raw.base_href, &page_url);
    if (b && !b->opaque_path) base = std::move(*b);
  }
  out.base = normalize(base);
  const url_resolver resolver(base);

  if (raw.canonical_href) {
    auto c = resolver.resolve_normalized(*raw.canonical_href);
    if (c && followable(*c)) out.canonical = c->href();
  }

  std::unordered_set<std::string> seen;
  out.follow.reserve(raw.anchors.size());
  out.follow_urls.reserve(raw.anchors.size());
  for (raw_link& a : raw.anchors) {
    std::string href = std::move(a.href);
    if (out.meta_nofollow) {
      out.skipped.push_back({std::move(href), skip_reason::meta_nofollow});
      continue;
    }
    if (a.rel && has_token(*a.rel, "nofollow")) {
      out.skipped.push_back({std::move(href), skip_reason::nofollow});
      continue;
    }
    auto n = resolver.resolve_normalized(href);
    if (!n) {
      out.skipped.push_back({std::move(href), skip_reason::bad_url});
      continue;
    }
    if (!followable(*n)) {
      out.skipped.push_back({std::move(href), skip_reason::unsupported_scheme});
      continue;
    }
    std::string key = n->href();
    if (seen.insert(key).second) {
      out.follow.push_back(std::move(key));
      out.follow_urls.push_back(std::move(*n));
    }
  }
  return out;
}

}  // namespace crawld::parse
