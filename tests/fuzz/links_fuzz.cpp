// Link extraction: the gumbo path (parse/links.hpp), and the fast path (parse/link_scan.hpp)
// differentially against it. Input: "PAGE_URL\nHTML" (no newline, or an
// unparsable first line: the whole input is HTML of http://fuzz.example/dir/page.html).
// Checks: every followed link is an absolute http(s) URL in normalized form, without duplicates,
// and its follow_urls entry is what parsing it gives.
// Any disagreement of the fast path with gumbo (when the fast path is sure) is a finding.
#include <cstdint>
#include <set>
#include <string>

#include "parse/link_scan.hpp"
#include "parse/links.hpp"
#include "tests/fuzz/fuzz_util.hpp"

using namespace crawld;

static void check_links(std::string_view html, const parse::url& page) {
  auto links = parse::extract_links(html, page);
  if (auto cmp = parse::links_agree(html, page); !cmp.agree)
    crawld::fuzz::fail("fast path disagrees with gumbo", cmp.difference);
  std::set<std::string> seen;
  if (links.follow_urls.size() != links.follow.size())
    crawld::fuzz::fail("follow_urls not parallel to follow");
  for (std::size_t i = 0; i < links.follow.size(); ++i) {
    const std::string& l = links.follow[i];
    if (!seen.insert(l).second) crawld::fuzz::fail("duplicate followed link", l);
    auto n = parse::normalize(std::string_view(l));
    if (!n || *n != l) crawld::fuzz::fail("followed link not normalized", l);
    if (*parse::parse_url(l) != links.follow_urls[i])
      crawld::fuzz::fail("follow_urls entry is not the parsed link", l);
    if (l.rfind("http://", 0) != 0 && l.rfind("https://", 0) != 0)
      crawld::fuzz::fail("followed link not http(s)", l);
  }
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  static const parse::url fallback = *parse::parse_url("http://fuzz.example/dir/page.html");
  auto [first, rest] = fuzz::first_line(in);
  if (rest.data() != nullptr) {
    auto page = parse::parse_url(first);
    if (page && (page->scheme == "http" || page->scheme == "https")) {
      check_links(rest, *page);
      return 0;
    }
  }
  check_links(in, fallback);
  return 0;
}
