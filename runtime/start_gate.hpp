#pragma once

// Which audit fork events the stream reports: only those that made a
// process (a thread-group leader, never a thread), under its host pid. Audit
// alone cannot always tell: clone3 hides its flags, and a caller inside a
// pid namespace reports its child's pid there. The process table decides
// (process_tree::take_starts) as soon as evidence arrives: the child's own
// first record, or the proc connector's fork. Until then the fork waits
// here, and goes out late with its own stamp rather than wrong. Pure: the
// tree actor passes every event it applied, with the starts the table
// announced while applying it, and the time.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "messages/process_event.hpp"
#include "runtime/latency_histogram.hpp"
#include "runtime/process_tree.hpp"

namespace auditree {

/// Counters of a start_gate.
struct start_gate_stats {
  /// Forks that waited for evidence.
  uint64_t num_held = 0;
  /// Of those, shown to have made a process and reported late.
  uint64_t num_confirmed = 0;
  /// Forks never reported because they made a thread: CLONE_THREAD, or a
  /// clone3 that nothing showed to be a process within the bound.
  uint64_t num_threads = 0;
  /// Forks known to make a process that nothing placed within the bound
  /// (a namespaced child that died before any record of its own, a fork
  /// the table could not place): not reported, since their host pid is
  /// unknown.
  uint64_t num_unresolved = 0;
  /// Starts the table announced for a fork no longer held (resolved at
  /// the bound already, or pushed out by `max_held`).
  uint64_t num_too_late = 0;
  /// Forks pushed out, not reported, because `max_held` forks waited.
  uint64_t num_evicted = 0;
};

/// Holds audit fork events until the table says what they made.
class start_gate {
public:
  using time_point = process_tree::time_point;

  struct options {
    /// How long a fork may wait for evidence before it is resolved without:
    /// a clone3 as a thread, anything else as unresolved.
    std::chrono::milliseconds hold{5000};
    /// Bound on forks waiting at once; past it the oldest is evicted.
    size_t max_held = 65536;
  };

  start_gate();
  explicit start_gate(options opts);

  /// Takes one event the table applied at `now`, with the starts it
  /// announced meanwhile, and appends to `out` what the stream reports, in
  /// this order: the held forks those starts confirm (with `ev.sequence`,
  /// which keeps the stream's sequences rising), then `ev` itself if it
  /// belongs in the stream. An audit fork goes at once when its own start
  /// is among `starts`, is dropped when CLONE_THREAD shows a thread, and
  /// waits otherwise. A confirmed fork names the child's host pid and its
  /// parent at fork; `vpid` its namespace pid when that differs.
  void pass(process_event&& ev, const std::vector<process_start>& starts,
            time_point now, process_event_batch& out);

  /// Resolves the forks that waited longer than the bound at `now` (or
  /// past `max_held`). Nothing goes to the stream: their host pid is
  /// unknown.
  void expire(time_point now);

  /// Forks waiting.
  size_t num_waiting() const { return held_.size(); }

  const start_gate_stats& stats() const { return stats_; }

  /// How long confirmed forks waited, microseconds of the caller's clock
  /// (audit stamps in replay).
  const latency_histogram& hold_latency() const { return hold_latency_; }

private:
  struct held_fork {
    process_event event;
    /// When it began to wait: tells its `order_` entry from a stale one.
    time_point since;
  };

  void release(held_fork& held, const process_start& start, time_point now,
               uint64_t sequence, process_event_batch& out);
  void resolve(const process_event& ev);

  options opts_;
  /// Waiting forks by host (`node=`) and stamp, and the order they came
  /// in: two hosts' stamps may collide.
  using held_key = std::pair<std::string, event_id>;
  std::map<held_key, held_fork> held_;
  std::deque<std::pair<time_point, held_key>> order_;
  start_gate_stats stats_;
  latency_histogram hold_latency_;
};

/// Whether an event the table applied goes to the stream at all: what audit
/// saw, plus the deaths only the connector sees (signals). The connector's
/// forks, execs and normal exits would repeat audit's; a /proc scan states
/// what exists, no event.
bool belongs_in_stream(const process_event& ev);

} // namespace auditree
