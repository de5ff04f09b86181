// Crawl options: validation messages and domain-rule matching.
#include <gtest/gtest.h>

#include "conf/crawl_options.hpp"

namespace crawld::conf {
namespace {

crawl_options valid() {
  crawl_options o;
  o.seeds = {"http://127.0.0.10:8080/"};
  return o;
}

TEST(crawl_options, defaults_with_a_seed_are_valid) { EXPECT_TRUE(validate(valid()).ok()); }

TEST(crawl_options, errors_name_the_option_and_value) {
  auto o = valid();
  o.seeds = {"not a url"};
  EXPECT_NE(validate(o).message().find("'not a url'"), std::string::npos);
  o = valid();
  o.concurrency = 0;
  EXPECT_NE(validate(o).message().find("--concurrency"), std::string::npos);
  o = valid();
  o.per_host = 5000;
  EXPECT_NE(validate(o).message().find("5000"), std::string::npos);
  o = valid();
  o.headers = {{"Bad Name", "x"}};
  EXPECT_NE(validate(o).message().find("Bad Name"), std::string::npos);
  o = valid();
  o.domain_rules = {{"*.example.com", std::nullopt, 0}};
  EXPECT_NE(validate(o).message().find("*.example.com"), std::string::npos);
  o = valid();
  o.seeds.clear();
  EXPECT_FALSE(validate(o).ok());
}

TEST(glob, star_and_question_mark) {
  EXPECT_TRUE(glob_match("*.example.com", "www.example.com"));
  EXPECT_FALSE(glob_match("*.example.com", "example.com"));
  EXPECT_TRUE(glob_match("*example.com", "example.com"));
  EXPECT_TRUE(glob_match("127.0.0.1?", "127.0.0.12"));
  EXPECT_FALSE(glob_match("127.0.0.1?", "127.0.0.1"));
  EXPECT_TRUE(glob_match("*", "anything"));
  EXPECT_TRUE(glob_match("WWW.*", "www.a.b"));
  EXPECT_FALSE(glob_match("a*b*c", "aXbY"));
}

TEST(glob, pathological_pattern_stays_fast) {
  std::string text(5000, 'a');
  EXPECT_FALSE(glob_match("*a*a*a*a*a*a*a*a*a*b", text));
}

TEST(domain_rule, first_match_wins) {
  std::vector<domain_rule> rules = {{"*.slow.example", std::chrono::milliseconds(2000), 1},
                                    {"*.example", std::nullopt, 2}};
  auto* r = match_rule(rules, "a.slow.example");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->per_host, 1);
  r = match_rule(rules, "b.example");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->per_host, 2);
  EXPECT_EQ(match_rule(rules, "other.org"), nullptr);
}

}  // namespace
}  // namespace crawld::conf
