#pragma once
/// `crawld robots`: what a robots.txt says about some URLs for one crawler.
#include <string>
#include <vector>

namespace crawld::app {

/// `source` is a file path or an http(s) URL of a robots.txt; when a URL, it is fetched (up to 5
/// redirects followed, each Location resolved against the hop's URL) and the result is read per
/// RFC 9309 2.3.1 (`fetch::robots_from_response`). `agent` may be a whole User-Agent value: its
/// product token is used for matching, the whole value is sent when fetching. Prints the
/// crawl-delay and sitemaps, then one verdict line per URL. Returns 0; 1 when the source cannot be
/// read or fetched (no response: the verdicts printed are then those of an unreachable
/// robots.txt, everything disallowed); 2 when a URL is invalid (nothing is fetched).
int cmd_robots(const std::string& source, const std::string& agent,
               const std::vector<std::string>& urls);

}  // namespace crawld::app
