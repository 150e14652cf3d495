#pragma once

#include <map>
#include <memory>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/timespan.hpp>

#include "actors/container_facts.hpp"
#include "actors/reliable_link.hpp"
#include "runtime/counter_ledger.hpp"
#include "runtime/fault_plan.hpp"
#include "runtime/latency_histogram.hpp"
#include "runtime/memory_budget.hpp"
#include "runtime/host_trees.hpp"
#include "runtime/host_views.hpp"
#include "runtime/process_tree.hpp"
#include "runtime/start_gate.hpp"

namespace auditree {

struct tree_actor_options {
  process_tree::options tree;
  /// Forks of the stream waiting for evidence (see start_gate).
  start_gate::options gate;
  /// Replay: the clock is the newest audit stamp seen, so a log replays
  /// with its own timing however fast it is read; reaps fall due as the
  /// stream passes them. Live: the actor clock.
  bool stream_time = false;
  /// The number of assemblers whose outputs are merged by sequence.
  size_t num_inputs = 0;
  /// There is a sink, even when it is being replaced as this tree starts
  /// (then the stream waits for it); without, the stream goes nowhere.
  bool has_sink = false;
  /// The processes older than the agent (from /proc), applied first when
  /// there is no checkpoint to resume from.
  process_event_batch bootstrap;
  /// Audit events applied between two checkpoints, at least the number of
  /// processes held (0: none).
  uint64_t checkpoint_interval = 0;
  /// Live: reaps due within this much of the earliest are done by its
  /// timer; at hundreds of exits a second, a timer per exit would cost a
  /// wake-up each.
  caf::timespan reap_slack = std::chrono::milliseconds{50};
  fault_injector faults;
  /// The name the local host's records (those without node=) are shown
  /// with: the machine's hostname live, empty in replay (then `-` in the
  /// tree and no host.name in JSON).
  std::string local_host;
  /// Live: the local host's boot id (/proc/sys/kernel/random/boot_id) and
  /// machine id (/etc/machine-id), as host.boot.id and host.id; the boot id
  /// also seeds its entity ids. Empty in replay (see entity_id.hpp).
  std::string local_boot_id;
  std::string local_machine_id;
  /// Where the tree's counters outlive it; may be null.
  std::shared_ptr<counter_ledger> ledger;
  /// Ancestors beyond the parent each stream event carries (0: none).
  size_t ancestors_depth = 0;
};

/// What a new tree actor needs to go on where a lost one checkpointed:
/// the table, the reaps not yet done, the highest sequence applied (the
/// assemblers send again what came after it), the highest connector batch
/// applied (the connector sends again what came after it) and the stream
/// batches the sink had not yet taken. Shared read-only.
struct tree_checkpoint {
  host_trees tree;
  start_gate gate;
  process_tree::time_point stream_now{};
  std::multimap<process_tree::time_point, reap_request> reaps;
  uint64_t applied = 0;
  uint64_t connector_applied = 0;
  std::deque<reliable_link::entry> unacked_stream;
};

using tree_checkpoint_ptr = std::shared_ptr<const tree_checkpoint>;

/// A query's selection, copied once and shared read-only.
using tree_view_ptr = std::shared_ptr<const tree_view>;

/// State of the tree actor: a thin shell over `process_tree`.
struct tree_state {
  static inline const char* name = "tree";

  /// Hands the counters to the ledger, however the actor ends.
  ~tree_state();

  /// One table per host (node=); the local host's has the empty name.
  host_trees tree;
  std::string local_host;
  std::string local_boot_id;
  std::string local_machine_id;
  /// Live, the local containers' names and images (their runtime's state).
  container_facts containers;
  size_t ancestors_depth = 0;
  /// The stream's forks that wait until the table knows what they made.
  start_gate gate;
  /// To the sink, which receives the process events with their container
  /// after the tree applied them; batches stay here until it acknowledges.
  /// May have no peer.
  reliable_link downstream;
  /// Receives the checkpoints; may be empty.
  caf::actor supervisor;
  bool has_sink = false;
  bool stream_time = false;
  /// Stream time: the newest stamp seen.
  process_tree::time_point stream_now{};
  /// Reaps not yet due, by due time; live, one timer for the earliest.
  std::multimap<process_tree::time_point, reap_request> reaps;
  bool reap_timer = false;
  caf::timespan reap_slack{};
  /// Merge of the assemblers' outputs: each one's watermark, and events
  /// held until every watermark has passed them.
  std::vector<uint64_t> watermarks;
  std::map<uint64_t, process_event> held;
  /// The highest sequence applied: anything at or below it, or already
  /// held, is a duplicate that an assembler sent again after a restart.
  uint64_t applied = 0;
  /// The highest proc connector batch applied (they are numbered).
  uint64_t connector_applied = 0;
  /// Events sent again after a restart (by an assembler or the connector),
  /// dropped.
  uint64_t num_duplicates = 0;
  uint64_t checkpoint_interval = 0;
  uint64_t since_checkpoint = 0;
  /// argv bytes of the events applied since then (see
  /// checkpoint_argv_bytes).
  uint64_t argv_since_checkpoint = 0;
  /// Live: audit stamp -> applied to the tree, per audit event.
  latency_histogram latency;
  /// When the memory budget last evicted or kept an exec bare (/healthz).
  budget_watch budget;
  /// Refused container claims logged at most once a second: when the last
  /// line was written, and how many were refused since.
  process_tree::time_point claims_logged{};
  uint64_t claims_unlogged = 0;
  fault_injector faults;
  /// The counters this tree resumed with from a checkpoint: the ledger
  /// gets what it counted itself, those of the trees before it are there.
  tree_counters resumed_with;
  std::shared_ptr<counter_ledger> ledger;
};

/// Owns the process table.
/// Protocol (see messages/type_ids.hpp):
/// - `process_event_batch, watermark, input`: from assembler `input`; the
///   events wait until every assembler's watermark passed their sequence,
///   then apply in arrival order, as if one assembler had closed them all.
///   Every `checkpoint_interval` events, a checkpoint goes to `supervisor`.
/// - `process_event_batch, number` (from the proc connector): a numbered
///   batch, applied like the next item unless its number was applied
///   before (a batch sent again to a new tree: dropped, counted as
///   duplicates); the connector keeps it until a checkpoint covers it.
/// - `process_event_batch`: applies the events, forwards them downstream
///   (with `container` filled in) if audit reported them or they are deaths
///   by signal that only the proc connector sees; a fork only once the
///   table placed the process it made (start_gate); schedules reaps.
/// - `ack` (from the sink): it took the oldest batch.
/// - `rewire, "sink", handle`: a new sink; it gets every batch not
///   acknowledged.
/// - `reconcile, scan_ms, proc_snapshot`: corrects the table with what /proc
///   showed at `scan_ms` (see process_tree::reconcile).
/// - `reap` (self, live): removes the ended processes whose grace passed.
/// - `tree, container, host, json` -> `std::string`: the whole tree (empty
///   container) or one container's, like `pstree -p` or as a JSON array,
///   of every host (empty host) or one (see select_hosts); with several
///   hosts, one block per host.
/// - `ps, container, host, json` -> `std::string`: the same processes like
///   `ps`.
/// - `view, container, host` -> `tree_view_ptr`: the processes `tree`
///   and `ps` would show, copied, for the query server to render on its
///   own thread: the tree only copies, however large the answer.
/// - `process, pid, host, json` -> `std::string`: one process with its
///   ancestry and container, from the first host that has the pid; empty
///   if none has.
/// - `containers, json` -> `std::string`: the container list (every host).
/// - `host, name` -> `bool, std::string`: whether `name` selects one of
///   its hosts, and the names of its hosts, comma-separated.
/// - `containers` -> `container_candidates`: the containers' ids, runtimes
///   and running members, to resolve an id a user typed (no names).
/// - `stats` -> `tree_counters` (with the start gate's and the event
///   latency); the ledger, when given, gets those this tree counted, and
///   a last time as it ends.
/// - `flush` -> `uint64_t`: the number of processes held.
/// - `crash`: throws (fault injection).
/// - `mailbox` -> `uint64_t`: the messages waiting, for /metrics.
/// `resume`, when given, is the checkpoint of the tree this one replaces.
caf::behavior tree_actor(caf::stateful_actor<tree_state>* self,
                         tree_actor_options opts, caf::actor downstream,
                         caf::actor supervisor, tree_checkpoint_ptr resume);

} // namespace auditree

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(auditree::tree_checkpoint_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(auditree::tree_view_ptr)
