// `crawld stats`: a summary of a crawl store; opens it read-only, so it works beside a running crawl.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "app/commands.hpp"
#include "storage/store.hpp"

namespace crawld::app {

int cmd_stats(const std::string& db, int top) {
  auto st = storage::store::open(db, storage::open_options{false, true});
  if (!st) {
    print_error(st.message());
    return 1;
  }
  auto s = (*st)->stats();
  if (!s) {
    print_error(s.message());
    return 1;
  }
  std::cout << "store:      " << db << '\n';
  std::cout << "pages:      " << s->pages << '\n';
  std::cout << "body bytes: " << s->body_bytes << " stored, " << s->wire_bytes << " on the wire\n";
  if (s->pages > 0) {
    double span = (s->last_fetch_ms - s->first_fetch_ms) / 1000.0;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f s", span);
    std::cout << "time span:  " << buf << '\n';
  }
  std::cout << "outcomes:  ";
  for (auto& [k, v] : s->by_outcome)
    std::cout << ' ' << k << ' ' << v;
  std::cout << "\nstatuses:  ";
  for (auto& [k, v] : s->by_status)
    std::cout << ' ' << k << ' ' << v;
  std::cout << '\n';
  std::vector<std::pair<std::string, std::uint64_t>> hosts(s->by_host.begin(), s->by_host.end());
  std::sort(hosts.begin(), hosts.end(), [](auto& a, auto& b) { return a.second > b.second || (a.second == b.second && a.first < b.first); });
  std::cout << "hosts:      " << hosts.size() << '\n';
  for (int i = 0; i < top && i < static_cast<int>(hosts.size()); ++i)
    std::cout << "  " << hosts[i].second << ' ' << hosts[i].first << '\n';
  if (auto c = (*st)->get_meta("seconds"))
    std::cout << "last run:   " << *c << " s\n";
  return 0;
}

}  // namespace crawld::app
