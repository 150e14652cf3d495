// process_tree::reconcile: a full /proc scan corrects the table where events
// were lost. Audit stamps are milliseconds after T0; /proc dates every
// process 737 ms before its true start (btime cut to the second, 730 ms
// here, and the 10 ms tick), as a real host does by up to 1010 ms. The scan
// is taken at +5000 unless a test says otherwise.
//
// The worlds the tests build:
//
//   before the agent (bootstrapped from /proc):   init(1)───bash(100)
//
//   killed, no record:   bash(100)───sleep(101)   forked +10, SIGKILLed
//
//   pid reused unseen:   bash(100)─┬─sleep(102)   forked +20, died unseen
//                                  └─cat(102)     forked +3000, fork lost
//
//   lost fork and exec:  bash(100)───make(103)───cc(104)───as(105)
//                                    seen        lost      lost
//
//   in flight:           bash(100)─┬─(106)    forked +4900: maybe after
//                                  │          the scan passed pid 106
//                                  ├─(109)    forked +5200, after the scan
//                                  └─(110)    forked +4500, its fork
//                                             reported after the sweep
//
//   wrong parents:       python3(200)───bash(201)───sleep(202)
//                        201 exits: the guess is 1, /proc says 200
//
//                        (250)───bash(300)       301 is 250's child in
//                                 └╌╌sleep(301)  /proc; the table said 300
//
//   zombies:             bash(100)─┬─sh(107)     exited, not waited for
//                                  └─java(108)   main thread exited,
//                                                eleven threads run on
//
//   container:           containerd-shim(50) -namespace moby -id ddd…
//                         └─sh(60) docker/ddd…─┬─sleep(61)  killed
//                                              └─top(62)    fork lost

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "runtime/proc_scan.hpp"
#include "runtime/process_tree.hpp"
#include "tests/runtime/tree_world.hpp"

using namespace auditree;
using namespace auditree::test;

namespace {

/// How much earlier than the true start this host's /proc dates a process.
constexpr uint64_t proc_early_ms = 737;

/// /proc's view of a process that truly started at `start_offset_ms`
/// after T0 (negative: before).
proc_process proc(int32_t pid, int32_t ppid, int64_t start_offset_ms,
                  std::string exe, std::vector<std::string> argv,
                  std::string cgroup = {}) {
  proc_process p;
  p.pid = pid;
  p.ppid = ppid;
  p.state = 'S';
  p.num_threads = 1;
  p.start_ms =
      static_cast<uint64_t>(static_cast<int64_t>(t0_ms) + start_offset_ms)
      - proc_early_ms;
  p.start_ticks = p.start_ms / 10;
  p.comm = argv.empty() ? "" : argv[0].substr(argv[0].rfind('/') + 1);
  p.exe = std::move(exe);
  p.argv = std::move(argv);
  p.cwd = "/home/u";
  p.uid = p.euid = 1000;
  p.cgroup = std::move(cgroup);
  return p;
}

/// The tree world with a /proc: init(1) and bash(100) are older than the
/// agent, and processes run as uid 1000 in /home/u.
struct world : test::tree_world {
  explicit world(process_tree::options opts = {})
    : tree_world(std::move(opts)) {
    uid = 1000;
    cwd = "/home/u";
    host_ = {proc(1, 0, -3'600'000, "/sbin/init", {"/sbin/init"}),
             proc(100, 1, -60'000, "/usr/bin/bash", {"-bash"})};
    bootstrap(host_);
  }

  /// Processes older than the agent, as run_agent bootstraps them.
  void bootstrap(const std::vector<proc_process>& procs) {
    for (auto& ev : to_process_events(procs))
      apply(ev);
  }

  /// What /proc shows of the processes older than the agent, plus `more`.
  std::vector<proc_process> scan(std::vector<proc_process> more = {}) {
    auto out = host_;
    out.insert(out.end(), more.begin(), more.end());
    return out;
  }

  /// The sweep, with a scan begun at `at_offset_ms`.
  reconcile_result sweep(const std::vector<proc_process>& live,
                         uint64_t at_offset_ms = 5000) {
    return aut.reconcile(live, stamp(at_offset_ms, ++serial), now, reaps);
  }

private:
  std::vector<proc_process> host_;
};

} // namespace

TEST_CASE("a process killed without any record is ended by the sweep and "
          "reaped after the grace",
          "[tree][reconcile]") {
  world w;
  w.fork(100, 1, 101, 10);
  w.exec(101, 100, 11, "/usr/bin/sleep", {"sleep", "60"});
  auto r = w.sweep(w.scan());
  CHECK(r.num_ended == 1);
  CHECK(r.num_added == 0);
  CHECK(r.num_parents_corrected == 0);
  auto p = w.get(101);
  CHECK(p.state == process_state::vanished);
  CHECK(p.cause == vanish_cause::gone_from_proc);
  CHECK(p.end_origin == fact_origin::proc_scan);
  REQUIRE(p.end);
  CHECK(stamp_ms(*p.end) == t0_ms + 5000);
  REQUIRE(w.reaps.size() == 1);
  CHECK(w.reaps[0].key == p.key);
  CHECK(w.reaps[0].due == w.now + std::chrono::milliseconds{1000});
  w.advance(std::chrono::milliseconds{999});
  CHECK(w.aut.find(101));
  w.advance(std::chrono::milliseconds{1});
  CHECK(!w.aut.find(101));
  // What /proc shows stays as it was.
  CHECK(w.get(1).state == process_state::running);
  CHECK(w.get(100).state == process_state::running);
  CHECK(w.get(100).exe == "/usr/bin/bash");
  // Its exit record, late: the pid's recent end keeps it out.
  w.exit(101, 100, 4000);
  CHECK(!w.aut.find(101));
  auto again = w.sweep(w.scan(), 10'000);
  CHECK(again.num_ended == 0);
  CHECK(again.num_added == 0);
  CHECK(w.aut.stats().num_reconciles == 2);
  CHECK(w.aut.stats().num_reconcile_ended == 1);
}

TEST_CASE("a record of the death, late, replaces what the sweep inferred",
          "[tree][reconcile]") {
  world w;
  w.fork(100, 1, 101, 10);
  w.sweep(w.scan());
  w.exit(101, 100, 4000);
  auto p = w.get(101);
  CHECK(p.state == process_state::exited);
  CHECK(p.end_origin == fact_origin::audit);
  CHECK(stamp_ms(*p.end) == t0_ms + 4000);
}

TEST_CASE("a pid reused while the table missed the death and the fork: the "
          "old lifetime ends, the new one is added",
          "[tree][reconcile]") {
  world w;
  w.fork(100, 1, 102, 20);
  w.exec(102, 100, 21, "/usr/bin/sleep", {"sleep", "1"});
  auto r = w.sweep(w.scan({proc(102, 100, 3000, "/usr/bin/cat", {"cat"})}));
  CHECK(r.num_ended == 1);
  CHECK(r.num_added == 1);
  auto both = w.lifetimes(102);
  REQUIRE(both.size() == 2);
  auto& old = both[0];
  auto& young = both[1];
  CHECK(old.state == process_state::vanished);
  CHECK(old.cause == vanish_cause::pid_reused);
  CHECK(old.end_origin == fact_origin::proc_scan);
  CHECK(old.exe == "/usr/bin/sleep");
  // Before the new one's fork can be stamped: /proc's date less the window.
  CHECK(stamp_ms(*old.end) == t0_ms + 3000 - proc_early_ms - 500);
  CHECK(young.state == process_state::running);
  CHECK(young.exe == "/usr/bin/cat");
  CHECK(young.ppid == 100);
  CHECK(young.parent_origin == fact_origin::proc_scan);
  CHECK(young.exec_origin == fact_origin::proc_scan);
  CHECK(stamp_ms(young.key.first_seen) == t0_ms + 5000);
  CHECK(!young.start);
  // The lost fork turns up after all: the new lifetime's start, not a
  // third lifetime.
  w.fork(100, 1, 102, 2999);
  auto after = w.lifetimes(102);
  REQUIRE(after.size() == 2);
  CHECK(after[1].key == young.key);
  REQUIRE(after[1].start);
  CHECK(stamp_ms(*after[1].start) == t0_ms + 2999);
  CHECK(after[1].exe == "/usr/bin/cat");
  CHECK(w.aut.stats().num_late_forks_merged == 1);
}

TEST_CASE("processes the table never saw are added under their parents",
          "[tree][reconcile]") {
  world w;
  w.fork(100, 1, 103, 30);
  w.exec(103, 100, 31, "/usr/bin/make", {"make", "-j2"});
  auto r = w.sweep(
      w.scan({proc(103, 100, 30, "/usr/bin/make", {"make", "-j2"}),
              proc(105, 104, 200, "/usr/bin/as", {"as", "-o", "x.o"}),
              proc(104, 103, 100, "/usr/bin/cc", {"cc", "-c", "x.c"})}));
  CHECK(r.num_added == 2);
  CHECK(r.num_ended == 0);
  auto cc = w.get(104);
  CHECK(cc.state == process_state::running);
  CHECK(cc.parent == w.get(103).key);
  CHECK(cc.parent_origin == fact_origin::proc_scan);
  CHECK(cc.exec_origin == fact_origin::proc_scan);
  CHECK(cc.exe == "/usr/bin/cc");
  CHECK(cc.argv == std::vector<std::string>{"cc", "-c", "x.c"});
  CHECK(cc.cwd == "/home/u");
  CHECK(cc.comm == "cc");
  CHECK(cc.uid == 1000);
  CHECK(cc.container.empty());
  CHECK(w.get(105).parent == cc.key);
  auto chain = w.aut.ancestry(105);
  REQUIRE(chain.size() == 5);
  CHECK(chain[4].pid == 1);
  // cc's own exec, delayed past the scan, lands in the lifetime the scan
  // opened; /proc's image, the newer, stays.
  w.exec(104, 103, 150, "/usr/bin/cc", {"cc", "-c", "x.c"});
  REQUIRE(w.lifetimes(104).size() == 1);
  CHECK(w.get(104).execs == 1);
  CHECK(w.get(104).exec_origin == fact_origin::proc_scan);
}

TEST_CASE("what may be younger than the scan is left for the next one",
          "[tree][reconcile]") {
  world w;
  // Forked 100 ms before the scan: the scan may have passed pid 106
  // before the fork made it.
  w.fork(100, 1, 106, 4900);
  // Forked after the scan began, applied before the sweep.
  w.fork(100, 1, 109, 5200);
  // /proc shows 110, forked at +4500 (dated +3763, so it may be as young
  // as +5000 - 1520); its fork is late.
  auto live = w.scan({proc(110, 100, 4500, "/usr/bin/true", {"true"})});
  auto r = w.sweep(live);
  CHECK(r.num_ended == 0);
  CHECK(r.num_added == 0);
  CHECK(r.num_deferred == 3);
  CHECK(w.get(106).state == process_state::running);
  CHECK(w.get(109).state == process_state::running);
  CHECK(!w.aut.find(110));
  w.fork(100, 1, 110, 4500);
  // The next scan decides: 106 and 109 died, 110 is the one forked.
  auto next = w.sweep(live, 10'000);
  CHECK(next.num_ended == 2);
  CHECK(next.num_added == 0);
  CHECK(w.get(106).cause == vanish_cause::gone_from_proc);
  CHECK(w.get(109).cause == vanish_cause::gone_from_proc);
  REQUIRE(w.lifetimes(110).size() == 1);
  CHECK(w.get(110).state == process_state::running);
}

TEST_CASE("/proc's start matches a lifetime within the tolerance",
          "[tree][reconcile]") {
  world w;
  w.fork(100, 1, 112, 1000);
  SECTION("dated up to tolerance + window before the fork: the same") {
    auto p = proc(112, 100, 1000, "/usr/bin/bash", {"bash"});
    p.start_ms = t0_ms + 1000 - 1520;
    auto r = w.sweep(w.scan({p}));
    CHECK(r.num_ended == 0);
    CHECK(r.num_added == 0);
  }
  SECTION("dated up to the window after the fork: the same") {
    auto p = proc(112, 100, 1000, "/usr/bin/bash", {"bash"});
    p.start_ms = t0_ms + 1500;
    CHECK(w.sweep(w.scan({p})).num_ended == 0);
  }
  SECTION("later than that: another process") {
    auto p = proc(112, 100, 1000, "/usr/bin/bash", {"bash"});
    p.start_ms = t0_ms + 1501;
    auto r = w.sweep(w.scan({p}));
    CHECK(r.num_ended == 1);
    CHECK(r.num_added == 1);
  }
}

TEST_CASE("a wrong parent is corrected from /proc", "[tree][reconcile]") {
  SECTION("an orphan's guessed reaper: /proc names the subreaper") {
    process_tree::options live; // the connector reports every death
    live.deaths_reported = true;
    world w{live};
    w.fork(200, 1, 201, 50, fork_flags, "python3");
    w.fork(201, 200, 202, 51);
    w.exec(202, 201, 52, "/usr/bin/sleep", {"sleep", "60"});
    w.exit(201, 200, 60);
    REQUIRE(w.get(202).ppid == 1);
    REQUIRE(w.get(202).parent_origin == fact_origin::inferred);
    auto r = w.sweep(w.scan(
        {proc(200, 1, -30'000, "/usr/bin/python3", {"python3", "sup.py"}),
         proc(202, 200, 51, "/usr/bin/sleep", {"sleep", "60"})}));
    CHECK(r.num_parents_corrected == 1);
    CHECK(r.num_ended == 0);
    CHECK(r.num_added == 0);
    auto p = w.get(202);
    CHECK(p.ppid == 200);
    CHECK(p.parent == w.get(200).key);
    CHECK(p.parent_origin == fact_origin::proc_scan);
    CHECK(p.fork_ppid == 201);
    // Only a subreaper adopts an orphan that is not its namespace's.
    CHECK(w.get(200).subreaper);
    CHECK(w.get(201).state == process_state::exited);
  }
  SECTION("replay: the orphan kept its parent; /proc names the subreaper") {
    world w;
    w.fork(200, 1, 201, 50, fork_flags, "python3");
    w.fork(201, 200, 202, 51);
    w.exec(202, 201, 52, "/usr/bin/sleep", {"sleep", "60"});
    w.exit(201, 200, 60);
    REQUIRE(w.get(202).ppid == 201);
    auto r = w.sweep(w.scan(
        {proc(200, 1, -30'000, "/usr/bin/python3", {"python3", "sup.py"}),
         proc(202, 200, 51, "/usr/bin/sleep", {"sleep", "60"})}));
    CHECK(r.num_parents_corrected == 1);
    CHECK(w.get(202).ppid == 200);
    CHECK(w.get(202).parent_origin == fact_origin::proc_scan);
    CHECK(w.get(200).subreaper);
  }
  SECTION("a parent that lives on was a wrong guess, not a death") {
    world w;
    w.fork(300, 250, 301, 70);
    w.exec(301, 300, 71, "/usr/bin/sleep", {"sleep", "60"});
    REQUIRE(w.get(301).ppid == 300);
    auto r = w.sweep(
        w.scan({proc(250, 1, -20'000, "/usr/bin/tmux", {"tmux"}),
                proc(300, 250, -10'000, "/usr/bin/bash", {"bash"}),
                proc(301, 250, 70, "/usr/bin/sleep", {"sleep", "60"})}));
    CHECK(r.num_parents_corrected == 1);
    CHECK(r.num_ended == 0);
    auto p = w.get(301);
    CHECK(p.ppid == 250);
    CHECK(p.parent_origin == fact_origin::proc_scan);
    CHECK(w.get(300).state == process_state::running);
    CHECK_FALSE(w.get(250).subreaper);
    // 250 was known only as 300's parent: it takes /proc's facts.
    CHECK(r.num_added == 1);
    CHECK(w.get(250).exe == "/usr/bin/tmux");
    CHECK(w.get(250).ppid == 1);
  }
}

TEST_CASE("zombies are gone; a leader whose threads run on is not",
          "[tree][reconcile]") {
  world w;
  w.fork(100, 1, 107, 40);
  w.exec(107, 100, 41, "/bin/sh", {"sh", "-c", "exit 3"});
  w.fork(100, 1, 108, 42);
  w.exec(108, 100, 43, "/usr/bin/java", {"java", "-jar", "x.jar"});
  auto zombie = proc(107, 100, 40, "", {});
  zombie.state = 'Z';
  auto leader = proc(108, 100, 42, "/usr/bin/java", {"java", "-jar", "x.jar"});
  leader.state = 'Z';
  leader.num_threads = 12;
  auto unseen = proc(111, 100, 45, "", {});
  unseen.state = 'Z';
  auto r = w.sweep(w.scan({zombie, leader, unseen}));
  CHECK(r.num_ended == 1);
  CHECK(r.num_added == 0);
  CHECK(w.get(107).state == process_state::vanished);
  CHECK(w.get(107).cause == vanish_cause::gone_from_proc);
  CHECK(w.get(108).state == process_state::running);
  CHECK(!w.aut.find(111));
}

TEST_CASE("a container member gone from /proc is ended; one the table "
          "missed is added to its container",
          "[tree][reconcile]") {
  world w;
  std::string hex(64, 'd');
  auto id = "docker/" + hex;
  auto cgroup = "/system.slice/docker-" + hex + ".scope";
  auto shim = proc(50, 1, -50'000, "/usr/bin/containerd-shim-runc-v2",
                   {"/usr/bin/containerd-shim-runc-v2", "-namespace", "moby",
                    "-id", hex, "-address", "/run/containerd/containerd.sock"},
                   "/system.slice/containerd.service");
  auto sh = proc(60, 50, -40'000, "/bin/busybox", {"sh"}, cgroup);
  auto sleeper =
      proc(61, 60, -30'000, "/bin/busybox", {"sleep", "600"}, cgroup);
  w.bootstrap({shim, sh, sleeper});
  CHECK(w.get(50).container.empty());
  CHECK(w.get(60).container == id);
  CHECK(w.get(61).container == id);
  auto top = proc(62, 60, 100, "/bin/busybox", {"top"}, cgroup);
  auto r = w.sweep(w.scan({shim, sh, top}));
  CHECK(r.num_ended == 1);
  CHECK(r.num_added == 1);
  auto killed = w.get(61);
  CHECK(killed.state == process_state::vanished);
  CHECK(killed.cause == vanish_cause::gone_from_proc);
  CHECK(killed.container == id);
  CHECK(w.get(62).container == id);
  CHECK(w.get(62).ppid == 60);
  auto list = w.aut.containers();
  REQUIRE(list.size() == 1);
  CHECK(list[0].id == id);
  CHECK(list[0].num_running == 2);
  w.advance(std::chrono::milliseconds{1000});
  CHECK(w.aut.container_tree(id).size() == 2);
  // The container stops: its processes leave /proc.
  auto stop = w.sweep(w.scan({shim}), 10'000);
  CHECK(stop.num_ended == 2);
  CHECK(w.aut.containers().at(0).num_running == 0);
}

TEST_CASE("an empty scan is a failed one: it changes nothing",
          "[tree][reconcile]") {
  world w;
  w.fork(100, 1, 101, 10);
  auto r = w.sweep({});
  CHECK(r.num_ended == 0);
  CHECK(w.get(101).state == process_state::running);
  CHECK(w.get(1).state == process_state::running);
  CHECK(w.aut.stats().num_reconciles == 0);
}

TEST_CASE("a program that renamed itself after its exec takes /proc's name, "
          "unless an exec newer than the scan named it",
          "[tree][reconcile]") {
  world w;
  // busybox exec'd as /proc/self/exe: the kernel names it `exe`, then
  // busybox names itself after its applet, which no record shows.
  w.fork(100, 1, 101, 10);
  w.exec(101, 100, 11, "/bin/busybox", {"exe"});
  w.fork(100, 1, 102, 20);
  w.exec(102, 100, 4990, "/bin/busybox", {"exe"});
  CHECK(w.get(101).comm == "exe");
  auto sleep = proc(101, 100, 10, "/bin/busybox", {"sleep", "60"});
  auto late = proc(102, 100, 20, "/bin/busybox", {"sleep", "60"});
  w.sweep(w.scan({sleep, late}));
  CHECK(w.get(101).comm == "sleep");
  CHECK(w.get(101).exe == "/bin/busybox");
  // Its exec came 10 ms before the scan: /proc may show the name before it.
  CHECK(w.get(102).comm == "exe");
}
