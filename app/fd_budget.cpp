#include "app/fd_budget.hpp"

#include <dirent.h>
#include <sys/resource.h>

#include <algorithm>

namespace crawld::app {

namespace {

int open_descriptors() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d) != nullptr)
      ++n;
    closedir(d);
    n -= 3;  // ".", "..", and the directory's own descriptor
  }
  return std::max(n, 3);
}

}  // namespace

result<fd_plan> plan_file_descriptors(int wanted, bool with_store) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return make_error("cannot read the file descriptor limit");
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit raised = rl;
    raised.rlim_cur = rl.rlim_max == RLIM_INFINITY ? std::max<rlim_t>(rl.rlim_cur, 1 << 20) : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
      rl = raised;
  }
  fd_plan p;
  p.limit = rl.rlim_cur == RLIM_INFINITY ? (1L << 20) : static_cast<long>(rl.rlim_cur);
  p.store_files = with_store ? static_cast<int>(std::clamp(p.limit / 4, 16L, 256L)) : 0;
  long spare = p.limit - open_descriptors() - 32 - p.store_files;
  long fits = spare / 2;
  if (fits < 1)
    return make_error("the file descriptor limit (" + std::to_string(p.limit) +
                      ", ulimit -n) leaves no room for a single connection; raise it");
  p.concurrency = static_cast<int>(std::min<long>(wanted, fits));
  p.lowered = p.concurrency < wanted;
  return p;
}

}  // namespace crawld::app
