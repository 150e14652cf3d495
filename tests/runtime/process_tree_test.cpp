// The process table, one rule per TEST_CASE. Events are built by hand with
// explicit audit stamps (milliseconds after T0), fed in the order each test
// names, and time moves only when a test says so.
//
// The worlds the tests build:
//
//   exit then reap / reuse / exec before fork / late fork after exit:
//
//     bash(100)───sleep(101)            101 exits at +10, reaped at +1 s;
//                                      a new 101 is forked at +20
//
//   orphan to a subreaper (live, the connector reporting every death):
//
//     containerd-shim(50)───runc(60)───sh(61)     runc exits: sh goes to the
//                                                 shim (a subreaper), not 1
//     python(200)───bash(201)───sleep(202)        bash exits: the guess is 1;
//                                                 sleep's exit says 200, so
//                                                 200 is a subreaper
//
//   thread vs process:
//
//     threads(300)─┬─{301}    clone a0=50f00 (CLONE_THREAD): no process
//                  ├─child(302)  clone a0=1200011: a process
//                  ├─{303}    clone3, never seen again: a thread at exit
//                  └─true(304)   clone3, then its exec: a process
//
//   namespaced clone exit= (a container's sh forks; exit= is 7, the
//   namespace pid; the host pid 2494 shows up in the child's exec):
//
//     sh(2478, ns pid 1)───sleep(2494, ns pid 7)     kworker(7) untouched
//
//   container init death (lineage from containerd):
//
//     containerd-shim(50) -namespace default -id web
//      └─runc(60) create --bundle …/default/web web
//         ├─runc(61) init ──clone(CLONE_PARENT)──► runc:[1:CHILD](62)
//         ├─runc:[1:CHILD](62) ──clone(CLONE_PARENT)──► runc:[2:INIT](63)
//         └─sh(63) default/web init ───sleep(64) (ns pid 7)
//     sh(63) exits: sleep(64) vanishes with the namespace
//
//   two sources (audit stamps at syscall entry, the connector on receipt,
//   a few ms later; each reports every fork, exec and exit):
//
//     bash(100)───sleep(101)    audit fork +10, connector fork +13: one
//                               lifetime, started at +10
//     threads(300)───{305}      audit clone3 +10, connector fork +12: a
//                               process after all
//     worker(400)               its thread execs: the connector reports the
//                               pid's exit, then the exec: one lifetime

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "runtime/process_tree.hpp"
#include "tests/runtime/tree_world.hpp"

using namespace auditree;
using namespace auditree::test;

namespace {

/// The tree world with a bash(100)───sleep(101) scene.
struct world : test::tree_world {
  using tree_world::tree_world;

  /// 100 is a pre-existing shell.
  void bash_and_sleep() {
    fork(100, 1, 101, 0);
    exec(101, 100, 1, "/usr/bin/sleep", {"sleep", "2"});
  }
};

/// Live with the proc connector: a child running when its parent ends is
/// alive (see orphan_watch_test.cpp for the other sources).
process_tree::options deaths_reported() {
  process_tree::options opts;
  opts.deaths_reported = true;
  return opts;
}

} // namespace

TEST_CASE("an exit marks the process and its reap comes after the grace",
          "[tree]") {
  world w;
  w.bash_and_sleep();
  w.exit(101, 100, 10, 3);
  auto p = w.get(101);
  CHECK(p.state == process_state::exited);
  CHECK(p.exit_code == 3);
  REQUIRE(p.end);
  CHECK(*p.end == stamp(10, w.serial));
  REQUIRE(w.reaps.size() == 1);
  CHECK(w.reaps[0].key == p.key);
  CHECK(w.reaps[0].due == w.now + std::chrono::milliseconds{1000});
  w.advance(std::chrono::milliseconds{999});
  CHECK(w.aut.find(101));
  w.advance(std::chrono::milliseconds{1});
  CHECK(!w.aut.find(101));
  CHECK(w.aut.find(100));
  CHECK(w.aut.stats().num_reaped == 1);
}

TEST_CASE("the exit grace is configurable", "[tree]") {
  process_tree::options opts;
  opts.exit_grace = std::chrono::milliseconds{250};
  world w{opts};
  w.bash_and_sleep();
  w.exit(101, 100, 10);
  REQUIRE(w.reaps.size() == 1);
  CHECK(w.reaps[0].due == w.now + std::chrono::milliseconds{250});
}

TEST_CASE("a pid reused before the old reap fires is a new process that the "
          "old timer leaves alone",
          "[tree]") {
  world w;
  w.bash_and_sleep();
  w.exit(101, 100, 10);
  auto old = w.get(101);
  REQUIRE(w.reaps.size() == 1);
  auto old_reap = w.reaps[0];
  w.fork(100, 1, 101, 20);
  w.exec(101, 100, 21, "/usr/bin/true", {"true"});
  auto young = w.get(101);
  CHECK(young.key != old.key);
  CHECK(young.state == process_state::running);
  CHECK(young.exe == "/usr/bin/true");
  // Both lifetimes are visible until the old one's grace ends (with 1
  // and 100).
  CHECK(w.aut.snapshot().size() == 4);
  // A stale generation never removes anything.
  CHECK(!w.aut.reap(old.key, old_reap.generation + 1));
  CHECK(!w.aut.reap(young.key, old_reap.generation));
  w.advance(std::chrono::milliseconds{1000});
  CHECK(!w.aut.find(old.key));
  auto still = w.get(101);
  CHECK(still.key == young.key);
  CHECK(still.state == process_state::running);
}

TEST_CASE("an exec that arrives before its fork creates the process and the "
          "fork merges into it",
          "[tree]") {
  world w;
  // The child's exec (+12) reaches the table before the parent's clone
  // (+10): the clone's record is written at syscall exit, later.
  w.exec(101, 100, 12, "/usr/bin/sleep", {"sleep", "2"});
  auto early = w.get(101);
  CHECK(!early.start);
  CHECK(early.fork_ppid == 100);
  w.fork(100, 1, 101, 10);
  auto p = w.get(101);
  CHECK(p.key == early.key);
  REQUIRE(p.start);
  CHECK(stamp_ms(*p.start) == t0_ms + 10);
  CHECK(p.fork_ppid == 100);
  CHECK(p.ppid == 100);
  CHECK(p.exe == "/usr/bin/sleep");
  CHECK(p.argv == std::vector<std::string>{"sleep", "2"});
  CHECK(w.aut.snapshot().size() == 3); // 1, 100, 101
  CHECK(w.aut.stats().num_late_forks_merged == 1);
}

TEST_CASE("a late fork for a pid that already exited does not resurrect it",
          "[tree]") {
  SECTION("after the reap: the recently-exited set remembers it") {
    world w;
    w.exec(101, 100, 12, "/usr/bin/true", {"true"});
    w.exit(101, 100, 13);
    w.advance(std::chrono::milliseconds{1000});
    REQUIRE(!w.aut.find(101));
    w.fork(100, 1, 101, 10);
    CHECK(!w.aut.find(101));
    CHECK(w.aut.stats().num_late_forks_ignored == 1);
  }
  SECTION("before the reap: the fork fills the start, the process stays "
          "exited") {
    world w;
    w.exec(101, 100, 12, "/usr/bin/true", {"true"});
    w.exit(101, 100, 13);
    w.fork(100, 1, 101, 10);
    auto p = w.get(101);
    CHECK(p.state == process_state::exited);
    REQUIRE(p.start);
    CHECK(stamp_ms(*p.start) == t0_ms + 10);
    CHECK(w.aut.snapshot().size() == 3);
  }
  SECTION("a fork after the exit is a new lifetime") {
    world w;
    w.exec(101, 100, 12, "/usr/bin/true", {"true"});
    w.exit(101, 100, 13);
    w.advance(std::chrono::milliseconds{1000});
    w.fork(100, 1, 101, 50);
    auto p = w.get(101);
    CHECK(p.state == process_state::running);
    CHECK(stamp_ms(*p.start) == t0_ms + 50);
  }
}

TEST_CASE("records of a process arrive in any order", "[tree]") {
  world w;
  // exit (+13) before exec (+12) before fork (+10): three assemblers.
  w.exit(101, 100, 13, 7);
  w.exec(101, 100, 12, "/usr/bin/true", {"true"});
  w.fork(100, 1, 101, 10);
  auto p = w.get(101);
  CHECK(p.state == process_state::exited);
  CHECK(p.exit_code == 7);
  CHECK(p.exe == "/usr/bin/true");
  CHECK(p.fork_ppid == 100);
  CHECK(stamp_ms(*p.start) == t0_ms + 10);
  CHECK(w.aut.snapshot().size() == 3);
}

TEST_CASE("orphans go to the nearest live subreaper ancestor", "[tree]") {
  SECTION("a containerd shim is a subreaper") {
    world w{deaths_reported()};
    w.exec(50, 1, 0, "/usr/bin/containerd-shim-runc-v2",
           {"/usr/bin/containerd-shim-runc-v2", "-namespace", "default", "-id",
            "web", "-address", "/run/containerd/containerd.sock"});
    w.fork(50, 1, 60, 1, fork_flags, "containerd-shim");
    w.exec(60, 50, 2, "/usr/sbin/runc", {"runc", "state", "web"});
    w.fork(60, 50, 61, 3, fork_flags, "runc");
    w.exit(60, 50, 4);
    auto orphan = w.get(61);
    CHECK(orphan.ppid == 50);
    CHECK(orphan.parent_origin == fact_origin::inferred);
    CHECK(orphan.fork_ppid == 60);
    // The orphan's own record confirms the guess.
    w.exec(61, 50, 5, "/bin/sh", {"sh"});
    CHECK(w.get(61).parent_origin == fact_origin::audit);
    CHECK(w.aut.stats().num_parent_corrections == 0);
  }
  SECTION("a record from before the parent's death does not undo it") {
    // runc run -d: the container's init execs while runc still runs (its
    // record names runc); runc's exit is applied first.
    world w{deaths_reported()};
    w.fork(200, 1, 201, 0, fork_flags, "python3");
    w.fork(201, 200, 202, 1);
    w.exit(201, 200, 3);
    CHECK(w.get(202).ppid == 1);
    w.exec(202, 201, 3, "/bin/sh", {"sh"});
    CHECK(w.get(202).ppid == 1);
    CHECK(w.get(202).state == process_state::running);
    // The connector's report of the fork, stamped when it was read.
    w.connector_fork(201, 203, 5);
    CHECK(w.get(203).ppid == 1);
  }
  SECTION("without one they go to pid 1, and a record corrects the guess") {
    world w{deaths_reported()};
    w.fork(200, 1, 201, 0, fork_flags, "python3");
    w.fork(201, 200, 202, 1);
    w.exec(202, 201, 2, "/usr/bin/sleep", {"sleep", "1"});
    w.exit(201, 200, 3);
    CHECK(w.get(202).ppid == 1);
    // PR_SET_CHILD_SUBREAPER is invisible to audit; the orphan's exit
    // shows where it really went.
    w.exit(202, 200, 4);
    auto p = w.get(202);
    CHECK(p.ppid == 200);
    CHECK(p.fork_ppid == 201);
    CHECK(p.parent_origin == fact_origin::audit);
    CHECK(w.get(200).subreaper);
    // The next orphan below 200 goes there at once.
    w.fork(200, 1, 203, 5, fork_flags, "python3");
    w.fork(203, 200, 204, 6);
    w.exit(203, 200, 7);
    CHECK(w.get(204).ppid == 200);
  }
}

TEST_CASE("a new ppid proves the old parent died", "[tree]") {
  world w;
  w.fork(100, 1, 104, 0);
  w.fork(104, 100, 106, 1);
  w.exec(106, 104, 2, "/usr/bin/sleep", {"sleep", "2"});
  // 104 is SIGKILLed: no record. 106's exit shows its new parent.
  w.exit(106, 1, 2000);
  auto dead = w.get(104);
  CHECK(dead.state == process_state::vanished);
  CHECK(dead.cause == vanish_cause::orphaned_children);
  CHECK(dead.end_origin == fact_origin::inferred);
  CHECK(w.get(106).ppid == 1);
  CHECK(w.aut.stats().num_parent_corrections == 1);
}

TEST_CASE("an older record does not undo a newer parent", "[tree]") {
  world w;
  w.fork(100, 1, 104, 0);
  w.fork(104, 100, 106, 1);
  w.exit(106, 1, 2000);
  // 106's exec at +2 (ppid 104 then) arrives after its exit at +2000.
  w.exec(106, 104, 2, "/usr/bin/sleep", {"sleep", "2"});
  auto p = w.get(106);
  CHECK(p.ppid == 1);
  CHECK(p.exe == "/usr/bin/sleep");
}

TEST_CASE("CLONE_THREAD makes a thread; clone3 children wait to show what "
          "they are",
          "[tree]") {
  world w;
  w.fork(300, 1, 301, 0, clone_thread_flags, "threads");
  CHECK(!w.aut.find(301));
  CHECK(w.get(300).threads == 1);
  w.fork(300, 1, 302, 1, fork_flags, "threads");
  CHECK(w.get(302).fork_ppid == 300);
  w.fork(300, 1, 303, 2, std::nullopt, "threads");
  w.fork(300, 1, 304, 3, std::nullopt, "threads");
  CHECK(!w.aut.find(303));
  CHECK(!w.aut.find(304));
  w.exec(304, 300, 4, "/usr/bin/true", {"true", "posix-spawned"});
  auto spawned = w.get(304);
  REQUIRE(spawned.start);
  CHECK(stamp_ms(*spawned.start) == t0_ms + 3);
  CHECK(spawned.fork_ppid == 300);
  CHECK(w.aut.stats().num_clone3_confirmed == 1);
  // 303 never showed itself: when 300 ends, it was one of its threads.
  w.exit(300, 1, 10);
  CHECK(!w.aut.find(303));
  CHECK(w.get(300).threads == 2);
}

TEST_CASE("an exit_group confirms a pending clone3 child", "[tree]") {
  world w;
  w.fork(300, 1, 305, 0, std::nullopt, "threads");
  CHECK(!w.aut.find(305));
  w.exit(305, 300, 5, 3);
  auto p = w.get(305);
  CHECK(p.state == process_state::exited);
  CHECK(p.exit_code == 3);
  CHECK(p.fork_ppid == 300);
  REQUIRE(p.start);
  CHECK(stamp_ms(*p.start) == t0_ms);
  // It ran its parent's program: fork copies the image.
  CHECK(p.exe == "/usr/bin/threads");
}

TEST_CASE("a tid handed out again proves the pending clone3 was a thread",
          "[tree]") {
  world w;
  w.fork(300, 1, 310, 0, std::nullopt, "threads");
  w.fork(100, 1, 310, 50);
  auto p = w.get(310);
  CHECK(p.fork_ppid == 100);
  CHECK(w.get(300).threads == 1);
}

TEST_CASE("a namespaced clone exit= is never taken as a host pid", "[tree]") {
  world w;
  // A container's sh: its records carry host pids, its clone's exit= the
  // namespace pid 7, which on the host is a kernel worker.
  w.fork(2, 0, 7, 0, fork_flags, "kthreadd");
  w.fork(2458, 1, 2478, 1, std::nullopt, "containerd-shim");
  w.fork(2478, 2458, 2, 2, std::nullopt, "runc:[2:INIT]");
  w.exec(2478, 2458, 3, "/bin/busybox", {"sh", "-c", "sleep 1"});
  w.fork(2478, 2458, 7, 4, fork_flags, "sh");
  auto kworker = w.get(7);
  CHECK(kworker.fork_ppid == 2);
  CHECK(kworker.state == process_state::running);
  CHECK(!w.aut.find(2)->start); // kthreadd: untouched by the ns tid 2
  // The child's own exec links it: host pid 2494, parent 2478.
  w.exec(2494, 2478, 5, "/bin/busybox", {"sleep", "1"});
  auto child = w.get(2494);
  CHECK(child.fork_ppid == 2478);
  REQUIRE(child.start);
  CHECK(stamp_ms(*child.start) == t0_ms + 4);
  CHECK(w.aut.stats().num_namespaced_linked == 1);
}

TEST_CASE("a container's init dying takes its pid namespace with it",
          "[tree]") {
  world w;
  w.exec(50, 1, 0, "/usr/bin/containerd-shim-runc-v2",
         {"/usr/bin/containerd-shim-runc-v2", "-namespace", "default", "-id",
          "web", "-address", "/run/containerd/containerd.sock"});
  w.fork(50, 1, 60, 1, fork_flags, "containerd-shim");
  w.exec(60, 50, 2, "/usr/sbin/runc",
         {"runc", "--root", "/run/containerd/runc/default", "create",
          "--bundle",
          "/run/containerd/io.containerd.runtime.v2.task/default/web", "web"});
  w.fork(60, 50, 61, 3, fork_flags, "runc");
  w.exec(61, 60, 4, "/usr/sbin/runc", {"runc", "init"});
  w.fork(61, 60, 62, 5, clone_parent_flags, "runc:[0:PARENT]");
  w.fork(62, 60, 63, 6, clone_parent_flags, "runc:[1:CHILD]");
  w.exit(62, 60, 7);
  w.exit(61, 60, 8);
  w.fork(63, 60, 2, 9, std::nullopt, "runc:[2:INIT]");
  w.exit(60, 50, 10);
  w.exec(63, 50, 11, "/bin/busybox", {"sh", "-c", "sleep 5 & exit 0"});
  w.fork(63, 50, 7, 12, fork_flags, "sh");
  w.exec(64, 63, 13, "/bin/busybox", {"sleep", "5"});

  auto init = w.get(63);
  CHECK(init.container == "default/web");
  CHECK(init.container_init);
  CHECK(init.fork_ppid == 60); // CLONE_PARENT: runc's child, not 62's
  CHECK(init.ppid == 50);      // the shim adopted it when runc exited
  CHECK(w.get(64).container == "default/web");
  for (int32_t pid : {50, 60, 61, 62})
    CHECK(w.get(pid).container.empty());
  // container_of answers what find() would, without the copy.
  using view = std::optional<std::string_view>;
  CHECK(w.aut.container_of(63) == view{"default/web"});
  CHECK(w.aut.container_of(64) == view{"default/web"});
  CHECK(w.aut.container_of(50) == view{""});
  CHECK_FALSE(w.aut.container_of(9999));
  auto list = w.aut.containers();
  REQUIRE(list.size() == 1);
  CHECK(list[0].id == "default/web");
  CHECK(list[0].runtime == "containerd");
  CHECK(list[0].init_pid == 63);
  CHECK(list[0].num_running == 2);
  auto started = w.aut.take_container_events();
  REQUIRE(started.size() == 1);
  CHECK(started[0].started);
  CHECK(started[0].id == "default/web");
  CHECK(started[0].runtime == "containerd");
  CHECK(w.aut.take_container_events().empty()); // taken once

  w.reaps.clear();
  w.exit(63, 50, 300);
  auto stopped = w.aut.take_container_events();
  REQUIRE(stopped.size() == 1);
  CHECK_FALSE(stopped[0].started);
  CHECK(stopped[0].init_pid == 63);
  CHECK(stamp_ms(stopped[0].at) == t0_ms + 300);
  auto sleeper = w.get(64);
  CHECK(sleeper.state == process_state::vanished);
  CHECK(sleeper.cause == vanish_cause::namespace_teardown);
  CHECK(sleeper.signal == 9);
  CHECK(stamp_ms(*sleeper.end) == t0_ms + 300);
  CHECK(w.reaps.size() == 2); // the init and the rest of its namespace
  CHECK(w.aut.containers()[0].end);
  w.advance(std::chrono::milliseconds{1000});
  CHECK(!w.aut.find(64));
  CHECK(w.aut.containers().empty());
}

TEST_CASE("a cgroup read before the lineage still leaves the init known",
          "[tree]") {
  // Live, the connector's exec (with /proc's cgroup) of the container's
  // process often arrives before audit's records of runc: the process is a
  // member first, and runc's lineage then names it the init.
  world w;
  w.exec(50, 1, 0, "/usr/bin/containerd-shim-runc-v2",
         {"/usr/bin/containerd-shim-runc-v2", "-namespace", "default", "-id",
          "web", "-address", "/run/containerd/containerd.sock"});
  w.fork(50, 1, 60, 1, fork_flags, "containerd-shim");
  w.connector_exec(63, 4, "/bin/busybox", {"sh"}, "default/web");
  w.exec(60, 50, 2, "/usr/sbin/runc",
         {"runc", "--root", "/run/containerd/runc/default", "create",
          "--bundle",
          "/run/containerd/io.containerd.runtime.v2.task/default/web", "web"});
  w.fork(60, 50, 61, 3, fork_flags, "runc");
  w.exec(61, 60, 3, "/usr/sbin/runc", {"runc", "init"});
  w.fork(61, 60, 63, 3, clone_parent_flags, "runc:[1:CHILD]");
  w.exec(63, 60, 4, "/bin/busybox", {"sh"});
  auto init = w.get(63);
  CHECK(init.container == "default/web");
  CHECK(init.container_init);
  auto list = w.aut.containers();
  REQUIRE(list.size() == 1);
  CHECK(list[0].init_pid == 63);
}

TEST_CASE("the cgroup's name for a plain runc container beats the lineage's",
          "[tree]") {
  // runc run -d --cgroup-parent: the cgroup says `auditree-runc/<id>`,
  // runc's argv only `<id>`. The connector's events (with the cgroup) and
  // audit's come in either order. runc's way up to the container's
  // process 3526, which execs sh; sh forks 3532.
  auto runc_run = [](world& w, const std::string& id) {
    w.exec(3514, 3513, 0, "/usr/sbin/runc", {"runc", "run", "-d", id});
    w.fork(3514, 3513, 3523, 1, fork_flags, "runc");
    w.exec(3523, 3514, 2, "/usr/sbin/runc", {"runc", "init"});
    w.fork(3523, 3514, 3525, 3, clone_parent_flags, "runc:[0:PARENT]");
    w.fork(3525, 3514, 3526, 4, clone_parent_flags, "runc:[1:CHILD]");
  };
  auto sh = [](world& w) {
    w.exec(3526, 3514, 5, "/bin/busybox", {"sh", "-c", "sleep 60 & sleep 2"});
    w.fork(3526, 3514, 2, 6, fork_flags, "sh");
  };
  auto sleep = [](world& w) {
    w.exec(3532, 3526, 7, "/bin/busybox", {"sleep", "60"});
  };

  // The connector's exec first.
  world w;
  runc_run(w, "r-1");
  w.connector_exec(3526, 5, {}, {}, "auditree-runc/r-1");
  sh(w);
  w.connector_fork(3526, 3532, 6, "auditree-runc/r-1");
  sleep(w);
  CHECK(w.get(3526).container == "auditree-runc/r-1");
  CHECK(w.get(3526).container_init);
  CHECK(w.get(3532).container == "auditree-runc/r-1");

  // Audit's records first: the child takes its creator's (lineage)
  // container, then the cgroup's.
  world late;
  runc_run(late, "r-2");
  sh(late);
  sleep(late);
  CHECK(late.get(3532).container == "r-2");
  late.connector_exec(3526, 8, {}, {}, "auditree-runc/r-2");
  late.connector_fork(3526, 3532, 8, "auditree-runc/r-2");
  CHECK(late.get(3526).container == "auditree-runc/r-2");
  CHECK(late.get(3532).container == "auditree-runc/r-2");

  // The connector's fork too before audit's exec: the child inherits the
  // cgroup's container while its creator is still on runc's way in, its
  // cgroup confirms it, and its exec then must not rename it.
  world early;
  runc_run(early, "r-3");
  early.connector_exec(3526, 5, {}, {}, "auditree-runc/r-3");
  early.connector_fork(3526, 3532, 6, "auditree-runc/r-3");
  sh(early);
  sleep(early);
  CHECK(early.get(3526).container == "auditree-runc/r-3");
  CHECK(early.get(3532).container == "auditree-runc/r-3");
}

TEST_CASE("a vfork child's exec reported before the vfork keeps its program",
          "[tree]") {
  // The parent's vfork returns (and is reported) only after the child's
  // exec, whose records therefore come first; then the connector's.
  world w;
  w.exec(100, 1, 0, "/usr/bin/python3", {"python3"});
  w.exec(300, 100, 6, "/usr/bin/sleep", {"sleep", "60"});
  w.fork(100, 1, 300, 2, 0x4111, "python3");
  CHECK(w.get(300).exe == "/usr/bin/sleep");
  w.connector_fork(100, 300, 12);
  w.connector_exec(300, 12);
  CHECK(w.get(300).exe == "/usr/bin/sleep");
  CHECK(w.get(300).parent.pid == 100);

  // The connector's fork (stamped when it was read) between the two.
  world c;
  c.exec(100, 1, 0, "/usr/bin/python3", {"python3"});
  c.exec(300, 100, 6, "/usr/bin/sleep", {"sleep", "60"});
  c.connector_fork(100, 300, 12);
  c.fork(100, 1, 300, 2, 0x4111, "python3");
  c.connector_exec(300, 12);
  auto all = c.aut.snapshot();
  CHECK(std::count_if(all.begin(), all.end(), [](const process_info& p) {
          return p.pid == 300;
        }) == 1);
  auto child = c.get(300);
  CHECK(child.exe == "/usr/bin/sleep");
  CHECK(child.state == process_state::running);
  CHECK(child.parent.pid == 100);
  CHECK(stamp_ms(*child.start) == t0_ms + 2);
}

TEST_CASE("runc kill -9 and runc delete end a container", "[tree]") {
  world w;
  auto start = [&](int32_t base, const std::string& id) {
    w.exec(base, 1, base, "/usr/bin/containerd-shim-runc-v2",
           {"/usr/bin/containerd-shim-runc-v2", "-namespace", "moby", "-id", id,
            "-address", "/run/containerd/containerd.sock"});
    w.fork(base, 1, base + 1, base + 1, fork_flags, "containerd-shim");
    w.exec(base + 1, base, base + 2, "/usr/sbin/runc",
           {"runc", "create", "--bundle",
            "/run/containerd/io.containerd.runtime.v2.task/moby/" + id, id});
    w.fork(base + 1, base, base + 2, base + 3, fork_flags, "runc");
    w.exec(base + 2, base + 1, base + 4, "/usr/sbin/runc", {"runc", "init"});
    w.fork(base + 2, base + 1, base + 3, base + 5, clone_parent_flags,
           "runc:[0:PARENT]");
    w.exec(base + 3, base + 1, base + 6, "/bin/busybox", {"sleep", "30"});
  };
  std::string a(64, 'a');
  std::string b(64, 'b');
  start(100, a);
  start(200, b);
  CHECK(w.get(103).container == "docker/" + a);
  CHECK(w.get(203).container == "docker/" + b);
  w.fork(100, 1, 110, 300, fork_flags, "containerd-shim");
  w.exec(110, 100, 301, "/usr/sbin/runc", {"runc", "kill", a, "9"});
  CHECK(w.get(103).state == process_state::vanished);
  CHECK(w.get(203).state == process_state::running);
  w.fork(200, 1, 210, 310, fork_flags, "containerd-shim");
  w.exec(210, 200, 311, "/usr/sbin/runc", {"runc", "kill", b, "15"});
  CHECK(w.get(203).state == process_state::running);
  w.fork(200, 1, 211, 320, fork_flags, "containerd-shim");
  w.exec(211, 200, 321, "/usr/sbin/runc", {"runc", "delete", "--force", b});
  CHECK(w.get(203).state == process_state::vanished);
}

TEST_CASE("plain runc run names its container with the configured prefix",
          "[tree]") {
  process_tree::options opts;
  opts.runc_prefix = "feas";
  world w{opts};
  w.exec(3514, 3513, 0, "/usr/sbin/runc", {"runc", "run", "r-life-1"});
  w.fork(3514, 3513, 3523, 1, fork_flags, "runc");
  w.exec(3523, 3514, 2, "/usr/sbin/runc", {"runc", "init"});
  w.fork(3523, 3514, 3525, 3, clone_parent_flags, "runc:[0:PARENT]");
  w.fork(3525, 3514, 3526, 4, clone_parent_flags, "runc:[1:CHILD]");
  w.exec(3526, 3514, 5, "/bin/busybox", {"sh", "-c", "sleep 5 & wait"});
  w.fork(3526, 3514, 3, 6, fork_flags, "sh");
  w.exec(3532, 3526, 7, "/bin/busybox", {"sleep", "5"});
  CHECK(w.get(3526).container == "feas/r-life-1");
  CHECK(w.get(3532).container == "feas/r-life-1");
  CHECK(w.aut.containers().at(0).runtime == "runc");
  // runc run lives as long as its container: its end is the container's.
  w.exit(3514, 3513, 100);
  CHECK(w.get(3532).state == process_state::vanished);
}

TEST_CASE("a fork returning a live pid proves the old holder died silently",
          "[tree]") {
  world w;
  w.fork(100, 1, 301, 0);
  w.exec(301, 100, 1, "/usr/bin/sleep", {"sleep", "60"});
  // SIGKILL: no record. 684 forks later pid 301 is handed out again.
  w.fork(100, 1, 301, 900);
  auto all = w.aut.snapshot();
  REQUIRE(all.size() == 4); // 1, 100 and two lifetimes of 301
  auto& old = all[2];
  auto& young = all[3];
  CHECK(old.state == process_state::vanished);
  CHECK(old.cause == vanish_cause::pid_reused);
  CHECK(stamp_ms(*old.end) == t0_ms + 900);
  CHECK(young.state == process_state::running);
  CHECK(stamp_ms(*young.start) == t0_ms + 900);
}

TEST_CASE("keep-exited mode never reaps", "[tree]") {
  process_tree::options opts;
  opts.keep_exited = true;
  world w{opts};
  w.bash_and_sleep();
  w.exit(101, 100, 10);
  CHECK(w.reaps.empty());
  w.advance(std::chrono::hours{1});
  auto p = w.get(101);
  CHECK(p.state == process_state::exited);
  CHECK(p.end);
}

TEST_CASE("a record fills what the table did not know of a process", "[tree]") {
  world w;
  // 100 existed before the agent: the fork record of its child is the first
  // the table hears of it.
  w.fork(100, 1, 101, 0, fork_flags, "bash");
  auto bash = w.get(100);
  CHECK(bash.comm == "bash");
  CHECK(bash.exe == "/usr/bin/bash");
  CHECK(bash.ppid == 1);
  CHECK(!bash.start);
  CHECK(bash.parent_origin == fact_origin::audit);
  // The child runs the same program until it execs.
  CHECK(w.get(101).exe == "/usr/bin/bash");
}

TEST_CASE("queries: ancestry, one container's tree, snapshot order", "[tree]") {
  world w;
  w.bash_and_sleep();
  w.fork(101, 100, 102, 2);
  auto chain = w.aut.ancestry(102);
  REQUIRE(chain.size() == 4);
  CHECK(chain[0].pid == 102);
  CHECK(chain[1].pid == 101);
  CHECK(chain[2].pid == 100);
  CHECK(chain[3].pid == 1);
  auto all = w.aut.snapshot();
  REQUIRE(all.size() == 4);
  CHECK(all[0].pid == 1);
  CHECK(all[3].pid == 102);
  CHECK(w.aut.container_tree("default/web").empty());
  CHECK(w.aut.ancestry(999).empty());
}

TEST_CASE("audit and the connector report one fork: one lifetime", "[tree]") {
  SECTION("audit first") {
    world w;
    w.fork(100, 1, 101, 10);
    w.connector_fork(100, 101, 13);
    auto all = w.aut.snapshot();
    CHECK(all.size() == 3);
    auto p = w.get(101);
    CHECK(stamp_ms(*p.start) == t0_ms + 10);
    CHECK(p.start_origin == fact_origin::audit);
    CHECK(w.aut.stats().num_duplicates == 1);
  }
  SECTION("connector first: audit's stamp is the start") {
    world w;
    w.connector_fork(100, 101, 13);
    w.fork(100, 1, 101, 10);
    CHECK(w.aut.snapshot().size() == 3);
    auto p = w.get(101);
    CHECK(stamp_ms(*p.start) == t0_ms + 10);
    CHECK(p.fork_ppid == 100);
  }
}

TEST_CASE("connector events stamped after audit's exit belong to that "
          "lifetime",
          "[tree]") {
  world w;
  w.fork(100, 1, 101, 10);
  w.exec(101, 100, 11, "/usr/bin/date", {"date", "+%s"});
  w.exit(101, 100, 12);
  // Received 1-3 ms after each syscall's entry.
  w.connector_fork(100, 101, 13);
  w.connector_exec(101, 14, "/usr/bin/date", {"date"});
  w.connector_exit(101, 100, 15);
  auto all = w.aut.snapshot();
  CHECK(all.size() == 3);
  auto p = w.get(101);
  CHECK(p.state == process_state::exited);
  CHECK(p.end_origin == fact_origin::audit);
  CHECK(p.execs == 1);
  // Audit's argv is the exact one; /proc's may be cut short.
  CHECK(p.argv == std::vector<std::string>{"date", "+%s"});
}

TEST_CASE("the connector's fork confirms a clone3 child and names its parent",
          "[tree]") {
  world w;
  // glibc's posix_spawn: clone3, CLONE_VM|CLONE_VFORK; the record cannot
  // say thread or process. The connector reports processes only.
  w.fork(300, 200, 305, 10, std::nullopt, "threads");
  CHECK(!w.aut.find(305));
  w.connector_fork(300, 305, 12);
  auto p = w.get(305);
  CHECK(stamp_ms(*p.start) == t0_ms + 10);
  CHECK(p.fork_ppid == 300);
  CHECK(p.exe == "/usr/bin/threads");
  w.exit(300, 200, 20);
  CHECK(w.get(300).threads == 0);
}

TEST_CASE("a /proc that is gone already wipes nothing", "[tree]") {
  world w;
  w.fork(100, 1, 101, 10);
  w.exec(101, 100, 11, "/usr/bin/true", {"true"});
  w.connector_exec(101, 13);
  auto p = w.get(101);
  CHECK(p.exe == "/usr/bin/true");
  CHECK(p.execs == 1);
}

TEST_CASE("a thread's exec: the connector's exit of the leader is no death, "
          "and the stale reap spares the pid",
          "[tree]") {
  world w;
  w.fork(100, 1, 400, 0);
  w.exec(400, 100, 1, "/usr/bin/worker", {"worker"});
  w.connector_exec(400, 2, "/usr/bin/worker", {"worker"});
  // A non-leader thread execs sleep: audit sees the exec (pid = tgid), the
  // connector the old leader's exit, then the exec.
  w.exec(400, 100, 50, "/usr/bin/sleep", {"sleep", "1"});
  w.connector_exit(400, 100, 52);
  REQUIRE(w.reaps.size() == 1);
  auto stale = w.reaps[0];
  w.connector_exec(400, 52, "/usr/bin/sleep", {"sleep", "1"});
  auto p = w.get(400);
  CHECK(p.state == process_state::running);
  CHECK(p.exe == "/usr/bin/sleep");
  CHECK(p.execs == 2);
  CHECK(w.aut.stats().num_revived == 1);
  CHECK(w.aut.snapshot().size() == 3);
  // The old timer fires: the pid lives on.
  CHECK(!w.aut.reap(stale.key, stale.generation));
  w.exit(400, 100, 1050);
  REQUIRE(w.reaps.size() == 2);
  CHECK(w.reaps[1].generation != stale.generation);
  CHECK(w.aut.reap(w.reaps[1].key, w.reaps[1].generation));
}

TEST_CASE("the connector reports deaths audit never sees", "[tree]") {
  world w;
  w.fork(100, 1, 101, 10);
  w.exec(101, 100, 11, "/usr/bin/sleep", {"sleep", "30"});
  w.connector_exit(101, 100, 500, 9);
  auto p = w.get(101);
  CHECK(p.state == process_state::killed);
  CHECK(p.signal == 9);
  CHECK(p.end_origin == fact_origin::proc_connector);
  // A late audit record from before the death changes nothing.
  w.exec(101, 100, 400, "/usr/bin/sleep", {"sleep", "30"});
  CHECK(w.get(101).state == process_state::killed);
  CHECK(w.aut.stats().num_revived == 0);
}

TEST_CASE("the cgroup a /proc read shows is the container", "[tree]") {
  world w;
  w.fork(100, 1, 101, 10);
  auto id = "docker/" + std::string(64, 'c');
  w.connector_exec(101, 12, "/bin/busybox", {"sleep", "30"}, id);
  auto p = w.get(101);
  CHECK(p.container == id);
  CHECK(!p.container_init);
  auto list = w.aut.containers();
  REQUIRE(list.size() == 1);
  CHECK(list[0].runtime == "docker");
  // It is in the container's pid namespace now: exit= is a namespace pid.
  w.fork(101, 100, 3, 20, fork_flags, "sleep");
  CHECK(!w.aut.find(3));
}
