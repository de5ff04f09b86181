#pragma once
/// Writes a `site` to disk as static files plus an nginx configuration that serves it the same
/// way (pages, files, robots.txt and sitemap.xml as files; redirects as `return 30x` rules;
/// everything else 404), so benchmarks can crawl it behind a real, fast web server.
///
/// Layout: DIR/<address>/<path> per host ("/" is index.html), DIR/nginx.conf (one worker,
/// one server block per host address, pid and logs under DIR).
#include <string>

#include "base/result.hpp"
#include "testsite/site.hpp"

namespace crawld::testsite {

struct export_summary {
  std::size_t files = 0;
  std::size_t redirects = 0;
  std::size_t bytes = 0;
};

/// Exports every resource reachable from the hosts' index pages (following nofollow links too,
/// so any crawler's requests hit real files). Politeness hosts (dynamic by nature) are not
/// exported; links to them stay in the pages. Fails with a message naming the path it could not
/// write.
result<export_summary> write_static(const site& s, const std::string& dir);

}  // namespace crawld::testsite
