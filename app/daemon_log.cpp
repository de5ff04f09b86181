#include "app/daemon_log.hpp"

#include <ctime>

namespace crawld::app {

daemon_log::daemon_log(std::string path, std::string prefix) : path_(std::move(path)), prefix_(std::move(prefix)) {
  reopen();
}

daemon_log::~daemon_log() {
  if (f_ && f_ != stderr)
    std::fclose(f_);
}

void daemon_log::reopen() {
  std::lock_guard<std::mutex> g(m_);
  if (path_.empty()) {
    f_ = stderr;
    return;
  }
  FILE* nf = std::fopen(path_.c_str(), "a");
  if (!nf)
    return;
  if (f_ && f_ != stderr)
    std::fclose(f_);
  f_ = nf;
}

void daemon_log::line(const std::string& msg) {
  std::time_t t = std::time(nullptr);
  char ts[32];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::lock_guard<std::mutex> g(m_);
  if (!f_)
    return;
  std::fprintf(f_, "%s %s: %s\n", ts, prefix_.c_str(), msg.c_str());
  std::fflush(f_);
}

}  // namespace crawld::app
