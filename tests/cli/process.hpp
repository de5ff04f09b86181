#pragma once
// Runs the real crawld binary as a child process (for exit codes, signals and output).
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace crawld::test {

struct process_result {
  int exit_code = -1;  ///< 128+signal when killed by a signal; -1 when it timed out (then killed)
  std::string out, err;
  std::chrono::milliseconds took{0};
};

class child {
 public:
  /// `nofile` > 0 sets the child's RLIMIT_NOFILE (soft and hard) before it runs crawld.
  explicit child(const std::vector<std::string>& args, long nofile = 0) {
    static int counter = 0;
    base_ = "/tmp/crawld_cli_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
    started_ = std::chrono::steady_clock::now();
    pid_ = fork();
    if (pid_ == 0) {
      if (nofile > 0) {
        rlimit rl{static_cast<rlim_t>(nofile), static_cast<rlim_t>(nofile)};
        setrlimit(RLIMIT_NOFILE, &rl);
      }
      freopen((base_ + ".out").c_str(), "w", stdout);
      freopen((base_ + ".err").c_str(), "w", stderr);
      std::vector<char*> argv;
      std::string bin = CRAWLD_BINARY;
      argv.push_back(bin.data());
      std::vector<std::string> copy = args;
      for (auto& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(bin.c_str(), argv.data());
      _exit(127);
    }
  }
  ~child() {
    if (pid_ > 0 && !done_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    std::remove((base_ + ".out").c_str());
    std::remove((base_ + ".err").c_str());
  }
  void signal(int sig) { kill(pid_, sig); }
  /// Waits at most `limit`; kills the child if it is still running then (exit_code -1).
  process_result wait(std::chrono::milliseconds limit = std::chrono::seconds(60)) {
    process_result r;
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (true) {
      pid_t p = waitpid(pid_, &status, WNOHANG);
      if (p == pid_) {
        r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        r.exit_code = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    done_ = true;
    r.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_);
    r.out = slurp(base_ + ".out");
    r.err = slurp(base_ + ".err");
    return r;
  }
  std::string current_output() const { return slurp(base_ + ".out"); }
  pid_t pid() const { return pid_; }

 private:
  static std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  pid_t pid_ = -1;
  bool done_ = false;
  std::string base_;
  std::chrono::steady_clock::time_point started_;
};

inline process_result run(const std::vector<std::string>& args,
                          std::chrono::milliseconds limit = std::chrono::seconds(60), long nofile = 0) {
  child c(args, nofile);
  return c.wait(limit);
}

}  // namespace crawld::test
