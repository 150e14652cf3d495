// Interpretation on machines other than x86: the numbers come from the
// generated table (libaudit's), the semantics (clone's flags argument) from
// the kernel. The real foreign logs are replayed by tests/integration.

#include "runtime/arch_table.hpp"
#include "runtime/ecs_json.hpp"
#include "runtime/event_interpreter.hpp"

#include <catch2/catch.hpp>

#include "tests/runtime/record_fixture.hpp"

using namespace auditree;

namespace {

constexpr uint32_t aarch64 = 0xc00000b7;
constexpr uint32_t s390x = 0x80000016;
constexpr uint32_t ppc64le = 0xc0000015;
constexpr uint32_t arm = 0x40000028;
constexpr uint32_t riscv64 = 0xc00000f3; // not in libaudit 3.0's tables

// A one-record SYSCALL event of this arch and call.
audit_event syscall_event(uint32_t arch, int number, const std::string& rest) {
  char head[96];
  std::snprintf(head, sizeof(head),
                "type=SYSCALL msg=audit(1.000:7): arch=%x syscall=%d ", arch,
                number);
  auto line = head + rest;
  return test::event({line});
}

process_event interpret_ok(const audit_event& ev) {
  auto result = interpret(ev);
  CHECK(result.error == nullptr);
  REQUIRE(result.event);
  return *result.event;
}

} // namespace

TEST_CASE("arch table: x86_64 and i386 keep their numbers") {
  auto x86_64 = find_arch(0xc000003e);
  REQUIRE(x86_64 != nullptr);
  CHECK(std::string{x86_64->name} == "x86_64");
  CHECK(classify(*x86_64, 56) == process_call::clone);
  CHECK(classify(*x86_64, 57) == process_call::fork);
  CHECK(classify(*x86_64, 58) == process_call::vfork);
  CHECK(classify(*x86_64, 435) == process_call::clone3);
  CHECK(classify(*x86_64, 59) == process_call::execve);
  CHECK(classify(*x86_64, 322) == process_call::execveat);
  CHECK(classify(*x86_64, 231) == process_call::exit_group);
  CHECK(classify(*x86_64, 60) == process_call::none); // exit: a thread's
  auto i386 = find_arch(0x40000003);
  REQUIRE(i386 != nullptr);
  CHECK(std::string{i386->name} == "i386");
  CHECK(classify(*i386, 120) == process_call::clone);
  CHECK(classify(*i386, 2) == process_call::fork);
  CHECK(classify(*i386, 190) == process_call::vfork);
  CHECK(classify(*i386, 11) == process_call::execve);
  CHECK(classify(*i386, 358) == process_call::execveat);
  CHECK(classify(*i386, 252) == process_call::exit_group);
}

TEST_CASE("arch table: aarch64 has no fork or vfork; s390 flags are a1") {
  auto arm64 = find_arch(aarch64);
  REQUIRE(arm64 != nullptr);
  CHECK(std::string{arm64->name} == "aarch64");
  for (size_t i = 0; i < arm64->call_count; ++i) {
    CHECK(arm64->calls[i].call != process_call::fork);
    CHECK(arm64->calls[i].call != process_call::vfork);
  }
  CHECK(clone_flags_argument(*arm64) == 0);
  REQUIRE(find_arch(s390x) != nullptr);
  CHECK(clone_flags_argument(*find_arch(s390x)) == 1);
  REQUIRE(find_arch(0x16) != nullptr); // s390 (31-bit)
  CHECK(clone_flags_argument(*find_arch(0x16)) == 1);
  REQUIRE(find_arch(ppc64le) != nullptr);
  CHECK(clone_flags_argument(*find_arch(ppc64le)) == 0);
  CHECK(find_arch(riscv64) == nullptr);
  CHECK(find_arch(0) == nullptr);
}

TEST_CASE("interpret: aarch64 clone 220, execve 221, exit_group 94") {
  auto clone = interpret_ok(syscall_event(
      aarch64, 220, "success=yes exit=4312 a0=1200011 a1=0 a2=0 a3=ffff8 "
                    "items=0 ppid=1 pid=4300 uid=0 comm=\"sh\""));
  CHECK(clone.action == process_action::fork);
  CHECK(clone.syscall == "clone");
  CHECK(clone.arch == aarch64);
  CHECK(clone.child == 4312);
  CHECK(clone.clone_flags_known);
  CHECK(clone.clone_flags == 0x1200011);
  auto exec = interpret_ok(test::event(
      {"type=SYSCALL msg=audit(1.000:8): arch=c00000b7 syscall=221 "
       "success=yes exit=0 a0=1 a1=2 a2=3 a3=0 items=2 ppid=4300 pid=4312 "
       "uid=0 comm=\"ls\" exe=\"/usr/bin/ls\"",
       "type=EXECVE msg=audit(1.000:8): argc=2 a0=\"ls\" a1=\"-l\"",
       "type=CWD msg=audit(1.000:8): cwd=\"/root\""}));
  CHECK(exec.action == process_action::exec);
  CHECK(exec.syscall == "execve");
  CHECK(exec.argv == std::vector<std::string>{"ls", "-l"});
  CHECK(exec.cwd == "/root");
  auto exit = interpret_ok(
      syscall_event(aarch64, 94, "a0=3 items=0 ppid=4300 pid=4312 uid=0"));
  CHECK(exit.action == process_action::exit);
  CHECK(exit.exit_code == 3);
  // 57 is fork on x86_64, close on aarch64; 59 is execve there, pipe2 here.
  for (int other : {57, 59, 56}) {
    auto result = interpret(syscall_event(
        aarch64, other, "success=yes exit=5 a0=0 ppid=1 pid=4300"));
    CHECK_FALSE(result.event);
    CHECK(result.error == nullptr);
  }
}

TEST_CASE("interpret: s390x clone takes its flags from a1") {
  auto clone = interpret_ok(syscall_event(
      s390x, 120, "success=yes exit=900 a0=3ffd1 a1=1200011 a2=0 a3=0 "
                  "items=0 ppid=1 pid=800"));
  CHECK(clone.syscall == "clone");
  CHECK(clone.child == 900);
  CHECK(clone.clone_flags_known);
  CHECK(clone.clone_flags == 0x1200011);
  auto no_a1 = interpret_ok(syscall_event(
      s390x, 120, "success=yes exit=901 a0=1200011 ppid=1 pid=800"));
  CHECK_FALSE(no_a1.clone_flags_known);
  // Without its EXECVE record an exec is still an exec (and an error).
  auto exec = interpret(syscall_event(
      s390x, 354, "success=yes exit=0 a0=3 ppid=1 pid=800"));
  REQUIRE(exec.event);
  CHECK(exec.event->syscall == "execveat");
}

TEST_CASE("interpret: ppc64le vfork 189 and arm execveat 387") {
  auto vfork = interpret_ok(syscall_event(
      ppc64le, 189, "success=yes exit=77 a0=0 ppid=1 pid=70"));
  CHECK(vfork.syscall == "vfork");
  CHECK(vfork.clone_flags == 0x4111);
  auto exec = interpret(
      syscall_event(arm, 387, "success=yes exit=0 a0=3 ppid=1 pid=71"));
  REQUIRE(exec.event);
  CHECK(exec.event->syscall == "execveat");
  CHECK(exec.event->arch == arm);
  auto unknown = interpret(
      syscall_event(riscv64, 221, "success=yes exit=0 a0=3 ppid=1 pid=71"));
  CHECK_FALSE(unknown.event);
  CHECK(unknown.error == nullptr);
}

TEST_CASE("append_ecs_json: the arch is libaudit's machine name, arm as arm") {
  auto name_in = [](uint32_t arch) {
    process_event ev;
    ev.action = process_action::exec;
    ev.pid = 5;
    ev.arch = arch;
    std::string out;
    append_ecs_json(out, ev);
    auto at = out.find("\"arch\":\"");
    REQUIRE(at != std::string::npos);
    at += 8;
    return out.substr(at, out.find('"', at) - at);
  };
  CHECK(name_in(aarch64) == "aarch64");
  CHECK(name_in(s390x) == "s390x");
  CHECK(name_in(ppc64le) == "ppc64le");
  CHECK(name_in(0xc000003e) == "x86_64");
  CHECK(name_in(0x40000003) == "i386");
  // libaudit names the little-endian AUDIT_ARCH_ARM "armeb".
  CHECK(name_in(arm) == "arm");
  CHECK(name_in(riscv64) == "c00000f3");
}
