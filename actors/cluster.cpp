// The cluster actor: one per crawld process of a cluster (docs/cluster.md). It owns the member
// list, forwards URLs admitted for other members' hosts in acknowledged batches, keeps every
// forwarded URL until the cluster ends (to re-send it when its receiver dies), and on the
// coordinator checks joins, monitors members, sends jobs and ends them at quiescence.
//
// It runs on the cooperative scheduler: it does no blocking call (the frontier's RocksDB writes
// happen in the detached queue actors; publish/remote_actor run on the caller's thread in
// cluster::coordinate / cluster::join).
#include "actors/cluster.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <mutex>
#include <set>

#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "actors/cluster_hook.hpp"
#include "actors/messages.hpp"
#include "base/constant_time.hpp"

namespace crawld::actors {

// ---- remote message types ---------------------------------------------------------------------

/// A member as the coordinator announces it: name, the token its batches must carry, its actor.
struct cluster_member {
  std::string name, token;
  caf::actor handle;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_member& x) {
  return f(caf::meta::type_name("crawld_cluster_member"), x.name, x.token, x.handle);
}

/// A member's answer to the coordinator's poll for one job.
struct cluster_report {
  std::string name;
  bool attached = false;  ///< the job runs here
  bool idle = false;      ///< nothing queued, in flight, waiting to be sent or unacknowledged
  std::uint64_t pages = 0, queued = 0, in_flight = 0, hosts = 0;
  std::uint64_t forwarded = 0, acked = 0, received = 0, rejected_batches = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_report& x) {
  return f(caf::meta::type_name("crawld_cluster_report"), x.name, x.attached, x.idle, x.pages, x.queued,
           x.in_flight, x.hosts, x.forwarded, x.acked, x.received, x.rejected_batches);
}

using cl_join_atom = caf::atom_constant<caf::atom("cljoin")>;
using cl_members_atom = caf::atom_constant<caf::atom("clmembers")>;
using cl_job_atom = caf::atom_constant<caf::atom("cljob")>;
using cl_batch_atom = caf::atom_constant<caf::atom("clbatch")>;
using cl_ack_atom = caf::atom_constant<caf::atom("clack")>;
using cl_poll_atom = caf::atom_constant<caf::atom("clpoll")>;
using cl_finish_atom = caf::atom_constant<caf::atom("clfinish")>;
using cl_leave_atom = caf::atom_constant<caf::atom("clleave")>;
using cl_start_atom = caf::atom_constant<caf::atom("clstart")>;
using cl_tick_atom = caf::atom_constant<caf::atom("cltick")>;
using cl_flush_atom = caf::atom_constant<caf::atom("clflush")>;
using cl_cancel_atom = caf::atom_constant<caf::atom("clcancel")>;
using cl_handover_atom = caf::atom_constant<caf::atom("clhandover")>;
using cl_left_atom = caf::atom_constant<caf::atom("clleft")>;
using cl_drain_atom = caf::atom_constant<caf::atom("cldrain")>;
using cl_pause_atom = caf::atom_constant<caf::atom("clpause")>;

bool cluster_tls_shim_linked();  // actors/cluster_tls_shim.cpp

void configure_cluster(caf::actor_system_config& cfg, const cluster_tls* tls) {
  cfg.load<caf::io::middleman>();
  if (tls && cluster_tls_shim_linked()) {  // the reference links the shim into every binary
    cfg.load<caf::openssl::manager>();
    cfg.openssl_certificate = tls->cert;
    cfg.openssl_key = tls->key;
    cfg.openssl_cafile = tls->ca;
  }
  cfg.add_message_type<url_task>("crawld_url_task");
  cfg.add_message_type<std::vector<url_task>>("std::vector<crawld_url_task>");
  cfg.add_message_type<cluster_member>("crawld_cluster_member");
  cfg.add_message_type<std::vector<cluster_member>>("std::vector<crawld_cluster_member>");
  cfg.add_message_type<cluster_report>("crawld_cluster_report");
}

namespace {

using steady = std::chrono::steady_clock;

constexpr std::size_t batch_urls = 256;                   // a batch is sent when this full
constexpr auto batch_linger = std::chrono::milliseconds(5);  // or after this long
constexpr std::size_t batch_window = 8;                   // unacknowledged batches per target
constexpr auto batch_timeout = std::chrono::seconds(30);

std::string random_hex(std::size_t bytes) {
  std::ifstream in("/dev/urandom", std::ios::binary);
  std::string raw(bytes, '\0');
  in.read(raw.data(), static_cast<std::streamsize>(bytes));
  static const char* hex = "0123456789abcdef";
  std::string t;
  for (unsigned char c : raw) {
    t += hex[c >> 4];
    t += hex[c & 15];
  }
  return t;
}

}  // namespace

/// State shared by the actor and the cluster object (plain threads): events and status.
struct cluster_shared {
  std::mutex m;
  std::condition_variable cv;
  std::deque<cluster_event> events;
  cluster_status status;
  std::map<std::string, std::vector<cluster_member_status>> job_members;  // job -> newest poll round

  void push(cluster_event e) {
    std::lock_guard<std::mutex> g(m);
    events.push_back(std::move(e));
    cv.notify_all();
  }
};

namespace {

/// One job's forwarding state in this process.
struct fwd_job {
  caf::actor queue;  // once attached
  std::map<std::string, std::vector<url_task>> outbox;  // target -> not yet sent
  // Acknowledged URLs (re-sent if their receiver dies) go to the job's forward log in its store,
  // through the queue (storage/forward_log: RocksDB, not memory); `log` only holds those
  // acknowledged before the queue attached. logged: target -> entries in the store's log.
  std::map<std::string, std::vector<url_task>> log;
  std::map<std::string, std::uint64_t> logged;
  std::size_t replaying = 0;  // targets whose log is being read back and routed again
  struct batch {
    std::string target;
    std::vector<url_task> tasks;
  };
  std::map<std::uint64_t, batch> unacked;
  std::map<std::string, std::size_t> outstanding;  // target -> unacknowledged batches
  struct parked_batch {
    caf::response_promise rp;
    std::uint64_t id;
    std::vector<url_task> tasks;
  };
  std::vector<parked_batch> parked;  // received before the job's queue attached
  std::size_t adding = 0;            // received batches handed to the queue, not yet committed
  std::uint64_t forwarded = 0, acked = 0, received = 0;
  bool flush_scheduled = false;
  bool done = false;  // the coordinator ended the job
};

/// The coordinator's view of one job.
struct coord_job {
  std::string spec;
  std::vector<std::string> seeds;
  bool finished = false;
  bool paused = false;  // through the API: members joining later get the pause too
  bool polling = false;
  std::string prev_signature;
  bool prev_quiet = false;
};

struct agent_state {
  std::string self_name, secret, token;
  bool coordinator = false;
  std::chrono::milliseconds poll_every{200};
  caf::actor coord;                     // node: the coordinator's actor
  std::vector<cluster_member> members;  // sorted by name; includes this process
  // Members handing their URLs over before a clean leave: they own no host any more, but may
  // still send batches (and get polled) until they say `clleft` (docs/cluster.md).
  std::vector<cluster_member> leaving;
  // Node: the hand-over of a clean leave (cluster::hand_over).
  enum class handover { none, draining, marking, asked, rehoming, flushing, closed } ho = handover::none;
  std::vector<std::string> mark_jobs;  // jobs whose stored pages are still to be marked at their new owners
  std::string mark_after;              // the last page key marked of mark_jobs.front()
  std::uint64_t marked = 0;            // page keys sent to be marked
  caf::typed_response_promise<std::uint64_t> ho_rp;  // answered with the URLs handed over
  std::uint64_t ho_acked_at = 0;                      // URLs acknowledged when the hand-over began
  std::shared_ptr<cluster_view> view;
  std::shared_ptr<cluster_shared> sh;
  std::map<std::string, fwd_job> jobs;
  std::uint64_t next_batch = 1;
  std::uint64_t rejected_batches = 0;
  // Coordinator only.
  std::map<std::string, coord_job> cjobs;
  std::map<caf::actor_addr, std::string> monitored;
  std::uint64_t rejected_joins = 0;
  std::vector<std::string> departed;
  std::map<std::string, std::pair<std::uint64_t, steady::time_point>> last_pages;  // for rates
  std::map<std::string, double> rates;
};

using agent_actor = caf::stateful_actor<agent_state>*;

const cluster_member* find_member(const agent_state& st, const std::string& name) {
  for (const auto& m : st.members)
    if (m.name == name)
      return &m;
  return nullptr;
}

/// A member or a leaving member (may still send batches; polled until it has left).
const cluster_member* find_any(const agent_state& st, const std::string& name) {
  if (const auto* m = find_member(st, name))
    return m;
  for (const auto& m : st.leaving)
    if (m.name == name)
      return &m;
  return nullptr;
}

std::vector<std::string> member_names(const agent_state& st) {
  std::vector<std::string> v;
  for (const auto& m : st.members)
    v.push_back(m.name);
  return v;
}

void flush(agent_actor self, const std::string& job_id, const std::string& target);

void schedule_flush(agent_actor self, const std::string& job_id) {
  auto& j = self->state.jobs[job_id];
  if (j.flush_scheduled)
    return;
  j.flush_scheduled = true;
  self->delayed_send(self, batch_linger, cl_flush_atom::value, job_id);
}

/// Admits tasks into this process's run of the job (its queue dedups and may forward again).
void admit_local(agent_actor self, const std::string& job_id, std::vector<url_task> tasks) {
  auto& j = self->state.jobs[job_id];
  if (tasks.empty() || !j.queue)
    return;
  self->request(j.queue, std::chrono::seconds(60), cl_add_atom::value, std::move(tasks))
    .then([](caf::ok_atom) {}, [](caf::error&) {});
}

/// Hands a batch another member sent to the job's queue; the sender's promise gets the batch id
/// once the queue committed it (so the acknowledgement means durable here), or the queue's error.
void hand_to_queue(agent_actor self, const std::string& job_id, const caf::actor& queue,
                   caf::response_promise rp, std::uint64_t id, std::vector<url_task> tasks) {
  const auto n = tasks.size();
  ++self->state.jobs[job_id].adding;
  self->request(queue, std::chrono::seconds(60), cl_add_atom::value, std::move(tasks))
    .then(
      [self, job_id, rp, id, n](caf::ok_atom) mutable {
        auto& j = self->state.jobs[job_id];
        --j.adding;
        j.received += n;
        rp.deliver(cl_ack_atom::value, id);
      },
      [self, job_id, rp](caf::error& e) mutable {
        --self->state.jobs[job_id].adding;
        rp.deliver(std::move(e));
      });
}

/// Sends each task to its host's owner under the current member list (or admits it here).
/// `now`: full batches go at once; else everything waits for the next flush tick.
void route(agent_actor self, const std::string& job_id, std::vector<url_task> tasks, bool now = true) {
  auto& st = self->state;
  auto& j = st.jobs[job_id];
  std::vector<url_task> local;
  std::set<std::string> targets;
  for (auto& t : tasks) {
    auto owner = st.view->owner(t.host_key);
    if (owner == st.self_name) {
      local.push_back(std::move(t));
    } else {
      j.outbox[owner].push_back(std::move(t));
      targets.insert(owner);
    }
  }
  admit_local(self, job_id, std::move(local));
  if (!now)
    return;
  for (const auto& t : targets)
    if (j.outbox[t].size() >= batch_urls)
      flush(self, job_id, t);
  schedule_flush(self, job_id);
}

void on_batch_failed(agent_actor self, const std::string& job_id, std::uint64_t id) {
  auto& j = self->state.jobs[job_id];
  auto it = j.unacked.find(id);
  if (it == j.unacked.end() || j.done)
    return;  // already re-routed (its target died), or the job is over
  auto b = std::move(it->second);
  j.unacked.erase(it);
  if (j.outstanding[b.target] > 0)
    --j.outstanding[b.target];
  // Try again (same target if still a member, else its hosts' new owners): the receiver dedups.
  route(self, job_id, std::move(b.tasks), false);
  if (!j.flush_scheduled) {
    j.flush_scheduled = true;
    self->delayed_send(self, std::chrono::milliseconds(200), cl_flush_atom::value, job_id);
  }
}

/// Sends the target's waiting URLs in batches of up to batch_urls, at most batch_window
/// unacknowledged; each stays in `unacked` until the receiver's acknowledgement.
void flush(agent_actor self, const std::string& job_id, const std::string& target) {
  auto& st = self->state;
  auto& j = st.jobs[job_id];
  auto& box = j.outbox[target];
  const auto* m = find_member(st, target);
  if (!m || j.done)
    return;  // not a member (any more): apply_members re-routes
  while (!box.empty() && j.outstanding[target] < batch_window) {
    std::size_t n = std::min(batch_urls, box.size());
    std::vector<url_task> tasks(std::make_move_iterator(box.begin()), std::make_move_iterator(box.begin() + n));
    box.erase(box.begin(), box.begin() + n);
    auto id = st.next_batch++;
    j.unacked[id] = fwd_job::batch{target, tasks};
    ++j.outstanding[target];
    j.forwarded += n;
    self->request(m->handle, batch_timeout, cl_batch_atom::value, job_id, st.self_name, st.token, id, std::move(tasks))
      .then(
        [self, job_id](cl_ack_atom, std::uint64_t acked_id) {
          auto& j = self->state.jobs[job_id];
          auto it = j.unacked.find(acked_id);
          if (it == j.unacked.end())
            return;
          auto& b = it->second;
          j.acked += b.tasks.size();
          auto target = b.target;
          if (j.queue) {
            j.logged[target] += b.tasks.size();
            self->send(j.queue, cl_log_atom::value, target, std::move(b.tasks));
          } else {
            auto& lg = j.log[target];
            std::move(b.tasks.begin(), b.tasks.end(), std::back_inserter(lg));
          }
          j.unacked.erase(it);
          if (j.outstanding[target] > 0)
            --j.outstanding[target];
          flush(self, job_id, target);
        },
        [self, job_id, id](caf::error&) { on_batch_failed(self, job_id, id); });
  }
}

/// Reads `target`'s forward log back from the job's store, chunk by chunk, and routes each chunk
/// again; the next chunk is read only once the outboxes hold few URLs (bounded memory). The job
/// is not idle meanwhile.
void replay_log(agent_actor self, const std::string& job_id, const std::string& target, std::uint64_t after = 0,
                bool started = false) {
  auto& j = self->state.jobs[job_id];
  if (!started)
    ++j.replaying;
  std::size_t waiting = 0;
  for (const auto& [t, box] : j.outbox)
    waiting += box.size();
  if (!j.queue || j.done) {
    --j.replaying;
    return;
  }
  if (waiting > 4096) {
    self->delayed_send(self, std::chrono::milliseconds(10), cl_relog_atom::value, job_id, target, after);
    return;
  }
  self->request(j.queue, std::chrono::seconds(60), cl_relog_atom::value, target, after, false)
    .then(
      [self, job_id, target](std::uint64_t last, std::vector<url_task>& tasks) {
        auto& j = self->state.jobs[job_id];
        if (tasks.empty()) {
          --j.replaying;
          return;
        }
        route(self, job_id, std::move(tasks));
        replay_log(self, job_id, target, last, true);
      },
      [self, job_id](caf::error&) { --self->state.jobs[job_id].replaying; });
}

void flush_all(agent_actor self, const std::string& job_id) {
  auto& j = self->state.jobs[job_id];
  std::vector<std::string> targets;
  for (auto& [t, box] : j.outbox)
    if (!box.empty())
      targets.push_back(t);
  for (const auto& t : targets)
    flush(self, job_id, t);
}

/// A new member list: the view changes; everything forwarded to a member that is gone (waiting,
/// unacknowledged or acknowledged) goes to its hosts' new owners. A member that starts leaving
/// (now in `leaving`) owns nothing: what waits for it or is unacknowledged by it is routed again.
/// `handed_over`: a member gone by a clean leave, whose acknowledged URLs it handed over itself
/// (not re-sent: that would make its new owners fetch its pages again).
void apply_members(agent_actor self, std::vector<cluster_member> members, std::vector<cluster_member> leaving = {},
                   const std::string& handed_over = "") {
  auto& st = self->state;
  std::sort(members.begin(), members.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  std::set<std::string> now, known;
  for (const auto& m : members)
    now.insert(m.name);
  known = now;
  for (const auto& m : leaving)
    known.insert(m.name);
  std::vector<std::string> gone, moved;  // gone: left the cluster; moved: owns nothing any more
  for (const auto* list : {&st.members, &st.leaving})
    for (const auto& m : *list) {
      if (!known.count(m.name))
        gone.push_back(m.name);
      else if (!now.count(m.name) && find_member(st, m.name))
        moved.push_back(m.name);
    }
  bool joined = false;
  for (const auto& m : members)
    joined = joined || !find_any(st, m.name);
  st.members = std::move(members);
  st.leaving = std::move(leaving);
  if (const auto* me = find_member(st, st.self_name))
    st.token = me->token;
  st.view->set(member_names(st));  // a leaving member (this one too) owns nothing
  {
    std::lock_guard<std::mutex> g(st.sh->m);
    auto& s = st.sh->status;
    std::vector<cluster_member_status> ms;
    for (const auto& m : st.members) {
      cluster_member_status c;
      for (const auto& old : s.members)
        if (old.name == m.name)
          c = old;
      c.name = m.name;
      c.self = m.name == st.self_name;
      ms.push_back(c);
    }
    s.members = std::move(ms);
    for (const auto& g2 : gone)
      s.departed.push_back(g2);
  }
  if (joined)
    for (auto& [job_id, j] : st.jobs)
      if (j.queue)
        self->request(j.queue, std::chrono::seconds(60), cl_rehome_atom::value)  // hosts the newcomer won
          .then([](caf::ok_atom) {}, [](caf::error&) {});                     // leave our frontier
  if (gone.empty() && moved.empty())
    return;
  std::vector<std::string> lost = gone;  // no URL may stay with these
  lost.insert(lost.end(), moved.begin(), moved.end());
  for (auto& [job_id, j] : st.jobs) {
    std::vector<url_task> again;
    for (const auto& g : lost) {
      std::vector<url_task>* vs[2] = {&j.outbox[g], nullptr};
      if (std::find(gone.begin(), gone.end(), g) != gone.end()) {
        bool in_store = j.logged.erase(g) > 0 && j.queue;
        if (g == handed_over) {
          j.log[g].clear();  // it handed its URLs over: nothing to re-send
          if (in_store)
            self->request(j.queue, std::chrono::seconds(60), cl_relog_atom::value, g, std::uint64_t{0}, true)
              .then([](std::uint64_t, std::vector<url_task>&) {}, [](caf::error&) {});
        } else {
          vs[1] = &j.log[g];  // died: everything it ever accepted goes to the new owners
          if (in_store)
            replay_log(self, job_id, g);
        }
      }
      for (auto* v : vs) {
        if (!v)
          continue;
        std::move(v->begin(), v->end(), std::back_inserter(again));
        v->clear();
      }
      j.outstanding.erase(g);
    }
    for (auto it = j.unacked.begin(); it != j.unacked.end();) {
      if (std::find(lost.begin(), lost.end(), it->second.target) != lost.end()) {
        std::move(it->second.tasks.begin(), it->second.tasks.end(), std::back_inserter(again));
        it = j.unacked.erase(it);
      } else {
        ++it;
      }
    }
    if (!again.empty())
      route(self, job_id, std::move(again));
  }
}

/// This process's report for a job (asks its queue for the figures).
caf::result<cluster_report> report(agent_actor self, const std::string& job_id) {
  auto& st = self->state;
  auto it = st.jobs.find(job_id);
  if (it == st.jobs.end() || !it->second.queue) {
    cluster_report r;
    r.name = st.self_name;
    return r;
  }
  auto rp = self->make_response_promise<cluster_report>();
  self->request(it->second.queue, std::chrono::seconds(5), stats_atom::value)
    .then(
      [self, rp, job_id](queue_stats& qs) mutable {
        auto& st = self->state;
        auto& j = st.jobs[job_id];
        cluster_report r;
        r.name = st.self_name;
        r.attached = true;
        bool boxes_empty = std::all_of(j.outbox.begin(), j.outbox.end(), [](const auto& kv) { return kv.second.empty(); });
        // URLs left queued by a reached max_pages (the queue then reports them as rejected
        // "max_pages") will never be fetched: they do not keep the member busy.
        bool capped = qs.rejected.count("max_pages") > 0;
        r.idle = (qs.queued == 0 || capped) && qs.in_flight == 0 && boxes_empty && j.unacked.empty() &&
                 j.parked.empty() && j.replaying == 0;
        r.pages = qs.finished;
        r.queued = qs.queued;
        r.in_flight = qs.in_flight;
        r.hosts = qs.hosts;
        r.forwarded = j.forwarded;
        r.acked = j.acked;
        r.received = j.received;
        r.rejected_batches = st.rejected_batches;
        rp.deliver(std::move(r));
      },
      [self, rp](caf::error&) mutable {
        // The job's queue is gone (the job ended here): nothing more will happen here.
        cluster_report r;
        r.name = self->state.self_name;
        r.attached = true;
        r.idle = true;
        rp.deliver(std::move(r));
      });
  return rp;
}

void broadcast_members(agent_actor self, const std::string& handed_over = "") {
  auto& st = self->state;
  for (const auto* list : {&st.members, &st.leaving})
    for (const auto& m : *list)
      if (m.name != st.self_name)
        self->send(m.handle, cl_members_atom::value, st.members, st.leaving, handed_over);
}

void finish_job(agent_actor self, const std::string& job_id) {
  auto& j = self->state.jobs[job_id];
  j.done = true;
  if (j.queue)
    self->send(j.queue, cl_done_atom::value);
}

/// Coordinator: seeds of every running job admitted again (after a member died: the hosts it
/// owned now belong to others, who may never have seen their seeds).
void reseed(agent_actor self) {
  auto& st = self->state;
  for (auto& [id, cj] : st.cjobs) {
    if (cj.finished)
      continue;
    std::vector<url_task> tasks;
    for (const auto& s : cj.seeds)
      if (auto u = parse::parse_url(s))
        tasks.push_back(url_task{parse::normalize(*u), u->host_key(), 0, {}});
    route(self, id, std::move(tasks));
  }
}

/// A member died or left. `handed_over`: a clean leave whose hand-over completed (its URLs are
/// with their new owners): nothing is re-sent, no seed re-admitted.
void member_gone(agent_actor self, const std::string& name, const char* how, bool handed_over = false) {
  auto& st = self->state;
  if (!find_any(st, name))
    return;
  auto members = st.members, leaving = st.leaving;
  for (auto* list : {&members, &leaving})
    list->erase(std::remove_if(list->begin(), list->end(), [&](const auto& m) { return m.name == name; }), list->end());
  const std::string clean = handed_over ? name : "";
  apply_members(self, members, leaving, clean);
  broadcast_members(self, clean);
  if (!handed_over)
    reseed(self);
  for (auto& [id, cj] : st.cjobs) {
    cj.prev_signature.clear();
    cj.prev_quiet = false;
  }
  cluster_event e;
  e.what = cluster_event::kind::member_down;
  e.node = name + " (" + how + ")";
  st.sh->push(std::move(e));
}

void poll_round(agent_actor self, const std::string& job_id);

void evaluate(agent_actor self, const std::string& job_id, std::vector<cluster_report>& reps, bool complete) {
  auto& st = self->state;
  auto& cj = st.cjobs[job_id];
  cj.polling = false;
  std::sort(reps.begin(), reps.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  bool quiet = complete && !reps.empty();
  std::string sig;
  for (const auto& r : reps) {
    quiet = quiet && r.attached && r.idle;
    sig += r.name + ':' + std::to_string(r.pages) + ',' + std::to_string(r.forwarded) + ',' +
           std::to_string(r.acked) + ',' + std::to_string(r.received) + ';';
  }
  // Status for the API (figures summed over jobs would need every job's reports: the newest
  // round of the newest job is what is shown).
  {
    auto now = steady::now();
    std::lock_guard<std::mutex> g(st.sh->m);
    auto& s = st.sh->status;
    for (auto& m : s.members)
      for (const auto& r : reps)
        if (r.name == m.name) {
          auto& lp = st.last_pages[m.name];
          double dt = std::chrono::duration<double>(now - lp.second).count();
          if (lp.second != steady::time_point{} && dt > 0.05)
            m.pages_per_second = r.pages >= lp.first ? (r.pages - lp.first) / dt : 0;
          lp = {r.pages, now};
          m.pages = r.pages;
          m.queued = r.queued;
          m.in_flight = r.in_flight;
          m.hosts = r.hosts;
          m.forwarded = r.forwarded;
          m.acked = r.acked;
          m.received = r.received;
          m.rejected_batches = r.rejected_batches;
          m.idle = r.idle;
        }
    s.rejected_joins = st.rejected_joins;
    auto& jm = st.sh->job_members[job_id];
    jm.clear();
    for (const auto& r : reps) {
      cluster_member_status c;
      c.name = r.name;
      c.self = r.name == st.self_name;
      c.pages = r.pages;
      c.queued = r.queued;
      c.in_flight = r.in_flight;
      c.hosts = r.hosts;
      c.forwarded = r.forwarded;
      c.acked = r.acked;
      c.received = r.received;
      c.rejected_batches = r.rejected_batches;
      c.idle = r.idle;
      jm.push_back(c);
    }
  }
  // Quiescence, seen twice in a row with nothing changed in between (docs/cluster.md).
  if (quiet && cj.prev_quiet && sig == cj.prev_signature) {
    cj.finished = true;
    for (const auto* list : {&st.members, &st.leaving})
      for (const auto& m : *list)
        if (m.name != st.self_name)
          self->send(m.handle, cl_finish_atom::value, job_id);
    finish_job(self, job_id);
    return;
  }
  cj.prev_quiet = quiet;
  cj.prev_signature = sig;
  self->delayed_send(self, st.poll_every, cl_tick_atom::value, job_id);
}

void poll_round(agent_actor self, const std::string& job_id) {
  auto& st = self->state;
  auto& cj = st.cjobs[job_id];
  if (cj.finished || cj.polling)
    return;
  cj.polling = true;
  struct round {
    std::vector<cluster_report> reps;
    std::size_t expected = 0, answered = 0;
    bool complete = true;
  };
  auto r = std::make_shared<round>();
  auto polled = st.members;  // leaving members too: they hold URLs until handed over
  polled.insert(polled.end(), st.leaving.begin(), st.leaving.end());
  r->expected = polled.size();
  for (const auto& m : polled) {
    auto on_done = [self, job_id, r] {
      if (++r->answered == r->expected)
        evaluate(self, job_id, r->reps, r->complete);
    };
    self->request(m.handle, std::chrono::seconds(5), cl_poll_atom::value, job_id)
      .then(
        [r, on_done](cluster_report& rep) {
          r->reps.push_back(std::move(rep));
          on_done();
        },
        [r, on_done](caf::error&) {
          r->complete = false;
          on_done();
        });
  }
}

/// Whether nothing of this process's forwarding is pending: no URL waiting, unacknowledged, parked
/// or being committed by a queue.
bool forwarding_idle(const agent_state& st) {
  for (const auto& [id, j] : st.jobs) {
    if (!j.unacked.empty() || !j.parked.empty() || j.adding > 0 || j.replaying > 0)
      return false;
    for (const auto& [t, box] : j.outbox)
      if (!box.empty())
        return false;
  }
  return true;
}

void drain_step(agent_actor self);

/// The hand-over's marking phase: the keys of this member's stored pages, chunk by chunk, go to
/// the members that will own their hosts, which mark them seen (so the pages this member fetched
/// are not fetched again after it left). Then the coordinator is asked to make this member
/// `leaving` (its broadcast arrives before its answer: from then on nobody routes a URL here).
void mark_step(agent_actor self) {
  auto& st = self->state;
  using ho = agent_state::handover;
  if (st.mark_jobs.empty()) {
    st.ho = ho::asked;
    self->request(st.coord, std::chrono::seconds(5), cl_leave_atom::value, st.self_name, st.token, true)
      .then(
        [self](caf::ok_atom) {
          self->state.ho = ho::rehoming;
          self->send(self, cl_drain_atom::value);
        },
        [self](caf::error& e) mutable {
          self->state.ho = ho::none;
          self->state.ho_rp.deliver(std::move(e));
        });
    return;
  }
  auto job_id = st.mark_jobs.front();
  auto& j = st.jobs[job_id];
  if (!j.queue) {
    st.mark_jobs.erase(st.mark_jobs.begin());
    return mark_step(self);
  }
  self->request(j.queue, std::chrono::seconds(30), cl_pages_atom::value, st.mark_after)
    .then(
      [self, job_id](std::vector<std::string>& keys) {
        auto& st = self->state;
        if (keys.empty()) {
          st.mark_jobs.erase(st.mark_jobs.begin());
          st.mark_after.clear();
          self->send(self, cl_drain_atom::value);
          return;
        }
        st.mark_after = keys.back();
        st.marked += keys.size();
        crawld::cluster::rendezvous after;  // the members without this one
        for (const auto& m : st.members)
          if (m.name != st.self_name)
            after.add(m.name);
        std::map<std::string, std::vector<std::string>> by_owner;
        for (auto& k : keys)
          if (auto u = parse::parse_url(k); u && after.size() > 0)
            by_owner[after.owner(u->host_key())].push_back(std::move(k));
        auto left = std::make_shared<std::size_t>(by_owner.size());
        if (*left == 0)
          return (void)self->send(self, cl_drain_atom::value);
        for (auto& [owner, ks] : by_owner) {
          const auto* m = find_member(st, owner);
          if (!m) {
            if (--*left == 0)
              self->send(self, cl_drain_atom::value);
            continue;
          }
          // Errors only cost repeats (the page is fetched again by its new owner): go on.
          auto next = [self, left] {
            if (--*left == 0)
              self->send(self, cl_drain_atom::value);
          };
          self->request(m->handle, std::chrono::seconds(30), cl_mark_atom::value, job_id, st.self_name, st.token,
                        std::move(ks))
            .then([next](caf::ok_atom) { next(); }, [next](caf::error&) { next(); });
        }
      },
      [self](caf::error&) {
        auto& st = self->state;
        st.mark_jobs.erase(st.mark_jobs.begin());
        st.mark_after.clear();
        self->send(self, cl_drain_atom::value);
      });
}

/// One step of a node's hand-over (docs/cluster.md, clean leave): wait until the paused queues
/// have no request in flight, make them hand every queued URL to this actor (`clrehome`: no host
/// is local any more), wait until every batch is acknowledged, then close (refuse batches) and
/// tell the coordinator `clleft`.
void drain_step(agent_actor self) {
  auto& st = self->state;
  using ho = agent_state::handover;
  std::vector<caf::actor> queues;
  for (auto& [id, j] : st.jobs)
    if (j.queue && !j.done)
      queues.push_back(j.queue);
  auto again = [self] { self->delayed_send(self, std::chrono::milliseconds(20), cl_drain_atom::value); };
  if (st.ho == ho::marking)
    return mark_step(self);
  if (st.ho == ho::draining || st.ho == ho::rehoming) {
    if (queues.empty()) {
      st.ho = st.ho == ho::draining ? ho::marking : ho::flushing;
      return drain_step(self);
    }
    struct round {
      std::size_t left = 0;
      std::uint64_t busy = 0;
    };
    auto r = std::make_shared<round>();
    r->left = queues.size();
    auto phase = st.ho;
    auto done = [self, r, phase, again] {
      if (--r->left > 0)
        return;
      auto& st = self->state;
      if (st.ho != phase)
        return;
      if (phase == ho::draining && r->busy > 0)
        return again();
      st.ho = phase == ho::draining ? ho::marking : ho::flushing;
      if (st.ho == ho::marking) {
        st.mark_jobs.clear();
        for (auto& [id, j] : st.jobs)
          if (j.queue && !j.done)
            st.mark_jobs.push_back(id);
        st.mark_after.clear();
      }
      self->send(self, cl_drain_atom::value);
    };
    for (const auto& q : queues) {
      if (phase == ho::draining)
        self->request(q, std::chrono::seconds(5), stats_atom::value)
          .then(
            [r, done](queue_stats& qs) {
              r->busy += qs.in_flight;
              done();
            },
            [done](caf::error&) { done(); });
      else
        self->request(q, std::chrono::seconds(60), cl_rehome_atom::value)
          .then([done](caf::ok_atom) { done(); }, [done](caf::error&) { done(); });
    }
    return;
  }
  if (st.ho != ho::flushing)
    return;
  if (!forwarding_idle(st))
    return again();
  st.ho = ho::closed;
  self->request(st.coord, std::chrono::seconds(5), cl_left_atom::value, st.self_name, st.token)
    .then(
      [self](caf::ok_atom) {
        auto& st = self->state;
        std::uint64_t acked = 0;
        for (const auto& [id, j] : st.jobs)
          acked += j.acked;
        st.ho_rp.deliver(acked - st.ho_acked_at);
      },
          [self](caf::error& e) { self->state.ho_rp.deliver(std::move(e)); });
}

caf::behavior agent(agent_actor self, std::string name, std::string secret, bool coordinator,
                    caf::actor coord, std::shared_ptr<cluster_view> view, std::shared_ptr<cluster_shared> sh,
                    std::chrono::milliseconds poll_every) {
  auto& st = self->state;
  st.self_name = std::move(name);
  st.secret = std::move(secret);
  st.coordinator = coordinator;
  st.coord = std::move(coord);
  st.view = std::move(view);
  st.sh = std::move(sh);
  st.poll_every = poll_every;
  if (coordinator) {
    st.token = random_hex(16);
    st.members.push_back(cluster_member{st.self_name, st.token, caf::actor_cast<caf::actor>(self)});
    apply_members(self, st.members);
  } else {
    self->monitor(st.coord);
  }
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (!st.coordinator) {
      if (dm.source == st.coord.address()) {
        cluster_event e;
        e.what = cluster_event::kind::coordinator_lost;
        st.sh->push(std::move(e));
      }
      return;
    }
    auto it = st.monitored.find(dm.source);
    if (it == st.monitored.end())
      return;
    auto name = it->second;
    st.monitored.erase(it);
    member_gone(self, name, "down");
  });
  auto from_coordinator = [self] {
    auto& st = self->state;
    return !st.coordinator && self->current_sender() == caf::actor_cast<caf::strong_actor_ptr>(st.coord);
  };
  return {
    // ---- coordinator: joins and leaves ----
    [self](cl_join_atom, std::string& secret, std::string& name, caf::actor& handle)
      -> caf::result<cl_join_atom, bool, std::string> {
      auto& st = self->state;
      if (!st.coordinator)
        return {cl_join_atom::value, false, std::string("not a coordinator")};
      if (!constant_time_equal(secret, st.secret)) {
        ++st.rejected_joins;
        {
          std::lock_guard<std::mutex> g(st.sh->m);
          st.sh->status.rejected_joins = st.rejected_joins;
        }
        return {cl_join_atom::value, false, std::string("wrong cluster secret")};
      }
      if (name.empty() || find_any(st, name) || !handle) {
        ++st.rejected_joins;
        return {cl_join_atom::value, false, "the name '" + name + "' is empty or already a member"};
      }
      auto token = random_hex(16);
      auto members = st.members;
      members.push_back(cluster_member{name, token, handle});
      self->monitor(handle);
      st.monitored[handle.address()] = name;
      apply_members(self, members, st.leaving);
      broadcast_members(self);
      // Jobs still running: the newcomer runs them too.
      for (auto& [id, cj] : st.cjobs) {
        if (!cj.finished)
          self->send(handle, cl_job_atom::value, id, cj.spec);
        if (!cj.finished && cj.paused)
          self->send(handle, cl_pause_atom::value, id, true);
        cj.prev_signature.clear();
        cj.prev_quiet = false;
      }
      return {cl_join_atom::value, true, token};
    },
    // A leave. hand_over: the member hands its queued URLs to their new owners first; it owns
    // nothing from now on but may still send batches until `clleft`. Otherwise: like a death.
    [self](cl_leave_atom, std::string& name, std::string& token, bool hand_over) -> caf::result<caf::ok_atom> {
      auto& st = self->state;
      const auto* m = find_any(st, name);
      if (!st.coordinator || !m || name == st.self_name || !constant_time_equal(token, m->token))
        return caf::make_error(caf::sec::request_receiver_down);
      if (hand_over && find_member(st, name)) {
        auto members = st.members, leaving = st.leaving;
        leaving.push_back(*m);
        members.erase(std::remove_if(members.begin(), members.end(), [&](const auto& x) { return x.name == name; }),
                      members.end());
        apply_members(self, members, leaving);
        broadcast_members(self);
        for (auto& [id, cj] : st.cjobs) {
          cj.prev_signature.clear();
          cj.prev_quiet = false;
        }
        return caf::ok_atom::value;
      }
      auto addr = m->handle.address();
      self->demonitor(m->handle);
      st.monitored.erase(addr);
      member_gone(self, name, "left");
      return caf::ok_atom::value;
    },
    // A leaving member handed everything over: it goes, and nothing of it is re-sent.
    [self](cl_left_atom, std::string& name, std::string& token) -> caf::result<caf::ok_atom> {
      auto& st = self->state;
      const auto* m = find_any(st, name);
      if (!st.coordinator || !m || find_member(st, name) || !constant_time_equal(token, m->token))
        return caf::make_error(caf::sec::request_receiver_down);
      auto addr = m->handle.address();
      self->demonitor(m->handle);
      st.monitored.erase(addr);
      member_gone(self, name, "left, handed over", true);
      return caf::ok_atom::value;
    },
    // ---- node: leave (from the cluster object, this process only) ----
    [self](cl_leave_atom) -> caf::result<caf::ok_atom> {
      auto& st = self->state;
      auto sender = self->current_sender();
      if (st.coordinator || !sender || sender->node() != self->node())
        return caf::make_error(caf::sec::request_receiver_down);
      auto rp = self->make_response_promise<caf::ok_atom>();
      self->request(st.coord, std::chrono::seconds(5), cl_leave_atom::value, st.self_name, st.token, false)
        .then([rp](caf::ok_atom) mutable { rp.deliver(caf::ok_atom::value); },
              [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
    // ---- node: clean leave by hand-over (from the cluster object, this process only) ----
    [self](cl_handover_atom) -> caf::result<std::uint64_t> {
      auto& st = self->state;
      auto sender = self->current_sender();
      if (st.coordinator || !sender || sender->node() != self->node() || st.ho != agent_state::handover::none)
        return caf::make_error(caf::sec::request_receiver_down);
      if (!find_member(st, st.self_name) || st.members.size() < 2)
        return caf::make_error(caf::sec::runtime_error, "no other member to hand the URLs to");
      st.ho = agent_state::handover::draining;
      st.ho_rp = self->make_response_promise<std::uint64_t>();
      st.ho_acked_at = 0;
      for (const auto& [id, j] : st.jobs)
        st.ho_acked_at += j.acked;
      for (auto& [id, j] : st.jobs)
        if (j.queue)
          self->send(j.queue, pause_atom::value);  // no new request starts here
      self->send(self, cl_drain_atom::value);
      return st.ho_rp;
    },
    [self](cl_drain_atom) { drain_step(self); },
    // A forward log's replay waiting for the outboxes to drain (local).
    [self](cl_relog_atom, std::string& job_id, std::string& target, std::uint64_t after) {
      if (self->current_sender() && self->current_sender() != caf::actor_cast<caf::strong_actor_ptr>(self))
        return;
      replay_log(self, job_id, target, after, true);
    },
    // ---- coordinator: a job submitted here (from the cluster object) ----
    [self](cl_start_atom, std::string& id, std::string& spec, std::vector<std::string>& seeds) {
      auto& st = self->state;
      auto& cj = st.cjobs[id];
      cj.spec = spec;
      cj.seeds = seeds;
      for (const auto& m : st.members)
        if (m.name != st.self_name)
          self->send(m.handle, cl_job_atom::value, id, spec);
      self->delayed_send(self, st.poll_every, cl_tick_atom::value, id);
    },
    [self](cl_tick_atom, std::string& id) { poll_round(self, id); },
    // Cancel: from the cluster object on the coordinator (sent on to every member), or from the
    // coordinator on a node (the node's main thread cancels its run).
    [self, from_coordinator](cl_cancel_atom, std::string& id) {
      auto& st = self->state;
      auto sender = self->current_sender();
      bool local = st.coordinator && (!sender || sender->node() == self->node());
      if (!local && !from_coordinator())
        return;
      auto& j = st.jobs[id];
      j.done = true;
      j.outbox.clear();
      j.unacked.clear();
      if (local) {
        st.cjobs[id].finished = true;
        for (const auto& m : st.members)
          if (m.name != st.self_name)
            self->send(m.handle, cl_cancel_atom::value, id);
        return;
      }
      cluster_event e;
      e.what = cluster_event::kind::cancel_job;
      e.job_id = id;
      st.sh->push(std::move(e));
    },
    // Pause / resume: from the cluster object on the coordinator (sent on to every member), or
    // from the coordinator on a node (the node's main thread pauses or resumes its run).
    [self, from_coordinator](cl_pause_atom, std::string& id, bool pause) {
      auto& st = self->state;
      auto sender = self->current_sender();
      bool local = st.coordinator && (!sender || sender->node() == self->node());
      if (local) {
        st.cjobs[id].paused = pause;
        for (const auto* list : {&st.members, &st.leaving})
          for (const auto& m : *list)
            if (m.name != st.self_name)
              self->send(m.handle, cl_pause_atom::value, id, pause);
        return;
      }
      if (!from_coordinator())
        return;
      cluster_event e;
      e.what = pause ? cluster_event::kind::pause_job : cluster_event::kind::resume_job;
      e.job_id = id;
      st.sh->push(std::move(e));
    },
    // ---- node: from the coordinator ----
    [self, from_coordinator](cl_members_atom, std::vector<cluster_member>& members,
                             std::vector<cluster_member>& leaving, std::string& handed_over) {
      if (!from_coordinator())
        return;
      auto& st = self->state;
      auto has_me = [&](const auto& v) {
        return std::any_of(v.begin(), v.end(), [&](const auto& m) { return m.name == st.self_name; });
      };
      bool in = has_me(members) || has_me(leaving) || st.ho != agent_state::handover::none;
      apply_members(self, std::move(members), std::move(leaving), handed_over);
      if (!in) {
        cluster_event e;
        e.what = cluster_event::kind::coordinator_lost;  // dropped from the cluster
        st.sh->push(std::move(e));
      }
    },
    [self, from_coordinator](cl_job_atom, std::string& id, std::string& spec) {
      if (!from_coordinator())
        return;
      self->state.jobs[id];  // batches for it may arrive before its queue attaches
      cluster_event e;
      e.what = cluster_event::kind::start_job;
      e.job_id = id;
      e.spec = spec;
      self->state.sh->push(std::move(e));
    },
    [self, from_coordinator](cl_poll_atom, std::string& id) -> caf::result<cluster_report> {
      auto& st = self->state;
      bool own = st.coordinator && self->current_sender() == caf::actor_cast<caf::strong_actor_ptr>(self);
      if (!own && !from_coordinator())
        return caf::make_error(caf::sec::request_receiver_down);
      return report(self, id);
    },
    [self, from_coordinator](cl_finish_atom, std::string& id) {
      if (from_coordinator())
        finish_job(self, id);
    },
    // ---- every member: batches ----
    [self](cl_batch_atom, std::string& job_id, std::string& from, std::string& token, std::uint64_t id,
           std::vector<url_task>& tasks) -> caf::result<cl_ack_atom, std::uint64_t> {
      auto& st = self->state;
      const auto* m = find_any(st, from);
      if (!m || from == st.self_name || !constant_time_equal(token, m->token)) {
        ++st.rejected_batches;
        return caf::make_error(caf::sec::request_receiver_down);
      }
      if (st.ho == agent_state::handover::closed)  // handed over and leaving: the sender routes it again
        return caf::make_error(caf::sec::request_receiver_down);
      auto& j = st.jobs[job_id];
      auto rp = self->make_response_promise<cl_ack_atom, std::uint64_t>();
      if (!j.queue) {
        j.parked.push_back(fwd_job::parked_batch{rp, id, std::move(tasks)});
        return rp;
      }
      hand_to_queue(self, job_id, j.queue, rp, id, std::move(tasks));
      return rp;
    },
    // Pages a leaving member fetched, for hosts this member owns after it: marked seen here.
    [self](cl_mark_atom, std::string& job_id, std::string& from, std::string& token,
           std::vector<std::string>& keys) -> caf::result<caf::ok_atom> {
      auto& st = self->state;
      const auto* m = find_any(st, from);
      if (!m || from == st.self_name || !constant_time_equal(token, m->token)) {
        ++st.rejected_batches;
        return caf::make_error(caf::sec::request_receiver_down);
      }
      auto& j = st.jobs[job_id];
      if (!j.queue)
        return caf::ok_atom::value;  // not running here (yet): nothing to keep from fetching
      auto rp = self->make_response_promise<caf::ok_atom>();
      self->request(j.queue, std::chrono::seconds(60), cl_mark_atom::value, std::move(keys))
        .then([rp](caf::ok_atom) mutable { rp.deliver(caf::ok_atom::value); },
              [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
    // ---- local: the job's queue ----
    [self](cl_attach_atom, std::string& job_id, caf::actor& queue) {
      auto& j = self->state.jobs[job_id];
      j.queue = queue;
      if (j.done)
        self->send(queue, cl_done_atom::value);
      auto parked = std::move(j.parked);
      j.parked.clear();
      for (auto& p : parked)
        hand_to_queue(self, job_id, queue, std::move(p.rp), p.id, std::move(p.tasks));
    },
    [self](cl_fwd_atom, std::string& job_id, std::vector<url_task>& tasks) {
      route(self, job_id, std::move(tasks));
    },
    [self](cl_flush_atom, std::string& job_id) {
      self->state.jobs[job_id].flush_scheduled = false;
      flush_all(self, job_id);
    },
  };
}

}  // namespace

// ---- the cluster object ------------------------------------------------------------------------

struct cluster::impl {
  runtime* rt = nullptr;
  caf::actor_system* sys = nullptr;
  caf::actor agent, coord;
  std::uint16_t port = 0;
  bool coordinator = false;
  std::string name;
  std::shared_ptr<cluster_view> view;
  std::shared_ptr<cluster_shared> sh;
};

cluster::cluster(std::unique_ptr<impl> i) : impl_(std::move(i)) {}

cluster::~cluster() {
  if (impl_ && impl_->agent)
    caf::anon_send_exit(impl_->agent, caf::exit_reason::user_shutdown);
}

std::uint16_t cluster::port() const { return impl_->port; }

namespace {

std::unique_ptr<cluster::impl> make_impl(runtime& rt, const cluster_options& o, bool coordinator) {
  auto i = std::make_unique<cluster::impl>();
  i->rt = &rt;
  i->sys = &system_of(rt);
  i->coordinator = coordinator;
  i->name = o.name;
  i->view = std::make_shared<cluster_view>(o.name);
  i->sh = std::make_shared<cluster_shared>();
  i->sh->status.self = o.name;
  i->sh->status.coordinator = coordinator;
  return i;
}

}  // namespace

result<std::unique_ptr<cluster>> cluster::coordinate(runtime& rt, cluster_options o) {
  if (o.secret.empty())
    return make_error("the cluster secret is empty");
  if (o.name.empty())
    return make_error("the cluster member name is empty");
  auto i = make_impl(rt, o, true);
  i->agent = i->sys->spawn(agent, o.name, o.secret, true, caf::actor{}, i->view, i->sh, o.poll_every);
  auto port = o.tls ? caf::openssl::publish(i->agent, o.port, o.host.c_str(), true)
                    : i->sys->middleman().publish(i->agent, o.port, o.host.c_str(), true);
  if (!port) {
    caf::anon_send_exit(i->agent, caf::exit_reason::user_shutdown);
    return make_error("cannot listen for cluster members on " + o.host + ":" + std::to_string(o.port) + " (" +
                      i->sys->render(port.error()) + ")");
  }
  i->port = *port;
  return std::unique_ptr<cluster>(new cluster(std::move(i)));
}

result<std::unique_ptr<cluster>> cluster::join(runtime& rt, cluster_options o) {
  if (o.secret.empty())
    return make_error("the cluster secret is empty");
  if (o.name.empty())
    return make_error("the node name is empty");
  auto i = make_impl(rt, o, false);
  auto coord = o.tls ? caf::openssl::remote_actor<caf::actor>(*i->sys, o.host, o.port)
                     : i->sys->middleman().remote_actor(o.host, o.port);
  if (!coord)
    return make_error("cannot reach the coordinator at " + o.host + ":" + std::to_string(o.port) + " (" +
                      i->sys->render(coord.error()) + ")");
  i->coord = *coord;
  i->agent = i->sys->spawn(agent, o.name, o.secret, false, i->coord, i->view, i->sh, o.poll_every);
  std::string err;
  bool ok = false;
  {
    caf::scoped_actor self{*i->sys};
    self->request(i->coord, std::chrono::seconds(10), cl_join_atom::value, o.secret, o.name, i->agent)
      .receive(
        [&](cl_join_atom, bool accepted, std::string& text) {
          ok = accepted;
          if (!accepted)
            err = "the coordinator refused the join: " + text;
        },
        [&](caf::error& e) { err = "no answer to the join from the coordinator (" + i->sys->render(e) + ")"; });
  }
  if (!ok) {
    caf::anon_send_exit(i->agent, caf::exit_reason::user_shutdown);
    return make_error(err);
  }
  return std::unique_ptr<cluster>(new cluster(std::move(i)));
}

std::shared_ptr<cluster_job_hook> cluster::hook(const std::string& job_id) {
  auto h = std::make_shared<cluster_job_hook>();
  h->job_id = job_id;
  h->agent = impl_->agent;
  h->view = impl_->view;
  return h;
}

std::shared_ptr<cluster_job_hook> cluster::start_job(const std::string& job_id, const std::string& spec,
                                                     const std::vector<std::string>& seeds) {
  caf::anon_send(impl_->agent, cl_start_atom::value, job_id, spec, seeds);
  return hook(job_id);
}

void cluster::cancel_job(const std::string& job_id) {
  if (impl_->coordinator)
    caf::anon_send(impl_->agent, cl_cancel_atom::value, job_id);
}

void cluster::pause_job(const std::string& job_id, bool pause) {
  if (impl_->coordinator)
    caf::anon_send(impl_->agent, cl_pause_atom::value, job_id, pause);
}

std::vector<cluster_member_status> cluster::job_status(const std::string& job_id) const {
  std::lock_guard<std::mutex> g(impl_->sh->m);
  auto it = impl_->sh->job_members.find(job_id);
  return it == impl_->sh->job_members.end() ? std::vector<cluster_member_status>{} : it->second;
}

std::optional<cluster_event> cluster::next_event(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> g(impl_->sh->m);
  if (!impl_->sh->cv.wait_for(g, timeout, [&] { return !impl_->sh->events.empty(); }))
    return std::nullopt;
  auto e = std::move(impl_->sh->events.front());
  impl_->sh->events.pop_front();
  return e;
}

cluster_status cluster::status() const {
  std::lock_guard<std::mutex> g(impl_->sh->m);
  return impl_->sh->status;
}

result<std::uint64_t> cluster::hand_over(std::chrono::milliseconds timeout) {
  if (impl_->coordinator || !impl_->coord)
    return make_error("only a node hands over");
  caf::scoped_actor self{*impl_->sys};
  std::string err;
  std::uint64_t handed = 0;
  self->request(impl_->agent, timeout, cl_handover_atom::value)
    .receive([&](std::uint64_t n) { handed = n; }, [&](caf::error& e) { err = impl_->sys->render(e); });
  if (!err.empty())
    return make_error("the hand-over did not complete (" + err + ")");
  return handed;
}

void cluster::leave(std::chrono::milliseconds timeout) {
  if (impl_->coordinator || !impl_->coord)
    return;
  caf::scoped_actor self{*impl_->sys};
  self->request(impl_->agent, timeout, cl_leave_atom::value)
    .receive([](caf::ok_atom) {}, [](caf::error&) {});
}

}  // namespace crawld::actors
