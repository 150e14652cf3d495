#include "actors/proc_sweeper_actor.hpp"

#include <caf/all.hpp>

#include "actors/fault.hpp"
#include "actors/ownership_checks.hpp"
#include "messages/type_ids.hpp"
#include "runtime/log.hpp"
#include "runtime/proc_scan.hpp"

#include <cstring>

namespace auditree {

namespace {

using self_pointer = caf::stateful_actor<proc_sweeper_state>*;

uint64_t wall_ms() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
    duration_cast<milliseconds>(system_clock::now().time_since_epoch())
      .count());
}

void sweep(self_pointer self) {
  auto& st = self->state;
  st.last_sweep = std::chrono::steady_clock::now();
  auto at = wall_ms();
  auto scan = sweep_proc("/proc");
  if (scan.error != 0 || !scan.unknown.empty()) {
    ++st.counters.num_abandoned;
    st.counters.num_unknown_pids += scan.unknown.size();
    log::warning("/proc sweep abandoned: ",
                 scan.error != 0
                   ? "cannot list /proc: " + std::string{std::strerror(scan.error)}
                   : std::to_string(scan.unknown.size()) + " pids unreadable ("
                       + std::strerror(scan.unknown_error) + ")");
    return;
  }
  // An empty scan says nothing about the host.
  if (scan.live.empty())
    return;
  // The tree counts the claims of delegated cgroups it refuses.
  mark_delegated_cgroups(scan.live);
  ++st.counters.num_sweeps;
  self->send(st.tree, reconcile_atom::value, at, std::move(scan.live));
}

} // namespace

proc_sweeper_state::~proc_sweeper_state() {
  if (ledger)
    ledger->retire(counters);
}

caf::behavior proc_sweeper_actor(self_pointer self, caf::actor tree,
                                 caf::timespan interval,
                                 caf::timespan min_gap,
                                 std::shared_ptr<counter_ledger> ledger) {
  log_exceptions(self);
  auto& st = self->state;
  st.ledger = std::move(ledger);
  st.tree = std::move(tree);
  st.interval = interval;
  st.min_gap = min_gap;
  self->delayed_send(self, interval, sweep_atom::value, true);
  return {
    // `periodic`: the timer's own sweep, which re-arms the timer.
    [=](sweep_atom, bool periodic) {
      auto& st = self->state;
      if (periodic) {
        sweep(self);
        self->delayed_send(self, st.interval, sweep_atom::value, true);
        return;
      }
      st.early_pending = false;
      auto since = std::chrono::steady_clock::now() - st.last_sweep;
      if (since >= st.min_gap)
        sweep(self);
    },
    // After a loss: sweep soon, at most once per `min_gap`.
    [=](sweep_atom) {
      auto& st = self->state;
      if (st.early_pending)
        return;
      st.early_pending = true;
      auto since = std::chrono::steady_clock::now() - st.last_sweep;
      auto wait = since >= st.min_gap ? caf::timespan{0}
                                      : caf::timespan{st.min_gap - since};
      self->delayed_send(self, wait, sweep_atom::value, false);
    },
    [=](rewire_atom, const std::string& name, const caf::actor& tree) {
      if (name == "tree")
        self->state.tree = tree;
    },
    [=](stats_atom) {
      auto& st = self->state;
      if (st.ledger)
        st.ledger->report(st.counters);
      auto& c = st.counters;
      return std::make_tuple(c.num_sweeps, c.num_abandoned,
                             c.num_unknown_pids);
    },
    [=](crash_atom) { throw injected_fault{"proc_sweeper"}; },
    [=](mailbox_atom) { return uint64_t{self->mailbox().size()}; },
  };
}

} // namespace auditree
