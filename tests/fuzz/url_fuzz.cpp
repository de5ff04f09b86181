// URL parse/resolve/normalize. Input: "BASE\nINPUT" (no newline: INPUT alone, no base).
// Checks the contract of parse/url.hpp that normalize is idempotent: the normalized form of a
// parsed URL parses again, and normalizing it gives it back; and that parsing it gives exactly the
// normalized struct (what lets followed links skip a second parse); and that the resolver's fast
// path for plain references gives exactly the full parse, normalized.
#include <cstdint>
#include <string>

#include "parse/url.hpp"
#include "parse/url_resolver.hpp"
#include "tests/fuzz/fuzz_util.hpp"

using namespace crawld;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto [first, rest] = fuzz::first_line(in);
  std::optional<parse::url> base;
  std::string_view input = in;
  if (rest.data() != nullptr) {
    base = parse::parse_url(first);
    input = rest;
  }
  auto u = parse::parse_url(input, base ? &*base : nullptr);
  if (base) {
    const parse::url_resolver r(*base);
    auto fast = r.resolve_plain(input);
    if (fast && !u) crawld::fuzz::fail("the fast path resolved a non-URL", std::string(input));
    if (fast && *fast != parse::normalized(*u))
      crawld::fuzz::fail("the fast path differs from the full parse", fast->href() + " vs " + u->href());
    auto n = r.resolve_normalized(input);
    if (n.has_value() != u.has_value() || (n && *n != parse::normalized(*u)))
      crawld::fuzz::fail("resolve_normalized differs from the full parse", std::string(input));
  }
  if (u && !base && (u->scheme == "http" || u->scheme == "https")) {
    static const parse::url other = *parse::parse_url("sc://other/");  // takes the full parser
    auto full = parse::parse_url(input, &other);
    if (!full || *full != *u) crawld::fuzz::fail("plain absolute parse differs from the full parse", std::string(input));
  }
  if (!u) return 0;
  (void)u->host_key();
  (void)u->request_target();
  (void)u->effective_port();
  std::string n = parse::normalize(*u);
  auto again = parse::normalize(std::string_view(n));
  if (!again) crawld::fuzz::fail("normalized URL does not parse", n);
  if (*again != n) crawld::fuzz::fail("normalize is not idempotent", n + " -> " + *again);
  const parse::url s = parse::normalized(*u);
  if (s.href() != n) crawld::fuzz::fail("normalized(u).href() is not normalize(u)", n);
  if (*parse::parse_url(n) != s) crawld::fuzz::fail("normalized struct is not the re-parse", n);
  return 0;
}
