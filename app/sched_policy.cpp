#include "app/sched_policy.hpp"

#include <sched.h>

#include <cstdlib>
#include <cstring>

namespace crawld::app {

void use_batch_scheduling() {
#ifdef SCHED_BATCH
  const char* e = std::getenv("CRAWLD_SCHED");
  if (e && std::strcmp(e, "normal") == 0)
    return;
  sched_param p{};
  p.sched_priority = 0;
  (void)sched_setscheduler(0, SCHED_BATCH, &p);
#endif
}

}  // namespace crawld::app
