#pragma once
// Real crawld processes forming a cluster on loopback: a coordinator (`crawld serve
// --cluster-listen`) and nodes (`crawld node --join`), each with its own state directory in a temp
// dir. Every process is killed by its destructor when a test fails midway.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cluster/rendezvous.hpp"
#include "storage/store.hpp"
#include "testsite/server.hpp"
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

/// Union and repeat count of the pages stored in `stores`.
inline std::pair<std::set<std::string>, std::size_t> union_of(const std::vector<std::string>& stores) {
  std::set<std::string> all;
  std::size_t total = 0;
  for (const auto& s : stores) {
    auto pages = stored_pages(s);
    total += pages.size();
    all.insert(pages.begin(), pages.end());
  }
  return {all, total - all.size()};
}

inline std::string seeds_json(const testsite::server& site, int hosts) {
  std::string s;
  for (int i = 0; i < hosts; ++i)
    s += (i ? ",\"" : "\"") + site.model().origin(i) + "/\"";
  return s;
}

inline std::string member_of(const std::string& user_agent) {
  auto p = user_agent.find("crawld-node/");
  return p == std::string::npos ? "" : user_agent.substr(p + 12);
}

/// host index -> members that sent it a request.
/// host index -> members that sent it a request (requests after the first `skip`).
inline std::map<int, std::set<std::string>> fetchers_by_host(const testsite::server& site, std::size_t skip) {
  std::map<int, std::set<std::string>> by;
  auto log = site.requests();
  for (std::size_t i = skip; i < log.size(); ++i)
    by[log[i].host].insert(member_of(log[i].user_agent));
  return by;
}

/// The member rendezvous hashing gives host `i` among `names` (what every member computes).
inline std::string owner(const testsite::server& site, int i, const std::vector<std::string>& names) {
  cluster::rendezvous r;
  for (const auto& n : names)
    r.add(n);
  return r.owner(site.model().origin(i));
}

inline std::set<std::string> single_node_pages(const testsite::server& site, int hosts, const temp_dir& dir) {
  std::vector<std::string> args = {"crawl"};
  for (int i = 0; i < hosts; ++i)
    args.push_back(site.model().origin(i) + "/");
  for (const char* a : {"--db", "", "-q", "--concurrency", "8", "--per-host", "2"})
    args.push_back(a);
  args[hosts + 2] = dir / "single";
  auto r = run(args, 120s);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return stored_pages(dir / "single");
}

inline std::string write_secret(const temp_dir& dir, const std::string& name, const std::string& secret) {
  auto path = dir / name;
  write_text(path, secret + "\n");
  return path;
}

inline std::string submit(const coordinator_process& c, const std::string& body) {
  auto r = c.post("/v1/jobs", body);
  EXPECT_TRUE(r);
  if (!r)
    return "";
  EXPECT_EQ(r->status, 201) << r->body;
  auto j = conf::parse_json(r->body);
  return j.ok() ? text_field(*j, "id") : "";
}

inline std::uint64_t member_pages(const coordinator_process& c, const std::string& name) {
  auto j = c.get_json("/v1/cluster");
  if (auto m = j.find("members"))
    for (const auto& x : m->items)
      if (text_field(x, "name") == name)
        return field(x, "pages");
  return 0;
}

}  // namespace crawld::test
