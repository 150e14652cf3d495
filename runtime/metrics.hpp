#pragma once

// The agent's counters in the Prometheus text exposition format. Pure.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "messages/pipeline_stats.hpp"

namespace auditree {

/// Everything /metrics reports, gathered from the actors.
struct agent_metrics {
  /// Replay and plugin mode: the text source's lines.
  source_stats file;
  netlink_source_stats audit;
  connector_stats connector;
  assembler_stats assembly;
  tree_counters tree;
  /// Audit stamp to tree update, microseconds: samples, p50, p99, max.
  struct {
    uint64_t count = 0;
    int64_t p50 = 0;
    int64_t p99 = 0;
    int64_t max = 0;
  } latency;
  uint64_t lines_written = 0;
  uint64_t lines_dropped = 0;
  proc_sweep_stats sweeps;
  /// The query API's refusals (live only).
  query_api_stats api;
  /// Restarts per actor name.
  std::vector<std::pair<std::string, uint64_t>> restarts;
  /// Messages waiting in each actor's mailbox, by name.
  std::vector<std::pair<std::string, uint64_t>> mailboxes;
  /// Per second over the agent's last sampling interval (live only).
  struct {
    double records = 0;
    double events = 0;
    double lines = 0;
  } rates;
};

/// Sets `now.rates`: the growth per second of records, events and lines
/// since `earlier`, sampled `seconds` before. A counter that went back (an
/// actor restarted) counts from zero.
void compute_rates(agent_metrics& now, const agent_metrics& earlier,
                   double seconds);

/// Renders `m` as Prometheus text (version 0.0.4): every metric with its
/// HELP and TYPE lines, names prefixed `auditree_`.
std::string render_prometheus(const agent_metrics& m);

/// Renders `m` for people (`auditree stats`, the summary at stop) or, with
/// `json`, as one JSON object of the same counters.
std::string render_stats(const agent_metrics& m, bool json);

} // namespace auditree
