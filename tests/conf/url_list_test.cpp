// Download lists for --urls.
#include <gtest/gtest.h>

#include <sstream>

#include "conf/url_list.hpp"

namespace crawld::conf {
namespace {

TEST(url_list, comments_and_blank_lines_ignored_urls_trimmed) {
  std::istringstream in("# a list\n\n  http://a.example/1  \r\nhttps://b.example/2\n\t# indented comment\n");
  auto l = read_url_list(in);
  EXPECT_EQ(l.urls, (std::vector<std::string>{"http://a.example/1", "https://b.example/2"}));
  EXPECT_TRUE(l.errors.empty());
}

TEST(url_list, malformed_lines_reported_with_line_numbers_and_skipped) {
  std::istringstream in("http://a.example/\nnot a url\nftp://c.example/f\nhttp://[::1/\nhttp://d.example/\n");
  auto l = read_url_list(in);
  EXPECT_EQ(l.urls.size(), 2u);
  ASSERT_EQ(l.errors.size(), 3u);
  EXPECT_EQ(l.errors[0], "line 2: not an http(s) URL: 'not a url'");
  EXPECT_NE(l.errors[1].find("line 3:"), std::string::npos);
  EXPECT_NE(l.errors[2].find("line 4:"), std::string::npos);
}

TEST(url_list, last_line_without_newline_counts) {
  std::istringstream in("http://a.example/x");
  EXPECT_EQ(read_url_list(in).urls.size(), 1u);
}

}  // namespace
}  // namespace crawld::conf
