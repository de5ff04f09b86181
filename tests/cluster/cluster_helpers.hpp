#pragma once
// Real crawld processes forming a cluster on loopback: a coordinator (`crawld serve
// --cluster-listen`) and nodes (`crawld node --join`), each with its own state directory in a temp
// dir. Every process is killed by its destructor when a test fails midway.
#include <set>
#include <string>

#include "storage/store.hpp"
#include "tests/daemon/daemon_helpers.hpp"

namespace crawld::test {

/// `crawld serve` on 127.0.0.1:http_port, coordinating on 127.0.0.1:cluster_port.
class coordinator_process {
 public:
  coordinator_process(const temp_dir& dir, int http_port, int cluster_port, const std::string& secret_file,
                      const std::vector<std::string>& extra = {})
      : http_port_(http_port), cluster_port_(cluster_port), state_(dir / "coord-state") {
    auto config = dir / "coord.toml";
    write_text(dir / "token", token + "\n");
    write_text(config, "listen = \"127.0.0.1\"\nport = " + std::to_string(http_port) + "\nstate_dir = \"" + state_ +
                           "\"\ntoken_file = \"" + (dir / "token") + "\"\nlog_file = \"" + (dir / "coord.log") +
                           "\"\nmax_connections = 16\n");
    std::vector<std::string> args = {"serve", "--config", config, "--cluster-listen",
                                     "127.0.0.1:" + std::to_string(cluster_port), "--cluster-secret-file", secret_file};
    args.insert(args.end(), extra.begin(), extra.end());
    proc_ = std::make_unique<child>(args);
    httplib::Client c("127.0.0.1", http_port_);
    for (int i = 0; i < 200; ++i) {  // up to 10 s
      if (auto r = c.Get("/healthz"); r && r->status == 200)
        return;
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "coordinator did not answer /healthz; its log:\n" << read_text(dir / "coord.log");
  }
  ~coordinator_process() { stop(); }
  int stop() {
    if (!proc_)
      return -1;
    proc_->signal(SIGTERM);
    auto r = proc_->wait(60s);
    proc_.reset();
    return r.exit_code;
  }
  httplib::Result post(const std::string& path, const std::string& body) const {
    httplib::Client c("127.0.0.1", http_port_);
    c.set_read_timeout(30, 0);
    return c.Post(path.c_str(), {{"Authorization", "Bearer " + token}}, body, "application/json");
  }
  httplib::Result get(const std::string& path) const {
    httplib::Client c("127.0.0.1", http_port_);
    c.set_read_timeout(30, 0);
    return c.Get(path.c_str());
  }
  conf::json get_json(const std::string& path) const {
    auto r = get(path);
    if (!r)
      return {};
    auto j = conf::parse_json(r->body);
    return j.ok() ? *j : conf::json{};
  }
  std::size_t members() const {
    auto j = get_json("/v1/cluster");
    auto m = j.find("members");
    return m ? m->items.size() : 0;
  }
  std::string join_address() const { return "127.0.0.1:" + std::to_string(cluster_port_); }
  std::string store(const std::string& job) const { return state_ + "/jobs/" + job + "/store"; }
  const std::string token = "cluster-test-token-81c2";

 private:
  int http_port_, cluster_port_;
  std::string state_;
  std::unique_ptr<child> proc_;
};

/// `crawld node --join ... --name NAME` with its state in dir/NAME.
class node_process {
 public:
  node_process(const temp_dir& dir, const std::string& name, const std::string& join, const std::string& secret_file,
               const std::vector<std::string>& extra = {})
      : name_(name), state_(dir / (name + "-state")) {
    auto config = dir / (name + ".toml");
    write_text(config, "state_dir = \"" + state_ + "\"\ncluster_secret_file = \"" + secret_file +
                           "\"\nmax_connections = 16\nlog_file = \"" + (dir / (name + ".log")) + "\"\n");
    std::vector<std::string> args = {"node", "--join", join, "--name", name, "--config", config};
    args.insert(args.end(), extra.begin(), extra.end());
    proc_ = std::make_unique<child>(args);
  }
  ~node_process() {
    if (proc_)
      proc_->signal(SIGKILL);
  }
  child& proc() { return *proc_; }
  process_result stop(int sig = SIGTERM) {
    proc_->signal(sig);
    return proc_->wait(60s);
  }
  std::string store(const std::string& job) const { return state_ + "/jobs/" + job + "/store"; }
  const std::string& name() const { return name_; }

 private:
  std::string name_, state_;
  std::unique_ptr<child> proc_;
};

/// URLs of the pages in a store (opened read-only); empty when it cannot be opened.
inline std::set<std::string> stored_pages(const std::string& dir) {
  std::set<std::string> urls;
  storage::open_options o;
  o.read_only = true;
  auto st = storage::store::open(dir, o);
  if (!st)
    return urls;
  (void)(*st)->for_each_page([&](const storage::page_record& r) {
    urls.insert(r.url);
    return true;
  });
  return urls;
}

}  // namespace crawld::test
