// The process table's use of container evidence: argv lookalikes of
// runtimes create and end nothing, ids outside their grammar are refused,
// and a container nothing proves is dropped after the exit grace. Every
// refusal is counted by reason.
//
// The real container the tests forge against (uid 0):
//
//   containerd-shim(50) -namespace default -id web
//    └─runc(60) create web ── runc init(61) ── sh(63) init ── sleep(64)

#include <catch2/catch.hpp>

#include <string>

#include "runtime/process_tree.hpp"
#include "tests/runtime/tree_world.hpp"

using namespace auditree;
using namespace auditree::test;

namespace {

constexpr uint32_t nobody = 65534;

uint64_t refused(const process_tree& t, claim_rejection why) {
  return t.stats().claims_rejected[static_cast<size_t>(why)];
}

uint64_t refused_total(const process_tree& t) {
  uint64_t n = 0;
  for (auto x : t.stats().claims_rejected)
    n += x;
  return n;
}

void real_container(tree_world& w) {
  w.uid = 0;
  w.exec(50, 1, 0, "/usr/bin/containerd-shim-runc-v2",
         {"/usr/bin/containerd-shim-runc-v2", "-namespace", "default", "-id",
          "web"});
  w.fork(50, 1, 60, 1, fork_flags, "containerd-shim");
  w.exec(60, 50, 2, "/usr/sbin/runc",
         {"runc", "--root", "/run/containerd/runc/default", "create", "web"});
  w.fork(60, 50, 61, 3, fork_flags, "runc");
  w.exec(61, 60, 4, "/usr/sbin/runc", {"runc", "init"});
  w.fork(61, 60, 63, 5, clone_parent_flags, "runc:[1:CHILD]");
  w.exit(61, 60, 6);
  w.exit(60, 50, 7);
  w.exec(63, 50, 8, "/bin/busybox", {"sh"});
  w.fork(63, 50, 64, 9, fork_flags, "sh");
  w.exec(64, 63, 10, "/bin/busybox", {"sleep", "100"});
}

/// `exec -a NAME EXE ARGS...` by `uid` as pid `pid`, a child of bash(900).
void forge(tree_world& w, int32_t pid, uint32_t uid, std::string exe,
           std::vector<std::string> argv, uint64_t at) {
  w.uid = uid;
  w.fork(900, 1, pid, at, fork_flags, "bash");
  w.exec(pid, 900, at + 1, std::move(exe), std::move(argv));
  w.exit(pid, 900, at + 2);
}

} // namespace

TEST_CASE("argv lookalikes of runtimes create no container", "[evidence]") {
  tree_world w;
  int32_t pid = 1000;
  uint64_t at = 100;
  for (auto name :
       {"runc", "containerd-shim", "docker-init", "conmon", "crun"}) {
    forge(w, ++pid, nobody, "/usr/bin/true", {name, "create", "fake1"},
          at += 10);
    forge(w, ++pid, nobody, "/usr/bin/true",
          {name, "-namespace", "moby", "-id", "fake2"}, at += 10);
  }
  CHECK(w.aut.containers().empty());
  CHECK(w.aut.take_container_events().empty());
  CHECK(refused(w.aut, claim_rejection::not_runtime_binary) == 10);
  // The real binary as a user: its uid is the kernel's.
  forge(w, ++pid, nobody, "/usr/sbin/runc", {"runc", "create", "fake3"},
        at += 10);
  forge(w, ++pid, nobody, "/usr/bin/containerd-shim-runc-v2",
        {"containerd-shim-runc-v2", "-namespace", "default", "-id", "f4"},
        at += 10);
  CHECK(w.aut.containers().empty());
  CHECK(refused(w.aut, claim_rejection::not_root) == 2);
  // A plain user's program is no claim at all.
  forge(w, ++pid, nobody, "/usr/bin/sleep", {"sleep", "1"}, at += 10);
  CHECK(refused_total(w.aut) == 12);
}

TEST_CASE("100 KB ids cost nothing", "[evidence]") {
  tree_world w;
  auto huge = std::string(100 * 1024, 'a');
  forge(w, 1001, nobody, "/usr/bin/true", {"runc", "create", huge}, 100);
  CHECK(refused(w.aut, claim_rejection::not_runtime_binary) == 1);
  // Even root's real runc: the id is outside runc's grammar.
  w.uid = 0;
  w.exec(1002, 1, 200, "/usr/sbin/runc", {"runc", "create", huge});
  w.exec(1003, 1, 210, "/usr/bin/containerd-shim-runc-v2",
         {"containerd-shim-runc-v2", "-namespace", "moby", "-id", "web"});
  w.exec(1004, 1, 220, "/usr/sbin/runc", {"runc", "create", "a b"});
  CHECK(refused(w.aut, claim_rejection::bad_id) == 3);
  CHECK(w.aut.containers().empty());
}

TEST_CASE("a lookalike delete ends no container", "[evidence]") {
  tree_world w;
  real_container(w);
  REQUIRE(w.get(63).container == "default/web");
  w.aut.take_container_events();
  forge(w, 2001, nobody, "/usr/bin/true", {"runc", "delete", "web"}, 500);
  forge(
      w, 2002, nobody, "/usr/bin/true",
      {"runc", "--root", "/run/containerd/runc/default", "kill", "web", "KILL"},
      510);
  forge(w, 2003, nobody, "/usr/sbin/runc", {"runc", "delete", "web"}, 520);
  CHECK(refused(w.aut, claim_rejection::argv_only_delete) == 3);
  for (int32_t pid : {63, 64})
    CHECK(w.get(pid).state == process_state::running);
  auto list = w.aut.containers();
  REQUIRE(list.size() == 1);
  CHECK_FALSE(list[0].end);
  CHECK(list[0].num_running == 2);
  CHECK(w.aut.take_container_events().empty());
  // Root's runc still tears it down: audit sees no exit of a SIGKILLed
  // process, and root's runtime is the evidence.
  w.uid = 0;
  w.exec(70, 50, 600, "/usr/sbin/runc",
         {"runc", "--root", "/run/containerd/runc/default", "delete", "web"});
  CHECK(w.get(64).state == process_state::vanished);
}

TEST_CASE("live, a runtime binary someone else may write is no runtime",
          "[evidence]") {
  process_tree::options opts;
  std::vector<std::string> asked;
  opts.binary_root_owned = [&](const std::string& exe) {
    asked.push_back(exe);
    return exe != "/usr/sbin/runc";
  };
  tree_world w{opts};
  w.exec(60, 1, 0, "/usr/sbin/runc", {"runc", "create", "r1"});
  CHECK(w.aut.containers().empty());
  CHECK(refused(w.aut, claim_rejection::not_runtime_binary) == 1);
  w.exec(61, 1, 10, "/usr/bin/runc", {"runc", "create", "r2"});
  CHECK(w.aut.containers().size() == 1);
  // Only listed binaries are stat'ed: a lookalike's exe is never asked.
  forge(w, 62, nobody, "/usr/bin/true", {"runc", "create", "r3"}, 20);
  CHECK(asked == std::vector<std::string>{"/usr/sbin/runc", "/usr/bin/runc"});
}

TEST_CASE("the connector's exec, without a uid, waits for audit's",
          "[evidence]") {
  tree_world w;
  w.connector_exec(60, 0, "/usr/sbin/runc", {"runc", "create", "r1"});
  CHECK(w.aut.containers().empty());
  CHECK(refused_total(w.aut) == 0);
  w.uid = 0;
  w.exec(60, 1, 1, "/usr/sbin/runc", {"runc", "create", "r1"});
  CHECK(w.aut.containers().size() == 1);
}

TEST_CASE("a container no member and no runtime prove is dropped after the "
          "exit grace",
          "[evidence]") {
  tree_world w; // exit grace 1 s
  w.uid = 0;
  // runc create whose init never comes (it failed).
  w.fork(900, 1, 60, 0, fork_flags, "bash");
  w.exec(60, 900, 1, "/usr/sbin/runc", {"runc", "create", "lost"});
  REQUIRE(w.aut.containers().size() == 1);
  w.aut.take_container_events();
  w.advance(std::chrono::milliseconds{1500});
  w.fork(900, 1, 901, 1600, fork_flags, "bash");
  // runc still runs: it holds the container.
  CHECK(w.aut.containers().size() == 1);
  w.exit(60, 900, 1700);
  w.advance(std::chrono::milliseconds{1100}); // runc reaped
  w.fork(900, 1, 902, 2900, fork_flags, "bash");
  w.advance(std::chrono::milliseconds{1100}); // the next look is due
  w.fork(900, 1, 903, 4000, fork_flags, "bash");
  CHECK(w.aut.containers().empty());
  CHECK(w.aut.stats().num_containers_dropped == 1);
  auto events = w.aut.take_container_events();
  REQUIRE(events.size() == 1);
  CHECK_FALSE(events[0].started);
  CHECK(events[0].id == "lost");
}

TEST_CASE("a real container is never dropped while it runs", "[evidence]") {
  tree_world w;
  real_container(w);
  for (int i = 0; i < 5; ++i) {
    w.advance(std::chrono::milliseconds{1100});
    w.fork(900, 1, 910 + i, 2000 + 1000 * i, fork_flags, "bash");
  }
  REQUIRE(w.aut.containers().size() == 1);
  CHECK(w.aut.stats().num_containers_dropped == 0);
  CHECK(w.get(64).container == "default/web");
}

TEST_CASE("a sweep refuses a container cgroup root does not own",
          "[evidence]") {
  tree_world w;
  const std::string hex(64, 'a');
  proc_process p;
  p.pid = 3000;
  p.ppid = 1;
  p.state = 'S';
  p.start_ms = t0_ms - 60'000;
  p.comm = "sleep";
  p.exe = "/usr/bin/sleep";
  p.argv = {"sleep", "100"};
  p.uid = p.euid = nobody;
  p.cgroup = "/delegated/docker-" + hex + ".scope";
  p.cgroup_delegated = true;
  auto q = p;
  q.pid = 3001;
  q.cgroup = "/user.slice/user-1000.slice/user@1000.service/app.slice/"
             "docker-"
             + hex + ".scope";
  q.cgroup_delegated = false; // the path alone tells
  std::vector<reap_request> reaps;
  w.aut.reconcile({p, q}, stamp(5000, 0), w.now, reaps);
  CHECK(w.get(3000).container.empty());
  CHECK(w.get(3001).container.empty());
  CHECK(w.aut.containers().empty());
  CHECK(refused(w.aut, claim_rejection::delegated_cgroup) == 2);
  CHECK(w.aut.take_claim_notes().size() == 2);
}
