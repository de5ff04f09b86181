// `crawld node`: joins a cluster and runs the jobs its coordinator sends (docs/cluster.md).
// The main thread waits for signals and cluster events; jobs run on the process's runtime, each
// with its store in <state_dir>/jobs/<id>/store; every request carries "crawld-node/<name>" in its
// User-Agent, so servers (and the tests) can tell the members apart.
#include "app/node.hpp"

#include <signal.h>

#include <csignal>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "actors/cluster.hpp"
#include "actors/engine.hpp"
#include "app/commands.hpp"
#include "app/daemon_log.hpp"
#include "app/signals.hpp"
#include "base/trim.hpp"
#include "conf/daemon_config.hpp"
#include "conf/job_file.hpp"

namespace crawld::app {

namespace fs = std::filesystem;

result<std::pair<std::string, std::uint16_t>> parse_host_port(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return make_error("'" + text + "' is not ADDR:PORT");
  std::string host = text.substr(0, colon), port = text.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    return make_error("'" + text + "': the port must be a number from 0 to 65535");
  long p = std::stol(port);
  if (p > 65535)
    return make_error("'" + text + "': the port must be a number from 0 to 65535");
  return std::make_pair(host, static_cast<std::uint16_t>(p));
}

result<std::string> load_cluster_secret(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return make_error("cannot read the cluster secret file '" + path + "'");
  std::string line;
  std::getline(in, line);
  line = trim(line);
  if (line.empty())
    return make_error("the cluster secret file '" + path + "' is empty");
  return line;
}

result<void> check_cluster_tls(const std::string& cert, const std::string& key, const std::string& ca) {
  int given = !cert.empty() + !key.empty() + !ca.empty();
  if (given == 0)
    return {};
  if (given != 3)
    return make_error("TLS between cluster members needs all of --cluster-cert, --cluster-key and --cluster-ca");
  for (const auto* p : {&cert, &key, &ca})
    if (!std::ifstream(*p))
      return make_error("cannot read '" + *p + "'");
  return {};
}

int cmd_node(const std::string& join, const std::string& name, const std::string& config_path,
             const std::string& cert, const std::string& key, const std::string& ca) {
  if (auto t = check_cluster_tls(cert, key, ca); !t) {
    print_error(t.message());
    return 2;
  }
  auto addr = parse_host_port(join);
  if (!addr) {
    print_error("--join: " + addr.message());
    return 2;
  }
  if (addr->second == 0) {
    print_error("--join: the coordinator's port must not be 0");
    return 2;
  }
  if (name.empty() || name.find_first_of(" \t\r\n\"\\") != std::string::npos) {
    print_error("--name must be non-empty, without spaces, quotes or backslashes");
    return 2;
  }
  auto loaded = conf::load_daemon_config(config_path);
  for (const auto& e : loaded.errors)
    print_error(conf::to_string(e));
  if (!loaded.ok())
    return 2;
  const auto& cfg = loaded.config;
  if (cfg.cluster_secret_file.empty()) {
    print_error(config_path + ": 'cluster_secret_file' is required for a node");
    return 2;
  }
  auto secret = load_cluster_secret(cfg.cluster_secret_file);
  if (!secret) {
    print_error(secret.message());
    return 1;
  }

  const sigset_t set = block_daemon_signals();

  std::error_code ec;
  fs::create_directories(cfg.state_dir + "/jobs", ec);
  if (ec) {
    print_error("cannot write the state directory '" + cfg.state_dir + "'");
    return 1;
  }
  daemon_log log(cfg.log_file, "crawld node " + name);
  if (!log.ok()) {
    print_error("cannot open the log file '" + cfg.log_file + "'");
    return 1;
  }

  actors::cluster_tls tls{cert, key, ca};
  actors::runtime rt(cfg.max_connections, true, cert.empty() ? nullptr : &tls);
  actors::cluster_options co;
  co.tls = !cert.empty();
  co.name = name;
  co.secret = *secret;
  co.host = addr->first;
  co.port = addr->second;
  auto cl = actors::cluster::join(rt, co);
  if (!cl) {
    print_error(cl.message());
    return 1;
  }
  log.line("joined the cluster at " + join);

  std::map<std::string, actors::job_handle> jobs;
  std::map<std::string, bool> reported;
  bool lost = false, stop = false;
  auto start = [&](const actors::cluster_event& ev) {
    if (jobs.count(ev.job_id))
      return;
    auto job = conf::load_job_string(ev.spec, "job " + ev.job_id);
    if (!job.ok()) {
      log.line("job " + ev.job_id + " refused: " + conf::to_string(job.errors.front()));
      return;
    }
    auto& o = job.options;
    auto dir = cfg.state_dir + "/jobs/" + ev.job_id;
    fs::create_directories(dir, ec);
    o.db = dir + "/store";
    o.progress = false;
    o.verbose = false;
    if (o.user_agent.empty())
      o.user_agent = std::string("crawld/") + CRAWLD_VERSION;
    o.user_agent += " crawld-node/" + name;
    auto h = rt.start_job(o, std::chrono::seconds(5), false, (*cl)->hook(ev.job_id));
    if (!h) {
      log.line("job " + ev.job_id + " could not start: " + h.message());
      return;
    }
    jobs.emplace(ev.job_id, *h);
    log.line("job " + ev.job_id + " started");
  };
  while (!lost && !stop) {
    timespec ts{0, 100 * 1000 * 1000};
    int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig == SIGTERM || sig == SIGINT) {
      log.line(std::string("stopping (") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ")");
      stop = true;
      break;
    }
    while (auto ev = (*cl)->next_event(std::chrono::milliseconds(0))) {
      if (ev->what == actors::cluster_event::kind::start_job) {
        start(*ev);
      } else if (ev->what == actors::cluster_event::kind::cancel_job) {
        if (auto it = jobs.find(ev->job_id); it != jobs.end()) {
          it->second.cancel();
          log.line("job " + ev->job_id + " cancelled by the coordinator");
        }
      } else if (ev->what == actors::cluster_event::kind::pause_job ||
                 ev->what == actors::cluster_event::kind::resume_job) {
        if (auto it = jobs.find(ev->job_id); it != jobs.end()) {
          bool pause = ev->what == actors::cluster_event::kind::pause_job;
          pause ? it->second.pause() : it->second.resume();
          log.line("job " + ev->job_id + (pause ? " paused" : " resumed") + " by the coordinator");
        }
      } else if (ev->what == actors::cluster_event::kind::coordinator_lost) {
        log.line("lost the coordinator: stopping");
        lost = true;
      }
    }
    for (auto& [id, h] : jobs)
      if (!reported[id] && h.done()) {
        reported[id] = true;
        auto s = h.snapshot();
        log.line("job " + id + " " + actors::to_string(s.phase) + ": " + std::to_string(s.prog.pages) + " pages");
      }
  }
  // A clean leave hands the URLs queued here to their new owners first (bounded wait); then the
  // jobs stop (their stores flushed and closed). If the hand-over did not complete, the leave is
  // handled like a death: URLs still queued here are re-sent by the members that forwarded them,
  // and the coordinator re-sends the seeds.
  bool handed = false;
  if (!lost) {
    auto h = (*cl)->hand_over(std::chrono::seconds(30));
    handed = h.ok();
    log.line(handed ? "handed " + std::to_string(*h) + " URLs over to their new owners"
                    : h.message() + ": leaving as if dead");
  }
  for (auto& [id, h] : jobs)
    h.cancel();
  for (auto& [id, h] : jobs)
    (void)h.wait(std::chrono::seconds(30));
  if (!lost && !handed)
    (*cl)->leave();
  cl->reset();
  log.line(lost ? "exiting: the coordinator is gone" : "left the cluster");
  return lost ? 1 : 0;
}

}  // namespace crawld::app
