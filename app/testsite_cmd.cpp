// `crawld testsite`: serves the deterministic synthetic web until SIGINT/SIGTERM, or prints the
// URLs a correct crawl of it fetches (--expected).
#include <iostream>

#include "app/commands.hpp"
#include "app/signals.hpp"
#include "testsite/server.hpp"
#include "testsite/static_export.hpp"

namespace crawld::app {

int cmd_testsite(const testsite::site_options& opts, int latency_ms, bool print_expected,
                 const std::string& write_dir) {
  testsite::site model(opts);
  if (!write_dir.empty()) {
    auto r = testsite::write_static(model, write_dir);
    if (!r) {
      print_error(r.message());
      return 1;
    }
    std::cout << "wrote " << r->files << " files (" << r->bytes << " bytes) and " << r->redirects
              << " redirects to " << write_dir << "; serve with: nginx -c " << write_dir << "/nginx.conf\n";
    return 0;
  }
  if (print_expected) {
    testsite::expect_options e;
    for (int i = 0; i < opts.hosts; ++i)
      e.seeds.push_back(model.origin(i) + "/");
    e.obey_robots = true;  // as a crawl does by default
    for (const auto& u : model.expected(e))
      std::cout << u << '\n';
    return 0;
  }
  block_stop_signals();  // before the server threads start, so they inherit the mask
  testsite::server_options so;
  so.latency = std::chrono::milliseconds(latency_ms);
  auto srv = testsite::server::start(model, so);
  if (!srv) {
    print_error(srv.message());
    return 1;
  }
  const auto& m = (*srv)->model();
  std::cout << "testsite: " << opts.hosts << " hosts x " << opts.pages << " pages, seed " << opts.seed << '\n';
  for (int i = 0; i < m.host_count(); ++i)
    std::cout << "  " << m.origin(i) << "/  " << testsite::host_kind_name(m.kind(i)) << '\n';
  std::cout << "Ctrl-C to stop" << std::endl;
  int sig = wait_for_stop_signal();
  (*srv)->stop();
  std::cout << "testsite: served " << (*srv)->requests().size() << " requests" << std::endl;
  (void)sig;
  return 0;
}

}  // namespace crawld::app
