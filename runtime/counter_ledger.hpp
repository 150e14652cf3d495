#pragma once

// The loss ledger over the agent's life, across actor restarts. Pure.
//
// Each incarnation of a child reports what it counted since it started:
// every time it answers `stats` (`report`), and a last time as its state
// is destroyed, whether it stopped, threw or was killed (`retire`). The
// ledger folds what ended incarnations counted into a carried base, so a
// counter read from it never goes down when a child is replaced, and
// nothing counted between the last read and a crash is lost.

#include <cstdint>
#include <mutex>
#include <vector>

#include "messages/pipeline_stats.hpp"

namespace auditree {

struct agent_metrics;

/// The sink's counters: JSON lines written and dropped.
struct sink_counters {
  uint64_t lines_written = 0;
  uint64_t lines_dropped = 0;
};

/// `total` followed by the next incarnation's counters `next`: counters
/// add, gauges (queue length, processes now, percentiles) are the newest
/// (percentiles only once `next` has samples), maxima the larger. Fields
/// that an incarnation reports over the agent's life already (they are
/// kept outside the actor: the source's record count and the kernel's
/// deltas, the connector decoder's counts) are the newest too.
void carry(assembler_stats& total, const assembler_stats& next);
void carry(netlink_source_stats& total, const netlink_source_stats& next);
void carry(connector_stats& total, const connector_stats& next);
void carry(tree_counters& total, const tree_counters& next);
void carry(sink_counters& total, const sink_counters& next);
void carry(proc_sweep_stats& total, const proc_sweep_stats& next);

/// The tree's counters since `start` (those it resumed with from a
/// checkpoint): counters are differences, gauges and maxima as `now` has
/// them.
tree_counters counted_since(const tree_counters& now,
                            const tree_counters& start);

/// One child's incarnations: what the ended ones counted, and the latest
/// report of the living one.
template <class Counters>
class ledger_slot {
public:
  void report(const Counters& x) {
    live_ = x;
    has_live_ = true;
  }

  /// The living incarnation ended having counted `last`.
  void retire(const Counters& last) {
    carry(ended_, last);
    live_ = Counters{};
    has_live_ = false;
  }

  Counters total() const {
    auto result = ended_;
    if (has_live_)
      carry(result, live_);
    return result;
  }

private:
  Counters ended_;
  Counters live_;
  bool has_live_ = false;
};

/// The ledger of every restartable child, shared by the children (which
/// report and retire) and whoever reads the counters. Thread-safe.
class counter_ledger {
public:
  explicit counter_ledger(size_t num_assemblers = 0);

  void report(size_t assembler, const assembler_stats& x);
  void retire(size_t assembler, const assembler_stats& x);
  void report(const netlink_source_stats& x);
  void retire(const netlink_source_stats& x);
  void report(const connector_stats& x);
  void retire(const connector_stats& x);
  void report(const tree_counters& x);
  void retire(const tree_counters& x);
  void report(const sink_counters& x);
  void retire(const sink_counters& x);
  void report(const proc_sweep_stats& x);
  void retire(const proc_sweep_stats& x);

  /// Sets `m`'s audit source, connector, assembly (summed over the
  /// assemblers), tree, event latency, output lines and /proc sweeps to
  /// their totals over the agent's life; leaves the rest.
  void fill(agent_metrics& m) const;

private:
  mutable std::mutex mutex_;
  std::vector<ledger_slot<assembler_stats>> assemblers_;
  ledger_slot<netlink_source_stats> source_;
  ledger_slot<connector_stats> connector_;
  ledger_slot<tree_counters> tree_;
  ledger_slot<sink_counters> sink_;
  ledger_slot<proc_sweep_stats> sweeps_;
};

} // namespace auditree
