// `crawld testsite`: serves the deterministic synthetic web until SIGINT/SIGTERM, or prints the
// URLs a correct crawl of it fetches (--expected).
#include <iostream>

#include "app/commands.hpp"
#include "app/signals.hpp"
#include "testsite/hostile.hpp"
#include "testsite/server.hpp"
#include "testsite/static_export.hpp"

namespace crawld::app {

namespace {

/// "a.b.c.d" with d increased by `n`; "" when `addr` is not a dotted quad or d would exceed 255.
std::string next_address(const std::string& addr, int n) {
  auto dot = addr.rfind('.');
  if (dot == std::string::npos) return {};
  int last = 0;
  try {
    last = std::stoi(addr.substr(dot + 1));
  } catch (const std::exception&) {
    return {};
  }
  if (last + n > 255) return {};
  return addr.substr(0, dot + 1) + std::to_string(last + n);
}

}  // namespace

int cmd_testsite(const testsite::site_options& opts, int latency_ms, bool print_expected,
                 const std::string& write_dir, const std::string& hostile_addr) {
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
  std::unique_ptr<testsite::hostile_server> hostile;
  if (!hostile_addr.empty()) {
    testsite::hostile_options ho;
    ho.address = hostile_addr;
    ho.silent_address = next_address(hostile_addr, 1);
    ho.refused_address = next_address(hostile_addr, 2);
    ho.port = (*srv)->port();
    if (ho.silent_address.empty() || ho.refused_address.empty()) {
      print_error("--hostile: '" + hostile_addr + "' is not an IPv4 address whose last part is at most 253");
      return 2;
    }
    auto h = testsite::hostile_server::start(ho);
    if (!h) {
      print_error(h.message());
      return 1;
    }
    hostile = std::move(*h);
  }
  const auto& m = (*srv)->model();
  std::cout << "testsite: " << opts.hosts << " hosts x " << opts.pages << " pages, seed " << opts.seed << '\n';
  for (int i = 0; i < m.host_count(); ++i)
    std::cout << "  " << m.origin(i) << "/  " << testsite::host_kind_name(m.kind(i)) << '\n';
  if (hostile)
    std::cout << "  " << hostile->origin() << "/  hostile (docs/hostile.md); " << hostile->silent_origin()
              << " never answers, " << hostile->refused_origin() << " refuses\n";
  std::cout << "Ctrl-C to stop" << std::endl;
  int sig = wait_for_stop_signal();
  if (hostile) hostile->stop();
  (*srv)->stop();
  std::cout << "testsite: served " << (*srv)->requests().size() << " requests" << std::endl;
  (void)sig;
  return 0;
}

}  // namespace crawld::app
