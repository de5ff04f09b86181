#pragma once
/// robots.txt per RFC 9309 (Robots Exclusion Protocol): parsing, group selection and matching.
///
/// A plain library (no CAF, no I/O). `robots::parse` turns a robots.txt body into groups of rules;
/// `check` answers whether a crawler (given by its product token) may fetch a request target.
///
/// Parsing (never fails; whatever is not understood is ignored):
/// - Only the first 500 KiB (512,000 bytes) are parsed (RFC 9309 2.5); a line cut by that limit is
///   dropped, not parsed in part. A leading UTF-8 BOM is skipped. Lines end at CR, LF or CRLF.
/// - '#' starts a comment to the end of the line. A line is `key: value`; lines without ':' and
///   lines with an unknown key are ignored (and do not end a group). Keys are case-insensitive;
///   besides `user-agent`, `allow`, `disallow`, `crawl-delay` and `sitemap` these misspellings are
///   accepted: `useragent`, `user agent`, `dissallow`, `dissalow`, `disalow`, `disallaw`,
///   `crawldelay`, `crawl delay`, `site-map`. Values are trimmed of spaces and tabs.
/// - A group is one or more consecutive `user-agent` lines followed by its records (`allow`,
///   `disallow`, `crawl-delay`). A `user-agent` line after a record starts a new group;
///   `sitemap`, unknown and malformed lines do not end the run of `user-agent` lines. Records before
///   the first `user-agent` line belong to no group and are ignored.
/// - `sitemap` lines are global: kept in file order, wherever they appear.
///
/// User-agent matching (RFC 9309 2.2.1) — the decision, and why:
/// - A `user-agent` value is reduced to its leading run of token characters (letters, digits, '-',
///   '_'), the way Google's parser does: "Googlebot/2.1 (+http://x)" and "Googlebot News" both
///   name "Googlebot". The value `*` (alone, or followed by a space) names the fallback group.
/// - A group applies when one of its names equals the crawler's product token, compared
///   case-insensitively and **whole**: the RFC asks for "the group that matches the product token",
///   and a prefix rule would let `User-agent: Google` capture every Google crawler. So
///   "Googlebot-News" does not obey a `Googlebot` group (it falls back to `*`), and "Googlebot"
///   does not obey a `Googlebot-News` group. A crawler that wants to inherit a parent's group must
///   check both tokens itself.
/// - All groups naming the token are merged; if none does, all `*` groups are merged; if there is
///   no `*` group either, nothing is disallowed.
///
/// Rule matching (RFC 9309 2.2.2, 2.2.3):
/// - A pattern matches a prefix of the request target (path plus "?query"); `*` matches any run of
///   octets (also none); a `$` at the end of a pattern anchors it to the end of the target (a `$`
///   elsewhere is literal). A pattern that starts with neither '/' nor '*' gets a '/' prepended.
/// - Patterns and targets are compared in one canonical form: percent-escapes of unreserved
///   characters (ALPHA DIGIT - . _ ~) are decoded, other escapes upper-cased, and raw octets that a
///   URL cannot hold (non-ASCII, controls, space, '"', '<', '>') percent-encoded. So `/%7Ejoe`
///   equals `/~joe` but `/a%2fb` does not equal `/a/b`, and a UTF-8 pattern matches its
///   percent-encoded form. To match a literal '*' or '$' a pattern writes %2A or %24 (RFC 9309
///   2.2.3): `/a-%2A` matches the target `/a-*`, and `/a-%24` matches `/a-$`.
/// - The longest matching pattern (octets of the canonical form, `*` and `$` included) decides;
///   between an `allow` and a `disallow` of equal length `allow` wins; otherwise the earlier line.
///   Empty `allow`/`disallow` values are ignored. No matching rule: allowed. `/robots.txt` is
///   always allowed.
/// - Matching is O(|pattern| x |target|) at worst per rule (greedy, no backtracking).
///
/// Thread-safety: a parsed `robots` is immutable; `check` and `crawl_delay` may run concurrently.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crawld::fetch {

/// One `allow` or `disallow` line.
struct robots_rule {
  bool allow = false;
  std::string pattern;  ///< as written (trimmed); "/" for `disallow_all`
  int line = 0;         ///< 1-based line in the file; 0 for rules not from a file
};

struct robots_verdict {
  bool allowed = true;
  std::optional<robots_rule> rule;  ///< the rule that decided; nullopt when no rule matched
  std::string group;                ///< the name of the group used, as written ("*" or a token);
                                    ///< "" when no group applies
};

class robots {
 public:
  /// Parses a robots.txt body. Never fails; parses only the first 500 KiB.
  static robots parse(std::string_view text);
  /// No rules: everything allowed (an unavailable robots.txt, RFC 9309 2.3.1.3).
  static robots allow_all();
  /// A `*` group disallowing "/" (line 0): an unreachable robots.txt (RFC 9309 2.3.1.4).
  /// `/robots.txt` itself stays allowed.
  static robots disallow_all();

  /// Whether the crawler `agent` may fetch `path`. `agent` is a product token (e.g. "crawld");
  /// anything after its leading token characters is ignored. `path` is the URL's path plus
  /// "?query" (the request target); "" is taken as "/".
  robots_verdict check(std::string_view agent, std::string_view path) const;

  /// Crawl-delay of the group that applies to `agent` (seconds, decimals allowed, e.g. "0.5",
  /// truncated to milliseconds); the first valid one when merged groups have several; nullopt if
  /// none or invalid (not a non-negative decimal number, or 1e9 seconds or more). A specific group
  /// without crawl-delay does not inherit the `*` group's.
  std::optional<std::chrono::milliseconds> crawl_delay(std::string_view agent) const;

  /// `Sitemap:` values in file order, as written (trimmed); empty values skipped.
  const std::vector<std::string>& sitemaps() const { return sitemaps_; }

 private:
  struct entry {
    robots_rule rule;
    std::string canonical;  // the pattern in canonical form, matched against targets
  };
  struct group {
    std::vector<std::string> names;  // "*" or a token, as written
    std::vector<entry> rules;
    std::optional<std::chrono::milliseconds> delay;
  };
  /// The groups that apply to `agent` (merged, file order); `*name` gets the name to report.
  std::vector<const group*> select(std::string_view agent, std::string* name) const;

  std::vector<group> groups_;
  std::vector<std::string> sitemaps_;
};

/// RFC 9309 2.3.1: what a robots.txt fetch result means, given after redirects were followed.
/// 2xx: parse the body. 3xx (redirects not followed or more than five of them), 4xx (404
/// included): allow all. 429, 5xx, any other status, or no response (network error, timeout):
/// disallow all and `temporary = true` (retry later). 429 is the one 4xx treated as unreachable:
/// it asks the crawler to back off, and crawling everything at once would be the opposite.
struct robots_fetch {
  robots rules;
  bool temporary = false;
};
robots_fetch robots_from_response(int status, bool got_response, std::string_view body);

/// The product token of a User-Agent value: its leading run of letters, digits, '-' and '_' after
/// leading spaces: "crawld/0.1 (+http://x)" -> "crawld"; "" when there is none.
std::string product_token(std::string_view user_agent);

}  // namespace crawld::fetch
