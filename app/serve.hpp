#pragma once
/// `crawld serve --config crawld.toml`: the long-running crawl daemon (docs/api.md). Many jobs
/// on one actors::runtime, an HTTP control API (cpp-httplib on a thread of its own), Prometheus
/// metrics, a live status page, jobs persisted in the state directory and restarted with the
/// daemon. SIGTERM/SIGINT: graceful stop of every job, state flushed, exit 0. SIGHUP: reopen the
/// log file.
#include <string>

namespace crawld::app {

/// Runs the daemon until SIGTERM/SIGINT. Returns the exit code: 0 after a graceful stop, 2 for
/// a bad config (each error on stderr as file:line:column: message), 1 when it cannot start
/// (port taken, state directory unwritable, non-loopback address without a token).
int cmd_serve(const std::string& config_path);

/// `crawld serve --cluster-listen ADDR:PORT`: the daemon also coordinates a cluster (and crawls
/// as one of its members); docs/cluster.md.
struct serve_cluster_flags {
  std::string listen;       ///< ADDR:PORT; empty: no cluster
  std::string secret_file;  ///< overrides the config's cluster_secret_file
  std::string name = "coordinator";
  std::string cert, key, ca;  ///< TLS between members (all three, or none)
};
int cmd_serve(const std::string& config_path, const serve_cluster_flags& cluster);

/// The status page served at `/` (self-contained HTML, CSS and JS; status_page.cpp).
const std::string& status_page_html();

}  // namespace crawld::app
