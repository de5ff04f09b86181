// The semaphore actor: N permits bounding requests in flight across the process. Waiters are
// served first come, first served. A holder that dies gets its permits returned (monitor).
// `(acquire, then, next)` takes a permit for the requester and then delegates `next` to `then`,
// whose answer goes straight to the requester: the queue hands a fetcher's URL through here and
// the rate limiter's gate, so the fetcher wakes once per URL instead of once per hop.
#include <deque>
#include <unordered_map>

#include "actors/messages.hpp"

namespace crawld::actors {
namespace {

struct semaphore_state {
  int free = 0;
  struct waiter {
    caf::response_promise rp;
    caf::actor_addr who;
    caf::actor then;    // when set: delegate `next` to it on grant instead of answering ok
    caf::message next;
  };
  std::deque<waiter> waiting;
  std::unordered_map<caf::actor_addr, int> held;
};

caf::behavior semaphore(caf::stateful_actor<semaphore_state>* self, int permits) {
  self->state.free = permits;
  auto grant = [self](const caf::actor_addr& who) {
    auto& n = self->state.held[who];
    if (n++ == 0)
      self->monitor(who);
  };
  auto give_back = [self, grant](int n) {
    auto& st = self->state;
    st.free += n;
    while (st.free > 0 && !st.waiting.empty()) {
      auto w = std::move(st.waiting.front());
      st.waiting.pop_front();
      --st.free;
      grant(w.who);
      if (w.then)
        w.rp.delegate(w.then, std::move(w.next));
      else
        w.rp.deliver(caf::ok_atom::value);
    }
  };
  self->set_down_handler([self, give_back](caf::down_msg& dm) {
    auto& st = self->state;
    // Drop the dead actor's queued requests, then return what it held.
    for (auto i = st.waiting.begin(); i != st.waiting.end();)
      i = i->who == dm.source ? st.waiting.erase(i) : i + 1;
    auto it = st.held.find(dm.source);
    if (it != st.held.end()) {
      int n = it->second;
      st.held.erase(it);
      give_back(n);
    }
  });
  return {
    [self, grant](acquire_atom) -> caf::result<caf::ok_atom> {
      auto who = caf::actor_cast<caf::actor_addr>(self->current_sender());
      auto& st = self->state;
      if (st.free > 0 && st.waiting.empty()) {
        --st.free;
        grant(who);
        return caf::ok_atom::value;
      }
      auto rp = self->make_response_promise();
      st.waiting.push_back({rp, who, {}, {}});
      return rp;
    },
    [self, grant](acquire_atom, caf::actor& then, caf::message& next) -> caf::result<caf::message> {
      auto who = caf::actor_cast<caf::actor_addr>(self->current_sender());
      auto& st = self->state;
      auto rp = self->make_response_promise();
      if (st.free > 0 && st.waiting.empty()) {
        --st.free;
        grant(who);
        rp.delegate(then, std::move(next));
      } else {
        st.waiting.push_back({rp, who, std::move(then), std::move(next)});
      }
      return rp;
    },
    [self, give_back](release_atom) {
      auto who = caf::actor_cast<caf::actor_addr>(self->current_sender());
      auto it = self->state.held.find(who);
      if (it == self->state.held.end() || it->second == 0)
        return;  // not a holder: ignore rather than mint a permit
      if (--it->second == 0) {
        self->demonitor(who);
        self->state.held.erase(it);
      }
      give_back(1);
    },
    [self](stats_atom) { return self->state.free; },
  };
}

}  // namespace

caf::actor spawn_semaphore(caf::actor_system& sys, int permits) {
  return sys.spawn(semaphore, permits);
}

}  // namespace crawld::actors
