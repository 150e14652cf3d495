#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace auditree {

/// Counters of one assembler (summed over all of them in summaries).
struct assembler_stats {
  uint64_t num_records = 0;
  uint64_t num_events = 0;
  uint64_t num_closed_by_eoe = 0;
  uint64_t num_closed_standalone = 0;
  uint64_t num_closed_by_timeout = 0;
  /// Closed early because too many events were open (also timeouts).
  uint64_t num_evicted = 0;
  uint64_t num_serial_gaps = 0;
  /// Records that arrived after their event was closed.
  uint64_t num_serial_late = 0;
  uint64_t num_serial_resets = 0;
  /// Records of hosts (node=) past max-hosts, refused.
  uint64_t num_hosts_refused = 0;
  /// Events that should be process events but whose records are malformed.
  uint64_t num_malformed_events = 0;
  uint64_t num_process_events = 0;
  /// Events that gave no process event, by reason (other record types, a
  /// failed syscall, an arch without tables, the malformed ones' reason).
  std::map<std::string, uint64_t> skipped_events;

  assembler_stats& operator+=(const assembler_stats& x) {
    num_records += x.num_records;
    num_events += x.num_events;
    num_closed_by_eoe += x.num_closed_by_eoe;
    num_closed_standalone += x.num_closed_standalone;
    num_closed_by_timeout += x.num_closed_by_timeout;
    num_evicted += x.num_evicted;
    num_serial_gaps += x.num_serial_gaps;
    num_serial_late += x.num_serial_late;
    num_serial_resets += x.num_serial_resets;
    num_hosts_refused += x.num_hosts_refused;
    num_malformed_events += x.num_malformed_events;
    num_process_events += x.num_process_events;
    for (auto& [reason, n] : x.skipped_events)
      skipped_events[reason] += n;
    return *this;
  }
};

/// Counters of a text source (file, stdin).
struct source_stats {
  uint64_t num_lines = 0;
  uint64_t num_records = 0;
  /// Lines rejected before assembly (bad header, too long, ...).
  uint64_t num_malformed_lines = 0;
  /// Bytes of text read (after inflating gzip).
  uint64_t num_bytes = 0;
  /// Lines that gave no record, by reason: every malformed line's, and the
  /// known non-records (ausearch's separators and time lines).
  std::map<std::string, uint64_t> skipped_lines;
};

/// Counters of the kernel audit source and what the kernel reports.
struct netlink_source_stats {
  uint64_t num_datagrams = 0;
  uint64_t num_records = 0;
  /// Datagrams that are not audit records (bad stamp, too short).
  uint64_t num_malformed = 0;
  /// ENOBUFS on the read socket: the kernel dropped datagrams for us.
  uint64_t num_overruns = 0;
  /// Growth of the kernel's `lost` counter since the agent started.
  uint64_t kernel_lost = 0;
  /// The kernel queue length at the last poll, and the largest seen.
  uint64_t backlog = 0;
  uint64_t max_backlog = 0;
  /// Growth of backlog_wait_time_actual: how long audited tasks waited.
  uint64_t backlog_wait_time_actual = 0;
  uint64_t num_rules = 0;
  /// Audit stamp to the event's EOE read from the socket, microseconds:
  /// what comes before the agent (the stamp's clock tick, the syscall's
  /// duration, the kernel's queue). Samples, p50, p99, max.
  uint64_t delivery_count = 0;
  int64_t delivery_p50_us = 0;
  int64_t delivery_p99_us = 0;
  int64_t delivery_max_us = 0;
};

/// Counters of the proc connector stream.
struct connector_stats {
  uint64_t num_messages = 0;
  /// Messages the per-CPU sequence numbers show were lost.
  uint64_t num_gaps = 0;
  uint64_t num_malformed = 0;
  /// Thread creations and thread exits: no process event.
  uint64_t num_thread_events = 0;
  /// ENOBUFS on the connector socket.
  uint64_t num_overruns = 0;
  /// Container claims of cgroups refused, by reason (the names of
  /// runtime/container_evidence's claim_rejection).
  std::map<std::string, uint64_t> claims_rejected;
};

/// Counters and gauges of the tree.
/// What the process table's memory budget did (runtime/memory_budget.hpp):
/// one declaration for the table's counters, /metrics, stats and summary.
struct budget_stats {
  /// Ended lifetimes removed before their reap to stay within
  /// max-processes (also counted as reaped).
  uint64_t num_evicted = 0;
  /// Execs whose argv was cut to max-args-bytes.
  uint64_t num_args_truncated = 0;
  /// Execs kept without argv and cwd: the table was full of running
  /// processes, none of which may go.
  uint64_t num_bare = 0;
};

struct tree_counters {
  uint64_t num_processes = 0;
  /// Containers with running members.
  uint64_t num_containers = 0;
  uint64_t num_events = 0;
  uint64_t num_created = 0;
  /// Ended without a record of their own (teardown, reuse, reconciliation).
  uint64_t num_vanished = 0;
  uint64_t num_reaped = 0;
  /// Events the tree could not place.
  uint64_t num_ignored = 0;
  /// Events an assembler sent again after a restart, dropped.
  uint64_t num_duplicates = 0;
  /// The stream's forks (see runtime/start_gate.hpp): held for evidence,
  /// confirmed late, dropped as threads, resolved at the bound without
  /// evidence, pushed out by start-max-held, placed after that, and
  /// waiting now.
  uint64_t num_starts_held = 0;
  uint64_t num_starts_confirmed = 0;
  uint64_t num_starts_threads = 0;
  uint64_t num_starts_unresolved = 0;
  uint64_t num_starts_evicted = 0;
  uint64_t num_starts_too_late = 0;
  uint64_t num_starts_waiting = 0;
  /// How long confirmed forks waited, microseconds: samples, p50, p99, max.
  uint64_t start_hold_count = 0;
  int64_t start_hold_p50_us = 0;
  int64_t start_hold_p99_us = 0;
  int64_t start_hold_max_us = 0;
  /// Audit stamp to tree update of the live audit events, microseconds:
  /// samples, p50, p99, max.
  uint64_t latency_count = 0;
  int64_t latency_p50_us = 0;
  int64_t latency_p99_us = 0;
  int64_t latency_max_us = 0;
  budget_stats budget;
  /// The budget evicted or kept an exec bare within budget_health_window.
  bool budget_pressed = false;
  /// Container claims refused (lineage and /proc sweeps), by reason.
  std::map<std::string, uint64_t> claims_rejected;
  /// Containers dropped with no member and no init after exit-grace.
  uint64_t num_containers_dropped = 0;
};

/// Counters of the /proc sweeper (actors/proc_sweeper_actor).
struct proc_sweep_stats {
  uint64_t num_sweeps = 0;
  /// Sweeps not applied: a pid could not be read (EMFILE, ENFILE, ...),
  /// and the tree would have ended it.
  uint64_t num_abandoned = 0;
  uint64_t num_unknown_pids = 0;
};

/// Counters of the query API (actors/query_server): what its bounds
/// refused, and the connections open now.
struct query_api_stats {
  /// Connections closed at once: http-max-connections (or
  /// socket-max-connections) were open already.
  uint64_t num_http_refused = 0;
  uint64_t num_socket_refused = 0;
  /// Connections dropped because a request did not arrive whole, or its
  /// answer was not taken, within request-read-timeout.
  uint64_t num_read_timeouts = 0;
  /// Accepts that failed (EMFILE, ENFILE, ...): the listener paused.
  uint64_t num_accept_backoffs = 0;
  uint64_t num_http_open = 0;
  uint64_t num_socket_open = 0;
};

/// The supervisor's counters.
struct supervision_stats {
  /// Restarts per child that ever failed (parallel vectors, by name).
  std::vector<std::string> children;
  std::vector<uint64_t> restarts;
  /// Children one more failure away from stopping the agent.
  std::vector<std::string> near_exhaustion;
  uint64_t num_checkpoints = 0;
};

} // namespace auditree
