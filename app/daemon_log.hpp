#pragma once
/// The log of a long-running command (serve, node): one line per event, "TIMESTAMP PREFIX: MSG",
/// UTC ISO 8601 timestamps, flushed per line; to a file opened for appending, or stderr.
/// Thread-safety: `line` and `reopen` may be called from any thread.
#include <cstdio>
#include <mutex>
#include <string>

namespace crawld::app {

class daemon_log {
 public:
  /// `path` empty: stderr. `prefix` names the process in every line ("crawld", "crawld node N").
  daemon_log(std::string path, std::string prefix);
  ~daemon_log();
  daemon_log(const daemon_log&) = delete;
  daemon_log& operator=(const daemon_log&) = delete;
  /// Reopens the file (after logrotate moved it); keeps the old one when the open fails.
  void reopen();
  /// Whether the file could be opened.
  bool ok() const { return f_ != nullptr; }
  void line(const std::string& msg);

 private:
  std::string path_, prefix_;
  std::mutex m_;
  FILE* f_ = nullptr;
};

}  // namespace crawld::app
