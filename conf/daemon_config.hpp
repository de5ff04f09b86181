#pragma once
/// The daemon's configuration file (`crawld serve --config crawld.toml`), parsed with toml++ and
/// checked with the precision of job files (file:line:column, did-you-mean). Keys and defaults:
/// docs/api.md and deploy/crawld.toml. Plain code, no CAF. Never throws.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "conf/job_file.hpp"

namespace crawld::conf {

struct daemon_config {
  std::string listen = "127.0.0.1";  ///< IP address to bind (IPv4 or IPv6 literal)
  int port = 8790;
  std::string state_dir = "/var/lib/crawld";  ///< jobs, their stores, the generated token
  std::string log_file;              ///< "" = stderr; reopened on SIGHUP
  std::string token_file;            ///< bearer token, first line of this file
  std::string token_env = "CRAWLD_TOKEN";  ///< or this environment variable
  int max_connections = 256;         ///< requests in flight over all jobs
  std::size_t max_body_bytes = 1u << 20;  ///< request bodies above are refused (413)
  int max_jobs = 64;                 ///< jobs running (or paused) at once; more submissions are refused
  /// Cluster (docs/cluster.md): the shared secret, first line of this file. `crawld node` needs
  /// it; `crawld serve --cluster-listen` takes it from here unless --cluster-secret-file is given.
  std::string cluster_secret_file;
};

struct daemon_config_load {
  daemon_config config;
  std::vector<job_error> errors;
  bool ok() const { return errors.empty(); }
};

daemon_config_load load_daemon_config(const std::string& path);
daemon_config_load load_daemon_config_string(std::string_view text, const std::string& name);

/// True for 127.0.0.0/8 and ::1 (the only addresses served without a configured token).
bool is_loopback(std::string_view address);

/// A job given as JSON with the keys of a job file (docs/job-file.md) turned into job-file TOML
/// text, so it goes through the same validation. Errors: bad JSON (with line, column), a
/// top-level value that is not an object, null values.
result<std::string> job_toml_from_json(std::string_view json_text);

}  // namespace crawld::conf
