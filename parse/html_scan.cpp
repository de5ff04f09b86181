#include "parse/html_scan.hpp"

namespace crawld::parse::html {

namespace {
char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
}  // namespace

bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

bool starts_with_ci(std::string_view h, std::size_t i, std::string_view s) {
  if (i + s.size() > h.size()) return false;
  for (std::size_t k = 0; k < s.size(); ++k)
    if (ascii_lower(h[i + k]) != s[k]) return false;
  return true;
}

bool end_tag_at(std::string_view h, std::size_t i, std::string_view name) {
  if (!starts_with_ci(h, i, "</") || !starts_with_ci(h, i + 2, name)) return false;
  std::size_t k = i + 2 + name.size();
  return k < h.size() && (space(h[k]) || h[k] == '/' || h[k] == '>');
}

std::size_t after_gt(std::string_view h, std::size_t i) {
  std::size_t e = h.find('>', i);
  return e == std::string_view::npos ? h.size() : e + 1;
}

std::size_t skip_markup_declaration(std::string_view h, std::size_t i) {
  if (h.compare(i, 2, "--") != 0) return after_gt(h, i);  // doctype, CDATA (no foreign content)
  i += 2;
  if (i < h.size() && h[i] == '>') return i + 1;  // "<!-->"
  if (h.compare(i, 2, "->") == 0) return i + 2;    // "<!--->"
  std::size_t e1 = h.find("-->", i), e2 = h.find("--!>", i);
  if (e1 == std::string_view::npos && e2 == std::string_view::npos) return h.size();
  return e1 < e2 ? e1 + 3 : e2 + 4;
}

std::size_t skip_raw_text(std::string_view h, std::size_t i, std::string_view name) {
  const std::size_t n = h.size();
  if (name != "script") {
    for (;; ++i) {
      i = h.find("</", i);
      if (i == std::string_view::npos) return n;
      if (end_tag_at(h, i, name)) return i;
    }
  }
  enum { data, escaped, double_escaped } st = data;
  for (; i < n; ++i) {
    if (h[i] == '<') {
      if (st != double_escaped && end_tag_at(h, i, "script")) return i;
      if (st == data && h.compare(i, 4, "<!--") == 0) {
        st = escaped;
        i += 3;
      } else if (st == escaped && starts_with_ci(h, i + 1, "script") && i + 7 < n &&
                 (space(h[i + 7]) || h[i + 7] == '/' || h[i + 7] == '>')) {
        st = double_escaped;
      } else if (st == double_escaped && end_tag_at(h, i, "script")) {
        st = escaped;
      }
    } else if (h[i] == '-' && st != data && h.compare(i, 3, "-->") == 0) {
      st = data;
      i += 2;
    }
  }
  return n;
}

}  // namespace crawld::parse::html
