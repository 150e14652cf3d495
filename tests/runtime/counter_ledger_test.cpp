#include <catch2/catch.hpp>

#include "runtime/counter_ledger.hpp"
#include "runtime/metrics.hpp"

using namespace auditree;

TEST_CASE("the ledger carries an ended assembler's counters into the next",
          "[counter_ledger]") {
  counter_ledger ledger{2};
  assembler_stats first;
  first.num_events = 100;
  first.num_process_events = 60;
  first.skipped_events["other type"] = 40;
  ledger.report(0, first);
  agent_metrics m;
  ledger.fill(m);
  CHECK(m.assembly.num_events == 100);
  // It counted 20 more, then threw before anyone asked again.
  first.num_events = 120;
  first.num_process_events = 70;
  first.skipped_events["other type"] = 50;
  ledger.retire(0, first);
  ledger.fill(m);
  CHECK(m.assembly.num_events == 120);
  // The replacement starts from nothing; the total goes on from 120.
  assembler_stats second;
  second.num_events = 5;
  second.num_process_events = 5;
  ledger.report(0, second);
  assembler_stats other;
  other.num_events = 7;
  other.skipped_events["other type"] = 7;
  ledger.report(1, other);
  ledger.fill(m);
  CHECK(m.assembly.num_events == 132);
  CHECK(m.assembly.num_process_events == 75);
  CHECK(m.assembly.skipped_events["other type"] == 57);
  // A later report replaces the living one's, never adds to it.
  second.num_events = 6;
  ledger.report(0, second);
  ledger.fill(m);
  CHECK(m.assembly.num_events == 133);
}

TEST_CASE("the ledger never goes down over many incarnations",
          "[counter_ledger]") {
  counter_ledger ledger;
  uint64_t last = 0;
  uint64_t written_in_all = 0;
  for (uint64_t incarnation = 0; incarnation < 20; ++incarnation) {
    sink_counters x;
    for (uint64_t step = 0; step < incarnation % 4; ++step) {
      x.lines_written += step + incarnation;
      ledger.report(x);
      agent_metrics m;
      ledger.fill(m);
      CHECK(m.lines_written >= last);
      last = m.lines_written;
    }
    x.lines_written += 3; // Counted after the last report.
    written_in_all += x.lines_written;
    ledger.retire(x);
    agent_metrics m;
    ledger.fill(m);
    CHECK(m.lines_written >= last);
    last = m.lines_written;
  }
  CHECK(last == written_in_all);
}

TEST_CASE("the source's life-long fields are the newest, its own add up",
          "[counter_ledger]") {
  counter_ledger ledger;
  netlink_source_stats a;
  a.num_records = 1000;
  a.num_datagrams = 1000;
  a.num_overruns = 2;
  a.kernel_lost = 4;
  a.backlog = 30;
  a.max_backlog = 900;
  a.delivery_count = 200;
  a.delivery_p50_us = 800;
  a.delivery_max_us = 5000;
  ledger.retire(a);
  netlink_source_stats b;
  b.num_records = 1500; // The shared sequence went on.
  b.num_datagrams = 480;
  b.num_overruns = 1;
  b.kernel_lost = 9;
  b.backlog = 2;
  b.max_backlog = 40;
  ledger.report(b);
  agent_metrics m;
  ledger.fill(m);
  CHECK(m.audit.num_records == 1500);
  CHECK(m.audit.num_datagrams == 1480);
  CHECK(m.audit.num_overruns == 3);
  CHECK(m.audit.kernel_lost == 9);
  CHECK(m.audit.backlog == 2);
  CHECK(m.audit.max_backlog == 900);
  // No samples yet in the new one: the percentiles stay the old ones'.
  CHECK(m.audit.delivery_count == 200);
  CHECK(m.audit.delivery_p50_us == 800);
  CHECK(m.audit.delivery_max_us == 5000);
}

TEST_CASE("the connector's decoder counts are the agent's, overruns add",
          "[counter_ledger]") {
  counter_ledger ledger;
  connector_stats a;
  a.num_messages = 500;
  a.num_gaps = 1;
  a.num_overruns = 2;
  ledger.retire(a);
  connector_stats b;
  b.num_messages = 700;
  b.num_gaps = 41; // The decoder saw the kernel's sequence jump.
  b.num_overruns = 1;
  ledger.report(b);
  agent_metrics m;
  ledger.fill(m);
  CHECK(m.connector.num_messages == 700);
  CHECK(m.connector.num_gaps == 41);
  CHECK(m.connector.num_overruns == 3);
}

TEST_CASE("a resumed tree counts from its checkpoint's counters",
          "[counter_ledger]") {
  tree_counters at_checkpoint;
  at_checkpoint.num_processes = 300;
  at_checkpoint.num_vanished = 10;
  at_checkpoint.num_starts_held = 50;
  at_checkpoint.start_hold_count = 40;
  at_checkpoint.start_hold_max_us = 9000;
  tree_counters now = at_checkpoint;
  now.num_processes = 280;
  now.num_vanished = 13;
  now.num_starts_held = 52;
  now.start_hold_count = 41;
  now.num_duplicates = 6;
  now.latency_count = 12;
  auto own = counted_since(now, at_checkpoint);
  CHECK(own.num_processes == 280);
  CHECK(own.num_vanished == 3);
  CHECK(own.num_starts_held == 2);
  CHECK(own.start_hold_count == 1);
  CHECK(own.start_hold_max_us == 9000);
  CHECK(own.num_duplicates == 6);
  CHECK(own.latency_count == 12);

  counter_ledger ledger;
  tree_counters before;
  before.num_processes = 310;
  before.num_vanished = 11;
  before.latency_count = 100;
  before.latency_p99_us = 700;
  before.latency_max_us = 20000;
  ledger.retire(before);
  ledger.report(own);
  agent_metrics m;
  ledger.fill(m);
  CHECK(m.tree.num_processes == 280);
  CHECK(m.tree.num_vanished == 14);
  CHECK(m.tree.num_duplicates == 6);
  CHECK(m.latency.count == 112);
  CHECK(m.latency.max == 20000);
  // The new tree has samples of its own: its percentiles.
  CHECK(m.latency.p99 == 0);
}
