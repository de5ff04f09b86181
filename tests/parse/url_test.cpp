#include <gtest/gtest.h>

#include <random>

#include "parse/url.hpp"
#include "parse/url_resolver.hpp"
#include "tests/parse/url_fields.hpp"

namespace crawld::parse {
namespace {

std::string resolve(const char* rel, const char* base) {
  auto b = parse_url(base);
  EXPECT_TRUE(b) << base;
  if (!b) return "<bad base>";
  auto u = parse_url(rel, &*b);
  return u ? u->href() : "<failure>";
}

TEST(url, resolves_parent_relative_with_query_and_fragment) {
  EXPECT_EQ(resolve("../z?b=2#f", "http://a.example/x/y.html"), "http://a.example/z?b=2#f");
}

TEST(url, resolves_common_crawler_forms) {
  const char* base = "https://a.example/dir/page.html?q=1#top";
  EXPECT_EQ(resolve("other.html", base), "https://a.example/dir/other.html");
  EXPECT_EQ(resolve("/root", base), "https://a.example/root");
  EXPECT_EQ(resolve("//cdn.example/x.js", base), "https://cdn.example/x.js");
  EXPECT_EQ(resolve("?p=2", base), "https://a.example/dir/page.html?p=2");
  EXPECT_EQ(resolve("#sec", base), "https://a.example/dir/page.html?q=1#sec");
  EXPECT_EQ(resolve("", base), "https://a.example/dir/page.html?q=1");
  EXPECT_EQ(resolve("../../../up", base), "https://a.example/up");
  EXPECT_EQ(resolve("./a/./b/../c", base), "https://a.example/dir/a/c");
  EXPECT_EQ(resolve("  \thttp://other.example/\n ", base), "http://other.example/");
  EXPECT_EQ(resolve("\\\\back.example\\p", base), "https://back.example/p");
  EXPECT_EQ(resolve("a b", base), "https://a.example/dir/a%20b");
  EXPECT_EQ(resolve("mailto:x@y.example", base), "mailto:x@y.example");
}

TEST(url, parses_components) {
  auto u = parse_url("HTTP://User:Pw@WWW.Example.COM:8080/p/a%7e?x=1&y#frag");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->username, "User");
  EXPECT_EQ(u->password, "Pw");
  EXPECT_EQ(u->host, "www.example.com");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->path, "/p/a%7e");
  EXPECT_EQ(u->query, "x=1&y");
  EXPECT_EQ(u->fragment, "frag");
  EXPECT_EQ(u->host_key(), "http://www.example.com:8080");
  EXPECT_EQ(u->request_target(), "/p/a%7e?x=1&y");
}

TEST(url, default_port_is_dropped_and_effective_port_filled_in) {
  auto u = parse_url("https://h.example:443/");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, -1);
  EXPECT_EQ(u->effective_port(), 443);
  EXPECT_EQ(u->host_key(), "https://h.example:443");
  EXPECT_EQ(parse_url("http://h/")->effective_port(), 80);
  EXPECT_EQ(parse_url("ftp://h/")->effective_port(), 21);
  EXPECT_EQ(parse_url("sc://h/")->effective_port(), -1);
}

TEST(url, hosts) {
  EXPECT_EQ(parse_url("http://0x7f.1/")->host, "127.0.0.1");
  EXPECT_EQ(parse_url("http://3232235777/")->host, "192.168.1.1");
  EXPECT_EQ(parse_url("http://0300.0250.01.01/")->host, "192.168.1.1");
  EXPECT_EQ(parse_url("http://[0:0:0:0:0:0:0:1]/")->host, "[::1]");
  EXPECT_EQ(parse_url("http://[2001:db8:0:0:1:0:0:1]/")->host, "[2001:db8::1:0:0:1]");
  EXPECT_EQ(parse_url("http://B\xC3\xBC" "cher.example/")->host, "xn--bcher-kva.example");
  EXPECT_EQ(parse_url("http://XN--N3H.example/")->host, "xn--n3h.example");  // A-label kept
  EXPECT_EQ(parse_url("http://%41.example/")->host, "a.example");
  EXPECT_FALSE(parse_url("http://a b/"));
  EXPECT_FALSE(parse_url("http://a%25b/"));  // decodes to a forbidden '%'
  EXPECT_FALSE(parse_url("http://xn--a-/"));  // invalid punycode
  EXPECT_FALSE(parse_url("http://256.256.256.256/"));
  EXPECT_FALSE(parse_url("http://[::1/"));
  EXPECT_FALSE(parse_url("http:///"));
  EXPECT_FALSE(parse_url("http://h:65536/"));
  EXPECT_FALSE(parse_url("relative/only"));
}

TEST(url, non_special_and_file_urls) {
  auto m = parse_url("mailto:Someone@Example.com?subject=hi");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->opaque_path);
  EXPECT_FALSE(m->has_host);
  EXPECT_EQ(m->path, "Someone@Example.com");
  auto f = parse_url("file:///C|/dir/../x.txt");
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->has_host);
  EXPECT_EQ(f->href(), "file:///C:/x.txt");
  EXPECT_EQ(resolve("..", "file:///C:/"), "file:///C:/");
  EXPECT_EQ(parse_url("sc:/.//p")->href(), "sc:/.//p");
}

TEST(url, normalize_lower_cases_host_and_drops_default_port_and_fragment) {
  EXPECT_EQ(normalize("HTTP://WWW.Example.COM:80/a#frag"), "http://www.example.com/a");
  EXPECT_EQ(normalize("https://h:443/"), "https://h/");
  EXPECT_EQ(normalize("https://h:8443/"), "https://h:8443/");
}

TEST(url, normalize_decodes_unreserved_escapes_only) {
  EXPECT_EQ(normalize("http://h/%7Euser/%2f/%41%2d%5F"), "http://h/~user/%2F/A-_");
  EXPECT_EQ(normalize("http://h/p?a=%7e&b=%2f%3d"), "http://h/p?a=~&b=%2F%3D");
  // Decoding must not create a new escape with a stray '%'.
  EXPECT_EQ(normalize("http://h/x%a%41%%62z"), "http://h/x%a%41%%62z");
  EXPECT_EQ(normalize("http://h/100%25%41"), "http://h/100%25A");
  // file: paths are not decoded: "%41|" would become the drive letter "A:".
  EXPECT_EQ(normalize("file:///%41|/%7e"), "file:///%41|/%7E");
}

TEST(url, normalize_keeps_query_order_and_adds_root_path) {
  EXPECT_EQ(normalize("http://h/p?z=1&a=2&m=3"), "http://h/p?z=1&a=2&m=3");
  EXPECT_EQ(normalize("http://h"), "http://h/");
  EXPECT_EQ(normalize("http://h?x"), "http://h/?x");
}

TEST(url, normalize_removes_dot_segments) {
  EXPECT_EQ(normalize("http://h/a/./b/../c/%2e%2E/d"), "http://h/a/d");
  url hand;  // a hand-built URL with dot segments still normalizes
  hand.scheme = "http";
  hand.host = "H";
  hand.has_host = true;
  hand.port = 80;
  hand.path = "/a/../b/./";
  EXPECT_EQ(normalize(hand), "http://h/b/");
}

TEST(url, normalize_rejects_non_urls) {
  EXPECT_FALSE(normalize("not a url"));
  EXPECT_FALSE(normalize("http://"));
}

TEST(url, base_with_opaque_path_accepts_only_fragments) {
  EXPECT_EQ(resolve("#x", "mailto:a@b"), "mailto:a@b#x");
  EXPECT_EQ(resolve("y", "mailto:a@b"), "<failure>");
}

// Up to max_pieces - 1 pieces drawn at random and joined ("\0" stands for a NUL byte).
template <std::size_t N>
std::string random_pieces(const char* const (&pieces)[N], unsigned max_pieces, std::mt19937& rng) {
  std::string in;
  const int n = static_cast<int>(rng() % max_pieces);
  for (int k = 0; k < n; ++k) {
    const char* p = pieces[rng() % N];
    in += (p[0] == '\0') ? std::string(1, '\0') : std::string(p);
  }
  return in;
}

// Random inputs built from URL-significant pieces.
std::string random_input(std::mt19937& rng) {
  static const char* pieces[] = {
      "http:", "https:", "file:", "sc:", "mailto:", "/", "//", "\\", ".", "..", "%2e", "%",
      "%41", "?", "#", "@", ":", "[", "]", "::1", "1.2.3.4", "0x7f", "a", "B", "C|", "x:y",
      " ", "\t", "\n", "\x01", "\x7f", "\xc3\xa9", "\xff", "\xe2\x98\x83", "xn--", "80",
      "99999", "'", "\"", "<", ">", "^", "|", "{", "}", "`", "\0"};
  return random_pieces(pieces, 12, rng);
}

// Calls fn(url, input) for 20,000 random inputs parsed alone and against a base, each that
// parses; returns how many did.
template <class F>
int for_each_random_parse(unsigned seed, F&& fn) {
  std::mt19937 rng(seed);
  const url base = *parse_url("http://user:pw@base.example:8080/a/b/c?q#f");
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string in = random_input(rng);
    for (const url* b : {static_cast<const url*>(nullptr), &base}) {
      auto u = parse_url(in, b);
      if (!u) continue;
      ++parsed;
      fn(*u, in);
    }
  }
  return parsed;
}

// Parsing never crashes, and whatever parses serializes to an href that re-parses to itself.
TEST(url, random_inputs_parse_safely_and_round_trip) {
  const int parsed = for_each_random_parse(12345, [](const url& u, const std::string& in) {
    auto again = parse_url(u.href());
    ASSERT_TRUE(again) << "input: " << in << " href: " << u.href();
    ASSERT_EQ(again->href(), u.href()) << "input: " << in;
    auto n1 = normalize(u);
    ASSERT_EQ(normalize(n1), n1) << "input: " << in;
  });
  EXPECT_GT(parsed, 10000);
}

// Inputs where normalization has work to do: dot segments (also percent-encoded), escapes of
// unreserved characters (decoded) and of others (upper-cased), default ports, IPv4/IPv6 forms,
// IDNA, empty paths, queries, fragments, userinfo, file: drive letters, non-special and opaque
// paths; absolute and relative to several bases.
const char* const tricky_urls[] = {
    "http://h/a/./b/../c/%2e%2E/d", "http://h/%2e", "http://h/a/%2e%2e", "http://h/.%2E/x",
    "http://h/%2e%2e%2e/x", "http://h/a%2eb", "http://h/%2E%2e/", "http://h/a/b/..", "http://h/a/.",
    "http://h/%7Euser/%2f/%41%2d%5F", "http://h/x%a%41%%62z", "http://h/100%25%41",
    "http://h/%25%32%65", "http://h/%2e%41/", "http://h/%zz%4", "http://h/a%2F..%2Fb",
    "HTTP://WWW.Example.COM:80/a#frag", "https://h:443/", "https://h:8443/", "ws://h:80/",
    "wss://h:443", "ftp://h:21/x", "http://h:0080/", "http://h:/", "http://[::1]:80/",
    "http://[2001:DB8::0:1]/a", "http://[::ffff:1.2.3.4]/", "http://[0:0:0:0:0:0:0:0]/",
    "http://0x7f.1/", "http://127.1/", "http://0300.0250.1/", "http://4294967295/",
    "http://%41.com/", "http://m%C3%BCnchen.de/", "http://m\xc3\xbcnchen.de/",
    "http://xn--mnchen-3ya.de/", "http://XN--MNCHEN-3YA.de/", "http://fa\xc3\x9f.de/",
    "http://\xef\xbc\x91\xef\xbc\x8e" "2.3.4/", "http://\xef\xbc\xa1.com/", "http://example.com./",
    "http://h", "http://h?x", "http://h/?", "http://h/#", "http://h?#", "http://h/p?a=%7e&b=%2f%3d#f",
    "http://h/p?%41%a%42", "http://h/p?q='x'&r=%27", "http://h/p?a b", "http://h/p#a b%41",
    "http://user:p%40ss@h/", "http://:pw@h/", "http://user@h/", "http://us%7Eer:%7e@h/",
    "http://h/a b", "http://h/\xc3\xa9%c3%a9", "http://h\\a\\b", "http://h/a\tb\nc",
    "  http://h/x  ", "file:///%41|/%7e", "file:///C|/x", "file:///c:/../x", "file://localhost/x",
    "file:///a/../../x", "file:////x", "file://host/share/%7e", "file:/x", "file:x",
    "mailto:Someone@Example.com?subject=%7e", "mailto:a%41b%2e", "sc:a b ?q", "sc:a #f",
    "sc://H%41st/p", "sc://h", "sc://", "sc:/.//x", "sc:/a/../..//x", "sc://h:0/",
    "sc://h/%2e/x", "sc://u@h", "javascript:void(0)", "data:text/html,%3Ch1%3E",
    "urn:isbn:123", "blob:http://h/x", "non-spec:/.//", "web+demo:/.//not-a-host/",
};
const char* const tricky_relative[] = {
    "../x", "./%2e/y", "?q", "#f", "", "//other.example:80/x", "/%2e%2e/z", "..%2f", "%2e%2e/a",
    "%2E", "..", "/", "//", "\\x", "C|/x", "/C:/y", "?%7e#%7e", "a?b#c", "//[::1]/", "x%2e",
    "http:x", "https:x", "file:x", "sc:x",
};
const char* const tricky_bases[] = {
    "http://user:pw@base.example:8080/a/b/c?q#f", "https://h/", "http://h/%7Ea/b",
    "file:///C:/dir/f", "file://host/d/", "sc://h/a/b", "sc:/a/b", "sc:opaque",
};

TEST(url, normalized_struct_matches_reparse_of_normalize) {
  using tests::normalized_reparse_difference;
  int checked = 0;
  for (const char* in : tricky_urls) {
    auto u = parse_url(in);
    ASSERT_TRUE(u) << in;
    EXPECT_EQ(normalized_reparse_difference(*u), "") << "input: " << in;
    ++checked;
  }
  for (const char* b : tricky_bases) {
    auto base = parse_url(b);
    ASSERT_TRUE(base) << b;
    for (const char* in : tricky_relative) {
      auto u = parse_url(in, &*base);
      if (!u) continue;
      EXPECT_EQ(normalized_reparse_difference(*u), "") << "input: " << in << " base: " << b;
      ++checked;
    }
  }
  EXPECT_GT(checked, 200);
}

TEST(url, normalized_struct_matches_reparse_of_normalize_on_random_inputs) {
  const int checked = for_each_random_parse(777, [](const url& u, const std::string& in) {
    ASSERT_EQ(tests::normalized_reparse_difference(u), "") << "input: " << in;
  });
  EXPECT_GT(checked, 10000);
}

TEST(url, normalized_drops_the_fragment_and_the_default_port) {
  url n = normalized(*parse_url("HTTP://H:80/%7e/./x?%7e#frag"));
  EXPECT_EQ(n.scheme, "http");
  EXPECT_EQ(n.port, -1);
  EXPECT_EQ(n.path, "/~/x");
  EXPECT_EQ(n.query, "~");
  EXPECT_FALSE(n.has_fragment);
  EXPECT_EQ(n.fragment, "");
  EXPECT_EQ(n.href(), "http://h/~/x?~");
}

TEST(url, resolver_gives_what_parse_url_with_the_base_gives) {
  std::mt19937 rng(4242);
  int resolved = 0;
  for (const char* b : tricky_bases) {
    const url base = *parse_url(b);
    const url_resolver r(base);
    for (const char* in : tricky_relative) {
      auto want = parse_url(in, &base);
      auto got = r.resolve(in);
      ASSERT_EQ(got.has_value(), want.has_value()) << "input: " << in << " base: " << b;
      if (want) {
        EXPECT_EQ(tests::url_difference(*got, *want), "") << in << " base: " << b;
      }
      resolved += want.has_value();
    }
    for (int i = 0; i < 2000; ++i) {
      const std::string in = random_input(rng);
      auto want = parse_url(in, &base);
      auto got = r.resolve(in);
      ASSERT_EQ(got.has_value(), want.has_value()) << "input: " << in << " base: " << b;
      if (want) {
        ASSERT_EQ(tests::url_difference(*got, *want), "") << in << " base: " << b;
      }
      resolved += want.has_value();
    }
  }
  EXPECT_GT(resolved, 5000);
}

// The resolver's fast path for plain references must give exactly what the full parse and
// normalization give; whatever it declines goes the full way, and resolve_normalized agrees too.
std::string plain_random_input(std::mt19937& rng) {
  static const char* pieces[] = {
      "a", "b", "Z", "0", "1", "255", "256", "01", "-", ".", "..", "/", "//", "?", "#", "=", "&",
      ":", "@", "~", "!", "_", "h", "x.y", "127.0.0.1", "1.2.3", "0x7f", "http://", "https://",
      "http:", "//", "xn--a", "8090", ":80", ":443", ":0080", ":65536", ":", "%41", "%2e", " ",
      "\t", "\\", "'", "\"", "^", "|", "{", "}", "<", "\xc3\xa9", "A.B", "p.html", "?q=1&a=2"};
  return random_pieces(pieces, 10, rng);
}

TEST(url, resolver_plain_path_gives_the_normalized_full_parse) {
  const char* const plain_bases[] = {
      "http://h/", "http://127.0.0.17:8090/s11/p1419.html", "https://a.example/dir/sub/?q=1",
      "http://h:8080/a//b/c", "http://h/a/b/", "https://x-1.y/p?", "http://h/%7Ea/%2f/b?%7e"};
  const char* const other_bases[] = {
      "http://user:pw@base.example:8080/a/b/c?q#f", "http://h/a|b/c", "sc://h/a/b",
      "file:///C:/dir/f", "http://[::1]/x", "http://xn--mnchen-3ya.de/", "http://h/it's/x"};
  // The shapes links on real pages have: all must take the fast path from a plain base.
  const char* const common[] = {
      "", "#top", "p.html", "./p.html", "../s8/p1016.html", "../../../x", "/", "/a/b.html",
      "/a/./b/../c", "?q=1&a=2", "?", "a/b/", "a/..", "a/.", "..", ".", "//127.0.0.19:8090/s8/p4.html",
      "//h", "http://127.0.0.17:8090/s14/p270.html", "https://h:443/x?y#z", "http://h:0080/",
      "http://h:/", "http://h:0/", "http://h?x", "http://a.b.c/d//e", "p.html?a=/b?c#d",
      "HTTP://127.0.0.17:8090/s1/p2.html", "/s3/%70%31%7e%2F.html", "%2e%2E/x", "a/%2e", "?%7e%zz"};
  auto check = [](const url& base, const url_resolver& r, const std::string& in) -> int {
    std::optional<url> want = parse_url(in, &base);
    if (want) want = normalized(std::move(*want));
    auto fast = r.resolve_plain(in);
    if (fast) {
      EXPECT_TRUE(want) << "fast path accepted a non-URL: '" << in << "' base " << base.href();
      if (want) {
        EXPECT_EQ(tests::url_difference(*fast, *want), "") << "'" << in << "' base " << base.href();
      }
    }
    auto got = r.resolve_normalized(in);
    EXPECT_EQ(got.has_value(), want.has_value()) << "'" << in << "' base " << base.href();
    if (got && want) {
      EXPECT_EQ(tests::url_difference(*got, *want), "") << "'" << in << "' base " << base.href();
    }
    return fast ? 1 : 0;
  };
  std::mt19937 rng(2026);
  int fast = 0, total = 0;
  for (const char* b : plain_bases) {
    const url base = *parse_url(b);
    const url_resolver r(base);
    for (const char* in : common)
      EXPECT_EQ(check(base, r, in), 1) << "'" << in << "' base " << b << " took the full parse";
    for (const char* in : tricky_relative) check(base, r, in);
    for (int i = 0; i < 20000; ++i, ++total) fast += check(base, r, plain_random_input(rng));
  }
  EXPECT_GT(fast, total / 10) << "the random inputs hardly exercise the fast path";
  for (const char* b : other_bases) {
    const url base = *parse_url(b);
    const url_resolver r(base);
    for (const char* in : common) EXPECT_EQ(check(base, r, in), 0) << "'" << in << "' base " << b;
    for (int i = 0; i < 2000; ++i) check(base, r, plain_random_input(rng));
  }
}

// parse_url without a base builds plain absolute http(s) URLs directly: the result must be what
// the full parser gives (parsing against a base of another scheme takes the full path).
TEST(url, plain_absolute_urls_parse_as_the_full_parser_parses_them) {
  const url other = *parse_url("sc://other/");
  std::mt19937 rng(99);
  int absolute = 0;
  for (int i = 0; i < 50000; ++i) {
    std::string in = std::string(i % 3 == 0 ? "HTTP://" : i % 3 == 1 ? "http://" : "https://") +
                     plain_random_input(rng);
    auto fast = parse_url(in);
    auto full = parse_url(in, &other);
    ASSERT_EQ(fast.has_value(), full.has_value()) << in;
    if (!fast) continue;
    ASSERT_EQ(tests::url_difference(*fast, *full), "") << in;
    ++absolute;
  }
  EXPECT_GT(absolute, 20000);
}

}  // namespace
}  // namespace crawld::parse
