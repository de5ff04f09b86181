#pragma once
/// Several crawld processes sharing one crawl (docs/cluster.md). No CAF in this header: app/
/// uses it like engine.hpp.
///
/// One process coordinates (`crawld serve --cluster-listen`), the others join it (`crawld node`).
/// Every member, the coordinator included, crawls: each host (scheme://host:port) belongs to the
/// member that cluster::rendezvous picks over the live member list, and a URL admitted for a host
/// another member owns is forwarded to that member in acknowledged batches. The coordinator
/// checks the shared secret of every join, monitors every member, broadcasts the member list,
/// sends every job to every member and ends a job when the whole cluster is quiescent.
///
/// Thread-safety: every method may be called from any plain thread (never from an actor); the
/// object must outlive the runtime's jobs that use its hooks, and the runtime must outlive it.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/engine.hpp"
#include "base/result.hpp"

namespace crawld::actors {

/// Handed to runtime::start_job: makes the job's queue a member of the cluster's crawl (owner
/// filter + forwarding, ends only when the coordinator says so). Opaque outside actors/.
struct cluster_job_hook;

/// What happened in the cluster that the process's main thread must act on.
struct cluster_event {
  enum class kind {
    start_job,         ///< (node) run job `job_id` from `spec` (job-file TOML)
    member_down,       ///< (coordinator) `node` died or left; seeds were re-sent already
    coordinator_lost,  ///< (node) the coordinator is gone: the node cannot continue
    cancel_job,        ///< (node) job `job_id` was cancelled on the coordinator: cancel it here
    pause_job,         ///< (node) job `job_id` was paused on the coordinator: pause it here
    resume_job,        ///< (node) job `job_id` was resumed on the coordinator: resume it here
  };
  kind what = kind::start_job;
  std::string job_id, spec, node;
};

/// One member as the coordinator last saw it (for GET /v1/cluster and /metrics).
struct cluster_member_status {
  std::string name;
  bool self = false;             ///< the coordinator itself
  std::uint64_t pages = 0;       ///< URLs finished by this member, summed over its cluster jobs
  std::uint64_t queued = 0, in_flight = 0;
  std::uint64_t hosts = 0;       ///< hosts with URLs admitted on this member
  double pages_per_second = 0;   ///< over the last poll interval
  std::uint64_t forwarded = 0;   ///< URLs sent to other members in batches
  std::uint64_t acked = 0;       ///< of those, acknowledged as durable by the receiver
  std::uint64_t received = 0;    ///< URLs received from other members and committed
  std::uint64_t rejected_batches = 0;  ///< batches refused (sender not a member, bad token)
  bool idle = false;
};

struct cluster_status {
  std::string self;
  bool coordinator = false;
  std::vector<cluster_member_status> members;  ///< live members, by name
  std::vector<std::string> departed;           ///< members that died or left, in order
  std::uint64_t rejected_joins = 0;            ///< joins refused for a wrong secret or a taken name
};

/// TLS between members (caf::openssl): PEM files. Every member needs all three: its certificate
/// and key, and the CA that signed every member's certificate (peers are verified both ways).
struct cluster_tls {
  std::string cert, key, ca;
};

struct cluster_options {
  std::string name;    ///< this member's name (unique in the cluster)
  std::string secret;  ///< the shared cluster secret (non-empty)
  std::string host;    ///< coordinator: address to listen on; node: coordinator's address
  std::uint16_t port = 0;  ///< 0 for a coordinator: any free port (see cluster::port)
  std::chrono::milliseconds poll_every{200};  ///< coordinator: quiescence polling period
  bool tls = false;  ///< publish / connect over TLS (the runtime was built with cluster_tls)
};

class cluster {
 public:
  /// Coordinator: publishes this process's cluster actor on host:port of `rt` (which must have
  /// been built with networking). Fails with a one-line message (address in use, ...).
  static result<std::unique_ptr<cluster>> coordinate(runtime& rt, cluster_options o);
  /// Node: connects to the coordinator and joins with the secret (blocks up to ~10 s). Fails
  /// with a one-line message: unreachable coordinator, wrong secret, name taken.
  static result<std::unique_ptr<cluster>> join(runtime& rt, cluster_options o);
  /// A node leaves cleanly; the coordinator stops everything cluster-side.
  ~cluster();
  cluster(const cluster&) = delete;
  cluster& operator=(const cluster&) = delete;

  /// The port the coordinator listens on.
  std::uint16_t port() const;

  /// The hook for a job run in this process under the cluster-wide id `job_id`.
  std::shared_ptr<cluster_job_hook> hook(const std::string& job_id);
  /// Coordinator: sends the job to every member (and to members joining later) and returns the
  /// hook for the coordinator's own run of it. `seeds` are re-admitted when a member dies.
  std::shared_ptr<cluster_job_hook> start_job(const std::string& job_id, const std::string& spec,
                                              const std::vector<std::string>& seeds);

  /// Coordinator: job `job_id` was cancelled; every member cancels its run (no quiescence wait).
  void cancel_job(const std::string& job_id);

  /// Coordinator: job `job_id` was paused (`pause`) or resumed through the API; every member,
  /// and any member joining later, does the same with its run.
  void pause_job(const std::string& job_id, bool pause);
  /// Coordinator: the members' figures for job `job_id` from its newest polling round (empty
  /// before the first round or for an unknown job).
  std::vector<cluster_member_status> job_status(const std::string& job_id) const;

  /// The next event, waiting at most `timeout`.
  std::optional<cluster_event> next_event(std::chrono::milliseconds timeout);
  /// Members and their figures (coordinator: from the last poll; node: itself only).
  cluster_status status() const;
  /// Node, clean leave (SIGTERM): stops starting requests, waits for those in flight, hands every
  /// URL still queued here to its host's owner among the other members, waits until each batch
  /// is acknowledged as durable by its receiver, then tells the coordinator it left; from then on
  /// it refuses batches (their senders route them again). Nothing it had accepted is re-sent by
  /// others. Error (one line) when it did not complete within `timeout`: then `leave` (handled
  /// like a death) must follow. Call before cancelling the node's jobs. Returns the URLs the
  /// other members acknowledged during the hand-over (queued ones and links found meanwhile).
  result<std::uint64_t> hand_over(std::chrono::milliseconds timeout);
  /// Node: tells the coordinator it leaves (clean SIGTERM). Returns when the coordinator answered
  /// or after `timeout`.
  void leave(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  struct impl;

 private:
  explicit cluster(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

}  // namespace crawld::actors
