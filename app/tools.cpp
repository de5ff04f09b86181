// `crawld url` and `crawld links`: how crawld resolves, normalizes and picks links.
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/commands.hpp"
#include "parse/links.hpp"
#include "parse/url.hpp"

namespace crawld::app {

int cmd_url(const std::string& base_text, const std::vector<std::string>& hrefs) {
  auto base = parse::parse_url(base_text);
  if (!base) {
    print_error("not a valid base URL: '" + base_text + "'");
    return 2;
  }
  int rc = 0;
  if (hrefs.empty()) {
    std::cout << base->href() << "\n  normalized: " << parse::normalize(*base)
              << "\n  host key:   " << base->host_key() << '\n';
    return 0;
  }
  for (const auto& h : hrefs) {
    auto u = parse::parse_url(h, &*base);
    if (!u) {
      std::cout << h << "\n  invalid: not a URL relative to " << base->href() << '\n';
      rc = 1;
      continue;
    }
    std::cout << h << "\n  resolved:   " << u->href() << "\n  normalized: " << parse::normalize(*u)
              << "\n  host key:   " << u->host_key() << '\n';
  }
  return rc;
}

int cmd_links(const std::string& file, const std::string& base_text) {
  auto base = parse::parse_url(base_text);
  if (!base) {
    print_error("not a valid base URL: '" + base_text + "'");
    return 2;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    print_error("cannot read '" + file + "'");
    return 1;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  auto html = buf.str();
  auto pl = parse::extract_links(html, *base);
  std::cout << "base: " << pl.base << '\n';
  if (pl.canonical)
    std::cout << "canonical: " << *pl.canonical << '\n';
  if (pl.meta_nofollow || pl.meta_noindex)
    std::cout << "meta robots:" << (pl.meta_nofollow ? " nofollow" : "") << (pl.meta_noindex ? " noindex" : "")
              << '\n';
  for (const auto& l : pl.follow)
    std::cout << "follow " << l << '\n';
  for (const auto& s : pl.skipped)
    std::cout << "skip   " << s.href << " (" << parse::to_string(s.reason) << ")\n";
  return 0;
}

}  // namespace crawld::app
