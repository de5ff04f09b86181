#include "app/signals.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>

#include "actors/engine.hpp"

namespace crawld::app {

namespace {
std::atomic<int> g_signals{0};

void on_stop_signal(int signo) {
  if (g_signals.fetch_add(1) > 0)
    _exit(128 + signo);  // second signal: leave now
  actors::request_stop(signo);
}
}  // namespace

void install_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  // cpp-httplib writes without MSG_NOSIGNAL: a request written on a kept-alive connection the
  // server has just reset must be an EPIPE error for that fetch, not the end of the crawl (a
  // soak's crawl died of SIGPIPE after 21 minutes). The daemons do the same (block_daemon_signals).
  std::signal(SIGPIPE, SIG_IGN);
}

namespace {
sigset_t stop_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}
}  // namespace

void block_stop_signals() {
  auto set = stop_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

sigset_t block_daemon_signals() {
  auto set = stop_set();
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return set;
}

int wait_for_stop_signal() {
  auto set = stop_set();
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace crawld::app
