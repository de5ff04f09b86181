// Spider-trap guards on URL structure.
#include <gtest/gtest.h>

#include "parse/trap_guard.hpp"

namespace crawld::parse {
namespace {

trap_verdict check(const std::string& s, trap_limits l = {}) {
  auto u = parse_url(s);
  EXPECT_TRUE(u.has_value()) << s;
  return check_trap(*u, normalize(*u), l);
}

TEST(trap_guard, ordinary_urls_pass) {
  EXPECT_EQ(check("http://a.example/s3/p45.html?q=1&a=2"), trap_verdict::ok);
  EXPECT_EQ(check("http://a.example/"), trap_verdict::ok);
  EXPECT_EQ(check("http://a.example/a/b/a/b/a/b"), trap_verdict::ok) << "three repeats are allowed";
}

TEST(trap_guard, long_url_rejected) {
  EXPECT_EQ(check("http://a.example/" + std::string(2100, 'x')), trap_verdict::url_too_long);
  trap_limits off;
  off.max_url_length = 0;
  EXPECT_EQ(check("http://a.example/" + std::string(2100, 'x'), off), trap_verdict::ok);
}

TEST(trap_guard, repeated_segment_loop_rejected) {
  EXPECT_EQ(check("http://a.example/x/y/x/y/x/y/x/page.html"), trap_verdict::repeated_segment);
}

TEST(trap_guard, empty_segments_do_not_count_as_repeats) {
  EXPECT_EQ(check("http://a.example/a//////b"), trap_verdict::ok);
}

TEST(trap_guard, too_many_segments_rejected) {
  std::string path;
  for (int i = 0; i < 70; ++i)
    path += "/s" + std::to_string(i);
  EXPECT_EQ(check("http://a.example" + path), trap_verdict::too_many_segments);
}

TEST(trap_guard, too_many_query_params_rejected) {
  std::string q;
  for (int i = 0; i < 40; ++i)
    q += (i ? "&" : "") + std::string("f") + std::to_string(i) + "=1";
  EXPECT_EQ(check("http://a.example/search?" + q), trap_verdict::too_many_params);
  EXPECT_EQ(check("http://a.example/search?a=1;b=2;c=3"), trap_verdict::ok);
}

}  // namespace
}  // namespace crawld::parse
