// Both pid views (runtime/pid_views): a process's vpid comes from the
// kernel's facts only, a namespaced clone's exit= and NSpid in
// /proc/<pid>/status, and reaches the table, the stream's lineage and the
// views.
//
//   4990 unshare ── 5000 sh (pid 1 of a new namespace)
//                   └─ 5001 sleep (sh's clone → exit=2)

#include "runtime/pid_views.hpp"

#include <catch2/catch.hpp>

#include "runtime/event_lineage.hpp"
#include "runtime/proc_scan.hpp"
#include "runtime/tree_render.hpp"
#include "tests/runtime/tree_world.hpp"

using namespace auditree;
using namespace auditree::test;

namespace {

proc_process proc_at(int32_t pid, int32_t ppid, uint64_t start_offset_ms,
                     int32_t vpid, std::string exe) {
  proc_process p;
  p.pid = pid;
  p.ppid = ppid;
  p.state = 'S';
  p.num_threads = 1;
  p.start_ms = t0_ms + start_offset_ms;
  p.start_ticks = p.start_ms / 10;
  p.comm = exe.substr(exe.rfind('/') + 1);
  p.exe = exe;
  p.argv = {p.comm};
  p.uid = p.euid = 0;
  p.vpid = vpid;
  return p;
}

struct unshare_world : tree_world {
  std::vector<process_event> stream;

  unshare_world() {
    after_apply = [this](process_event& ev) {
      fill_lineage(ev, aut, "node=alpha");
      stream.push_back(ev);
    };
    exec(4990, 1000, 0, "/usr/bin/unshare", {"unshare", "-pf", "sh"});
    fork(4990, 1000, 5000, 5, fork_flags, "unshare");
    exec(5000, 4990, 6, "/usr/bin/dash", {"sh", "-c", "sleep 1 & wait"});
    fork(5000, 4990, 2, 10, fork_flags, "sh");
    exec(5001, 5000, 12, "/usr/bin/sleep", {"sleep", "1"});
  }
};

} // namespace

TEST_CASE("NSpid: the last value, only in a nested namespace", "[pid_views]") {
  CHECK(parse_nspid("Name:\tsleep\nNSpid:\t4242\t7\nNSpgid:\t1\n") == 7);
  CHECK(parse_nspid("Name:\tsh\nNSpid:\t5000\t300\t1\n") == 1);
  // The host's own namespace: no second view.
  CHECK(parse_nspid("Name:\tbash\nNSpid:\t4242\nUid:\t0\n") == 0);
  CHECK(parse_nspid("Name:\tbash\nUid:\t0\n") == 0);
  CHECK(parse_nspid("Name:\tx\nNSpid:\t4242\tseven\n") == 0);
  CHECK(parse_nspid("Name:\tx\nNSpid:\t4242\t-7\n") == 0);
  proc_process p;
  REQUIRE(parse_proc_status("Name:\ts\nUid:\t0\t0\t0\t0\nNSpid:\t9\t3\n", p));
  CHECK(p.vpid == 3);
}

TEST_CASE("a namespaced clone's exit= is the child's vpid in the table and "
          "on every event of it",
          "[pid_views]") {
  unshare_world w;
  auto sleep = w.get(5001);
  CHECK(sleep.vpid == 2);
  // Nothing the kernel said gave sh's namespace pid yet.
  CHECK(w.get(5000).vpid == 0);
  CHECK(sleep.parent_vpid == 0);
  CHECK(w.get(4990).vpid == 0);
  auto& exec = w.stream.back();
  REQUIRE(exec.action == process_action::exec);
  CHECK(exec.lineage.vpid == 2);
  w.exit(5001, 5000, 20, 0);
  CHECK(w.stream.back().lineage.vpid == 2);
}

TEST_CASE("a sweep's NSpid gives the vpids audit could not", "[pid_views]") {
  unshare_world w;
  // A process that joined the namespace by setns: its fork's exit= was a
  // host pid.
  w.fork(4990, 1000, 5002, 14, fork_flags, "unshare");
  w.exec(5002, 4990, 15, "/usr/bin/top", {"top"});
  CHECK(w.get(5002).vpid == 0);
  std::vector<proc_process> live{proc_at(1, 0, 0, 0, "/sbin/init"),
                                 proc_at(1000, 1, 0, 0, "/usr/bin/bash"),
                                 proc_at(4990, 1000, 0, 0, "/usr/bin/unshare"),
                                 proc_at(5000, 4990, 5, 1, "/usr/bin/dash"),
                                 proc_at(5001, 5000, 12, 2, "/usr/bin/sleep"),
                                 proc_at(5002, 4990, 14, 3, "/usr/bin/top")};
  w.now += std::chrono::seconds{60};
  w.aut.reconcile(live, stamp(60'000, ++w.serial), w.now, w.reaps);
  CHECK(w.get(5000).vpid == 1);
  CHECK(w.get(5001).vpid == 2);
  CHECK(w.get(5001).parent_vpid == 1);
  CHECK(w.get(5002).vpid == 3);
  CHECK(w.get(4990).vpid == 0);
}

TEST_CASE("the bootstrap takes each process's vpid from NSpid", "[pid_views]") {
  tree_world w;
  auto events = to_process_events({proc_at(1, 0, 0, 0, "/sbin/init"),
                                   proc_at(300, 1, 1, 1, "/bin/sh"),
                                   proc_at(301, 300, 2, 5, "/bin/sleep")});
  for (auto& ev : events)
    w.apply(ev);
  CHECK(w.get(1).vpid == 0);
  CHECK(w.get(300).vpid == 1);
  CHECK(w.get(301).vpid == 5);
  CHECK(w.get(301).parent_vpid == 1);
}

TEST_CASE("the views show both pids", "[pid_views][render]") {
  unshare_world w;
  auto procs = w.aut.snapshot();
  auto tree = render_pstree(procs);
  INFO(tree);
  CHECK(tree.find("sh(5000)───sleep(5001,vpid 2)") != std::string::npos);
  auto ps = render_ps(procs);
  INFO(ps);
  CHECK(ps.rfind("    PID    VPID    PPID STATE", 0) == 0);
  CHECK(ps.find("   5001       2    5000 running") != std::string::npos);
  CHECK(ps.find("   5000       -    4990 running") != std::string::npos);
  auto json = render_json(procs, "node=alpha");
  CHECK(json.find(R"("pid":5001,"entity_id")") != std::string::npos);
  CHECK(json.find(R"(,"vpid":2,"name":"sleep")") != std::string::npos);
}
