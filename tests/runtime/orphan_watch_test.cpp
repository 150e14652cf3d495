// Parents are never guessed (issue 14, item 5): a child whose own end no
// source reports keeps its parent when the parent ends; with the proc
// connector it waits for the connector's word, then moves to the reaper.
//
//   kill -9 -PGID, then the pids reused (replay, no connector):
//
//     bash(100)─┬─sleep(101)     all four die unrecorded; 101 and 100 are
//               ├─sleep(102)     handed out again: 102 and 103 still have
//               └─sleep(103)     bash(100)'s first lifetime as parent
//
//   a Go daemon's forks that die unrecorded, then its exit_group:
//
//     daemon(200)─┬─(201)        201 and 202 keep 200; 202's own record
//                 └─(202)        later names pid 1

#include <catch2/catch.hpp>

#include "runtime/orphan_watch.hpp"
#include "tree_world.hpp"

using namespace auditree;
using namespace auditree::test;
using namespace std::chrono_literals;

namespace {

process_tree::options with_connector(std::chrono::milliseconds wait) {
  process_tree::options opts;
  opts.deaths_reported = true;
  opts.orphan_wait = wait;
  opts.exit_grace = 1000ms;
  return opts;
}

} // namespace

TEST_CASE("the orphan rule follows what the sources report", "[orphans]") {
  CHECK(orphan_rule_for(false, 0ms) == orphan_rule::keep);
  CHECK(orphan_rule_for(false, 150ms) == orphan_rule::keep);
  CHECK(orphan_rule_for(true, 0ms) == orphan_rule::move);
  CHECK(orphan_rule_for(true, 150ms) == orphan_rule::wait);
}

TEST_CASE("orphan_watch hands out entries when due, or their parent's",
          "[orphans]") {
  orphan_watch w;
  orphan_watch::time_point t0{};
  process_key a{10, stamp(0, 1)}, b{11, stamp(0, 2)}, c{12, stamp(0, 3)};
  process_key p{9, stamp(0, 0)}, q{8, stamp(0, 0)};
  w.watch(a, p, t0 + 100ms);
  w.watch(b, q, t0 + 150ms);
  // An earlier due after a later one waits as long (the deque stays sorted).
  w.watch(c, p, t0 + 120ms);
  CHECK(w.take_due(t0 + 99ms).empty());
  auto due = w.take_due(t0 + 100ms);
  REQUIRE(due.size() == 1);
  CHECK(due[0].child == a);
  auto of_p = w.take_of(p);
  REQUIRE(of_p.size() == 1);
  CHECK(of_p[0].child == c);
  CHECK(w.size() == 1);
  CHECK(w.take_due(t0 + 150ms).size() == 1);
  CHECK(w.empty());
  SECTION("past the bound the oldest is due at once") {
    w.max_entries = 2;
    w.watch(a, p, t0 + 1s);
    w.watch(b, p, t0 + 1s);
    w.watch(c, p, t0 + 1s);
    auto out = w.take_due(t0);
    REQUIRE(out.size() == 1);
    CHECK(out[0].child == a);
    CHECK(w.size() == 2);
  }
}

TEST_CASE("replay: a killed process group keeps its parents through pid "
          "reuse",
          "[orphans][tree]") {
  tree_world w; // no source reports deaths: replay, plugin
  w.fork(1, 0, 100, 0, fork_flags, "bash");
  w.exec(100, 1, 1, "/usr/bin/bash", {"bash", "-c", "sleep 30 & ..."});
  for (int32_t pid = 101; pid <= 103; ++pid) {
    w.fork(100, 1, pid, pid - 99);
    w.exec(pid, 100, pid - 95, "/usr/bin/sleep", {"sleep", "30"});
  }
  auto bash = w.get(100).key;
  // kill -9 -PGID: nothing recorded. The pids come round again.
  w.fork(50, 1, 101, 5000, fork_flags, "make");
  w.fork(50, 1, 100, 5001, fork_flags, "make");
  w.fork(50, 1, 102, 5002, fork_flags, "make");
  auto old_bash = w.lifetimes(100).front();
  CHECK(old_bash.key == bash);
  CHECK(old_bash.state == process_state::vanished);
  CHECK(old_bash.cause == vanish_cause::pid_reused);
  for (int32_t pid : {101, 102, 103}) {
    auto old = w.lifetimes(pid).front();
    INFO("pid " << pid);
    CHECK(old.ppid == 100);
    CHECK(old.parent == bash);
    CHECK(old.parent_origin == fact_origin::audit);
  }
  CHECK(w.aut.stats().num_reparented == 0);
  CHECK(w.aut.stats().num_orphans_kept == 2); // 102, 103 ran when 100 ended
  // Nothing grew under pid 1 or make.
  CHECK(w.get(103).ppid == 100);
}

TEST_CASE("replay: forks that die unrecorded keep their parent when it "
          "exits; a later record of their own moves them",
          "[orphans][tree]") {
  tree_world w;
  w.exec(200, 1, 0, "/usr/sbin/daemon", {"daemon"});
  w.fork(200, 1, 201, 1, fork_flags, "daemon");
  w.fork(200, 1, 202, 2, fork_flags, "daemon");
  w.exit(200, 1, 10);
  for (int32_t pid : {201, 202}) {
    auto p = w.get(pid);
    INFO("pid " << pid);
    CHECK(p.ppid == 200);
    CHECK(p.parent_origin == fact_origin::audit);
    CHECK(p.state == process_state::running);
  }
  CHECK(w.aut.stats().num_orphans_kept == 2);
  // Time passes: no rule moves them.
  w.now += 10s;
  w.advance(2s);
  CHECK(w.get(201).ppid == 200);
  // Evidence: 202 lived on and its exit names its reaper.
  w.exit(202, 1, 20'000);
  CHECK(w.get(202).ppid == 1);
  CHECK(w.get(202).parent_origin == fact_origin::audit);
  CHECK(w.get(201).ppid == 200);
}

TEST_CASE("with the connector a live orphan moves once its death could have "
          "been reported; a reported death keeps its parent",
          "[orphans][tree]") {
  SECTION("waiting: the connector reports one child's death late") {
    tree_world w{with_connector(150ms)};
    w.fork(300, 1, 301, 0);
    w.fork(300, 1, 302, 1);
    w.exit(300, 1, 10);
    CHECK(w.get(301).ppid == 300);
    CHECK(w.get(302).ppid == 300);
    w.now += 20ms;
    w.connector_exit(301, 300, 12, 9);
    w.now += 200ms;
    w.connector_exit(999, 1, 250); // any later event settles the wait
    CHECK(w.get(301).ppid == 300);
    CHECK(w.get(301).state == process_state::killed);
    CHECK(w.get(302).ppid == 1);
    CHECK(w.get(302).parent_origin == fact_origin::inferred);
    CHECK(w.aut.stats().num_orphans_waited == 2);
    CHECK(w.aut.stats().num_reparented == 1);
  }
  SECTION("an idle host: the parent's reap settles its orphans") {
    tree_world w{with_connector(150ms)};
    w.fork(300, 1, 302, 1);
    w.exit(300, 1, 10);
    CHECK(w.get(302).ppid == 300);
    w.advance(1000ms);
    CHECK(w.lifetimes(300).empty()); // reaped, after its orphan moved
    CHECK(w.get(302).ppid == 1);
  }
  SECTION("no wait: it moves at once, as the kernel moves it") {
    tree_world w{with_connector(0ms)};
    w.fork(300, 1, 302, 1);
    w.exit(300, 1, 10);
    CHECK(w.get(302).ppid == 1);
    CHECK(w.get(302).parent_origin == fact_origin::inferred);
  }
}
