#pragma once
/// The crawld process's CPU scheduling policy.
///
/// crawld runs as SCHED_BATCH (Linux): its threads get their fair share as before, but a thread
/// that wakes does not preempt the one running. A crawl is a handful of threads (scheduler
/// workers, the queue, the epoll thread, RocksDB's) handing work to each other all the time, and
/// with wake-up preemption each hand-off cost a context switch: 100k per 55k-page crawl, 35-40k
/// without (docs/architecture.md, issue 8). Other processes' threads still preempt crawld's as
/// usual, so it yields to interactive work rather than the reverse. `CRAWLD_SCHED=normal` in the
/// environment keeps SCHED_OTHER.
namespace crawld::app {

/// Sets the calling thread's policy (threads it starts later inherit it); call first in main.
/// Best effort: a refusal (seccomp, another OS) leaves the policy as it was, silently.
void use_batch_scheduling();

}  // namespace crawld::app
