// robots.txt (RFC 9309): a table-driven suite organised by the RFC's sections. Every row is its
// own test (`rfc9309_<section>/<fixture>.<case>/<row name>`); `robots_suite.every_case_passes`
// runs every table again, prints "robots suite: N cases, M passed" and requires N == M.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "fetch/robots.hpp"

namespace crawld::fetch {
namespace {

constexpr bool A = true;   // allowed
constexpr bool D = false;  // disallowed
constexpr int no_rule = 0; // line: no rule matched
constexpr const char* no_group = "";

// ---------------------------------------------------------------------------------------------
// Row types and how each is checked. A check returns "" on success, else what differed.

struct verdict_case {
  const char* name;
  std::string robots;
  std::string agent;
  std::string path;
  bool allowed;
  int line = -1;                 // line of the deciding rule; 0: no rule; -1: not checked
  const char* group = nullptr;   // expected group name; nullptr: not checked
};

struct delay_case {
  const char* name;
  std::string robots;
  std::string agent;
  long long ms;  // -1: nullopt
};

struct sitemap_case {
  const char* name;
  std::string robots;
  std::vector<std::string> expected;
};

struct response_case {
  const char* name;
  int status;
  bool got_response;
  std::string body;
  std::string path;
  bool allowed;
  bool temporary;
};

struct token_case {
  const char* name;
  std::string user_agent;
  std::string expected;
};

void PrintTo(const verdict_case& c, std::ostream* os) { *os << c.name; }
void PrintTo(const delay_case& c, std::ostream* os) { *os << c.name; }
void PrintTo(const sitemap_case& c, std::ostream* os) { *os << c.name; }
void PrintTo(const response_case& c, std::ostream* os) { *os << c.name; }
void PrintTo(const token_case& c, std::ostream* os) { *os << c.name; }

std::string describe(const robots_verdict& v) {
  std::ostringstream os;
  os << (v.allowed ? "allowed" : "disallowed");
  if (v.rule)
    os << " by " << (v.rule->allow ? "allow: " : "disallow: ") << v.rule->pattern << " at line "
       << v.rule->line;
  else
    os << " (no rule)";
  os << ", group '" << v.group << "'";
  return os.str();
}

std::string check(const verdict_case& c) {
  const auto v = robots::parse(c.robots).check(c.agent, c.path);
  const int line = v.rule ? v.rule->line : 0;
  const bool ok = v.allowed == c.allowed && (c.line < 0 || line == c.line) &&
                  (c.line != 0 || !v.rule) && (!c.group || v.group == c.group);
  if (ok) return "";
  std::ostringstream os;
  os << "agent '" << c.agent << "' path '" << c.path << "': expected "
     << (c.allowed ? "allowed" : "disallowed");
  if (c.line >= 0) os << " line " << c.line;
  if (c.group) os << " group '" << c.group << "'";
  os << "; got " << describe(v);
  return os.str();
}

std::string check(const delay_case& c) {
  const auto d = robots::parse(c.robots).crawl_delay(c.agent);
  const long long got = d ? static_cast<long long>(d->count()) : -1;
  if (got == c.ms) return "";
  return "crawl-delay: expected " + std::to_string(c.ms) + " ms, got " + std::to_string(got);
}

std::string check(const sitemap_case& c) {
  const auto r = robots::parse(c.robots);
  if (r.sitemaps() == c.expected) return "";
  std::string got;
  for (const auto& s : r.sitemaps()) got += "[" + s + "]";
  std::string want;
  for (const auto& s : c.expected) want += "[" + s + "]";
  return "sitemaps: expected " + want + ", got " + got;
}

std::string check(const response_case& c) {
  const auto f = robots_from_response(c.status, c.got_response, c.body);
  const auto v = f.rules.check("crawld", c.path);
  if (v.allowed == c.allowed && f.temporary == c.temporary) return "";
  std::ostringstream os;
  os << "status " << c.status << (c.got_response ? "" : " (no response)") << " path " << c.path
     << ": expected " << (c.allowed ? "allowed" : "disallowed")
     << (c.temporary ? " temporary" : "") << "; got " << describe(v)
     << (f.temporary ? " temporary" : "");
  return os.str();
}

std::string check(const token_case& c) {
  const auto t = product_token(c.user_agent);
  if (t == c.expected) return "";
  return "product_token('" + c.user_agent + "'): expected '" + c.expected + "', got '" + t + "'";
}

// ---------------------------------------------------------------------------------------------
// RFC 9309 2.1 / 2.2: the file format (lines, comments, keys, BOM, line ends).

std::vector<verdict_case> format_cases() {
  return {
      {"empty_file_allows_everything", "", "crawld", "/x", A, no_rule, no_group},
      {"only_comments_allow_everything", "# hello\n# User-agent: *\n# Disallow: /\n", "crawld", "/x",
       A, no_rule, no_group},
      {"bom_is_skipped", "\xEF\xBB\xBFUser-agent: *\nDisallow: /x\n", "crawld", "/x", D, 2, "*"},
      {"bom_only_counts_at_start", "User-agent: *\n\xEF\xBB\xBF" "Disallow: /x\n", "crawld", "/x",
       A, no_rule, "*"},
      {"cr_only_line_ends_allow", "User-agent: *\rDisallow: /a\rAllow: /a/b\r", "crawld", "/a/b",
       A, 3, "*"},
      {"cr_only_line_ends_disallow", "User-agent: *\rDisallow: /a\rAllow: /a/b\r", "crawld", "/a/c",
       D, 2, "*"},
      {"crlf_line_ends", "User-agent: *\r\nDisallow: /a\r\n\r\nDisallow: /b\r\n", "crawld", "/b", D,
       4, "*"},
      {"mixed_line_ends_count_lines", "User-agent: *\nDisallow: /a\r\nDisallow: /b\rDisallow: /c",
       "crawld", "/c", D, 4, "*"},
      {"last_line_without_newline", "User-agent: *\nDisallow: /x", "crawld", "/x", D, 2, "*"},
      {"comment_after_value_is_stripped", "User-agent: * # everyone\nDisallow: /x # secret\n",
       "crawld", "/xy", D, 2, "*"},
      {"comment_line_inside_agent_run", "User-agent: a\n# note\nUser-agent: b\nDisallow: /\n", "a",
       "/x", D, 4, "a"},
      {"comment_hides_rule", "User-agent: *\n#Disallow: /x\n", "crawld", "/x", A, no_rule, "*"},
      {"line_without_colon_ignored", "User-agent: *\nDisallow /x\n", "crawld", "/x", A, no_rule,
       "*"},
      {"unknown_key_ignored", "User-agent: *\nNoindex: /x\n", "crawld", "/x", A, no_rule, "*"},
      {"keys_upper_case", "USER-AGENT: *\nDISALLOW: /x\n", "crawld", "/x", D, 2, "*"},
      {"keys_mixed_case", "uSeR-aGeNt: crawld\ndIsAlLoW: /x\n", "crawld", "/x", D, 2, "crawld"},
      {"allow_key_case_insensitive", "User-agent: *\nDisallow: /\nALLOW: /x\n", "crawld", "/x", A,
       3, "*"},
      {"spaces_around_colon", "User-agent :  crawld  \nDisallow  :   /x   \n", "crawld", "/x", D, 2,
       "crawld"},
      {"tabs_around_value", "User-agent:\tcrawld\t\nDisallow:\t/x\t\n", "crawld", "/x", D, 2,
       "crawld"},
      {"no_space_after_colon", "User-agent:crawld\nDisallow:/x\n", "crawld", "/x", D, 2, "crawld"},
      {"leading_whitespace_on_line", "  User-agent: *\n\tDisallow: /x\n", "crawld", "/x", D, 2,
       "*"},
      {"rules_before_first_agent_ignored", "Disallow: /x\nUser-agent: *\nDisallow: /y\n", "crawld",
       "/x", A, no_rule, "*"},
      {"rules_after_first_agent_apply", "Disallow: /x\nUser-agent: *\nDisallow: /y\n", "crawld",
       "/y", D, 3, "*"},
      {"misspelling_useragent", "useragent: *\ndisallow: /x\n", "crawld", "/x", D, 2, "*"},
      {"misspelling_user_agent_with_space", "user agent: *\ndisallow: /x\n", "crawld", "/x", D, 2,
       "*"},
      {"misspelling_dissallow", "User-agent: *\nDissallow: /x\n", "crawld", "/x", D, 2, "*"},
      {"misspelling_disalow", "User-agent: *\nDisalow: /x\n", "crawld", "/x", D, 2, "*"},
      {"unlisted_misspelling_ignored", "User-agent: *\nDisalloww: /x\n", "crawld", "/x", A, no_rule,
       "*"},
      {"blank_line_does_not_end_group", "User-agent: a\n\nDisallow: /x\n", "a", "/x", D, 3, "a"},
      {"blank_line_between_agent_lines", "User-agent: a\n\nUser-agent: b\nDisallow: /x\n", "a", "/x",
       D, 4, "a"},
      {"value_may_contain_colon", "User-agent: *\nDisallow: /a:b\n", "crawld", "/a:b", D, 2, "*"},
      {"empty_lines_and_garbage_only", "\n\n   \n:::\nfoo\n", "crawld", "/", A, no_rule, no_group},
      {"binary_garbage_does_not_crash",
       std::string("\0\x01\xff:\xfe\n\0\n", 8) + "User-agent: *\nDisallow: /x\n", "crawld", "/x",
       D, 4, "*"},
  };
}

// RFC 9309 2.2.1: the user-agent line and group selection.
std::vector<verdict_case> user_agent_cases() {
  const std::string google =
      "User-agent: Googlebot\nDisallow: /\n\nUser-agent: *\nDisallow: /star\n";
  const std::string specific = "User-agent: *\nDisallow: /\n\nUser-agent: crawld\nDisallow: /private\n";
  const std::string merged =
      "User-agent: crawld\nDisallow: /a\n\nUser-agent: other\nDisallow: /b\n\nUser-agent: crawld\n"
      "Disallow: /c\n";
  return {
      {"file_token_case_insensitive", "User-agent: CrAwLd\nDisallow: /\n", "crawld", "/x", D, 2,
       "CrAwLd"},
      {"agent_case_insensitive", "User-agent: crawld\nDisallow: /\n", "CRAWLD", "/x", D, 2,
       "crawld"},
      {"file_value_with_version", "User-agent: crawld/1.0\nDisallow: /\n", "crawld", "/x", D, 2,
       "crawld"},
      {"file_value_first_token_only", "User-agent: crawld bot\nDisallow: /\n", "crawld", "/x", D, 2,
       "crawld"},
      {"file_value_second_word_ignored", "User-agent: crawld bot\nDisallow: /\n", "bot", "/x", A,
       no_rule, no_group},
      {"googlebot_news_does_not_obey_googlebot_group", google, "Googlebot-News", "/x", A, no_rule,
       "*"},
      {"googlebot_news_falls_back_to_star", google, "Googlebot-News", "/star", D, 5, "*"},
      {"googlebot_obeys_googlebot_group", google, "Googlebot", "/x", D, 2, "Googlebot"},
      {"googlebot_does_not_obey_googlebot_news_group", "User-agent: Googlebot-News\nDisallow: /\n",
       "Googlebot", "/x", A, no_rule, no_group},
      {"googlebot_news_obeys_own_group",
       "User-agent: Googlebot\nAllow: /\n\nUser-agent: Googlebot-News\nDisallow: /news\n",
       "Googlebot-News", "/news/1", D, 5, "Googlebot-News"},
      {"googlebot_unaffected_by_news_group",
       "User-agent: Googlebot\nAllow: /\n\nUser-agent: Googlebot-News\nDisallow: /news\n",
       "Googlebot", "/news/1", A, 2, "Googlebot"},
      {"file_prefix_of_token_does_not_match", "User-agent: crawl\nDisallow: /\n", "crawld", "/x", A,
       no_rule, no_group},
      {"token_prefix_of_file_value_does_not_match", "User-agent: crawldx\nDisallow: /\n", "crawld",
       "/x", A, no_rule, no_group},
      {"star_is_the_fallback", "User-agent: *\nDisallow: /x\n", "anybot", "/x", D, 2, "*"},
      {"specific_group_replaces_star", specific, "crawld", "/public", A, no_rule, "crawld"},
      {"specific_group_own_rules", specific, "crawld", "/private/1", D, 5, "crawld"},
      {"star_applies_to_other_agents", specific, "other", "/public", D, 2, "*"},
      {"no_matching_group_and_no_star_allows", "User-agent: other\nDisallow: /\n", "crawld", "/x",
       A, no_rule, no_group},
      {"consecutive_agent_lines_share_group", "User-agent: a\nUser-agent: crawld\nDisallow: /x\n",
       "crawld", "/x", D, 3, "crawld"},
      {"consecutive_agent_lines_first_member", "User-agent: a\nUser-agent: crawld\nDisallow: /x\n",
       "a", "/x", D, 3, "a"},
      {"agent_after_rule_starts_new_group",
       "User-agent: a\nDisallow: /x\nUser-agent: crawld\nDisallow: /y\n", "crawld", "/x", A,
       no_rule, "crawld"},
      {"new_group_has_its_own_rules",
       "User-agent: a\nDisallow: /x\nUser-agent: crawld\nDisallow: /y\n", "crawld", "/y", D, 4,
       "crawld"},
      {"earlier_group_does_not_get_later_rules",
       "User-agent: a\nDisallow: /x\nUser-agent: crawld\nDisallow: /y\n", "a", "/y", A, no_rule,
       "a"},
      {"groups_for_same_agent_merged_first", merged, "crawld", "/a", D, 2, "crawld"},
      {"groups_for_same_agent_merged_second", merged, "crawld", "/c", D, 8, "crawld"},
      {"merge_excludes_other_agents", merged, "crawld", "/b", A, no_rule, "crawld"},
      {"merged_longest_match_across_groups",
       "User-agent: crawld\nDisallow: /a\nUser-agent: other\nDisallow: /\nUser-agent: CRAWLD\n"
       "Allow: /a/b\n",
       "crawld", "/a/b", A, 6, "crawld"},
      {"star_groups_merged",
       "User-agent: *\nDisallow: /a\nUser-agent: x\nDisallow: /\nUser-agent: *\nDisallow: /b\n",
       "crawld", "/b", D, 6, "*"},
      {"sitemap_between_agent_lines_keeps_group",
       "User-agent: a\nSitemap: http://x/s.xml\nUser-agent: crawld\nDisallow: /\n", "a", "/x", D, 4,
       "a"},
      {"unknown_line_between_agent_lines_keeps_group",
       "User-agent: a\nFoo: bar\nUser-agent: crawld\nDisallow: /\n", "a", "/x", D, 4, "a"},
      {"crawl_delay_ends_agent_run",
       "User-agent: a\nCrawl-delay: 1\nUser-agent: crawld\nDisallow: /\n", "a", "/x", A, no_rule,
       "a"},
      {"star_with_comment", "User-agent: * # everyone\nDisallow: /\n", "crawld", "/x", D, 2, "*"},
      {"star_followed_by_words", "User-agent: * everyone\nDisallow: /\n", "crawld", "/x", D, 2, "*"},
      {"star_prefix_is_not_global", "User-agent: *bot\nDisallow: /\n", "crawld", "/x", A, no_rule,
       no_group},
      {"empty_agent_value_matches_nothing", "User-agent:\nDisallow: /\n", "crawld", "/x", A, no_rule,
       no_group},
      {"agent_given_as_full_user_agent", "User-agent: crawld\nDisallow: /\n",
       "crawld/0.1 (+http://x)", "/x", D, 2, "crawld"},
      {"empty_agent_uses_star", "User-agent: *\nDisallow: /\n", "", "/x", D, 2, "*"},
      {"empty_agent_ignores_empty_value_group", "User-agent:\nDisallow: /\n", "", "/x", A, no_rule,
       no_group},
      {"digits_in_token", "User-agent: 360Spider\nDisallow: /\n", "360spider", "/x", D, 2,
       "360Spider"},
      {"underscore_in_token", "User-agent: my_bot\nDisallow: /\n", "My_Bot", "/x", D, 2, "my_bot"},
      {"star_group_position_irrelevant",
       "User-agent: crawld\nAllow: /\nUser-agent: *\nDisallow: /\n", "crawld", "/x", A, 2, "crawld"},
  };
}

// RFC 9309 2.2.2: allow and disallow lines, longest match, ties, /robots.txt.
std::vector<verdict_case> allow_disallow_cases() {
  const std::string longest = "User-agent: *\nDisallow: /a\nAllow: /a/b\n";
  return {
      {"disallow_is_a_prefix_match", "User-agent: *\nDisallow: /private/\n", "crawld", "/private/x",
       D, 2, "*"},
      {"disallow_directory_not_sibling", "User-agent: *\nDisallow: /private/\n", "crawld",
       "/privatex", A, no_rule, "*"},
      {"disallow_directory_not_parent", "User-agent: *\nDisallow: /private/\n", "crawld",
       "/private", A, no_rule, "*"},
      {"longest_match_wins_allow", longest, "crawld", "/a/b/c", A, 3, "*"},
      {"longest_match_wins_disallow_outside", longest, "crawld", "/a/c", D, 2, "*"},
      {"longest_match_wins_disallow", "User-agent: *\nAllow: /a\nDisallow: /a/b\n", "crawld", "/a/b",
       D, 3, "*"},
      {"longest_match_wins_regardless_of_order", "User-agent: *\nAllow: /a/b\nDisallow: /a\n",
       "crawld", "/a/b", A, 2, "*"},
      {"allow_wins_equal_patterns", "User-agent: *\nDisallow: /page\nAllow: /page\n", "crawld",
       "/page", A, 3, "*"},
      {"allow_wins_equal_patterns_other_order", "User-agent: *\nAllow: /page\nDisallow: /page\n",
       "crawld", "/page", A, 2, "*"},
      {"allow_wins_equal_lengths", "User-agent: *\nDisallow: /a*c\nAllow: /ab*\n", "crawld", "/abc",
       A, 3, "*"},
      {"same_kind_tie_earlier_line", "User-agent: *\nDisallow: /a*\nDisallow: /*b\n", "crawld",
       "/ab", D, 2, "*"},
      {"longer_wildcard_pattern_beats_shorter_literal",
       "User-agent: *\nAllow: /shop\nDisallow: /*?sort=\n", "crawld", "/shop?sort=price", D, 3,
       "*"},
      {"empty_disallow_allows_all", "User-agent: *\nDisallow:\n", "crawld", "/x", A, no_rule, "*"},
      {"empty_disallow_with_comment", "User-agent: *\nDisallow: # nothing\n", "crawld", "/x", A,
       no_rule, "*"},
      {"empty_disallow_does_not_override_others", "User-agent: *\nDisallow:\nDisallow: /x\n",
       "crawld", "/x", D, 3, "*"},
      {"empty_allow_ignored", "User-agent: *\nAllow:\nDisallow: /\n", "crawld", "/x", D, 3, "*"},
      {"disallow_root_blocks_root", "User-agent: *\nDisallow: /\n", "crawld", "/", D, 2, "*"},
      {"disallow_root_blocks_everything", "User-agent: *\nDisallow: /\n", "crawld", "/deep/x?y=1",
       D, 2, "*"},
      {"allow_root_loses_to_longer_disallow", "User-agent: *\nAllow: /\nDisallow: /x\n", "crawld",
       "/x", D, 3, "*"},
      {"allow_root_decides_elsewhere", "User-agent: *\nAllow: /\nDisallow: /x\n", "crawld", "/y", A,
       2, "*"},
      {"paths_are_case_sensitive_lower", "User-agent: *\nDisallow: /Private\n", "crawld",
       "/private", A, no_rule, "*"},
      {"paths_are_case_sensitive_exact", "User-agent: *\nDisallow: /Private\n", "crawld",
       "/Private", D, 2, "*"},
      {"query_is_part_of_target", "User-agent: *\nDisallow: /search?q=\n", "crawld", "/search?q=x",
       D, 2, "*"},
      {"query_pattern_needs_query", "User-agent: *\nDisallow: /search?q=\n", "crawld", "/search", A,
       no_rule, "*"},
      {"pattern_without_slash_gets_one", "User-agent: *\nDisallow: private\n", "crawld",
       "/private/x", D, 2, "*"},
      {"empty_path_is_root", "User-agent: *\nDisallow: /$\n", "crawld", "", D, 2, "*"},
      {"robots_txt_always_allowed", "User-agent: *\nDisallow: /\n", "crawld", "/robots.txt", A,
       no_rule, "*"},
      {"robots_txt_with_query_allowed", "User-agent: *\nDisallow: /\n", "crawld",
       "/robots.txt?x=1", A, no_rule, "*"},
      {"robots_txt_explicit_disallow_ignored", "User-agent: *\nDisallow: /robots.txt\n", "crawld",
       "/robots.txt", A, no_rule, "*"},
      {"robots_txt_encoded_letter_allowed", "User-agent: *\nDisallow: /\n", "crawld",
       "/%72obots.txt", A, no_rule, "*"},
      {"robots_txt_longer_name_not_special", "User-agent: *\nDisallow: /\n", "crawld",
       "/robots.txt.bak", D, 2, "*"},
      {"robots_txt_case_matters", "User-agent: *\nDisallow: /\n", "crawld", "/Robots.txt", D, 2,
       "*"},
  };
}

// RFC 9309 2.2.3: special characters ('*', '$', percent-encoding, UTF-8).
std::vector<verdict_case> special_character_cases() {
  auto rule = [](const char* kind_pattern) { return std::string("User-agent: *\n") + kind_pattern + "\n"; };
  const auto fish = rule("Disallow: /fish");
  const auto fish_star = rule("Disallow: /fish*");
  const auto fish_dir = rule("Disallow: /fish/");
  const auto php = rule("Disallow: /*.php");
  const auto php_end = rule("Disallow: /*.php$");
  const auto fish_php = rule("Disallow: /fish*.php");
  const auto root_end = rule("Disallow: /$");
  const auto all = rule("Disallow: /*");
  return {
      {"fish_matches_itself", fish, "c", "/fish", D, 2},
      {"fish_matches_fish_html", fish, "c", "/fish.html", D, 2},
      {"fish_matches_subdirectory", fish, "c", "/fish/salmon.html", D, 2},
      {"fish_matches_fishheads", fish, "c", "/fishheads/yummy.html", D, 2},
      {"fish_matches_query", fish, "c", "/fish.php?id=anything", D, 2},
      {"fish_not_capital_fish", fish, "c", "/Fish.asp", A, no_rule},
      {"fish_not_catfish", fish, "c", "/catfish", A, no_rule},
      {"fish_not_in_query", fish, "c", "/?id=fish", A, no_rule},
      {"fish_not_deeper", fish, "c", "/desert/fish", A, no_rule},
      {"fish_star_matches_fish", fish_star, "c", "/fish", D, 2},
      {"fish_star_matches_fishheads", fish_star, "c", "/fishheads", D, 2},
      {"fish_star_not_catfish", fish_star, "c", "/catfish", A, no_rule},
      {"fish_dir_matches_dir", fish_dir, "c", "/fish/", D, 2},
      {"fish_dir_matches_query", fish_dir, "c", "/fish/?id=anything", D, 2},
      {"fish_dir_matches_file", fish_dir, "c", "/fish/salmon.htm", D, 2},
      {"fish_dir_not_fish", fish_dir, "c", "/fish", A, no_rule},
      {"fish_dir_not_fish_html", fish_dir, "c", "/fish.html", A, no_rule},
      {"fish_dir_not_nested", fish_dir, "c", "/animals/fish/", A, no_rule},
      {"fish_dir_not_capital", fish_dir, "c", "/Fish/Salmon.asp", A, no_rule},
      {"php_matches_index", php, "c", "/index.php", D, 2},
      {"php_matches_folder", php, "c", "/folder/filename.php", D, 2},
      {"php_matches_with_query", php, "c", "/folder/filename.php?parameters", D, 2},
      {"php_matches_in_middle", php, "c", "/folder/any.php.file.html", D, 2},
      {"php_matches_trailing_slash", php, "c", "/filename.php/", D, 2},
      {"php_not_root", php, "c", "/", A, no_rule},
      {"php_not_upper_case", php, "c", "/windows.PHP", A, no_rule},
      {"php_end_matches_file", php_end, "c", "/filename.php", D, 2},
      {"php_end_matches_folder", php_end, "c", "/folder/filename.php", D, 2},
      {"php_end_not_with_query", php_end, "c", "/filename.php?parameters", A, no_rule},
      {"php_end_not_trailing_slash", php_end, "c", "/filename.php/", A, no_rule},
      {"php_end_not_php5", php_end, "c", "/filename.php5", A, no_rule},
      {"php_end_not_upper_case", php_end, "c", "/windows.PHP", A, no_rule},
      {"php_end_two_occurrences", php_end, "c", "/a.php/b.php", D, 2},
      {"fish_php_matches", fish_php, "c", "/fish.php", D, 2},
      {"fish_php_matches_nested", fish_php, "c", "/fishheads/catfish.php?parameters", D, 2},
      {"fish_php_not_upper", fish_php, "c", "/Fish.PHP", A, no_rule},
      {"root_end_matches_root", root_end, "c", "/", D, 2},
      {"root_end_not_page", root_end, "c", "/x", A, no_rule},
      {"root_end_not_query", root_end, "c", "/?q=1", A, no_rule},
      {"star_matches_root", all, "c", "/", D, 2},
      {"star_matches_everything", all, "c", "/any/thing?x", D, 2},
      {"star_in_middle", rule("Disallow: /a*b"), "c", "/axxb", D, 2},
      {"star_matches_empty", rule("Disallow: /a*b"), "c", "/ab", D, 2},
      {"star_needs_rest", rule("Disallow: /a*b"), "c", "/a", A, no_rule},
      {"several_stars_in_order", rule("Disallow: /a*b*c"), "c", "/a1b2c3", D, 2},
      {"several_stars_wrong_order", rule("Disallow: /a*b*c"), "c", "/acb", A, no_rule},
      {"consecutive_stars", rule("Disallow: /a**b"), "c", "/aXb", D, 2},
      {"leading_star_pattern", rule("Disallow: *private"), "c", "/a/private", D, 2},
      {"dollar_in_middle_is_literal", rule("Disallow: /a$b"), "c", "/a$b", D, 2},
      {"dollar_in_middle_not_anchor", rule("Disallow: /a$b"), "c", "/ab", A, no_rule},
      {"star_dollar_matches_anything", rule("Disallow: /*$"), "c", "/x", D, 2},
      {"fish_star_dollar_is_prefix", rule("Disallow: /fish*$"), "c", "/fishy/x", D, 2},
      {"htm_end_matches", rule("Disallow: /*.htm$"), "c", "/a.htm", D, 2},
      {"htm_end_not_html", rule("Disallow: /*.htm$"), "c", "/a.html", A, no_rule},
      {"anchored_exact_literal", rule("Disallow: /exact$"), "c", "/exact", D, 2},
      {"anchored_exact_not_longer", rule("Disallow: /exact$"), "c", "/exact/", A, no_rule},
      {"anchored_tail_cannot_overlap_head", rule("Disallow: /ab*b$"), "c", "/ab", A, no_rule},
      {"anchored_tail_after_head", rule("Disallow: /ab*b$"), "c", "/abb", D, 2},
      {"allow_with_wildcard_overrides",
       "User-agent: *\nDisallow: /\nAllow: /*.css$\n", "c", "/s/site.css", A, 3},
      {"pct_pattern_encoded_path_raw", rule("Disallow: /%7Ejoe"), "c", "/~joe", D, 2},
      {"pct_pattern_raw_path_encoded", rule("Disallow: /~joe"), "c", "/%7Ejoe", D, 2},
      {"pct_lower_case_escape_decoded", rule("Disallow: /%7ejoe"), "c", "/~joe", D, 2},
      {"pct_encoded_slash_is_not_slash", rule("Disallow: /a%2fb"), "c", "/a/b", A, no_rule},
      {"pct_slash_pattern_not_encoded_path", rule("Disallow: /a/b"), "c", "/a%2Fb", A, no_rule},
      {"pct_encoded_slash_matches_any_case", rule("Disallow: /a%2fb"), "c", "/a%2Fb", D, 2},
      {"pct_hex_case_insensitive", rule("Disallow: /%aa"), "c", "/%AA", D, 2},
      {"pct_encoded_letter_decoded", rule("Disallow: /%41bc"), "c", "/Abc", D, 2},
      {"pct_encoded_letter_keeps_case", rule("Disallow: /%41bc"), "c", "/abc", A, no_rule},
      {"pct_malformed_escape_literal", rule("Disallow: /a%zz"), "c", "/a%zz", D, 2},
      {"pct_trailing_percent_literal", rule("Disallow: /100%"), "c", "/100%", D, 2},
      {"pct_space_in_pattern_encoded", rule("Disallow: /a b"), "c", "/a%20b", D, 2},
      {"pct_encoded_star_is_literal", rule("Disallow: /a%2Ab"), "c", "/aXb", A, no_rule},
      {"pct_encoded_star_matches_itself", rule("Disallow: /a%2Ab"), "c", "/a%2ab", D, 2},
      {"pct_encoded_star_matches_raw_star", rule("Disallow: /path/file-with-a-%2A.html"), "c",
       "/path/file-with-a-*.html", D, 2},
      {"pct_encoded_dollar_matches_raw_dollar", rule("Disallow: /path/foo-%24"), "c",
       "/path/foo-$", D, 2},
      {"pct_middle_dollar_matches_encoded_dollar", rule("Disallow: /a$b"), "c", "/a%24b", D, 2},
      {"wildcard_matches_raw_star_in_path", rule("Disallow: /a*c"), "c", "/a*c", D, 2},
      {"rfc_table_query_kept", rule("Disallow: /foo/bar?baz=quz"), "c", "/foo/bar?baz=quz", D, 2},
      {"rfc_table_encoded_ascii_pattern", rule("Disallow: /foo/bar/%62%61%7A"), "c", "/foo/bar/baz",
       D, 2},
      {"rfc_table_encoded_ascii_path", rule("Disallow: /foo/bar/baz"), "c", "/foo/bar/%62%61%7A", D,
       2},
      {"utf8_pattern_raw_path_encoded", rule("Disallow: /foo/bar/\xE3\x83\x84"), "c",
       "/foo/bar/%E3%83%84", D, 2},
      {"utf8_pattern_encoded_path_raw", rule("Disallow: /foo/bar/%E3%83%84"), "c",
       "/foo/bar/\xE3\x83\x84", D, 2},
      {"utf8_lower_case_escapes", rule("Disallow: /%e3%83%84"), "c", "/\xE3\x83\x84", D, 2},
      {"utf8_other_character_allowed", rule("Disallow: /\xE3\x83\x84"), "c", "/%E3%83%85", A,
       no_rule},
      {"utf8_with_star", rule("Disallow: /*\xC3\xA9t\xC3\xA9"), "c", "/saison/%C3%A9t%C3%A9", D, 2},
      {"length_counts_after_normalization_tie",
       "User-agent: *\nDisallow: /%7E\nAllow: /~\n", "c", "/~x", A, 3},
      {"length_counts_after_normalization_longer",
       "User-agent: *\nDisallow: /~a\nAllow: /%7E\n", "c", "/~a", D, 2},
  };
}

// RFC 9309 2.5: only the first 500 KiB are parsed.
std::string padding_to(std::size_t size) {
  // comment lines of 100 bytes, then one shorter line, exactly `size` bytes (size >= 2)
  std::string s;
  while (s.size() + 100 <= size) s += "#" + std::string(98, 'x') + "\n";
  if (size - s.size() >= 2) s += "#" + std::string(size - s.size() - 2, 'y') + "\n";
  if (s.size() < size) s += "\n";
  return s;
}

std::vector<verdict_case> limit_cases() {
  constexpr std::size_t limit = 500 * 1024;
  const std::string head = "User-agent: *\nDisallow: /early\n";
  const std::string late = head + padding_to(limit) + "Disallow: /late\n";
  // "Disallow: /cutting\n" straddles the limit: only "Disallow: /cu" is inside.
  const std::string cut = head + padding_to(limit - head.size() - 13) + "Disallow: /cutting\n";
  // A line whose '\n' is the last byte inside the limit.
  const std::string edge_in = head + padding_to(limit - head.size() - 16) + "Disallow: /edge\nDisallow: /after\n";
  // A line whose last character is the last byte inside, its '\n' the first byte outside.
  const std::string edge_at = head + padding_to(limit - head.size() - 15) + "Disallow: /edgy\nDisallow: /after\n";
  const std::string cr_at = head + padding_to(limit - head.size() - 15) + "Disallow: /edgy\r\nDisallow: /after\n";
  const std::string small_last = "User-agent: *\nDisallow: /tail";
  return {
      {"rule_before_limit_applies", late, "c", "/early", D, 2, "*"},
      {"rule_after_limit_ignored", late, "c", "/late", A, no_rule, "*"},
      {"rule_cut_by_limit_dropped", cut, "c", "/cux", A, no_rule, "*"},
      {"rule_cut_by_limit_full_path_allowed", cut, "c", "/cutting", A, no_rule, "*"},
      {"rule_ending_inside_limit_kept", edge_in, "c", "/edge", D},
      {"rule_ending_at_limit_kept", edge_at, "c", "/edgy", D},
      {"rule_ending_at_limit_crlf_kept", cr_at, "c", "/edgy", D},
      {"line_after_edge_ignored", edge_in, "c", "/after", A, no_rule, "*"},
      {"line_after_limit_ignored_crlf", cr_at, "c", "/after", A, no_rule, "*"},
      {"small_file_last_line_kept", small_last, "c", "/tail", D, 2, "*"},
  };
}

// Crawl-delay (an extension: RFC 9309 2.2.4 other records).
std::vector<delay_case> crawl_delay_cases() {
  auto star = [](const char* value) { return std::string("User-agent: *\nCrawl-delay: ") + value + "\n"; };
  return {
      {"integer", star("5"), "crawld", 5000},
      {"decimal_half", star("0.5"), "crawld", 500},
      {"decimal_two_places", star("1.25"), "crawld", 1250},
      {"leading_dot", star(".5"), "crawld", 500},
      {"trailing_dot", star("2."), "crawld", 2000},
      {"zero", star("0"), "crawld", 0},
      {"leading_zeros", star("007"), "crawld", 7000},
      {"fraction_truncated_to_ms", star("0.1239"), "crawld", 123},
      {"surrounding_spaces", "User-agent: *\nCrawl-delay:    3   \n", "crawld", 3000},
      {"comment_after_value", star("3 # be gentle"), "crawld", 3000},
      {"garbage", star("abc"), "crawld", -1},
      {"unit_suffix", star("5s"), "crawld", -1},
      {"negative", star("-1"), "crawld", -1},
      {"plus_sign", star("+1"), "crawld", -1},
      {"empty", star(""), "crawld", -1},
      {"lone_dot", star("."), "crawld", -1},
      {"two_dots", star("1.2.3"), "crawld", -1},
      {"comma_decimal", star("1,5"), "crawld", -1},
      {"exponent", star("1e3"), "crawld", -1},
      {"inner_space", star("1 5"), "crawld", -1},
      {"huge_overflow", star("99999999999999999999"), "crawld", -1},
      {"just_below_cap", star("999999999"), "crawld", 999999999000LL},
      {"key_upper_case", "User-agent: *\nCRAWL-DELAY: 2\n", "crawld", 2000},
      {"key_misspelled_crawldelay", "User-agent: *\ncrawldelay: 2\n", "crawld", 2000},
      {"specific_group_delay", "User-agent: *\nCrawl-delay: 10\n\nUser-agent: crawld\nCrawl-delay: 2\n",
       "crawld", 2000},
      {"star_delay_for_others", "User-agent: *\nCrawl-delay: 10\n\nUser-agent: crawld\nCrawl-delay: 2\n",
       "other", 10000},
      {"specific_group_does_not_inherit_star",
       "User-agent: *\nCrawl-delay: 10\nUser-agent: crawld\nDisallow: /x\n", "crawld", -1},
      {"no_group_no_delay", "User-agent: other\nCrawl-delay: 3\n", "crawld", -1},
      {"first_valid_wins", "User-agent: *\nCrawl-delay: 3\nCrawl-delay: 7\n", "crawld", 3000},
      {"invalid_then_valid", "User-agent: *\nCrawl-delay: x\nCrawl-delay: 4\n", "crawld", 4000},
      {"merged_groups_first_valid",
       "User-agent: crawld\nDisallow: /a\nUser-agent: b\nCrawl-delay: 9\nUser-agent: crawld\n"
       "Crawl-delay: 1\n",
       "crawld", 1000},
      {"before_any_agent_ignored", "Crawl-delay: 5\nUser-agent: *\nDisallow: /x\n", "crawld", -1},
      {"shared_group_delay", "User-agent: a\nUser-agent: crawld\nCrawl-delay: 1.5\n", "crawld", 1500},
      {"agent_token_from_full_ua", "User-agent: crawld\nCrawl-delay: 2\n", "crawld/0.1", 2000},
  };
}

// Sitemap (an extension: RFC 9309 2.2.4 other records).
std::vector<sitemap_case> sitemap_cases() {
  return {
      {"none", "User-agent: *\nDisallow: /\n", {}},
      {"single", "Sitemap: https://a.example/sitemap.xml\n", {"https://a.example/sitemap.xml"}},
      {"several_in_order",
       "Sitemap: http://a.example/1.xml\nUser-agent: *\nSitemap: http://a.example/2.xml\n"
       "Disallow: /\nSitemap: http://a.example/3.xml\n",
       {"http://a.example/1.xml", "http://a.example/2.xml", "http://a.example/3.xml"}},
      {"key_case_insensitive", "SITEMAP: http://a.example/s.xml\n", {"http://a.example/s.xml"}},
      {"trimmed", "Sitemap:    http://a.example/s.xml   \n", {"http://a.example/s.xml"}},
      {"comment_stripped", "Sitemap: http://a.example/s.xml # main\n", {"http://a.example/s.xml"}},
      {"empty_value_skipped", "Sitemap:\nSitemap: http://a.example/s.xml\n", {"http://a.example/s.xml"}},
      {"misspelled_site_map", "Site-map: http://a.example/s.xml\n", {"http://a.example/s.xml"}},
      {"kept_as_written", "Sitemap: /relative/map.xml\n", {"/relative/map.xml"}},
      {"duplicates_kept", "Sitemap: http://a/s\nSitemap: http://a/s\n", {"http://a/s", "http://a/s"}},
      {"cr_line_ends", "Sitemap: http://a/1\rSitemap: http://a/2\r", {"http://a/1", "http://a/2"}},
  };
}

// RFC 9309 2.3.1: access results.
std::vector<response_case> response_cases() {
  const std::string body = "User-agent: *\nDisallow: /x\n";
  return {
      {"status_200_parses_body", 200, true, body, "/x", D, false},
      {"status_200_body_allows_rest", 200, true, body, "/y", A, false},
      {"status_200_empty_body_allows", 200, true, "", "/x", A, false},
      {"status_204_parses_empty", 204, true, "", "/x", A, false},
      {"status_301_unfollowed_allows_all", 301, true, body, "/x", A, false},
      {"status_400_allows_all", 400, true, body, "/x", A, false},
      {"status_401_allows_all", 401, true, "", "/x", A, false},
      {"status_403_allows_all", 403, true, "", "/x", A, false},
      {"status_404_allows_all", 404, true, body, "/x", A, false},
      {"status_410_allows_all", 410, true, "", "/x", A, false},
      {"status_429_disallows_temporarily", 429, true, "", "/x", D, true},
      {"status_500_disallows_temporarily", 500, true, body, "/y", D, true},
      {"status_503_disallows_temporarily", 503, true, "", "/y", D, true},
      {"status_599_disallows_temporarily", 599, true, "", "/y", D, true},
      {"status_100_disallows_temporarily", 100, true, "", "/y", D, true},
      {"no_response_disallows_temporarily", 0, false, "", "/y", D, true},
      {"partial_response_counts_as_none", 200, false, body, "/y", D, true},
      {"unreachable_still_allows_robots_txt", 503, true, "", "/robots.txt", A, true},
  };
}

std::vector<token_case> token_cases() {
  return {
      {"name_and_version_and_comment", "crawld/0.1 (+http://x)", "crawld"},
      {"bare_token", "crawld", "crawld"},
      {"hyphen_kept", "Googlebot-News", "Googlebot-News"},
      {"underscore_kept", "my_bot/2", "my_bot"},
      {"digits_kept", "360Spider", "360Spider"},
      {"leading_spaces_skipped", "  crawld/1", "crawld"},
      {"empty", "", ""},
      {"no_token", "/1.0", ""},
      {"browser_style_first_product", "Mozilla/5.0 (compatible; ExampleBot/0.1)", "Mozilla"},
      {"dot_ends_token", "bot.name", "bot"},
      {"space_ends_token", "bot name", "bot"},
      {"tab_ends_token", "crawld\tx", "crawld"},
      {"non_ascii_not_a_token", "\xC3\xBC" "bot", ""},
      {"case_kept", "CrawlD/1", "CrawlD"},
  };
}

// ---------------------------------------------------------------------------------------------
// One parameterized test per row.

template <class T>
std::string row_name(const ::testing::TestParamInfo<T>& info) {
  return info.param.name;
}

class verdict : public ::testing::TestWithParam<verdict_case> {};
TEST_P(verdict, matches) { EXPECT_EQ(check(GetParam()), ""); }
INSTANTIATE_TEST_SUITE_P(rfc9309_2_2_format, verdict, ::testing::ValuesIn(format_cases()),
                         row_name<verdict_case>);
INSTANTIATE_TEST_SUITE_P(rfc9309_2_2_1_user_agent, verdict, ::testing::ValuesIn(user_agent_cases()),
                         row_name<verdict_case>);
INSTANTIATE_TEST_SUITE_P(rfc9309_2_2_2_allow_disallow, verdict,
                         ::testing::ValuesIn(allow_disallow_cases()), row_name<verdict_case>);
INSTANTIATE_TEST_SUITE_P(rfc9309_2_2_3_special_characters, verdict,
                         ::testing::ValuesIn(special_character_cases()), row_name<verdict_case>);
INSTANTIATE_TEST_SUITE_P(rfc9309_2_5_limits, verdict, ::testing::ValuesIn(limit_cases()),
                         row_name<verdict_case>);

class crawl_delay : public ::testing::TestWithParam<delay_case> {};
TEST_P(crawl_delay, parses) { EXPECT_EQ(check(GetParam()), ""); }
INSTANTIATE_TEST_SUITE_P(rfc9309_2_2_4_crawl_delay, crawl_delay,
                         ::testing::ValuesIn(crawl_delay_cases()), row_name<delay_case>);

class sitemaps : public ::testing::TestWithParam<sitemap_case> {};
TEST_P(sitemaps, listed) { EXPECT_EQ(check(GetParam()), ""); }
INSTANTIATE_TEST_SUITE_P(rfc9309_2_2_4_sitemap, sitemaps, ::testing::ValuesIn(sitemap_cases()),
                         row_name<sitemap_case>);

class fetch_result : public ::testing::TestWithParam<response_case> {};
TEST_P(fetch_result, maps) { EXPECT_EQ(check(GetParam()), ""); }
INSTANTIATE_TEST_SUITE_P(rfc9309_2_3_1_access_results, fetch_result,
                         ::testing::ValuesIn(response_cases()), row_name<response_case>);

class token : public ::testing::TestWithParam<token_case> {};
TEST_P(token, extracted) { EXPECT_EQ(check(GetParam()), ""); }
INSTANTIATE_TEST_SUITE_P(rfc9309_2_2_1_product_token, token, ::testing::ValuesIn(token_cases()),
                         row_name<token_case>);

// ---------------------------------------------------------------------------------------------
// Cases that are not rows.

TEST(rfc9309_2_2_2, verdict_reports_rule_as_written_and_group) {
  const auto r = robots::parse("User-agent: CrawlD\nDisallow: /a\nAllow:   /%7Ea/b*  # c\n");
  const auto v = r.check("crawld", "/~a/bc");
  ASSERT_TRUE(v.rule);
  EXPECT_TRUE(v.allowed);
  EXPECT_TRUE(v.rule->allow);
  EXPECT_EQ(v.rule->pattern, "/%7Ea/b*");
  EXPECT_EQ(v.rule->line, 3);
  EXPECT_EQ(v.group, "CrawlD");
}

TEST(robots, allow_all_and_disallow_all) {
  const auto yes = robots::allow_all().check("crawld", "/x");
  EXPECT_TRUE(yes.allowed);
  EXPECT_FALSE(yes.rule);
  EXPECT_EQ(yes.group, "");
  const auto no = robots::disallow_all().check("crawld", "/x");
  EXPECT_FALSE(no.allowed);
  ASSERT_TRUE(no.rule);
  EXPECT_EQ(no.rule->pattern, "/");
  EXPECT_EQ(no.rule->line, 0);
  EXPECT_EQ(no.group, "*");
  EXPECT_TRUE(robots::disallow_all().check("crawld", "/robots.txt").allowed);
  EXPECT_FALSE(robots::disallow_all().crawl_delay("crawld"));
  EXPECT_TRUE(robots::disallow_all().sitemaps().empty());
}

// Wildcard matching must stay polynomial: a backtracking matcher takes exponential time here.
TEST(rfc9309_2_2_3, pathological_wildcards_are_fast) {
  const std::string path = "/" + std::string(200'000, 'a');
  const auto start = std::chrono::steady_clock::now();
  const auto r = robots::parse(
      "User-agent: *\nDisallow: /*a*a*a*a*a*a*a*a*b\nDisallow: /*a*a*a*a*a*a*a*a*a*a*b$\n"
      "Allow: /*a*a*a*a*a*a*a*a*a*a*a*a$\n");
  const auto v = r.check("crawld", path);
  EXPECT_TRUE(v.allowed);
  ASSERT_TRUE(v.rule);
  EXPECT_EQ(v.rule->line, 4);
  EXPECT_FALSE(r.check("crawld", path + "c").rule);
  EXPECT_FALSE(r.check("crawld", path + "b").allowed);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

// A 500 KiB file of wildcard rules against a long path: every rule is tried, none backtracks.
TEST(rfc9309_2_5, full_size_file_of_wildcards_is_fast) {
  std::string text = "User-agent: *\n";
  while (text.size() < 500 * 1024) text += "Disallow: /*x*y*z*q\n";
  const std::string path = "/" + std::string(2'000, 'x') + std::string(2'000, 'y');
  const auto start = std::chrono::steady_clock::now();
  const auto r = robots::parse(text);
  EXPECT_TRUE(r.check("crawld", path).allowed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

// Every table again, counted: the figure the suite reports.
TEST(robots_suite, every_case_passes) {
  std::size_t cases = 0;
  std::size_t passed = 0;
  std::vector<std::string> failures;
  auto run = [&](const auto& table) {
    for (const auto& c : table) {
      ++cases;
      const auto why = check(c);
      if (why.empty())
        ++passed;
      else
        failures.push_back(std::string(c.name) + ": " + why);
    }
  };
  run(format_cases());
  run(user_agent_cases());
  run(allow_disallow_cases());
  run(special_character_cases());
  run(limit_cases());
  run(crawl_delay_cases());
  run(sitemap_cases());
  run(response_cases());
  run(token_cases());
  std::cout << "robots suite: " << cases << " cases, " << passed << " passed\n";
  for (const auto& f : failures) ADD_FAILURE() << f;
  EXPECT_EQ(passed, cases);
  EXPECT_GT(cases, 100u);
}

}  // namespace
}  // namespace crawld::fetch
