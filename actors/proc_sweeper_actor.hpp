#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/timespan.hpp>

#include <chrono>

namespace auditree {

/// State of the /proc sweeper.
struct proc_sweeper_state {
  static inline const char* name = "proc_sweeper";

  caf::actor tree;
  caf::timespan interval{};
  caf::timespan min_gap{};
  std::chrono::steady_clock::time_point last_sweep{};
  bool early_pending = false;
  uint64_t num_sweeps = 0;
};

/// Reconciles the tree with /proc: every `interval` it reads every live
/// process and sends the snapshot to the tree, which ends what /proc no
/// longer shows and adds what the events missed. After a loss (a `sweep`
/// message from a source), it sweeps early, but never twice within
/// `min_gap`: a burst of losses costs one sweep.
/// Protocol:
/// - `sweep` (self, periodic; or from a source after a loss).
/// - `rewire, "tree", handle`: a new tree.
/// - `stats` -> `uint64_t`: sweeps done.
/// - `crash`: throws (fault injection).
/// - `mailbox` -> `uint64_t`: the messages waiting, for /metrics.
caf::behavior proc_sweeper_actor(caf::stateful_actor<proc_sweeper_state>* self,
                                 caf::actor tree, caf::timespan interval,
                                 caf::timespan min_gap);

} // namespace auditree
