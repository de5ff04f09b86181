// Sitemap parser (parse/sitemap.hpp), XML, text and gzip. Limits are small so bombs are cheap.
// Checks: at most max_urls URLs, each a normalized absolute http(s) URL, no duplicates; no URLs
// for an `unknown` document.
#include <cstdint>
#include <set>
#include <string>

#include "parse/sitemap.hpp"
#include "parse/url.hpp"
#include "tests/fuzz/fuzz_util.hpp"

using namespace crawld;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  parse::sitemap_limits lim;
  lim.max_bytes = 1u << 20;
  lim.max_urls = 100;
  auto r = parse::parse_sitemap(in, lim);
  if (!r) {
    if (r.message().empty() || r.message().find('\n') != std::string::npos)
      crawld::fuzz::fail("error message not one line", r.message());
    return 0;
  }
  if (r->urls.size() > lim.max_urls) crawld::fuzz::fail("more than max_urls");
  if (r->kind == parse::sitemap_kind::unknown && !r->urls.empty()) crawld::fuzz::fail("urls from unknown");
  std::set<std::string> seen;
  for (const auto& u : r->urls) {
    if (!seen.insert(u).second) crawld::fuzz::fail("duplicate url", u);
    auto n = parse::normalize(std::string_view(u));
    if (!n || *n != u) crawld::fuzz::fail("url not normalized", u);
  }
  return 0;
}
