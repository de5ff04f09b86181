// `crawld crawl`: runs one crawl with a progress line on a terminal and a summary at the end.
#include <malloc.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "actors/engine.hpp"
#include "app/commands.hpp"
#include "app/fd_budget.hpp"
#include "parse/link_scan.hpp"
#include "app/signals.hpp"

namespace crawld::app {

namespace {

/// Resident set size of this process (VmRSS), MiB; 0 when unreadable.
double rss_mib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  return 0;
}

/// glibc's heap (mallinfo2, all arenas), MiB: bytes in use, bytes free but held by the arenas
/// (fragmentation and trim slack), bytes in mmapped blocks (the large bodies). For --stats-lines.
struct heap_mib {
  double used = 0, free_held = 0, mmapped = 0;
};
heap_mib heap_usage() {
  const struct mallinfo2 mi = mallinfo2();
  return {mi.uordblks / 1048576.0, mi.fordblks / 1048576.0, mi.hblkhd / 1048576.0};
}

std::string human_bytes(std::uint64_t b) {
  char buf[32];
  if (b >= (1u << 20))
    std::snprintf(buf, sizeof buf, "%.1f MiB", b / 1048576.0);
  else if (b >= 1024)
    std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
  else
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(b));
  return buf;
}

void print_summary(const actors::crawl_report& r, std::ostream& out) {
  double rate = r.seconds > 0 ? r.pages / r.seconds : 0;
  char head[160];
  std::snprintf(head, sizeof head, "%s %llu pages in %.2f s (%.1f pages/s), %s",
                r.interrupted ? "interrupted after" : "crawled",
                static_cast<unsigned long long>(r.pages), r.seconds, rate, human_bytes(r.bytes).c_str());
  out << head << '\n';
  out << "outcomes: " << r.outcomes.summary() << '\n';
  if (!r.rejected.empty()) {
    out << "not followed:";
    bool first = true;
    for (auto& [k, v] : r.rejected) {
      out << (first ? " " : ", ") << k << ' ' << v;
      first = false;
    }
    out << '\n';
  }
  if (r.retries > 0)
    out << "retries: " << r.retries << '\n';
  if (auto ls = parse::link_scan_stats(); ls.fallback + ls.forced > 0)  // fast-path report (issue 8)
    out << "link parser: " << ls.fast << " fast, " << ls.fallback << " gumbo fallback, " << ls.forced
        << " gumbo forced\n";
  for (const auto& [host, why] : r.parked)
    out << "parked host: " << host << " (" << why << ")\n";
  if (r.outcomes.failures() > 0) {
    out << "failures:\n";
    for (std::size_t i = 0; i < fetch::outcome_count; ++i) {
      auto o = static_cast<fetch::outcome>(i);
      if (!fetch::is_failure(o) || r.outcomes[o] == 0)
        continue;
      out << "  " << fetch::to_string(o) << ' ' << r.outcomes[o] << '\n';
      auto it = r.failure_examples.find(fetch::to_string(o));
      if (it != r.failure_examples.end())
        for (const auto& ex : it->second)
          out << "    " << ex << '\n';
    }
  }
  if (r.interrupted)
    out << "unfinished: " << r.unfinished << " admitted URLs were not fetched\n";
  // Every admitted URL ends in exactly one outcome or is unfinished (bench/soak.sh checks this).
  out << "admitted: " << r.admitted << " URLs, " << r.outcomes.total() << " finished, " << r.unfinished
      << " unfinished\n";
}

}  // namespace

int cmd_crawl(conf::crawl_options opts, const crawl_flags& flags) {
  if (auto v = conf::validate(opts); !v) {
    print_error(v.message());
    return 2;
  }
  actors::hooks h;
  bool tty = isatty(STDERR_FILENO) && !flags.quiet;
  if (tty && opts.progress) {
    h.on_progress = [](const actors::progress& p) {
      char line[200];
      std::snprintf(line, sizeof line,
                    "\r\033[K%llu pages | %.1f pages/s | queued %llu | in flight %llu | errors %llu",
                    static_cast<unsigned long long>(p.pages), p.seconds > 0 ? p.pages / p.seconds : 0.0,
                    static_cast<unsigned long long>(p.queued), static_cast<unsigned long long>(p.in_flight),
                    static_cast<unsigned long long>(p.failures));
      std::fputs(line, stderr);
      std::fflush(stderr);
    };
  }
  if (flags.stats_lines) {
    auto inner = h.on_progress;
    auto last = std::make_shared<double>(-1);
    h.on_progress = [inner, last](const actors::progress& p) {
      if (inner)
        inner(p);
      if (p.seconds - *last < 1.0)
        return;
      *last = p.seconds;
      const heap_mib heap = heap_usage();
      char line[320];
      std::snprintf(line, sizeof line,
                    "progress: %.1f s pages %llu known %llu queued %llu in_flight %llu rss_mib %.1f store_mib %.1f "
                    "frontier_mib %.1f heap_used_mib %.1f heap_free_mib %.1f heap_mmap_mib %.1f\n",
                    p.seconds, static_cast<unsigned long long>(p.pages), static_cast<unsigned long long>(p.known),
                    static_cast<unsigned long long>(p.queued), static_cast<unsigned long long>(p.in_flight),
                    rss_mib(), p.store_bytes / 1048576.0, p.frontier_bytes / 1048576.0, heap.used, heap.free_held,
                    heap.mmapped);
      std::fputs(line, stderr);
    };
  }
  if (flags.verbose) {
    h.on_fetch = [](const actors::fetch_event& e) {
      std::ostringstream s;
      if (fetch::is_failure(e.result))
        s << "*** ";
      s << fetch::to_string(e.result) << ' ' << e.status << ' ' << e.bytes << "B "
        << e.elapsed.count() / 1000 << "ms " << e.url;
      if (!e.detail.empty())
        s << " (" << e.detail << ')';
      s << '\n';
      std::cout << s.str();
    };
  }
  auto fds = plan_file_descriptors(opts.concurrency, !opts.db.empty());
  if (!fds) {
    print_error(fds.message());
    return 2;
  }
  if (fds->lowered)
    print_error("warning: --concurrency " + std::to_string(opts.concurrency) + " needs more file descriptors than " +
                "the limit of " + std::to_string(fds->limit) + " allows; using " + std::to_string(fds->concurrency));
  opts.concurrency = fds->concurrency;
  if (fds->store_files > 0)
    opts.store_max_open_files = fds->store_files;
  install_stop_signals();
  auto r = actors::run_crawl(opts, h);
  if (tty && opts.progress)
    std::fputs("\r\033[K", stderr);
  if (!r) {
    print_error(r.message());
    return 1;
  }
  if (!flags.quiet)
    print_summary(*r, std::cout);
  std::cout.flush();
  if (r->interrupted) {
    int sig = actors::stop_signal();
    int code = 128 + (sig ? sig : SIGINT);
    if (r->abandoned > 0)
      std::_Exit(code);  // fetchers still blocked in requests; the store is closed
    return code;
  }
  if (!r->unreachable_seeds.empty() && r->outcomes[fetch::outcome::ok] == 0 &&
      r->outcomes[fetch::outcome::redirect] == 0) {
    for (auto& s : r->unreachable_seeds)
      print_error("seed unreachable: " + s);
    return 1;
  }
  if (flags.fail_exit && r->outcomes.failures() > 0)
    return 3;
  return 0;
}

}  // namespace crawld::app
