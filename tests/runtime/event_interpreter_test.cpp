#include "runtime/event_interpreter.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

#include "runtime/record_types.hpp"
#include "tests/runtime/record_fixture.hpp"

using namespace auditree;
using namespace std::string_literals;

namespace {

constexpr uint32_t x86_64 = 0xc000003e;
constexpr uint32_t i386 = 0x40000003;
constexpr uint64_t clone_thread = 0x10000;

// Events of the threads.c and i386prog runs (long-argv-and-threads.log):
//
//   1651 scenario shell
//    +- 1739 threads all    clone3 -> 1740..1743 (pthreads)
//    |                      clone a0=50f00 -> 1749 (thread)
//    |                      clone -> 1755 (from a thread; execs true)
//    |                      clone3 -> 1756 (posix_spawn; execs true)
//    |                      vfork -> 1757 (execs true)
//    |                      clone -> 1758 (exit_group a0=3)
//    +- 1774 threads exit-thread: exit_group a0=5 from thread 1775
//    +- 1778 i386prog       clone3 -> 1779, clone 120 -> 1783, vfork 190
//    |                      -> 1784; exit_group 252 a0=0
//    |   +- 1783 execve 11 i386prog leaf, exit_group 252 a0=4
//    |   +- 1784 execve 11 /bin/true (64-bit)
//    +- 1785 execchain      execve, execveat x3 (one of a memfd), ...
const std::map<std::string, audit_event>& threads() {
  static const auto result = test::events_by_stamp("threads-i386.log");
  return result;
}

process_event interpret_ok(const audit_event& ev) {
  auto result = interpret(ev);
  INFO("event " << test::stamp_of(ev.id));
  CHECK(result.error == nullptr);
  REQUIRE(result.event);
  CHECK(result.event->source == fact_source::audit);
  CHECK(result.event->id == ev.id);
  return *result.event;
}

process_event interpret_ok(uint32_t serial) {
  return interpret_ok(test::with_serial(threads(), serial));
}

// A field of a line, read with plain string search (the test's oracle).
std::string field_of(const std::string& line, const std::string& key) {
  auto i = line.find(" " + key + "=");
  if (i == std::string::npos)
    return {};
  i += key.size() + 2;
  return line.substr(i, line.find(' ', i) - i);
}

} // namespace

// -- fork family --------------------------------------------------------------

TEST_CASE("interpret: clone is a fork with its flags") {
  auto ev = interpret_ok(327586);
  CHECK(ev.action == process_action::fork);
  CHECK(ev.syscall == "clone");
  CHECK(ev.arch == x86_64);
  CHECK(ev.pid == 1739);
  CHECK(ev.ppid == 1651);
  CHECK(ev.child == 1755);
  CHECK(ev.clone_flags_known);
  CHECK(ev.clone_flags == 0x1200011);
  CHECK((ev.clone_flags & clone_thread) == 0);
  CHECK(ev.comm == "threads");
  CHECK(ev.exe == "/var/tmp/audit-corpus/lat/threads");
  CHECK(ev.uid == 0);
  CHECK(ev.euid == 0);
  CHECK(ev.auid == process_event::unset_id);
  CHECK(ev.argv.empty());
  CHECK(ev.exit_code == 0);
  CHECK(ev.signal == 0);
}

TEST_CASE("interpret: clone with CLONE_THREAD shows the flags a0=50f00") {
  auto ev = interpret_ok(327584);
  CHECK(ev.action == process_action::fork);
  CHECK(ev.syscall == "clone");
  CHECK(ev.child == 1749);
  CHECK(ev.clone_flags_known);
  CHECK(ev.clone_flags == 0x50f00);
  CHECK((ev.clone_flags & clone_thread) != 0);
}

TEST_CASE("interpret: clone3 flags are unknown") {
  // pthread_create (1740) and posix_spawn (1756) look the same.
  for (auto [serial, child] : {std::pair{327580u, 1740}, {327590u, 1756}}) {
    auto ev = interpret_ok(serial);
    CHECK(ev.action == process_action::fork);
    CHECK(ev.syscall == "clone3");
    CHECK(ev.pid == 1739);
    CHECK(ev.child == child);
    CHECK_FALSE(ev.clone_flags_known);
    CHECK(ev.clone_flags == 0);
  }
}

TEST_CASE("interpret: vfork implies CLONE_VM | CLONE_VFORK | SIGCHLD") {
  auto ev = interpret_ok(327592);
  CHECK(ev.action == process_action::fork);
  CHECK(ev.syscall == "vfork");
  CHECK(ev.pid == 1739);
  CHECK(ev.child == 1757);
  CHECK(ev.clone_flags_known);
  CHECK(ev.clone_flags == (0x100 | 0x4000 | 17));
}

TEST_CASE("interpret: fork implies SIGCHLD") {
  // glibc's fork() calls clone, so the corpus has no syscall 57: this is
  // 327595 (clone, child 1758) with the number of fork(2).
  auto ev = interpret_ok(test::event(
      {"type=SYSCALL msg=audit(1795990174.314:327595): arch=c000003e "
       "syscall=57 success=yes exit=1758 a0=0 a1=0 a2=0 a3=7f4a68f67a10 "
       "items=0 ppid=1651 pid=1739 auid=4294967295 uid=0 gid=0 euid=0 suid=0 "
       "fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 "
       "comm=\"threads\" exe=\"/var/tmp/audit-corpus/lat/threads\" "
       "key=\"feasibility\"",
       "type=EOE msg=audit(1795990174.314:327595):"}));
  CHECK(ev.action == process_action::fork);
  CHECK(ev.syscall == "fork");
  CHECK(ev.child == 1758);
  CHECK(ev.clone_flags_known);
  CHECK(ev.clone_flags == 17);
}

// -- exec ---------------------------------------------------------------------

TEST_CASE("interpret: execve gives exe, argv, cwd, credentials, comm") {
  auto ev = interpret_ok(327587);
  CHECK(ev.action == process_action::exec);
  CHECK(ev.syscall == "execve");
  CHECK(ev.arch == x86_64);
  CHECK(ev.pid == 1755);
  CHECK(ev.ppid == 1739);
  CHECK(ev.child == 0);
  CHECK(ev.comm == "true");
  CHECK(ev.exe == "/usr/bin/true");
  CHECK(ev.argv == std::vector<std::string>{"true", "forked-from-thread"});
  CHECK(ev.cwd == "/");
  CHECK(ev.uid == 0);
  CHECK(ev.euid == 0);
  CHECK(ev.auid == process_event::unset_id);
  CHECK_FALSE(ev.clone_flags_known);
}

TEST_CASE("interpret: execve with hex comm, exe, cwd and argv (L6)") {
  auto events = test::events_by_stamp("long-argv.log");
  auto ev = interpret_ok(test::with_serial(events, 327500));
  CHECK(ev.action == process_action::exec);
  CHECK(ev.pid == 1702);
  CHECK(ev.comm == "prög ñame");
  CHECK(ev.exe == "/var/tmp/audit-corpus/lat/dir with space ü/prög ñame");
  CHECK(ev.cwd == "/var/tmp/audit-corpus/lat/dir with space ü");
  CHECK(ev.argv
        == std::vector<std::string>{"./prög ñame", "relative exec",
                                    "from-odd-cwd"});
}

TEST_CASE("interpret: execve with argv over many records (L1, L2, L4)") {
  auto events = test::events_by_stamp("long-argv.log");
  auto l1 = interpret_ok(test::with_serial(events, 327480));
  CHECK(l1.argv.size() == 302);
  CHECK(l1.argv[1].size() == 20000);
  auto l2 = interpret_ok(test::with_serial(events, 327483));
  REQUIRE(l2.argv.size() == 2);
  CHECK(l2.argv[1].size() == 131071);
  auto l4 = interpret_ok(test::with_serial(events, 327491));
  REQUIRE(l4.argv.size() == 5);
  CHECK(l4.argv[1].size() == 7499);
  for (auto* ev : {&l1, &l2, &l4}) {
    CHECK(ev->pid > 0);
    CHECK(ev->exe == "/var/tmp/audit-corpus/lat/argvdump");
    CHECK(ev->cwd == "/work/steering/shared/tools");
  }
}

TEST_CASE("interpret: execveat, also of a memfd") {
  auto at_fdcwd = interpret_ok(327620);
  CHECK(at_fdcwd.action == process_action::exec);
  CHECK(at_fdcwd.syscall == "execveat");
  CHECK(at_fdcwd.pid == 1785);
  CHECK(at_fdcwd.exe == "/var/tmp/audit-corpus/lat/execchain");
  CHECK(at_fdcwd.argv
        == std::vector<std::string>{"execchain",
                                    "/var/tmp/audit-corpus/lat/tail.sh", "2"});
  CHECK(at_fdcwd.cwd == "/");
  auto memfd = interpret_ok(327622);
  CHECK(memfd.syscall == "execveat");
  CHECK(memfd.comm == "memfd:execchain");
  CHECK(memfd.exe == "/memfd:execchain-copy (deleted)");
  CHECK(memfd.argv.back() == "0");
}

TEST_CASE("interpret: a failed execve yields nothing") {
  // 327624..327626: env's PATH search, success=no exit=-2.
  for (uint32_t serial : {327624u, 327625u, 327626u}) {
    auto& ev = test::with_serial(threads(), serial);
    REQUIRE(ev.records[0].text().find("success=no exit=-2") != std::string::npos);
    auto result = interpret(ev);
    CHECK_FALSE(result.event);
    CHECK(result.error == nullptr);
  }
  auto enoexec = interpret(test::event(
      {"type=SYSCALL msg=audit(1795990174.122:327568): arch=c000003e "
       "syscall=59 success=no exit=-8 a0=55f489a78d80 a1=55f489a798a0 "
       "a2=55f489a13640 a3=6e6a54d47137786 items=1 ppid=1651 pid=1735 "
       "auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 "
       "fsgid=0 tty=(none) ses=4294967295 comm=\"bash\" exe=\"/usr/bin/bash\" "
       "key=\"feasibility\"",
       "type=CWD msg=audit(1795990174.122:327568): cwd=\"/work/steering/shared/"
       "tools\""}));
  CHECK_FALSE(enoexec.event);
  CHECK(enoexec.error == nullptr);
}

TEST_CASE("interpret: distinct uid, euid and auid") {
  // 327587 as a setuid exec by a logged-in user would log it.
  auto ev = interpret_ok(test::event(
      {"type=SYSCALL msg=audit(1795990174.310:327587): arch=c000003e "
       "syscall=59 success=yes exit=0 a0=5565618e8199 a1=7f4a67762e30 "
       "a2=7fff7ff51420 a3=5565618e819e items=2 ppid=1739 pid=1755 auid=1000 "
       "uid=1000 gid=1000 euid=0 suid=0 fsuid=0 egid=1000 sgid=1000 "
       "fsgid=1000 tty=pts0 ses=3 comm=\"true\" exe=\"/usr/bin/true\" "
       "key=\"feasibility\"",
       "type=EXECVE msg=audit(1795990174.310:327587): argc=1 a0=\"true\""}));
  CHECK(ev.uid == 1000);
  CHECK(ev.euid == 0);
  CHECK(ev.auid == 1000);
  CHECK(ev.cwd.empty());
}

// -- exit and abend -----------------------------------------------------------

TEST_CASE("interpret: exit_group has no success=; the status is a0 in hex") {
  auto status127 = interpret_ok(test::event(
      {"type=SYSCALL msg=audit(1795990174.118:327558): arch=c000003e "
       "syscall=231 a0=7f a1=e7 a2=3c a3=7fff3be698e0 items=0 ppid=1651 "
       "pid=1731 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 "
       "sgid=0 fsgid=0 tty=(none) ses=4294967295 comm=\"bash\" "
       "exe=\"/usr/bin/bash\" key=\"feasibility\""}));
  CHECK(status127.action == process_action::exit);
  CHECK(status127.syscall == "exit_group");
  CHECK(status127.pid == 1731);
  CHECK(status127.ppid == 1651);
  CHECK(status127.exit_code == 127);
  CHECK(status127.comm == "bash");
  auto status3 = interpret_ok(327596);
  CHECK(status3.action == process_action::exit);
  CHECK(status3.pid == 1758);
  CHECK(status3.exit_code == 3);
  // Called by thread 1775: pid= is the thread group.
  auto status5 = interpret_ok(327606);
  CHECK(status5.pid == 1774);
  CHECK(status5.exit_code == 5);
  auto status0 = interpret_ok(327597);
  CHECK(status0.pid == 1739);
  CHECK(status0.exit_code == 0);
}

TEST_CASE("interpret: ANOM_ABEND is an abend with its signal") {
  auto events = test::events_by_stamp("kill-and-reuse.log");
  auto segv = interpret_ok(test::with_serial(events, 322985));
  CHECK(segv.action == process_action::abend);
  CHECK(segv.pid == 20076);
  CHECK(segv.signal == 11);
  CHECK(segv.comm == "sleep");
  CHECK(segv.exe == "/usr/bin/sleep");
  CHECK(segv.uid == 0);
  CHECK(segv.auid == process_event::unset_id);
  CHECK(segv.euid == process_event::unset_id);
  CHECK(segv.ppid == 0);
  CHECK(segv.syscall.empty());
  CHECK(segv.arch == 0);
  auto abrt = interpret_ok(test::with_serial(events, 323001));
  CHECK(abrt.action == process_action::abend);
  CHECK(abrt.pid == 20080);
  CHECK(abrt.signal == 6);
}

// -- i386 ---------------------------------------------------------------------

TEST_CASE("interpret: i386 clone 120, execve 11, exit_group 252") {
  auto clone = interpret_ok(327610);
  CHECK(clone.action == process_action::fork);
  CHECK(clone.arch == i386);
  CHECK(clone.syscall == "clone");
  CHECK(clone.pid == 1778);
  CHECK(clone.child == 1783);
  CHECK(clone.clone_flags_known);
  CHECK(clone.clone_flags == 0x1200011);
  auto exec = interpret_ok(327611);
  CHECK(exec.action == process_action::exec);
  CHECK(exec.arch == i386);
  CHECK(exec.syscall == "execve");
  CHECK(exec.pid == 1783);
  CHECK(exec.ppid == 1778);
  CHECK(exec.argv == std::vector<std::string>{"i386prog", "leaf"});
  CHECK(exec.exe == "/var/tmp/audit-corpus/lat/i386prog");
  auto exit = interpret_ok(327612);
  CHECK(exit.action == process_action::exit);
  CHECK(exit.arch == i386);
  CHECK(exit.syscall == "exit_group");
  CHECK(exit.pid == 1783);
  CHECK(exit.exit_code == 4);
}

TEST_CASE("interpret: i386 vfork 190 and clone3 435") {
  auto vfork = interpret_ok(327615);
  CHECK(vfork.action == process_action::fork);
  CHECK(vfork.arch == i386);
  CHECK(vfork.syscall == "vfork");
  CHECK(vfork.child == 1784);
  auto clone3 = interpret_ok(327609);
  CHECK(clone3.arch == i386);
  CHECK(clone3.syscall == "clone3");
  CHECK(clone3.child == 1779);
  CHECK_FALSE(clone3.clone_flags_known);
  // The exec of a 64-bit program is logged with the caller's arch.
  auto exec = interpret_ok(327613);
  CHECK(exec.arch == i386);
  CHECK(exec.exe == "/usr/bin/true");
  CHECK(exec.argv == std::vector<std::string>{"true", "from-i386"});
}

TEST_CASE("interpret: an x86_64 number under i386 means another call") {
  // i386 syscall 56 is mpx, 59 oldolduname, 231 fgetxattr: not ours.
  for (auto nr : {"56", "59", "231"}) {
    auto result = interpret(test::event(
        {"type=SYSCALL msg=audit(1795990174.670:327610): arch=40000003 "
         "syscall="s
         + nr
         + " success=yes exit=1783 a0=1200011 a1=0 a2=0 a3=0 items=0 "
           "ppid=1651 pid=1778 auid=4294967295 uid=0 comm=\"i386prog\""}));
    CHECK_FALSE(result.event);
    CHECK(result.error == nullptr);
  }
}

// -- nothing to say, or malformed ---------------------------------------------

TEST_CASE("interpret: other syscalls and records yield nothing") {
  auto setsockopt = test::event(
      {"type=EVENT_LISTENER msg=audit(1795990173.086:327459): pid=1511 uid=0 "
       "auid=4294967295 tty=(none) ses=4294967295 comm=\"python3\" "
       "exe=\"/root/.pyenv/versions/3.11.7/bin/python3.11\" nl-mcgrp=1 "
       "op=connect res=1",
       "type=SYSCALL msg=audit(1795990173.086:327459): arch=c000003e "
       "syscall=54 success=yes exit=0 a0=4 a1=10e a2=1 a3=7fff211107f0 "
       "items=0 ppid=1455 pid=1511 auid=4294967295 uid=0 gid=0 euid=0 suid=0 "
       "fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 "
       "comm=\"python3\" exe=\"/root/.pyenv/versions/3.11.7/bin/python3.11\" "
       "key=(null)",
       "type=EOE msg=audit(1795990173.086:327459):"});
  auto proctitle_only = test::event(
      {"type=PROCTITLE msg=audit(1795990082.726:315513): proctitle=\"true\""});
  auto eoe_only = test::event({"type=EOE msg=audit(1795990081.206:307793):"});
  auto unknown_arch =
      test::event({"type=SYSCALL msg=audit(1.000:1): arch=c00000f3 syscall=220 "
                   "success=yes exit=5 pid=4"});
  for (auto* ev : {&setsockopt, &proctitle_only, &eoe_only, &unknown_arch}) {
    auto result = interpret(*ev);
    CHECK_FALSE(result.event);
    CHECK(result.error == nullptr);
  }
}

TEST_CASE("interpret: a malformed SYSCALL is an error, not a crash") {
  auto text =
      GENERATE(as<std::string>{}, "", "%%%% garbage",
               "syscall=56 success=yes exit=1755 pid=1739",
               "arch=c000003e success=yes exit=1755 pid=1739",
               "arch=zz syscall=56 success=yes exit=1755 pid=1739",
               "arch=1c000003e syscall=56 success=yes exit=1755 pid=1739",
               "arch=c000003e syscall=5x6 success=yes exit=1755 pid=1739",
               "arch=c000003e syscall=56 success=yes exit=1755",
               "arch=c000003e syscall=56 success=yes exit=1755 pid=0",
               "arch=c000003e syscall=56 success=yes exit=1755 pid=-1",
               "arch=c000003e syscall=56 success=yes exit=1755 pid=abc",
               "arch=c000003e syscall=56 success=yes exit=1755 pid=4294967296",
               "arch=c000003e syscall=56 success=yes pid=1739",
               "arch=c000003e syscall=56 success=yes exit=abc pid=1739",
               "arch=c000003e syscall=56 success=yes exit=0 pid=1739",
               "arch=c000003e syscall=435 success=yes exit=-11 pid=1739",
               "arch=c000003e syscall=58 success=yes exit=4294967296 pid=1739",
               "arch=c000003e syscall=231 a0=0 items=0");
  INFO('"' << text << '"');
  audit_event ev;
  ev.id = event_id{1795990174, 310, 327586};
  ev.records.push_back(audit_record{record_types::syscall, ev.id, text});
  ev.records.push_back(audit_record{record_types::eoe, ev.id, ""});
  auto result = interpret(ev);
  CHECK(result.error != nullptr);
  CHECK_FALSE(result.event);
}

TEST_CASE("interpret: an exec whose argv does not reassemble is an error") {
  auto syscall = "type=SYSCALL msg=audit(1795990174.310:327587): "
                 "arch=c000003e syscall=59 success=yes exit=0 items=2 "
                 "ppid=1739 pid=1755 auid=4294967295 uid=0 comm=\"true\" "
                 "exe=\"/usr/bin/true\"";
  SECTION("no EXECVE record") {
    auto result = interpret(test::event({syscall}));
    CHECK(result.error != nullptr);
    // What is known still comes out.
    REQUIRE(result.event);
    CHECK(result.event->pid == 1755);
    CHECK(result.event->exe == "/usr/bin/true");
    CHECK(result.event->argv.empty());
  }
  SECTION("a chunk missing") {
    auto result = interpret(test::event(
        {syscall,
         "type=EXECVE msg=audit(1795990174.310:327587): argc=2 a0=\"true\" "
         "a1_len=6 a1[0]=\"ab\"",
         "type=EXECVE msg=audit(1795990174.310:327587):  a1[2]=\"cd\""}));
    CHECK(result.error != nullptr);
  }
  SECTION("argc too large") {
    auto result = interpret(test::event(
        {syscall, "type=EXECVE msg=audit(1795990174.310:327587): argc=3 "
                  "a0=\"true\""}));
    CHECK(result.error != nullptr);
  }
  SECTION("an ANOM_ABEND without pid=") {
    auto result = interpret(test::event(
        {"type=ANOM_ABEND msg=audit(1795990090.026:322985): auid=4294967295 "
         "uid=0 gid=0 ses=4294967295 comm=\"sleep\" sig=11 res=1"}));
    CHECK(result.error != nullptr);
    CHECK_FALSE(result.event);
  }
}

// -- whole excerpts -----------------------------------------------------------

TEST_CASE("interpret: every event of the excerpts, checked against its lines") {
  auto name =
      GENERATE(as<std::string>{}, "fork-storm.log", "kill-and-reuse.log",
               "threads-i386.log", "long-argv.log");
  INFO(name);
  size_t num_forks = 0;
  size_t num_execs = 0;
  size_t num_exits = 0;
  size_t num_abends = 0;
  for (auto& [stamp, ev] : test::events_by_stamp(name)) {
    INFO(stamp);
    auto result = interpret(ev);
    CHECK(result.error == nullptr);
    if (!result.event)
      continue;
    auto& pe = *result.event;
    switch (pe.action) {
    case process_action::fork:
      ++num_forks;
      break;
    case process_action::exec:
      ++num_execs;
      break;
    case process_action::exit:
      ++num_exits;
      break;
    case process_action::abend:
      ++num_abends;
      break;
    case process_action::rename:
      FAIL("audit reports no rename");
      break;
    case process_action::setsid:
    case process_action::setpgid:
      FAIL("the corpus was captured without setsid and setpgid rules");
      break;
    }
    auto first =
        std::find_if(ev.records.begin(), ev.records.end(), [](auto& rec) {
          return rec.type == record_types::syscall
                 || rec.type == record_types::anom_abend;
        });
    REQUIRE(first != ev.records.end());
    auto line = "x " + std::string{first->text()};
    CHECK(std::to_string(pe.pid) == field_of(line, "pid"));
    if (pe.action == process_action::fork)
      CHECK(std::to_string(pe.child) == field_of(line, "exit"));
    if (pe.action == process_action::exit)
      CHECK(field_of(line, "success").empty());
  }
  // Oracle: count the SYSCALL and ANOM_ABEND lines by plain text.
  size_t forks = 0;
  size_t execs = 0;
  size_t exits = 0;
  size_t abends = 0;
  for (auto& line : test::read_lines(name)) {
    if (line.rfind("type=ANOM_ABEND ", 0) == 0)
      ++abends;
    if (line.rfind("type=SYSCALL ", 0) != 0)
      continue;
    auto arch = field_of(line, "arch");
    auto nr = field_of(line, "syscall");
    auto ok = field_of(line, "success") == "yes";
    auto any = [&nr](std::initializer_list<const char*> xs) {
      for (auto x : xs)
        if (nr == x)
          return true;
      return false;
    };
    if (arch == "c000003e") {
      forks += ok && any({"56", "57", "58", "435"});
      execs += ok && any({"59", "322"});
      exits += any({"231"});
    } else if (arch == "40000003") {
      forks += ok && any({"2", "120", "190", "435"});
      execs += ok && any({"11", "358"});
      exits += any({"252"});
    }
  }
  CHECK(num_forks == forks);
  CHECK(num_execs == execs);
  CHECK(num_exits == exits);
  CHECK(num_abends == abends);
  CHECK(num_forks + num_execs + num_exits + num_abends > 0);
}
