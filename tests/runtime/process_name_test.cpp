// Names follow exec and renames, whichever source reports them first: live,
// the connector reports an exec and the rename after it before audit's
// record of that exec arrives.
//
//   bash(100)───sleep(101)   101 execs /bin/busybox as /proc/self/exe at
//                            +20 (comm=exe), which renames itself to its
//                            applet: the connector says so at +22, audit's
//                            exec record (stamped +20) arrives last

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "runtime/process_name.hpp"
#include "tests/runtime/tree_world.hpp"

using namespace auditree;
using namespace auditree::test;

namespace {

void connector_rename(tree_world& w, int32_t pid, uint64_t at,
                      std::string comm) {
  process_event ev;
  ev.action = process_action::rename;
  ev.source = fact_source::proc_connector;
  ev.id = stamp(at, ++w.serial);
  ev.pid = pid;
  ev.comm = std::move(comm);
  w.apply(ev);
}

/// Audit's record of busybox run through /proc/self/exe: comm is `exe`.
void audit_busybox_exec(tree_world& w, int32_t pid, int32_t ppid,
                        uint64_t at) {
  process_event ev;
  ev.action = process_action::exec;
  ev.id = stamp(at, ++w.serial);
  ev.syscall = "execve";
  ev.pid = pid;
  ev.ppid = ppid;
  ev.comm = "exe";
  ev.exe = "/bin/busybox";
  ev.argv = {"sleep", "120"};
  ev.uid = ev.euid = ev.auid = 0;
  w.apply(ev);
}

} // namespace

TEST_CASE("audit's late exec record does not undo the rename that followed "
          "the exec",
          "[tree][name]") {
  tree_world w;
  w.fork(100, 1, 101, 10);
  w.connector_exec(101, 21);
  connector_rename(w, 101, 22, "sleep");
  CHECK(w.get(101).comm == "sleep");
  audit_busybox_exec(w, 101, 100, 20);
  auto p = w.get(101);
  CHECK(p.comm == "sleep");
  // The image is still audit's.
  CHECK(p.exe == "/bin/busybox");
  REQUIRE(p.argv.size() == 2);
  CHECK(p.argv[0] == "sleep");
}

TEST_CASE("replayed audit alone names a process by its exec's comm",
          "[tree][name]") {
  tree_world w;
  w.fork(100, 1, 101, 10);
  audit_busybox_exec(w, 101, 100, 20);
  CHECK(w.get(101).comm == "exe");
  // A later exec renames it again, whatever came before.
  w.exec(101, 100, 30, "/usr/bin/true", {"true"});
  CHECK(w.get(101).comm == "true");
}

TEST_CASE("a rename reported before an exec stamped later gives way to it",
          "[tree][name]") {
  tree_world w;
  w.fork(100, 1, 101, 10);
  connector_rename(w, 101, 12, "worker");
  CHECK(w.get(101).comm == "worker");
  w.exec(101, 100, 30, "/usr/bin/sleep", {"sleep", "1"});
  CHECK(w.get(101).comm == "sleep");
}

TEST_CASE("process_name keeps the newest name", "[name]") {
  process_name n;
  CHECK(n.take("exe", stamp(20, 1), false));
  CHECK_FALSE(n.take("", stamp(30, 2), false));
  CHECK(n.comm == "exe");
  CHECK(n.take("sleep", stamp(22, 9), true));
  // Older, even with a higher serial (serials of two sources carry no
  // order).
  CHECK_FALSE(n.take("exe", stamp(20, 50), false));
  CHECK(n.comm == "sleep");
  // In the same millisecond, a syscall record (stamped at entry) loses to
  // a rename reported after the fact, and wins over another record.
  CHECK_FALSE(n.take("exe", stamp(22, 60), false));
  CHECK(n.take("other", stamp(22, 61), true));
  CHECK(n.take("next", stamp(23, 2), false));
  CHECK(n.take("last", stamp(23, 1), false));
  CHECK(n.comm == "last");
}

TEST_CASE("an inherited name never replaces one the process reported",
          "[name]") {
  process_name n;
  n.inherit("bash");
  CHECK(n.comm == "bash");
  n.inherit("zsh");
  CHECK(n.comm == "zsh");
  CHECK(n.take("sleep", stamp(5, 1), true));
  n.inherit("bash");
  CHECK(n.comm == "sleep");
}
