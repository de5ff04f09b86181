#pragma once
/// `crawld node --join ADDR:PORT --name N --config node.toml`: a cluster member that joins a
/// coordinator (`crawld serve --cluster-listen`) and runs every job the coordinator sends it, with
/// its own stores under the config's state_dir (docs/cluster.md). Plain code: the cluster itself
/// is actors::cluster.
#include <cstdint>
#include <string>

#include "base/result.hpp"

namespace crawld::app {

/// Exit codes: 0 after SIGTERM/SIGINT (jobs stopped, then a clean leave), 1 when the join is
/// refused (wrong secret, name taken), the coordinator is unreachable or is lost later, 2 for
/// bad usage or config.
/// `cert`, `key`, `ca`: TLS to the cluster (all three, or none).
int cmd_node(const std::string& join, const std::string& name, const std::string& config_path,
             const std::string& cert = {}, const std::string& key = {}, const std::string& ca = {});

/// Checks --cluster-cert/--cluster-key/--cluster-ca: all three or none, each a readable file.
result<void> check_cluster_tls(const std::string& cert, const std::string& key, const std::string& ca);

/// "ADDR:PORT" (IPv4, host name, or [IPv6]:PORT) split; errors name the text.
result<std::pair<std::string, std::uint16_t>> parse_host_port(const std::string& text);

/// The cluster secret: the first line of `path`, trimmed; errors when unreadable or empty.
result<std::string> load_cluster_secret(const std::string& path);

}  // namespace crawld::app
