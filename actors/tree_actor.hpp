#pragma once

#include <map>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/stateful_actor.hpp>

#include "runtime/latency_histogram.hpp"
#include "runtime/process_tree.hpp"

namespace auditree {

struct tree_actor_options {
  process_tree::options tree;
  /// Replay: the clock is the newest audit stamp seen, so a log replays
  /// with its own timing however fast it is read; reaps fall due as the
  /// stream passes them. Live: the actor clock and delayed self-messages.
  bool stream_time = false;
  /// The number of assemblers whose outputs are merged by sequence.
  size_t num_inputs = 0;
};

/// State of the tree actor: a thin shell over `process_tree`.
struct tree_state {
  static inline const char* name = "tree";

  process_tree tree;
  /// Receives the process events, with their container, after the tree
  /// applied them; may be empty.
  caf::actor downstream;
  bool stream_time = false;
  /// Stream time: the newest stamp seen, and reaps not yet due.
  process_tree::time_point stream_now{};
  std::multimap<process_tree::time_point, reap_request> pending_reaps;
  /// Merge of the assemblers' outputs: each one's watermark, and events
  /// held until every watermark has passed them.
  std::vector<uint64_t> watermarks;
  std::multimap<uint64_t, process_event> held;
  /// Live: audit stamp -> applied to the tree, per audit event.
  latency_histogram latency;
};

/// Owns the process table.
/// Protocol (see messages/type_ids.hpp):
/// - `process_event_batch, watermark, input`: from assembler `input`; the
///   events wait until every assembler's watermark passed their sequence,
///   then apply in arrival order, as if one assembler had closed them all.
/// - `process_event_batch`: applies the events, forwards them downstream
///   (with `container` filled in) if audit reported them or they are deaths
///   by signal that only the proc connector sees; schedules reaps.
/// - `reconcile, scan_ms, proc_snapshot`: corrects the table with what /proc
///   showed at `scan_ms` (see process_tree::reconcile).
/// - `reap, pid, first_seen, generation` (delayed self-message): removes an
///   ended process unless its pid was reused (the generation moved on).
/// - `tree, container, json` -> `std::string`: the whole tree (empty
///   container) or one container's, like `pstree -p` or as a JSON array.
/// - `ps, container, json` -> `std::string`: the same processes like `ps`.
/// - `process, pid, json` -> `std::string`: one process with its ancestry
///   and container; empty if the tree has no such pid.
/// - `containers, json` -> `std::string`: the container list.
/// - `stats` -> `tree_counters`.
/// - `flush` -> `uint64_t`: the number of processes held.
/// - `latency` -> `uint64_t count, int64_t p50, p99, max`: audit stamp
///   to tree update of the live audit events, microseconds.
caf::behavior tree_actor(caf::stateful_actor<tree_state>* self,
                         tree_actor_options opts, caf::actor downstream);

} // namespace auditree
