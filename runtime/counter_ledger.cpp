#include "runtime/counter_ledger.hpp"

#include <algorithm>

#include "runtime/metrics.hpp"

namespace auditree {

void carry(assembler_stats& total, const assembler_stats& next) {
  // Every field counts: a new assembler starts from nothing.
  total += next;
}

void carry(netlink_source_stats& total, const netlink_source_stats& next) {
  total.num_datagrams += next.num_datagrams;
  total.num_malformed += next.num_malformed;
  total.num_overruns += next.num_overruns;
  // Over the agent's life already (a shared sequence, the kernel's deltas
  // against the settings found at start).
  total.num_records = next.num_records;
  total.kernel_lost = next.kernel_lost;
  total.backlog_wait_time_actual = next.backlog_wait_time_actual;
  total.backlog = next.backlog;
  total.num_rules = next.num_rules;
  total.max_backlog = std::max(total.max_backlog, next.max_backlog);
  total.delivery_count += next.delivery_count;
  if (next.delivery_count > 0) {
    total.delivery_p50_us = next.delivery_p50_us;
    total.delivery_p99_us = next.delivery_p99_us;
  }
  total.delivery_max_us = std::max(total.delivery_max_us,
                                   next.delivery_max_us);
}

void carry(connector_stats& total, const connector_stats& next) {
  // The decoder outlives the connector actor, so that a gap in the kernel's
  // sequence across a restart is counted: its counts are the agent's.
  total.num_messages = next.num_messages;
  total.num_gaps = next.num_gaps;
  total.num_malformed = next.num_malformed;
  total.num_thread_events = next.num_thread_events;
  total.claims_rejected = next.claims_rejected;
  total.num_overruns += next.num_overruns;
}

namespace {

// The tree's counters proper (not gauges, percentiles or maxima), each
// applied to a pair of fields.
template <class F>
void each_tree_counter(tree_counters& x, const tree_counters& y, F f) {
  f(x.num_events, y.num_events);
  f(x.num_created, y.num_created);
  f(x.num_vanished, y.num_vanished);
  f(x.num_reaped, y.num_reaped);
  f(x.num_ignored, y.num_ignored);
  f(x.num_duplicates, y.num_duplicates);
  f(x.num_starts_held, y.num_starts_held);
  f(x.num_starts_confirmed, y.num_starts_confirmed);
  f(x.num_starts_threads, y.num_starts_threads);
  f(x.num_starts_unresolved, y.num_starts_unresolved);
  f(x.num_starts_evicted, y.num_starts_evicted);
  f(x.num_starts_too_late, y.num_starts_too_late);
  f(x.start_hold_count, y.start_hold_count);
  f(x.latency_count, y.latency_count);
  f(x.budget.num_evicted, y.budget.num_evicted);
  f(x.budget.num_args_truncated, y.budget.num_args_truncated);
  f(x.budget.num_bare, y.budget.num_bare);
  f(x.num_containers_dropped, y.num_containers_dropped);
  for (auto& [reason, n] : y.claims_rejected)
    f(x.claims_rejected[reason], n);
}

} // namespace

void carry(tree_counters& total, const tree_counters& next) {
  each_tree_counter(total, next,
                    [](uint64_t& x, uint64_t y) { x += y; });
  total.num_processes = next.num_processes;
  total.num_containers = next.num_containers;
  total.num_starts_waiting = next.num_starts_waiting;
  total.budget_pressed = next.budget_pressed;
  if (next.start_hold_count > 0) {
    total.start_hold_p50_us = next.start_hold_p50_us;
    total.start_hold_p99_us = next.start_hold_p99_us;
  }
  total.start_hold_max_us = std::max(total.start_hold_max_us,
                                     next.start_hold_max_us);
  if (next.latency_count > 0) {
    total.latency_p50_us = next.latency_p50_us;
    total.latency_p99_us = next.latency_p99_us;
  }
  total.latency_max_us = std::max(total.latency_max_us, next.latency_max_us);
}

void carry(sink_counters& total, const sink_counters& next) {
  total.lines_written += next.lines_written;
  total.lines_dropped += next.lines_dropped;
}

void carry(proc_sweep_stats& total, const proc_sweep_stats& next) {
  total.num_sweeps += next.num_sweeps;
  total.num_abandoned += next.num_abandoned;
  total.num_unknown_pids += next.num_unknown_pids;
}

tree_counters counted_since(const tree_counters& now,
                            const tree_counters& start) {
  auto result = now;
  // A counter below its start would be a bug; never wrap around.
  each_tree_counter(result, start, [](uint64_t& x, uint64_t y) {
    x = x >= y ? x - y : 0;
  });
  return result;
}

counter_ledger::counter_ledger(size_t num_assemblers)
  : assemblers_(num_assemblers) {
}

void counter_ledger::report(size_t assembler, const assembler_stats& x) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (assemblers_.size() <= assembler)
    assemblers_.resize(assembler + 1);
  assemblers_[assembler].report(x);
}

void counter_ledger::retire(size_t assembler, const assembler_stats& x) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (assemblers_.size() <= assembler)
    assemblers_.resize(assembler + 1);
  assemblers_[assembler].retire(x);
}

void counter_ledger::report(const netlink_source_stats& x) {
  std::lock_guard<std::mutex> guard{mutex_};
  source_.report(x);
}

void counter_ledger::retire(const netlink_source_stats& x) {
  std::lock_guard<std::mutex> guard{mutex_};
  source_.retire(x);
}

void counter_ledger::report(const connector_stats& x) {
  std::lock_guard<std::mutex> guard{mutex_};
  connector_.report(x);
}

void counter_ledger::retire(const connector_stats& x) {
  std::lock_guard<std::mutex> guard{mutex_};
  connector_.retire(x);
}

void counter_ledger::report(const tree_counters& x) {
  std::lock_guard<std::mutex> guard{mutex_};
  tree_.report(x);
}

void counter_ledger::retire(const tree_counters& x) {
  std::lock_guard<std::mutex> guard{mutex_};
  tree_.retire(x);
}

void counter_ledger::report(const sink_counters& x) {
  std::lock_guard<std::mutex> guard{mutex_};
  sink_.report(x);
}

void counter_ledger::retire(const sink_counters& x) {
  std::lock_guard<std::mutex> guard{mutex_};
  sink_.retire(x);
}

void counter_ledger::report(const proc_sweep_stats& x) {
  std::lock_guard<std::mutex> guard{mutex_};
  sweeps_.report(x);
}

void counter_ledger::retire(const proc_sweep_stats& x) {
  std::lock_guard<std::mutex> guard{mutex_};
  sweeps_.retire(x);
}

void counter_ledger::fill(agent_metrics& m) const {
  std::lock_guard<std::mutex> guard{mutex_};
  m.audit = source_.total();
  m.connector = connector_.total();
  m.assembly = assembler_stats{};
  for (auto& a : assemblers_)
    m.assembly += a.total();
  m.tree = tree_.total();
  m.latency = {m.tree.latency_count, m.tree.latency_p50_us,
               m.tree.latency_p99_us, m.tree.latency_max_us};
  auto sink = sink_.total();
  m.lines_written = sink.lines_written;
  m.lines_dropped = sink.lines_dropped;
  m.sweeps = sweeps_.total();
}

} // namespace auditree
