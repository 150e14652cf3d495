#pragma once

#include <atomic>
#include <memory>
#include <mutex>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/netlink_reader.hpp"
#include "actors/ownership_checks.hpp"
#include "messages/process_event.hpp"
#include "runtime/proc_connector.hpp"

namespace auditree {

/// State of the proc connector source. The reader stops first (member
/// order) so that no callback outlives the rest.
struct proc_connector_state {
  static inline const char* name = "proc_connector";

  ~proc_connector_state();

  /// Read on the reader's thread: guarded by `stats_mutex`.
  caf::actor tree;
  /// Touched on the reader's thread; `stats_mutex` guards the counters'
  /// copy that the actor reads.
  proc_connector_decoder decoder;
  process_event_batch batch;
  /// Cgroup container claims refused on the reader's thread, and when the
  /// last was logged (at most one line a second).
  claim_rejection_counts claims_rejected{};
  cgroup_owner_cache cgroup_owners;
  uint64_t claims_logged_ms = 0;
  uint64_t claims_unlogged = 0;
  std::mutex stats_mutex;
  connector_stats stats;
  std::unique_ptr<netlink_reader> reader;
};

/// Listens to the kernel's proc connector through a Boost.Asio reader and
/// sends FORK, EXEC and EXIT of processes to the tree as a second source:
/// the exit oracle for deaths audit never reports (signals, pid-namespace
/// teardown). Execs and forks are enriched at once with the process's
/// cgroup (its container), since short-lived processes vanish quickly;
/// what an exec loaded comes from audit. If the socket cannot be opened
/// (needs CAP_NET_ADMIN), the actor quits with the reason.
/// Events go to the tree at most `delay` (`connector-delay`) after they
/// arrived.
/// Protocol:
/// - `rewire, "tree", handle`: a new tree.
/// - `stats` -> `connector_stats`.
/// - `crash`: throws (fault injection).
/// - `mailbox` -> `uint64_t`: the messages waiting, for /metrics.
caf::behavior
proc_connector_actor(caf::stateful_actor<proc_connector_state>* self,
                     caf::actor tree, caf::timespan delay);

} // namespace auditree
