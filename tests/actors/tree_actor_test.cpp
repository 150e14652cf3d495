// The tree actor in virtual time: reaps are delayed self-messages, so an
// exited process stays visible for exactly the grace period, and a timer
// that fires after its pid was reused removes nothing.
//
// The world these tests build (pids are host pids, times in ms):
//
//   bash(100)                     the caller of every fork below
//   ├── sleep(200)                exits at t=10, reaped at t=10+grace
//   │                             pid 200 reused at t=500 by cat(200)
//   ├── true(300)                 exec seen before its fork
//   ├── thread of bash            clone(CLONE_THREAD): no process
//   └── runc(400) ── sh(401)      container init (runc run ... c1, whose
//                                 child execs `runc init`, then sh)
//                    └── sleep(402)   dies with its init, no record

#include <catch2/catch.hpp>

#include "actors/tree_actor.hpp"
#include "runtime/metrics.hpp"
#include "runtime/tree_render.hpp"
#include "tests/actors/actor_fixture.hpp"

using namespace auditree;
using namespace std::chrono_literals;

namespace {

constexpr uint64_t base_seconds = 1795990000;

struct tree_fixture : test::actor_fixture {
  caf::actor spawn_tree(std::chrono::milliseconds grace = 1000ms,
                        std::chrono::milliseconds slack = 0ms) {
    tree_actor_options opts;
    opts.tree.exit_grace = grace;
    opts.reap_slack = slack;
    return keep(sys.spawn(tree_actor, opts, caf::actor{}, caf::actor{},
                          tree_checkpoint_ptr{}));
  }

  /// The table inside the actor, read directly (tests only).
  const process_tree& table(const caf::actor& aut) {
    auto ptr = caf::actor_cast<caf::abstract_actor*>(aut);
    return dynamic_cast<caf::stateful_actor<tree_state>&>(*ptr)
      .state.tree.local();
  }

  process_event event(process_action action, int32_t pid, int32_t ppid,
                      uint64_t at_ms) {
    process_event ev;
    ev.action = action;
    ev.id = event_id{base_seconds + at_ms / 1000,
                     static_cast<uint32_t>(at_ms % 1000), ++serial};
    ev.pid = pid;
    ev.ppid = ppid;
    ev.arch = 0xc000003e;
    return ev;
  }

  process_event fork(int32_t caller, int32_t child, uint64_t at_ms,
                     uint64_t flags = 0x1200011) {
    auto ev = event(process_action::fork, caller, 0, at_ms);
    ev.syscall = "clone";
    ev.child = child;
    ev.clone_flags = flags;
    ev.clone_flags_known = true;
    return ev;
  }

  process_event exec(int32_t pid, int32_t ppid, std::string exe,
                     std::vector<std::string> argv, uint64_t at_ms) {
    auto ev = event(process_action::exec, pid, ppid, at_ms);
    ev.syscall = "execve";
    // Audit's SYSCALL record always names the uid; root runs the runtimes.
    ev.uid = ev.euid = 0;
    ev.exe = std::move(exe);
    ev.argv = std::move(argv);
    return ev;
  }

  process_event exit(int32_t pid, int32_t ppid, uint64_t at_ms) {
    auto ev = event(process_action::exit, pid, ppid, at_ms);
    ev.syscall = "exit_group";
    return ev;
  }

  void send(const caf::actor& aut, process_event_batch batch) {
    self->send(aut, std::move(batch));
    run();
  }

  uint32_t serial = 1000;
};

} // namespace

TEST_CASE_METHOD(tree_fixture, "an exited process is reaped after the grace",
                 "[tree_actor]") {
  auto aut = spawn_tree(1000ms);
  send(aut, {fork(100, 200, 0), exec(200, 100, "/bin/sleep", {"sleep"}, 1),
             exit(200, 100, 10)});
  REQUIRE(table(aut).find(200));
  CHECK(table(aut).find(200)->state == process_state::exited);
  advance(999ms);
  CHECK(table(aut).find(200));
  advance(1ms);
  CHECK_FALSE(table(aut).find(200));
}

TEST_CASE_METHOD(tree_fixture,
                 "a pid reused before the old reap fires survives the timer",
                 "[tree_actor]") {
  auto aut = spawn_tree(1000ms);
  send(aut, {fork(100, 200, 0), exec(200, 100, "/bin/sleep", {"sleep"}, 1),
             exit(200, 100, 10)});
  advance(500ms);
  send(aut, {fork(100, 200, 500), exec(200, 100, "/bin/cat", {"cat"}, 501)});
  advance(500ms); // The first lifetime's timer fires now.
  auto reused = table(aut).find(200);
  REQUIRE(reused);
  CHECK(reused->exe == "/bin/cat");
  CHECK(reused->state == process_state::running);
  advance(5000ms);
  CHECK(table(aut).find(200));
}

TEST_CASE_METHOD(tree_fixture,
                 "exits close together are reaped by one timer, within the "
                 "slack",
                 "[tree_actor]") {
  auto aut = spawn_tree(1000ms, 50ms);
  send(aut, {fork(100, 200, 0), exit(200, 100, 10)});
  advance(20ms);
  send(aut, {fork(100, 201, 20), exit(201, 100, 30)});
  advance(1049ms - 20ms);
  CHECK(table(aut).find(200));
  CHECK(table(aut).find(201));
  advance(1ms); // 1050 ms: the first exit's grace plus the slack
  CHECK_FALSE(table(aut).find(200));
  CHECK_FALSE(table(aut).find(201));
}

TEST_CASE_METHOD(tree_fixture, "an exec before its fork creates the process",
                 "[tree_actor]") {
  auto aut = spawn_tree();
  send(aut, {exec(300, 100, "/bin/true", {"true"}, 5)});
  REQUIRE(table(aut).find(300));
  send(aut, {fork(100, 300, 4)});
  auto p = table(aut).find(300);
  REQUIRE(p);
  CHECK(p->ppid == 100);
  CHECK(p->exe == "/bin/true");
  auto all = table(aut).snapshot();
  CHECK(std::count_if(all.begin(), all.end(),
                      [](auto& x) { return x.pid == 300; })
        == 1);
}

TEST_CASE_METHOD(tree_fixture, "a late fork does not resurrect an exit",
                 "[tree_actor]") {
  auto aut = spawn_tree(1000ms);
  send(aut, {exec(300, 100, "/bin/true", {"true"}, 5), exit(300, 100, 6)});
  advance(1000ms);
  CHECK_FALSE(table(aut).find(300));
  send(aut, {fork(100, 300, 4)});
  CHECK_FALSE(table(aut).find(300));
}

TEST_CASE_METHOD(tree_fixture, "a CLONE_THREAD clone creates no process",
                 "[tree_actor]") {
  auto aut = spawn_tree();
  send(aut, {exec(100, 1, "/bin/bash", {"bash"}, 0),
             fork(100, 150, 1, 0x3d0f00)});
  CHECK_FALSE(table(aut).find(150));
  REQUIRE(table(aut).find(100));
  CHECK(table(aut).find(100)->threads == 1);
}

TEST_CASE_METHOD(tree_fixture,
                 "an orphan goes to its subreaper; a later ppid= confirms",
                 "[tree_actor]") {
  // shim(50) is a subreaper: the parent of sh(60) dies, sh is adopted.
  auto aut = spawn_tree(1000ms);
  send(aut, {exec(50, 1, "/usr/bin/containerd-shim-runc-v2",
                  {"containerd-shim-runc-v2", "-namespace", "default", "-id",
                   "c1", "-address", "/run/containerd/containerd.sock"},
                  0),
             fork(50, 55, 1), exec(55, 50, "/usr/sbin/runc", {"runc"}, 2),
             fork(55, 60, 3), exec(60, 55, "/bin/sh", {"sh"}, 4),
             exit(55, 50, 5)});
  auto sh = table(aut).find(60);
  REQUIRE(sh);
  CHECK(sh->ppid == 50);
  send(aut, {exec(60, 50, "/bin/sleep", {"sleep", "5"}, 6)});
  CHECK(table(aut).find(60)->ppid == 50);
}

TEST_CASE_METHOD(tree_fixture,
                 "when a container's init dies, its namespace goes with it",
                 "[tree_actor]") {
  auto aut = spawn_tree(1000ms);
  send(aut, {exec(400, 100, "/usr/sbin/runc",
                  {"runc", "run", "--bundle", "/var/lib/b", "c1"}, 0),
             fork(400, 401, 1),
             exec(401, 400, "/usr/sbin/runc", {"runc", "init"}, 2),
             exec(401, 400, "/bin/sh", {"sh"}, 2),
             fork(401, 2, 3), // exit= is the namespace pid of sleep(402)
             exec(402, 401, "/bin/sleep", {"sleep", "5"}, 4)});
  REQUIRE(table(aut).find(402));
  CHECK(table(aut).find(402)->container == table(aut).find(401)->container);
  CHECK_FALSE(table(aut).find(401)->container.empty());
  CHECK_FALSE(table(aut).find(2)); // never taken as a host pid
  send(aut, {exit(401, 400, 300)});
  advance(1000ms);
  CHECK_FALSE(table(aut).find(401));
  CHECK_FALSE(table(aut).find(402)); // killed by the kernel, no record
}

TEST_CASE_METHOD(tree_fixture,
                 "the assemblers' outputs merge back into arrival order",
                 "[tree_actor]") {
  // Assembler 0 closes `sh` (sequence 3) before assembler 1 delivers the
  // `runc init` exec that came first (sequence 2): the tree must not apply
  // sh until assembler 1's watermark has passed 3.
  tree_actor_options opts;
  opts.num_inputs = 2;
  auto aut = keep(sys.spawn(tree_actor, opts, caf::actor{}, caf::actor{},
                          tree_checkpoint_ptr{}));
  auto init = exec(401, 400, "/usr/sbin/runc", {"runc", "init"}, 2);
  init.sequence = 2;
  auto sh = exec(401, 400, "/bin/sh", {"sh"}, 2);
  sh.sequence = 3;
  self->send(aut, process_event_batch{sh}, uint64_t{3}, uint32_t{0});
  run();
  CHECK_FALSE(table(aut).find(401)); // held
  self->send(aut, process_event_batch{init}, uint64_t{3}, uint32_t{1});
  run();
  auto p = table(aut).find(401);
  REQUIRE(p);
  CHECK(p->exe == "/bin/sh"); // applied last, as it arrived last
  CHECK(p->execs == 2);
}

TEST_CASE_METHOD(tree_fixture,
                 "the tree lists its containers for resolving typed ids",
                 "[tree_actor]") {
  auto aut = spawn_tree(1000ms);
  self->send(aut, containers_atom::value);
  run();
  CHECK(receive_one<container_candidates>().empty());
  send(aut, {exec(400, 100, "/usr/sbin/runc",
                  {"runc", "run", "--bundle", "/var/lib/b", "c1"}, 0),
             fork(400, 401, 1),
             exec(401, 400, "/usr/sbin/runc", {"runc", "init"}, 2),
             exec(401, 400, "/bin/sh", {"sh"}, 2)});
  self->send(aut, containers_atom::value);
  run();
  auto known = receive_one<container_candidates>();
  REQUIRE(known.size() == 1);
  CHECK(known[0].id == table(aut).find(401)->container);
  CHECK(known[0].runtime == "runc");
  CHECK(known[0].num_running >= 1);
  CHECK(known[0].names.empty()); // names come from the runtime's state
}

TEST_CASE_METHOD(tree_fixture,
                 "a node named like this machine is the local table (live)",
                 "[tree_actor]") {
  // auditd's name_format=hostname: the plugin's records carry node=myhost,
  // while bootstrap, connector and /proc speak of the local table.
  tree_actor_options opts;
  opts.tree.exit_grace = 1000ms;
  opts.reap_slack = 0ms;
  opts.local_host = "myhost";
  auto aut = keep(sys.spawn(tree_actor, opts, caf::actor{}, caf::actor{},
                            tree_checkpoint_ptr{}));
  auto named = [](process_event ev) {
    ev.host = "myhost";
    return ev;
  };
  send(aut, {exec(100, 1, "/bin/bash", {"bash"}, 0),
             named(fork(100, 200, 1)),
             named(exec(200, 100, "/bin/sleep", {"sleep"}, 2)),
             named(exit(200, 100, 10))});
  auto p = table(aut).find(200);
  REQUIRE(p);
  CHECK(p->exe == "/bin/sleep");
  CHECK(p->ppid == 100); // under the bash the local table knew
  auto ptr = caf::actor_cast<caf::abstract_actor*>(aut);
  auto& st = dynamic_cast<caf::stateful_actor<tree_state>&>(*ptr).state;
  CHECK(st.tree.hosts() == std::vector<std::string>{""});
  advance(1000ms); // the reap goes to the same table
  CHECK_FALSE(table(aut).find(200));
}

TEST_CASE_METHOD(tree_fixture,
                 "a numbered connector batch applies once, also in a tree "
                 "resumed from the checkpoint that covers it",
                 "[tree_actor][counter_ledger]") {
  auto ledger = std::make_shared<counter_ledger>();
  tree_actor_options opts;
  opts.checkpoint_interval = 1;
  opts.ledger = ledger;
  auto supervisor = caf::actor_cast<caf::actor>(self);
  auto first = sys.spawn(tree_actor, opts, caf::actor{}, supervisor,
                         tree_checkpoint_ptr{});
  auto connector = [](process_event_batch batch) {
    for (auto& ev : batch)
      ev.source = fact_source::proc_connector;
    return batch;
  };
  auto batch1 = connector({fork(100, 200, 0),
                           exec(200, 100, "/bin/sleep", {"sleep"}, 1)});
  self->send(first, batch1, uint64_t{1});
  run();
  tree_checkpoint_ptr checkpoint;
  self->receive(
    [&](checkpoint_atom, tree_checkpoint_ptr& x) { checkpoint = x; },
    caf::after(std::chrono::seconds(0)) >> [] {});
  REQUIRE(checkpoint);
  CHECK(checkpoint->connector_applied == 1);
  // Sent again (the connector resends what it kept to a new tree): dropped.
  self->send(first, batch1, uint64_t{1});
  run();
  CHECK(table(first).find(200));
  caf::anon_send_exit(first, caf::exit_reason::kill);
  run();
  agent_metrics m;
  ledger->fill(m);
  CHECK(m.tree.num_duplicates == 2);
  auto second = keep(sys.spawn(tree_actor, opts, caf::actor{},
                               caf::actor{}, checkpoint));
  self->send(second, batch1, uint64_t{1});
  self->send(second, connector({fork(100, 300, 5)}), uint64_t{2});
  run();
  CHECK(table(second).find(200));
  CHECK(table(second).find(300));
  self->send(second, stats_atom::value);
  run();
  auto own = receive_one<tree_counters>();
  CHECK(own.num_duplicates == 2);
  ledger->fill(m);
  CHECK(m.tree.num_duplicates == 4);
}

TEST_CASE_METHOD(tree_fixture,
                 "a view is a copy, rendered like the tree's own answer",
                 "[tree_actor]") {
  // The query server renders views on its own thread: a view must render
  // as the tree would and must not change as the tree goes on.
  auto aut = spawn_tree(1000ms);
  send(aut, {exec(100, 1, "/bin/bash", {"bash"}, 0), fork(100, 200, 1),
             exec(200, 100, "/bin/sleep", {"sleep", "9"}, 2)});
  self->send(aut, view_atom::value, std::string{}, std::string{});
  run();
  auto view = receive_one<tree_view_ptr>();
  REQUIRE(view);
  self->send(aut, tree_atom::value, std::string{}, std::string{}, false);
  run();
  auto text = receive_one<std::string>();
  CHECK(render_view_text(*view, render_pstree) == text);
  self->send(aut, ps_atom::value, std::string{}, std::string{}, true);
  run();
  CHECK(render_view_json(*view) == receive_one<std::string>());
  REQUIRE(view->size() == 1);
  auto before = view->front().processes.size();
  CHECK(before >= 2);
  send(aut, {fork(100, 300, 3), exec(300, 100, "/bin/true", {"true"}, 4)});
  CHECK(view->front().processes.size() == before);
  CHECK(render_view_text(*view, render_pstree) == text);
}
