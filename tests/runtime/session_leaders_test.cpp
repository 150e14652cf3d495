// Process groups and sessions (runtime/session_ids) as the table tracks
// them from setsid, setpgid, fork and /proc, and the leaders a stream event
// names (runtime/process_leaders).

#include "runtime/process_leaders.hpp"

#include <catch2/catch.hpp>

#include "runtime/entity_id.hpp"
#include "runtime/event_interpreter.hpp"
#include "runtime/event_lineage.hpp"
#include "runtime/session_ids.hpp"
#include "tests/runtime/record_fixture.hpp"
#include "tests/runtime/tree_world.hpp"

using namespace auditree;
using namespace auditree::test;

namespace {

struct session_world : tree_world {
  std::vector<process_event> stream;

  session_world() {
    after_apply = [this](process_event& ev) {
      fill_lineage(ev, aut, "node=alpha");
      stream.push_back(ev);
    };
  }

  void setsid(int32_t pid, int32_t ppid, uint64_t at) {
    process_event ev;
    ev.action = process_action::setsid;
    ev.id = stamp(at, ++serial);
    ev.pid = pid;
    ev.ppid = ppid;
    apply(ev);
  }

  void setpgid(int32_t pid, int32_t ppid, uint64_t at, int32_t a0, int32_t a1) {
    process_event ev;
    ev.action = process_action::setpgid;
    ev.id = stamp(at, ++serial);
    ev.pid = pid;
    ev.ppid = ppid;
    ev.target = a0;
    ev.pgid = a1;
    apply(ev);
  }
};

process_event interpreted(const std::string& syscall_line) {
  auto events = assemble(records({syscall_line}));
  REQUIRE(events.size() == 1);
  auto result = interpret(events.front());
  CHECK(result.error == nullptr);
  REQUIRE(result.event);
  return *result.event;
}

} // namespace

TEST_CASE("interpret: setsid and setpgid with their arguments") {
  // From tests/data/lineage/session-leaders.log.gz.
  auto sid = interpreted(
      "type=SYSCALL msg=audit(1796690316.295:1933955): arch=c000003e "
      "syscall=112 success=yes exit=5252 a0=5 a1=7ffedc1bf058 items=0 "
      "ppid=5248 pid=5252 uid=0 comm=\"setsid\" exe=\"/usr/bin/setsid\"");
  CHECK(sid.action == process_action::setsid);
  CHECK(sid.syscall == "setsid");
  CHECK(sid.pid == 5252);
  auto pg = interpreted(
      "type=SYSCALL msg=audit(1796690316.307:1933969): arch=c000003e "
      "syscall=109 success=yes exit=0 a0=1486 a1=1485 items=0 ppid=5248 "
      "pid=5252 uid=0 comm=\"bash\" exe=\"/usr/bin/bash\"");
  CHECK(pg.action == process_action::setpgid);
  CHECK(pg.target == 0x1486);
  CHECK(pg.pgid == 0x1485);
  // aarch64 has both calls too (setsid 157, setpgid 154).
  auto arm = interpreted(
      "type=SYSCALL msg=audit(1796690316.400:1933970): arch=c00000b7 "
      "syscall=154 success=yes exit=0 a0=0 a1=0 items=0 ppid=1 pid=77 "
      "uid=0 comm=\"sh\" exe=\"/bin/sh\"");
  CHECK(arm.action == process_action::setpgid);
  auto failed = interpret(
      assemble(
          records(
              {"type=SYSCALL msg=audit(1796690316.401:1933971): arch=c000003e "
               "syscall=109 success=no exit=-1 a0=1 a1=1 items=0 ppid=1 pid=77 "
               "uid=0 comm=\"sh\" exe=\"/bin/sh\""}))
          .front());
  CHECK(!failed.event);
}

TEST_CASE("resolve_setpgid: zeros name the caller and the target") {
  process_event ev;
  ev.pid = 500;
  ev.target = 0;
  ev.pgid = 0;
  auto self = resolve_setpgid(ev, false);
  REQUIRE(self);
  CHECK(self->target == 500);
  CHECK(self->pgid == 500);
  ev.target = 501;
  ev.pgid = 0;
  CHECK(resolve_setpgid(ev, false)->pgid == 501);
  ev.pgid = 480;
  CHECK(resolve_setpgid(ev, false)->pgid == 480);
  // In a pid namespace only the caller and "its own pid" map to the host.
  CHECK(!resolve_setpgid(ev, true));
  ev.target = 0;
  ev.pgid = 7;
  auto ns = resolve_setpgid(ev, true);
  REQUIRE(ns);
  CHECK(ns->target == 500);
  CHECK(ns->pgid == 0);
}

TEST_CASE("session_ids: an older fact applied late does not undo a newer") {
  session_ids ids;
  ids.take(10, 10, stamp(20, 1));
  ids.take(5, 5, stamp(10, 2));
  CHECK(ids.pgid == 10);
  session_ids child;
  child.inherit(ids);
  CHECK(child.sid == 10);
  child.take(30, 10, stamp(30, 3));
  child.inherit(ids);
  CHECK(child.pgid == 30);
}

TEST_CASE("leaders: a setsid'd shell, its job's group, forks inherit") {
  session_world w;
  w.fork(1, 0, 100, 0);
  w.exec(100, 1, 5, "/usr/sbin/sshd", {"sshd"});
  w.fork(100, 1, 200, 10);
  w.setsid(200, 100, 11);
  w.exec(200, 100, 12, "/usr/bin/bash", {"bash"});
  auto bash = w.stream.back().lineage;
  CHECK(bash.session_leader.pid == 200);
  CHECK(bash.group_leader.pid == 200);
  CHECK(bash.session_leader.exe == "/usr/bin/bash");
  CHECK(bash.session_leader.entity_id
        == make_entity_id("node=alpha", 200,
                          stamp_ms(w.get(200).key.first_seen)));
  // A pipeline: the shell puts both children into the first one's group.
  w.fork(200, 100, 300, 20);
  CHECK(w.stream.back().lineage.group_leader.pid == 200); // inherited
  w.setpgid(200, 100, 21, 300, 300);
  w.fork(200, 100, 301, 22);
  w.setpgid(200, 100, 23, 301, 300);
  w.exec(300, 200, 24, "/usr/bin/ls", {"ls"});
  w.exec(301, 200, 25, "/usr/bin/wc", {"wc", "-l"});
  auto wc = w.stream.back().lineage;
  CHECK(wc.group_leader.pid == 300);
  CHECK(wc.group_leader.exe == "/usr/bin/ls");
  CHECK(wc.group_leader.start == *w.get(300).start);
  CHECK(wc.session_leader.pid == 200);
  CHECK(wc.session_leader.name == "bash");
  // A grandchild inherits its parent's group at fork.
  w.fork(301, 200, 302, 26);
  CHECK(w.stream.back().lineage.group_leader.pid == 300);
  CHECK(w.get(302).sid == 200);
  // The group's leader ended and its pid holds another process: the
  // members name the pid only.
  w.exit(300, 200, 30);
  w.advance(std::chrono::seconds{5});
  w.fork(1, 0, 300, 40);
  w.exec(302, 301, 41, "/usr/bin/cat", {"cat"});
  auto cat = w.stream.back().lineage;
  CHECK(cat.group_leader.pid == 300);
  CHECK(cat.group_leader.entity_id.empty());
  CHECK(cat.session_leader.pid == 200);
  CHECK(!cat.session_leader.entity_id.empty());
}

TEST_CASE("leaders: unknown without setsid, setpgid or /proc facts") {
  session_world w;
  w.fork(1, 0, 100, 0);
  w.fork(100, 1, 200, 10);
  auto lin = w.stream.back().lineage;
  CHECK(lin.group_leader.pid == 0);
  CHECK(lin.session_leader.pid == 0);
  // A setpgid naming a pid the table does not hold is counted, not applied.
  auto ignored = w.aut.stats().num_ignored;
  w.setpgid(100, 1, 11, 999, 0);
  CHECK(w.aut.stats().num_ignored == ignored + 1);
}

TEST_CASE("leaders: /proc's group and session at a sweep") {
  session_world w;
  proc_process p;
  p.pid = 100;
  p.ppid = 1;
  p.start_ms = stamp_ms(stamp(0, 0));
  p.state = 'S';
  p.num_threads = 1;
  p.comm = "bash";
  p.exe = "/usr/bin/bash";
  p.pgid = 100;
  p.sid = 90;
  proc_process leader = p;
  leader.pid = 90;
  leader.pgid = 90;
  leader.exe = "/usr/sbin/agetty";
  std::vector<reap_request> reaps;
  w.aut.reconcile({leader, p}, stamp(5000, 0), w.now, reaps);
  CHECK(w.get(100).pgid == 100);
  CHECK(w.get(100).sid == 90);
  w.fork(100, 1, 200, 6000);
  CHECK(w.stream.back().lineage.session_leader.pid == 90);
  CHECK(w.stream.back().lineage.session_leader.exe == "/usr/sbin/agetty");
}

TEST_CASE("parse_proc_stat: process group and session") {
  proc_process p;
  REQUIRE(parse_proc_stat("4185 (ls) R 4183 4185 4183 0 -1 4194560 99 0 0 0 "
                          "0 0 0 0 20 0 1 0 25843 8429568 228 "
                          "18446744073709551615",
                          p));
  CHECK(p.pgid == 4185);
  CHECK(p.sid == 4183);
}
