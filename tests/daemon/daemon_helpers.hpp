#pragma once
// A real `crawld serve` process on loopback, a client for its API, and a testsite to crawl.
#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "conf/json.hpp"
#include "tests/cli/process.hpp"
#include "tests/site.hpp"
#include "tests/temp_dir.hpp"
#include "testsite/server.hpp"

namespace crawld::test {

using namespace std::chrono_literals;


inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// A daemon with its config, token file and state directory in `dir`, on 127.0.0.1:`port`.
class daemon_process {
 public:
  daemon_process(const temp_dir& dir, int port, std::string extra_config = "")
      : port_(port), state_(dir / "state"), config_(dir / "crawld.toml") {
    write_text(dir / "token", token + "\n");
    write_text(config_, "listen = \"127.0.0.1\"\nport = " + std::to_string(port) + "\nstate_dir = \"" + state_ +
                            "\"\ntoken_file = \"" + (dir / "token") + "\"\nlog_file = \"" + (dir / "crawld.log") +
                            "\"\nmax_body_kib = 64\n" + extra_config);
    start();
  }
  ~daemon_process() { stop(); }

  void start() {
    proc_ = std::make_unique<child>(std::vector<std::string>{"serve", "--config", config_});
    httplib::Client c("127.0.0.1", port_);
    for (int i = 0; i < 200; ++i) {  // up to 10 s
      if (auto r = c.Get("/healthz"); r && r->status == 200)
        return;
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "daemon did not answer /healthz";
  }
  /// SIGTERM and wait; returns the exit code.
  int stop() {
    if (!proc_)
      return -1;
    proc_->signal(SIGTERM);
    auto r = proc_->wait(60s);
    proc_.reset();
    return r.exit_code;
  }

  void signal(int sig) { proc_->signal(sig); }

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(30, 0);
    return c;
  }
  httplib::Headers auth() const { return {{"Authorization", "Bearer " + token}}; }

  httplib::Result post(const std::string& path, const std::string& body = "",
                       const std::string& type = "application/json") const {
    auto c = client();
    return c.Post(path.c_str(), auth(), body, type.c_str());
  }
  httplib::Result get(const std::string& path) const {
    auto c = client();
    return c.Get(path.c_str());
  }
  /// GET as parsed JSON (fails the test when not JSON).
  conf::json get_json(const std::string& path) const {
    auto r = get(path);
    EXPECT_TRUE(r) << "GET " << path;
    if (!r)
      return {};
    auto j = conf::parse_json(r->body);
    EXPECT_TRUE(j.ok()) << r->body;
    return j.ok() ? *j : conf::json{};
  }

  const std::string& state_dir() const { return state_; }
  const std::string token = "test-token-5a1f0c";

 private:
  int port_;
  std::string state_, config_;
  std::unique_ptr<child> proc_;
};

inline std::uint64_t field(const conf::json& j, const char* name) {
  auto f = j.find(name);
  return f && f->is_int ? static_cast<std::uint64_t>(f->i) : 0;
}

inline std::string text_field(const conf::json& j, const char* name) {
  auto f = j.find(name);
  return f && f->type == conf::json::kind::string ? f->str : "";
}

/// Polls `cond` every 50 ms for at most `limit`.
template <class F>
bool eventually(F cond, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (cond())
      return true;
    std::this_thread::sleep_for(50ms);
  }
  return cond();
}

}  // namespace crawld::test
