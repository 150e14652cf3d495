// The assembler actor under virtual time. The data is a slice of
// fork-storm.log in which one exec event (serial 307819) is interrupted by
// six other events before its PROCTITLE and EOE arrive:
//
//   307818 clone  ─┐
//   307819 execve  │ SYSCALL..PATH            (open)
//   307820 clone   │
//   307821 exit    │  six complete events
//   307822 execve  │
//   307823 execve  │
//   307824 exit    │
//   307825 clone  ─┘
//   307819 execve    PROCTITLE, EOE           (closes)

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "actors/assembler_actor.hpp"
#include "runtime/audit_parser.hpp"
#include "runtime/metrics.hpp"
#include "tests/actors/actor_fixture.hpp"

using namespace auditree;
using namespace std::chrono_literals;

namespace {

record_batch read_records(const std::string& file, bool keep_eoe = true) {
  std::ifstream in{std::string{AUDITREE_TEST_DATA} + "/" + file};
  REQUIRE(in);
  record_batch result;
  std::string line;
  while (std::getline(in, line)) {
    auto parsed = parse_line(line);
    REQUIRE(parsed);
    if (keep_eoe || parsed.record.type != 1320) {
      result.push_back(parsed.record.to_record());
      result.back().sequence = result.size();
    }
  }
  return result;
}

// A batch with the watermark a source sends along: its last sequence.
caf::message with_watermark(record_batch batch) {
  auto watermark = batch.empty() ? 0 : batch.back().sequence;
  return caf::make_message(std::move(batch), watermark);
}

struct assembler_fixture : test::actor_fixture {
  caf::actor spawn_assembler(event_assembler::options opts = {}) {
    auto sink = keep(sys.spawn(test::collector, &events));
    return keep(
      sys.spawn(assembler_actor, sink, opts, uint32_t{0}, fault_injector{},
                std::shared_ptr<counter_ledger>{}));
  }

  assembler_stats stats_of(const caf::actor& aut, bool flush = false) {
    if (flush)
      self->send(aut, flush_atom::value);
    else
      self->send(aut, stats_atom::value);
    run();
    return receive_one<assembler_stats>();
  }

  std::vector<process_event> events;
};

} // namespace

TEST_CASE_METHOD(assembler_fixture, "interleaved events assemble on EOE",
                 "[assembler_actor]") {
  auto aut = spawn_assembler();
  self->send(aut, with_watermark(read_records("interleaved.log")));
  run();
  // The ack: every event closed, no record needed any more.
  bool acked = false;
  self->receive(
    [&](ack_atom, uint32_t index, uint64_t retain_from) {
      acked = true;
      CHECK(index == 0);
      CHECK(retain_from > 0);
    },
    caf::after(std::chrono::seconds(0)) >> [] {});
  CHECK(acked);
  // 3 clones, 3 execs, 2 exits; the interrupted exec is complete.
  REQUIRE(events.size() == 8);
  auto exec = std::find_if(events.begin(), events.end(), [](auto& ev) {
    return ev.id.serial == 307819;
  });
  REQUIRE(exec != events.end());
  CHECK(exec->action == process_action::exec);
  CHECK(exec->argv == std::vector<std::string>{"true"});
  CHECK(exec->cwd == "/work/steering/shared/tools");
  // The exec closed last, on its own EOE, not on its PROCTITLE.
  CHECK(events.back().id.serial == 307819);
  auto stats = stats_of(aut);
  CHECK(stats.num_events == 8);
  CHECK(stats.num_closed_by_eoe == 8);
  CHECK(stats.num_closed_by_timeout == 0);
  CHECK(stats.num_serial_gaps == 0);
}

TEST_CASE_METHOD(assembler_fixture,
                 "without EOE, events close when virtual time passes the "
                 "timeout",
                 "[assembler_actor]") {
  event_assembler::options opts;
  opts.timeout = 500ms;
  auto aut = spawn_assembler(opts);
  self->send(aut, with_watermark(read_records("interleaved.log", false)));
  run();
  CHECK(events.empty());
  advance(499ms);
  CHECK(events.empty());
  advance(1ms);
  REQUIRE(events.size() == 8);
  auto stats = stats_of(aut);
  CHECK(stats.num_closed_by_timeout == 8);
  CHECK(stats.num_closed_by_eoe == 0);
}

TEST_CASE_METHOD(assembler_fixture, "a timer restarts for later records",
                 "[assembler_actor]") {
  event_assembler::options opts;
  opts.timeout = 500ms;
  auto aut = spawn_assembler(opts);
  auto records = read_records("interleaved.log", false);
  record_batch first(records.begin(), records.begin() + 2);
  record_batch rest(records.begin() + 2, records.end());
  self->send(aut, with_watermark(std::move(first))); // 307818 clone, complete but no EOE.
  run();
  advance(300ms);
  self->send(aut, with_watermark(std::move(rest)));
  run();
  advance(200ms);
  REQUIRE(events.size() == 1);
  CHECK(events[0].id.serial == 307818);
  advance(299ms);
  CHECK(events.size() == 1);
  advance(1ms);
  CHECK(events.size() == 8);
}

TEST_CASE_METHOD(assembler_fixture, "flush closes open events as timeouts",
                 "[assembler_actor]") {
  auto aut = spawn_assembler();
  self->send(aut, with_watermark(read_records("interleaved.log", false)));
  run();
  CHECK(events.empty());
  auto stats = stats_of(aut, true);
  CHECK(events.size() == 8);
  CHECK(stats.num_closed_by_timeout == 8);
  CHECK(stats.num_records == 31);
}

TEST_CASE_METHOD(assembler_fixture,
                 "two assemblers each take one residue class of serials",
                 "[assembler_actor]") {
  event_assembler::options opts;
  opts.stride = 2;
  auto even = spawn_assembler(opts);
  auto odd = spawn_assembler(opts);
  record_batch to_even;
  record_batch to_odd;
  for (auto& rec : read_records("interleaved.log"))
    (rec.id.serial % 2 == 0 ? to_even : to_odd).push_back(rec);
  self->send(even, std::move(to_even), uint64_t{39});
  self->send(odd, std::move(to_odd), uint64_t{39});
  run();
  CHECK(events.size() == 8);
  auto a = stats_of(even);
  auto b = stats_of(odd);
  CHECK(a.num_events == 4);
  CHECK(b.num_events == 4);
  CHECK(a.num_serial_gaps + b.num_serial_gaps == 0);
}

TEST_CASE_METHOD(assembler_fixture,
                 "a killed assembler's counters stay in the ledger and its "
                 "replacement's add to them",
                 "[assembler_actor][counter_ledger]") {
  auto ledger = std::make_shared<counter_ledger>(1);
  auto sink = keep(sys.spawn(test::collector, &events));
  auto spawn = [&] {
    return sys.spawn(assembler_actor, sink, event_assembler::options{},
                     uint32_t{0}, fault_injector{}, ledger);
  };
  auto first = spawn();
  self->send(first, with_watermark(read_records("interleaved.log")));
  run();
  // Never asked for its counters: killed with eight events counted.
  caf::anon_send_exit(first, caf::exit_reason::kill);
  run();
  agent_metrics m;
  ledger->fill(m);
  CHECK(m.assembly.num_events == 8);
  CHECK(m.assembly.num_closed_by_eoe == 8);
  // The replacement assembles the same log again: it counts on from 8
  // once it reports.
  auto second = keep(spawn());
  self->send(second, with_watermark(read_records("interleaved.log")));
  run();
  ledger->fill(m);
  CHECK(m.assembly.num_events == 8);
  auto own = stats_of(second);
  CHECK(own.num_events == 8);
  ledger->fill(m);
  CHECK(m.assembly.num_events == 16);
  CHECK(m.assembly.num_process_events == 16);
}
