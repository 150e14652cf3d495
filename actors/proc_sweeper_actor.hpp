#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/timespan.hpp>

#include <chrono>
#include <memory>

#include "messages/pipeline_stats.hpp"
#include "runtime/counter_ledger.hpp"

namespace auditree {

/// State of the /proc sweeper.
struct proc_sweeper_state {
  static inline const char* name = "proc_sweeper";

  caf::actor tree;
  caf::timespan interval{};
  caf::timespan min_gap{};
  std::chrono::steady_clock::time_point last_sweep{};
  bool early_pending = false;
  /// Sweeps sent to the tree, sweeps abandoned because a pid could not be
  /// read (descriptors ran out: ending it would end a live process), and
  /// the pids that were unknown in them.
  proc_sweep_stats counters;
  /// Where the counters outlive the sweeper; may be null.
  std::shared_ptr<counter_ledger> ledger;

  ~proc_sweeper_state();
};

/// Reconciles the tree with /proc: every `interval` it reads every live
/// process and sends the snapshot to the tree, which ends what /proc no
/// longer shows and adds what the events missed. After a loss (a `sweep`
/// message from a source), it sweeps early, but never twice within
/// `min_gap`: a burst of losses costs one sweep. A sweep where a pid could
/// not be read for a reason other than its end is abandoned (and counted):
/// the tree would take that pid as ended.
/// Protocol:
/// - `sweep` (self, periodic; or from a source after a loss).
/// - `rewire, "tree", handle`: a new tree.
/// - `stats` -> `uint64_t, uint64_t, uint64_t`: sweeps done, abandoned,
///   unknown pids (see proc_sweeper_state).
/// - `crash`: throws (fault injection).
/// - `mailbox` -> `uint64_t`: the messages waiting, for /metrics.
caf::behavior proc_sweeper_actor(caf::stateful_actor<proc_sweeper_state>* self,
                                 caf::actor tree, caf::timespan interval,
                                 caf::timespan min_gap,
                                 std::shared_ptr<counter_ledger> ledger);

} // namespace auditree
