#pragma once
/// The subcommands, one file each; main.cpp parses the command line (CLI11 lives only there).
/// Each returns the process exit code: 0 done, 1 runtime failure, 2 bad usage or config,
/// 3 crawl finished but some URLs failed (only with --fail-exit), 128+signal when interrupted.
#include <cstdint>
#include <string>
#include <vector>

#include "conf/crawl_options.hpp"
#include "testsite/site.hpp"

namespace crawld::app {

struct crawl_flags {
  bool quiet = false;
  bool verbose = false;
  bool fail_exit = false;  ///< exit 3 when any URL failed (set by --urls: a download list)
  bool stats_lines = false;  ///< a "progress:" line with RSS and known URLs on stderr every second
};

int cmd_crawl(conf::crawl_options opts, const crawl_flags& flags);
int cmd_stats(const std::string& db, int top);
/// Re-runs the crawl command saved in the store (exec); returns only on error or a finished crawl.
int cmd_resume(const std::string& db);
int cmd_url(const std::string& base, const std::vector<std::string>& hrefs);
int cmd_links(const std::string& file, const std::string& base);
/// `hostile_addr` non-empty: also serve testsite/hostile.hpp's endpoints there (same port).
int cmd_testsite(const testsite::site_options& opts, int latency_ms, bool print_expected,
                 const std::string& write_dir, const std::string& hostile_addr = {});
std::string version_text();

/// Prints "crawld: <message>" to stderr.
void print_error(const std::string& message);

}  // namespace crawld::app
