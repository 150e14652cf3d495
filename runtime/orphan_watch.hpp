#pragma once

// Parents are never guessed. When a parent ends, the kernel hands its live
// children to a reaper, but a child that died unrecorded (kill -9 of a
// process group, a Go fork that exits without exit_group) has no reaper at
// all. The table moves a child only when it knows the child is alive:
// - no source reports every death (replay, auditd plugin): never; the child
//   keeps its parent until evidence (its own record with a new ppid=, /proc);
// - the proc connector reports every death, but late: the child waits here
//   for the connector's word of its own death, at most `wait` (within the
//   exit grace, before the parent is reaped), and then moves.
// Pure bookkeeping: the table decides and moves, this keeps who waits.

#include <chrono>
#include <cstddef>
#include <deque>
#include <vector>

#include "runtime/process_tree.hpp"

namespace auditree {

/// What the table does with a running child when its parent ends.
enum class orphan_rule : uint8_t {
  keep, ///< Its liveness is unknown: it keeps its parent.
  wait, ///< Deaths are reported, late: wait for the report, then move.
  move, ///< Deaths are reported at once: it is alive, move it now.
};

/// The rule for a table whose sources report every death (or not), with
/// reports up to `wait` late.
orphan_rule orphan_rule_for(bool deaths_reported, std::chrono::milliseconds wait);

/// Children of ended parents awaiting the connector's word on their own end.
class orphan_watch {
public:
  using time_point = std::chrono::steady_clock::time_point;

  struct entry {
    /// The child, and the ended parent it still has.
    process_key child;
    process_key parent;
    /// When it moves to the parent's reaper unless it ended meanwhile.
    time_point due;
  };

  /// Watches `child` of the ended `parent` until `due`. Entries come in
  /// `due` order (one wait for all); past `max_entries` the oldest is due
  /// at once.
  void watch(const process_key& child, const process_key& parent,
             time_point due);

  /// Removes and returns the entries due at `now`, oldest first, and those
  /// pushed out by the bound.
  std::vector<entry> take_due(time_point now);

  /// Removes and returns the entries of `parent` (about to be reaped: its
  /// children move before it goes).
  std::vector<entry> take_of(const process_key& parent);

  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }

  /// Bound on entries; a fork bomb's dead parents never grow it further.
  size_t max_entries = 65536;

private:
  std::deque<entry> entries_;
  size_t overflow_ = 0;
};

} // namespace auditree
