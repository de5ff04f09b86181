#pragma once
/// Crawl scope: which URLs a crawl admits. Plain data plus a pure check; thread-safe once built.
///
/// By default the scope is the seeds' hosts (host only; any port and scheme http/https). Domains
/// added with `allow_domain` admit that host and its subdomains ("example.com" admits
/// "www.example.com"); an IP address admits exactly itself. `include` regexes, when any are
/// given, must match the normalized URL (search, not full match); `exclude` regexes must not.
/// `max_depth` < 0 means unlimited.
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "parse/url.hpp"

namespace crawld::parse {

enum class scope_verdict { in_scope, bad_scheme, off_site, excluded, not_included, too_deep };
const char* to_string(scope_verdict v);

/// Rejects what std::regex (libstdc++) must not be given: a repetition count or back-reference
/// number of more than four digits, which overflows a signed int inside its compiler (undefined
/// behaviour, found by fuzzing) — and no useful URL pattern needs one. Call before compiling a
/// user's pattern; the message names the problem.
result<void> regex_guard(std::string_view pattern);

class scope {
 public:
  /// Builds a scope; fails with a message naming the bad regex or domain.
  static result<scope> make(const std::vector<std::string>& seed_urls,
                            const std::vector<std::string>& allow_domains,
                            const std::vector<std::string>& include,
                            const std::vector<std::string>& exclude, int max_depth);

  /// The first failing test in enum order (scheme, site, exclude, include, depth), or in_scope.
  /// `depth` is the link distance from a seed (seeds are 0).
  scope_verdict check(const url& u, int depth) const;

 private:
  std::vector<std::string> hosts_;    // exact hosts
  std::vector<std::string> domains_;  // host or any subdomain
  std::vector<std::shared_ptr<const std::regex>> include_, exclude_;
  int max_depth_ = -1;
};

}  // namespace crawld::parse
