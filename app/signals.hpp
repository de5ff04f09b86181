#pragma once
#include <csignal>

/// SIGINT/SIGTERM handling for commands that run until done: the first signal asks the engine to
/// stop cleanly (actors::request_stop); a second one exits at once with 128+signal. SIGPIPE is
/// ignored (a write to a closed socket is an error of that fetch).
namespace crawld::app {
void install_stop_signals();
/// Blocks SIGINT and SIGTERM in the calling thread and the threads it starts afterwards; call
/// before starting threads, then `wait_for_stop_signal`. For commands that just serve.
void block_stop_signals();
/// Waits until SIGINT or SIGTERM arrives; returns the signal.
int wait_for_stop_signal();
/// For daemons (serve, node): blocks SIGINT, SIGTERM and SIGHUP in the calling thread and the
/// threads it starts afterwards, and ignores SIGPIPE. Call before starting threads; returns the
/// set to take the signals from with sigwait/sigtimedwait.
sigset_t block_daemon_signals();
}  // namespace crawld::app
