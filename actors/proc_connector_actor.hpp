#pragma once

#include <atomic>
#include <memory>
#include <mutex>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/netlink_reader.hpp"
#include "actors/ownership_checks.hpp"
#include "actors/reliable_link.hpp"
#include "runtime/counter_ledger.hpp"
#include "messages/process_event.hpp"
#include "runtime/proc_connector.hpp"

namespace auditree {

/// What outlives one proc connector actor, so that its restart loses
/// nothing: the socket (what the kernel sends meanwhile waits in it for
/// the successor), the decoder, the batch being filled, and the numbered
/// batches sent to the tree that no tree checkpoint covers yet (a new
/// tree gets them again). One connector actor uses it at a time: the old
/// one's reader stops before its successor starts. `mutex` guards the
/// link and `stats`; the decoder and the batch belong to the reader
/// thread.
struct connector_carry {
  connector_carry() = default;
  connector_carry(const connector_carry&) = delete;
  connector_carry& operator=(const connector_carry&) = delete;
  /// Leaves the kernel's listeners and closes the socket.
  ~connector_carry();

  /// The socket joined to the proc connector, once the first actor opened
  /// it; each actor's reader reads a duplicate of it.
  int fd = -1;
  std::mutex mutex;
  proc_connector_decoder decoder;
  process_event_batch batch;
  /// Cgroup container claims refused on the reader's thread, and when the
  /// last was logged (at most one line a second).
  claim_rejection_counts claims_rejected{};
  cgroup_owner_cache cgroup_owners;
  uint64_t claims_logged_ms = 0;
  uint64_t claims_unlogged = 0;
  /// The last batch number given (batches count from 1).
  uint64_t last_batch = 0;
  /// To the tree; batches stay until a checkpoint covers them (`trim`).
  reliable_link tree;
  /// The decoder's counters as of the last batch sent.
  connector_stats stats;
};

/// State of the proc connector source. The reader stops first (member
/// order) so that no callback outlives the rest.
struct proc_connector_state {
  static inline const char* name = "proc_connector";

  /// Stops the reader (the socket stays open in `carry`), then hands the
  /// counters to the ledger.
  ~proc_connector_state();

  std::shared_ptr<connector_carry> carry;
  std::shared_ptr<counter_ledger> ledger;
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
/// Batches go as `process_event_batch, number` (see tree_actor).
/// Protocol:
/// - `rewire, "tree", handle`: a new tree; it gets every batch kept.
/// - `trim, number`: a tree checkpoint covers the batches up to `number`.
/// - `stats` -> `connector_stats`; the ledger, when given, gets them too,
///   and a last time as the actor ends.
/// - `crash`: throws (fault injection).
/// - `mailbox` -> `uint64_t`: the messages waiting, for /metrics.
caf::behavior
proc_connector_actor(caf::stateful_actor<proc_connector_state>* self,
                     caf::actor tree, caf::timespan delay,
                     std::shared_ptr<connector_carry> carry,
                     std::shared_ptr<counter_ledger> ledger);

} // namespace auditree
