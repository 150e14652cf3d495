#pragma once

// The whole message protocol of auditree in one place: every type that
// travels between actors, every atom, and how CAF inspects them.

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/none.hpp>
#include <caf/type_id.hpp>

#include "messages/audit_event.hpp"
#include "messages/audit_record.hpp"
#include "messages/container_event.hpp"
#include "messages/pipeline_stats.hpp"
#include "messages/proc_snapshot.hpp"
#include "messages/process_event.hpp"

namespace auditree {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_id& x) {
  return f(caf::meta::type_name("event_id"), x.seconds, x.millis, x.serial);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, audit_record& x) {
  // The text travels as a string; a loaded record owns its copy.
  std::string text{x.text()};
  std::string node{x.node()};
  auto load = [&]() -> caf::error {
    x = audit_record{x.type, x.id, text, x.sequence, node};
    return caf::none;
  };
  return f(caf::meta::type_name("audit_record"), x.type, x.id, text,
           x.sequence, node, caf::meta::load_callback(load));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, audit_event& x) {
  return f(caf::meta::type_name("audit_event"), x.id, x.records,
           x.closed_by, x.sequence);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lineage_ancestor& x) {
  return f(caf::meta::type_name("lineage_ancestor"), x.entity_id, x.pid,
           x.exe, x.args);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, process_lineage& x) {
  return f(caf::meta::type_name("process_lineage"), x.entity_id, x.start,
           x.vpid, x.parent_pid, x.parent_vpid, x.parent_entity_id, x.parent_exe, x.parent_name,
           x.parent_args, x.parent_argc, x.parent_start, x.ancestors, x.entry_pid,
           x.entry_entity_id, x.entry_exe, x.entry_name, x.entry_start,
           x.entry_type, x.container_runtime, x.container_name,
           x.container_image, x.host_id, x.boot_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, process_event& x) {
  return f(caf::meta::type_name("process_event"), x.action, x.source, x.id,
           x.sequence,
           x.syscall, x.arch, x.pid, x.ppid, x.child, x.clone_flags,
           x.clone_flags_known, x.comm, x.exe, x.argv, x.cwd, x.uid, x.euid,
           x.auid, x.exit_code, x.signal, x.container, x.host,
           x.fork_parent, x.vpid, x.lineage, x.args_original_bytes,
           x.args_original_count);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, assembler_stats& x) {
  return f(caf::meta::type_name("assembler_stats"), x.num_records,
           x.num_events, x.num_closed_by_eoe, x.num_closed_standalone,
           x.num_closed_by_timeout, x.num_evicted, x.num_serial_gaps,
           x.num_serial_late, x.num_serial_resets, x.num_hosts_refused,
           x.num_malformed_events,
           x.num_process_events, x.skipped_events);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, source_stats& x) {
  return f(caf::meta::type_name("source_stats"), x.num_lines, x.num_records,
           x.num_malformed_lines, x.num_bytes, x.skipped_lines);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f,
                                        netlink_source_stats& x) {
  return f(caf::meta::type_name("netlink_source_stats"), x.num_datagrams,
           x.num_records, x.num_malformed, x.num_overruns, x.kernel_lost,
           x.backlog, x.max_backlog, x.backlog_wait_time_actual, x.num_rules,
           x.delivery_count, x.delivery_p50_us, x.delivery_p99_us,
           x.delivery_max_us);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, connector_stats& x) {
  return f(caf::meta::type_name("connector_stats"), x.num_messages,
           x.num_gaps, x.num_malformed, x.num_thread_events, x.num_overruns,
           x.claims_rejected);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, budget_stats& x) {
  return f(caf::meta::type_name("budget_stats"), x.num_evicted,
           x.num_args_truncated, x.num_bare);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tree_counters& x) {
  return f(caf::meta::type_name("tree_counters"), x.num_processes,
           x.num_containers, x.num_events, x.num_created, x.num_vanished,
           x.num_reaped, x.num_ignored, x.num_duplicates,
           x.num_starts_held, x.num_starts_confirmed, x.num_starts_threads,
           x.num_starts_unresolved, x.num_starts_evicted,
           x.num_starts_too_late,
           x.num_starts_waiting, x.start_hold_count, x.start_hold_p50_us,
           x.start_hold_p99_us, x.start_hold_max_us, x.latency_count,
           x.latency_p50_us, x.latency_p99_us, x.latency_max_us, x.budget,
           x.budget_pressed, x.claims_rejected,
           x.num_containers_dropped);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, supervision_stats& x) {
  return f(caf::meta::type_name("supervision_stats"), x.children, x.restarts,
           x.near_exhaustion, x.num_checkpoints);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, proc_process& x) {
  return f(caf::meta::type_name("proc_process"), x.pid, x.ppid, x.state,
           x.start_ticks, x.start_ms, x.num_threads, x.comm, x.exe, x.cwd,
           x.argv, x.uid, x.euid, x.cgroup, x.cgroup_delegated);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, container_event& x) {
  return f(caf::meta::type_name("container_event"), x.started, x.id,
           x.runtime, x.init_pid, x.at, x.sequence, x.host, x.name,
           x.image);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f,
                                        container_candidate& x) {
  return f(caf::meta::type_name("container_candidate"), x.id, x.runtime,
           x.names, x.num_running);
}

} // namespace auditree

CAF_BEGIN_TYPE_ID_BLOCK(auditree, caf::first_custom_type_id)

  CAF_ADD_TYPE_ID(auditree, (auditree::event_id))
  CAF_ADD_TYPE_ID(auditree, (auditree::audit_record))
  CAF_ADD_TYPE_ID(auditree, (auditree::record_batch))
  CAF_ADD_TYPE_ID(auditree, (auditree::record_batches))
  CAF_ADD_TYPE_ID(auditree, (auditree::audit_event))
  CAF_ADD_TYPE_ID(auditree, (auditree::process_event))
  CAF_ADD_TYPE_ID(auditree, (auditree::process_event_batch))
  CAF_ADD_TYPE_ID(auditree, (auditree::container_event))
  CAF_ADD_TYPE_ID(auditree, (auditree::container_event_batch))
  CAF_ADD_TYPE_ID(auditree, (auditree::assembler_stats))
  CAF_ADD_TYPE_ID(auditree, (auditree::source_stats))
  CAF_ADD_TYPE_ID(auditree, (auditree::netlink_source_stats))
  CAF_ADD_TYPE_ID(auditree, (auditree::connector_stats))
  CAF_ADD_TYPE_ID(auditree, (auditree::tree_counters))
  CAF_ADD_TYPE_ID(auditree, (auditree::supervision_stats))
  CAF_ADD_TYPE_ID(auditree, (auditree::proc_process))
  CAF_ADD_TYPE_ID(auditree, (auditree::proc_snapshot))
  CAF_ADD_TYPE_ID(auditree, (auditree::container_candidate))
  CAF_ADD_TYPE_ID(auditree, (auditree::container_candidates))

  /// Periodic self-message: close events whose timeout passed.
  CAF_ADD_ATOM(auditree, auditree, tick_atom, "tick")
  /// The stream ended: close every open event and report.
  CAF_ADD_ATOM(auditree, auditree, flush_atom, "flush")
  /// Ask an actor for its counters.
  CAF_ADD_ATOM(auditree, auditree, stats_atom, "stats")
  /// A source reads its next chunk of input.
  CAF_ADD_ATOM(auditree, auditree, read_atom, "read")
  /// Start working (a source begins reading).
  CAF_ADD_ATOM(auditree, auditree, run_atom, "run")
  /// Periodic self-message of the netlink source: poll AUDIT_GET.
  CAF_ADD_ATOM(auditree, auditree, status_atom, "status")
  /// Delayed self-message of the tree: remove an ended process.
  CAF_ADD_ATOM(auditree, auditree, reap_atom, "reap")
  /// A /proc sweep: the sweeper scans now; the tree reconciles a snapshot.
  CAF_ADD_ATOM(auditree, auditree, sweep_atom, "sweep")
  CAF_ADD_ATOM(auditree, auditree, reconcile_atom, "reconcile")
  /// Queries on the tree (see actors/tree_actor.hpp).
  CAF_ADD_ATOM(auditree, auditree, tree_atom, "tree")
  CAF_ADD_ATOM(auditree, auditree, ps_atom, "ps")
  CAF_ADD_ATOM(auditree, auditree, process_atom, "process")
  CAF_ADD_ATOM(auditree, auditree, containers_atom, "containers")
  /// Ask the tree whether a host name (`--host`) selects one of its hosts.
  CAF_ADD_ATOM(auditree, auditree, host_atom, "host")
  /// Ask the tree for a copy of what a query selects, to render elsewhere.
  CAF_ADD_ATOM(auditree, auditree, view_atom, "view")
  /// A downstream actor took a batch: the sender may send another.
  CAF_ADD_ATOM(auditree, auditree, ack_atom, "ack")
  /// Ask the tree how long audit events took to reach it.
  /// Supervision (see actors/supervisor_actor.hpp): a child was replaced
  /// (`rewire, name, handle`), the tree's checkpoint, what the assemblers
  /// may forget (`trim, sequence`), a restart falling due, the current
  /// handles, injected crashes, and stopping the sources.
  CAF_ADD_ATOM(auditree, auditree, rewire_atom, "rewire")
  CAF_ADD_ATOM(auditree, auditree, checkpoint_atom, "checkpoint")
  CAF_ADD_ATOM(auditree, auditree, trim_atom, "trim")
  CAF_ADD_ATOM(auditree, auditree, respawn_atom, "respawn")
  CAF_ADD_ATOM(auditree, auditree, handles_atom, "handles")
  CAF_ADD_ATOM(auditree, auditree, crash_atom, "crash")
  CAF_ADD_ATOM(auditree, auditree, halt_atom, "halt")
  /// Ask an actor how many messages wait in its mailbox.
  CAF_ADD_ATOM(auditree, auditree, mailbox_atom, "mailbox")

CAF_END_TYPE_ID_BLOCK(auditree)
