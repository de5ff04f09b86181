#include "parse/links.hpp"

#include <gumbo.h>

#include <unordered_set>

namespace crawld::parse {
namespace {

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

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

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
  gumbo_doc doc(html);

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
