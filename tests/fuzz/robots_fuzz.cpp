// robots.txt parser and matcher (fetch/robots.hpp). Input: "AGENT PATH\nROBOTS.TXT"; the first
// line's first word is the product token asked about, the rest of it the request target.
// Checks: /robots.txt is always allowed; a deciding rule is reported with its line; the parser
// never reads more than it promises (ASan) and matching terminates (libFuzzer's -timeout).
#include <cstdint>
#include <string>

#include "fetch/robots.hpp"
#include "tests/fuzz/fuzz_util.hpp"

using namespace crawld;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto [first, body] = fuzz::first_line(in);
  if (body.data() == nullptr) body = in;
  auto sp = first.find(' ');
  std::string_view agent = first.substr(0, sp);
  std::string_view path = sp == std::string_view::npos ? std::string_view("/") : first.substr(sp + 1);
  auto r = fetch::robots::parse(body);
  auto v = r.check(agent, path);
  if (v.rule && v.rule->line <= 0) crawld::fuzz::fail("deciding rule without a line", path);
  if (!r.check(agent, "/robots.txt").allowed) crawld::fuzz::fail("/robots.txt disallowed");
  (void)r.crawl_delay(agent);
  (void)r.crawl_delay("crawld");
  (void)r.check("crawld", path);
  for (const auto& s : r.sitemaps())
    if (s.empty()) crawld::fuzz::fail("empty sitemap value");
  (void)fetch::product_token(first);
  auto f = fetch::robots_from_response(200, true, body);
  (void)f.rules.check(agent, path);
  return 0;
}
