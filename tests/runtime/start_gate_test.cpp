// The stream's start events (runtime/start_gate): a fork is reported once
// the table placed the process it made, under its host pid, and never for
// a thread. The table is fed by tree_world; every event it applied passes
// through the gate as the tree actor passes it.
//
//   1 (host)
//   └─ 100 containerd-shim
//      └─ 4000 runc:[2:INIT] ── clone3 → exit=2, 3 (its Go threads)
//         │   execs sh, now its container's init
//         └─ 4010 sleep   (sh's clone → exit=7: its pid in the namespace)

#include <catch2/catch.hpp>

#include "runtime/start_gate.hpp"
#include "tests/runtime/tree_world.hpp"

using namespace auditree;
using namespace auditree::test;

namespace {

struct gated_world : tree_world {
  start_gate gate;
  process_event_batch stream;
  uint64_t sequence = 0;

  explicit gated_world(start_gate::options opts = {}) : gate(opts) {
    after_apply = [this](process_event& ev) {
      ev.sequence = ++sequence;
      now = std::max(now, process_tree::time_point{}
                              + std::chrono::milliseconds{stamp_ms(ev.id)});
      gate.pass(process_event{ev}, aut.take_starts(), now, stream);
      gate.expire(now);
    };
  }

  std::vector<process_event> forks() const {
    std::vector<process_event> out;
    for (auto& ev : stream)
      if (ev.action == process_action::fork)
        out.push_back(ev);
    return out;
  }
};

} // namespace

TEST_CASE("a fork known to make a process is reported at once; a thread never",
          "[start_gate]") {
  gated_world w;
  w.exec(10, 1, 0, "/usr/bin/bash", {"bash"});
  w.fork(10, 1, 11, 5);
  w.fork(10, 1, 12, 6, clone_thread_flags);
  auto forks = w.forks();
  REQUIRE(forks.size() == 1);
  CHECK(forks[0].child == 11);
  CHECK(forks[0].vpid == 0);
  CHECK(forks[0].fork_parent == 0);
  CHECK(w.gate.stats().num_threads == 1);
  CHECK(w.gate.num_waiting() == 0);
}

TEST_CASE("CLONE_PARENT makes the caller's parent the child's parent",
          "[start_gate]") {
  gated_world w;
  w.exec(20, 7, 0, "/usr/sbin/runc", {"runc", "init"});
  w.fork(20, 7, 21, 5, clone_parent_flags);
  auto forks = w.forks();
  REQUIRE(forks.size() == 1);
  CHECK(forks[0].child == 21);
  CHECK(forks[0].pid == 20);
  CHECK(forks[0].fork_parent == 7);
}

TEST_CASE("a clone3 waits for the child's own record and goes out before it, "
          "with its own stamp",
          "[start_gate]") {
  gated_world w;
  w.exec(30, 1, 0, "/usr/bin/containerd", {"containerd"});
  w.fork(30, 1, 31, 10, std::nullopt, "containerd");
  auto fork_stamp = stamp(10, w.serial);
  CHECK(w.forks().empty());
  CHECK(w.gate.num_waiting() == 1);
  w.exec(31, 30, 14, "/usr/bin/containerd-shim", {"containerd-shim"});
  REQUIRE(w.stream.size() == 3);
  auto& fork = w.stream[1];
  CHECK(fork.action == process_action::fork);
  CHECK(fork.child == 31);
  CHECK(fork.id == fork_stamp);
  // The exec's sequence: the stream's sequences never go back.
  CHECK(fork.sequence == w.stream[2].sequence);
  CHECK(w.stream[2].action == process_action::exec);
  CHECK(w.gate.stats().num_confirmed == 1);
  CHECK(w.gate.hold_latency().count() == 1);
  CHECK(w.gate.hold_latency().max_us() == 4000);
}

TEST_CASE(
    "a clone3 that nothing shows to be a process is a thread at the bound",
    "[start_gate]") {
  start_gate::options opts;
  opts.hold = std::chrono::milliseconds{100};
  gated_world w{opts};
  w.exec(40, 1, 0, "/usr/bin/dockerd", {"dockerd"});
  w.fork(40, 1, 41, 10, std::nullopt, "dockerd");
  w.fork(40, 1, 42, 50, std::nullopt, "dockerd");
  w.exec(43, 1, 150, "/usr/bin/true", {"true"});
  CHECK(w.forks().empty());
  CHECK(w.gate.stats().num_threads == 2);
  CHECK(w.gate.num_waiting() == 0);
  // A record of the first child after the bound: too late to report.
  w.exit(41, 40, 200);
  CHECK(w.forks().empty());
  CHECK(w.gate.stats().num_too_late == 1);
}

TEST_CASE("the proc connector's fork confirms a clone3 (live)",
          "[start_gate]") {
  gated_world w;
  w.exec(50, 1, 0, "/usr/bin/python3", {"python3"});
  w.fork(50, 1, 51, 10, std::nullopt, "python3");
  CHECK(w.forks().empty());
  w.connector_fork(50, 51, 12);
  auto forks = w.forks();
  REQUIRE(forks.size() == 1);
  CHECK(forks[0].child == 51);
  CHECK(forks[0].source == fact_source::audit);
  CHECK(forks[0].id == stamp(10, w.serial - 1));
}

TEST_CASE("a fork inside a pid namespace is reported under its host pid, "
          "with its namespace pid as vpid",
          "[start_gate]") {
  gated_world w;
  w.exec(100, 1, 0, "/usr/bin/containerd-shim", {"containerd-shim"});
  w.fork(100, 1, 4000, 10, fork_flags, "containerd-shim");
  // runc's init in the new namespace starts its Go threads: exit= 2, 3.
  w.fork(4000, 100, 2, 20, std::nullopt, "runc:[2:INIT]");
  w.fork(4000, 100, 3, 21, std::nullopt, "runc:[2:INIT]");
  w.exec(4000, 100, 30, "/bin/busybox", {"sh", "-c", "sleep 1; ls"});
  w.fork(4000, 100, 7, 40, fork_flags, "sh");
  auto forks = w.forks();
  REQUIRE(forks.size() == 1); // the shim's fork of 4000 only
  CHECK(forks[0].child == 4000);
  w.exec(4010, 4000, 42, "/bin/busybox", {"sleep", "1"});
  forks = w.forks();
  REQUIRE(forks.size() == 2);
  CHECK(forks[1].child == 4010);
  CHECK(forks[1].vpid == 7);
  CHECK(forks[1].pid == 4000);
  for (auto& f : forks)
    CHECK(f.child > 3);
}

TEST_CASE("a pid the host can no longer hand out is a namespace pid, "
          "whoever made the namespace",
          "[start_gate]") {
  // `unshare --pid --fork sh -c 'sleep 1 & wait'`: no runtime, no
  // container, but sh is pid 1 of a new namespace.
  gated_world w;
  w.exec(4990, 1000, 0, "/usr/bin/unshare", {"unshare", "-pf", "sh"});
  w.fork(4990, 1000, 5000, 5, fork_flags, "unshare");
  w.exec(5000, 4990, 6, "/usr/bin/dash", {"sh", "-c", "sleep 1 & wait"});
  w.fork(5000, 4990, 2, 10, fork_flags, "sh");
  REQUIRE(w.forks().size() == 1);
  w.exec(5001, 5000, 12, "/usr/bin/sleep", {"sleep", "1"});
  auto forks = w.forks();
  REQUIRE(forks.size() == 2);
  CHECK(forks[1].child == 5001);
  CHECK(forks[1].vpid == 2);
  // Once the namespace is known, a larger namespace pid waits too.
  w.fork(5000, 4990, 301, 20, fork_flags, "sh");
  CHECK(w.forks().size() == 2);
  w.exec(5002, 5000, 21, "/usr/bin/true", {"true"});
  REQUIRE(w.forks().size() == 3);
  CHECK(w.forks()[2].child == 5002);
  CHECK(w.forks()[2].vpid == 301);
}

TEST_CASE("a process named by the connector after its exec takes that name",
          "[start_gate][tree]") {
  gated_world w;
  w.exec(60, 1, 0, "/bin/busybox", {"exe"});
  CHECK(w.get(60).comm == "exe");
  process_event rename;
  rename.action = process_action::rename;
  rename.source = fact_source::proc_connector;
  rename.id = stamp(3, ++w.serial);
  rename.pid = 60;
  rename.comm = "sleep";
  w.apply(rename);
  CHECK(w.get(60).comm == "sleep");
  CHECK(w.get(60).exe == "/bin/busybox");
  CHECK(w.get(60).execs == 1);
  // The stream has the exec, no rename.
  REQUIRE(w.stream.size() == 1);
  CHECK(w.stream[0].action == process_action::exec);
}

TEST_CASE("the stream leaves out the connector's forks and execs and a /proc "
          "scan, and keeps its deaths by signal",
          "[start_gate]") {
  process_event ev;
  ev.source = fact_source::proc_connector;
  ev.action = process_action::fork;
  CHECK_FALSE(belongs_in_stream(ev));
  ev.action = process_action::exit;
  CHECK_FALSE(belongs_in_stream(ev));
  ev.signal = 9;
  CHECK(belongs_in_stream(ev));
  ev.source = fact_source::proc_scan;
  CHECK_FALSE(belongs_in_stream(ev));
  ev.source = fact_source::audit;
  CHECK(belongs_in_stream(ev));
}

TEST_CASE("two hosts' forks with one stamp wait apart", "[start_gate]") {
  // A merged log: hosts a and b both fork (clone3, flags unknown) under
  // the same stamp; a's child showing itself releases a's fork only.
  start_gate gate;
  process_event_batch out;
  auto fork_on = [](std::string host, int32_t child) {
    process_event ev;
    ev.action = process_action::fork;
    ev.source = fact_source::audit;
    ev.id = event_id{1700000000, 5, 42};
    ev.pid = 10;
    ev.child = child;
    ev.host = std::move(host);
    return ev;
  };
  auto now = process_tree::time_point{};
  gate.pass(fork_on("a", 11), {}, now, out);
  gate.pass(fork_on("b", 21), {}, now, out);
  REQUIRE(gate.num_waiting() == 2);
  process_event exec;
  exec.action = process_action::exec;
  exec.source = fact_source::audit;
  exec.id = event_id{1700000000, 6, 43};
  exec.pid = 11;
  exec.host = "a";
  process_start start{process_key{11, event_id{1700000000, 5, 42}},
                      event_id{1700000000, 5, 42}, 10, 0};
  gate.pass(process_event{exec}, {start}, now, out);
  REQUIRE(out.size() == 2);
  CHECK(out[0].action == process_action::fork);
  CHECK(out[0].host == "a");
  CHECK(out[0].child == 11);
  CHECK(gate.num_waiting() == 1);
  CHECK(gate.stats().num_too_late == 0);
}

namespace {

// A clone3 by pid 70 (flags unknown: it waits), stamped `serial`.
process_event held_clone3(uint32_t serial) {
  process_event ev;
  ev.action = process_action::fork;
  ev.source = fact_source::audit;
  ev.id = event_id{1000, 0, serial};
  ev.pid = 70;
  ev.child = 71 + static_cast<int32_t>(serial);
  return ev;
}

// The table's start for held_clone3(serial)'s child.
process_start start_of(uint32_t serial) {
  event_id fork{1000, 0, serial};
  return process_start{process_key{71 + static_cast<int32_t>(serial), fork},
                       fork, 70, 0};
}

process_tree::time_point at_ms(int64_t ms) {
  return process_tree::time_point{} + std::chrono::milliseconds{ms};
}

} // namespace

TEST_CASE("past start-max-held the oldest waiting fork is evicted",
          "[start_gate]") {
  start_gate::options opts;
  opts.max_held = 2;
  start_gate gate{opts};
  process_event_batch out;
  for (uint32_t serial = 1; serial <= 3; ++serial) {
    gate.pass(held_clone3(serial), {}, at_ms(serial), out);
    gate.expire(at_ms(serial));
  }
  CHECK(out.empty());
  CHECK(gate.num_waiting() == 2);
  CHECK(gate.stats().num_held == 3);
  CHECK(gate.stats().num_evicted == 1);
  CHECK(gate.stats().num_threads == 0);
  CHECK(gate.stats().num_unresolved == 0);
  // The evicted one (serial 1) is no longer held; serial 2 still is.
  process_event other;
  other.action = process_action::exec;
  other.source = fact_source::audit;
  gate.pass(process_event{other}, {start_of(1), start_of(2)}, at_ms(10),
            out);
  CHECK(gate.stats().num_too_late == 1);
  CHECK(gate.stats().num_confirmed == 1);
}

TEST_CASE("a fork held again after its release waits its own full hold",
          "[start_gate]") {
  start_gate::options opts;
  opts.hold = std::chrono::milliseconds{100};
  start_gate gate{opts};
  process_event_batch out;
  gate.pass(held_clone3(1), {}, at_ms(0), out);
  process_event other;
  other.action = process_action::exec;
  other.source = fact_source::audit;
  gate.pass(process_event{other}, {start_of(1)}, at_ms(10), out);
  REQUIRE(gate.num_waiting() == 0);
  // The same stamp again (an assembler's resend): held from 50 ms.
  gate.pass(held_clone3(1), {}, at_ms(50), out);
  REQUIRE(gate.num_waiting() == 1);
  // The first hold's entry is due at 100 ms; it must not end this one.
  gate.expire(at_ms(120));
  CHECK(gate.num_waiting() == 1);
  CHECK(gate.stats().num_threads == 0);
  gate.expire(at_ms(150));
  CHECK(gate.num_waiting() == 0);
  CHECK(gate.stats().num_threads == 1);
}
