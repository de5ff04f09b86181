#pragma once
/// The queue's side of the cluster (internal to actors/): who owns a host now, and the atoms the
/// queue and this process's cluster actor (actors/cluster.cpp) exchange. Local messages only.
///
/// queue -> agent: (cl_attach_atom, job_id, queue)            once, when the queue starts
/// queue -> agent: (cl_fwd_atom, job_id, vector<url_task>)    URLs admitted for hosts owned elsewhere
/// agent -> queue: (cl_add_atom, vector<url_task>) -> ok      a received batch: admitted and
///                                                            committed (durable) before the reply
/// agent -> queue: (cl_done_atom)                             the cluster is quiescent: end when idle
/// agent -> queue: (cl_rehome_atom)                           the member list changed: hand the queued
///                                                            URLs of hosts owned elsewhere now back
///                                                            to the agent (cl_fwd) for their new owner;
///                                                            replies ok once they were sent
/// agent -> queue: (cl_pages_atom, after) -> vector<string>    a leaving member: keys of its stored pages
///                                                            after `after`, in bounded chunks
/// agent -> queue: (cl_mark_atom, vector<string>) -> ok       pages a leaving member fetched: marked seen
///                                                            here (not fetched again), committed
/// agent -> queue: (cl_log_atom, target, vector<url_task>)    URLs `target` acknowledged: appended to the
///                                                            job's forward log (storage/forward_log)
/// agent -> queue: (cl_relog_atom, target, after, drop)       the next chunk of target's log after position
///        -> (last, vector<url_task>)                          `after` (empty at the end: the log is dropped);
///                                                            drop: the log is dropped at once
#include <mutex>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "cluster/rendezvous.hpp"

namespace crawld::actors {

using cl_attach_atom = caf::atom_constant<caf::atom("clattach")>;
using cl_fwd_atom = caf::atom_constant<caf::atom("clfwd")>;
using cl_add_atom = caf::atom_constant<caf::atom("cladd")>;
using cl_done_atom = caf::atom_constant<caf::atom("cldone")>;
using cl_rehome_atom = caf::atom_constant<caf::atom("clrehome")>;
using cl_pages_atom = caf::atom_constant<caf::atom("clpages")>;
using cl_mark_atom = caf::atom_constant<caf::atom("clmark")>;
using cl_log_atom = caf::atom_constant<caf::atom("cllog")>;
using cl_relog_atom = caf::atom_constant<caf::atom("clrelog")>;

/// The live member list as this process last heard it, and the owner of a host under it.
/// Thread-safe (the detached queue reads it, the cluster actor writes it).
class cluster_view {
 public:
  explicit cluster_view(std::string self) : self_(std::move(self)) { r_.add(self_); }
  const std::string& self() const { return self_; }
  void set(const std::vector<std::string>& names) {
    std::lock_guard<std::mutex> g(m_);
    r_ = crawld::cluster::rendezvous{};
    for (const auto& n : names)
      r_.add(n);
    if (r_.size() == 0)
      r_.add(self_);
  }
  std::string owner(const std::string& host_key) const {
    std::lock_guard<std::mutex> g(m_);
    return r_.owner(host_key);
  }
  bool is_local(const std::string& host_key) const { return owner(host_key) == self_; }
  std::vector<std::string> members() const {
    std::lock_guard<std::mutex> g(m_);
    return r_.nodes();
  }

 private:
  mutable std::mutex m_;
  crawld::cluster::rendezvous r_;
  std::string self_;
};

struct cluster_job_hook {
  std::string job_id;
  caf::actor agent;                    ///< this process's cluster actor
  std::shared_ptr<cluster_view> view;  ///< shared by every job of the process
};

}  // namespace crawld::actors
