// audit_control::build resolves a rule with libaudit alone (no socket, no
// kernel): a call the rule's machine lacks is left out, a typo is an error.

#include "actors/audit_control.hpp"

#include <catch2/catch.hpp>

#include <libaudit.h>

using namespace auditree;

namespace {

audit_rule_spec rule(const std::string& text) {
  auto parsed = parse_audit_rules(text);
  REQUIRE(parsed.error.empty());
  REQUIRE(parsed.rules.size() == 1);
  return parsed.rules.front();
}

// The syscall numbers set in a built rule's mask.
bool has_syscall(const kernel_rule& built, int number) {
  auto data = reinterpret_cast<const audit_rule_data*>(built.data());
  return (data->mask[number / 32] & (1u << (number % 32))) != 0;
}

} // namespace

TEST_CASE("audit_control: aarch64 has no fork or vfork: left out") {
  audit_control control;
  auto built = control.build(
      rule("-a always,exit -F arch=aarch64 -S fork,vfork,clone,execve"),
      "k", 0);
  CHECK(control.error().empty());
  REQUIRE(built.rule);
  CHECK(built.machine == "aarch64");
  CHECK(built.left_out == std::vector<std::string>{"fork", "vfork"});
  CHECK(has_syscall(*built.rule, 220)); // clone
  CHECK(has_syscall(*built.rule, 221)); // execve
  CHECK(rule_key(*built.rule) == "k");
}

TEST_CASE("audit_control: a rule with no call left installs nothing") {
  audit_control control;
  auto built = control.build(
      rule("-a always,exit -F arch=aarch64 -S fork,vfork"), "k", 0);
  CHECK_FALSE(built.rule);
  CHECK(control.error().empty());
  CHECK(built.left_out.size() == 2);
}

TEST_CASE("audit_control: a name no machine has is an error") {
  audit_control control;
  auto built = control.build(
      rule("-a always,exit -F arch=b64 -S execve,frok"), "k", 0);
  CHECK_FALSE(built.rule);
  CHECK(control.error().find("unknown syscall frok") != std::string::npos);
  // The next build starts clean.
  auto next = control.build(rule("-a always,exit -F arch=b64 -S execve"),
                            "k", 0);
  CHECK(next.rule);
  CHECK(control.error().empty());
}

TEST_CASE("audit_control: b32 resolves for this machine's 32-bit arch") {
  audit_control control;
  auto built = control.build(
      rule("-a always,exit -F arch=b32 -S fork,execve"), "k", 0);
  REQUIRE(built.rule);
  auto native = audit_detect_machine();
  if (native == MACH_86_64) {
    CHECK(built.machine == "i386");
    CHECK(has_syscall(*built.rule, 2));  // fork
    CHECK(has_syscall(*built.rule, 11)); // execve
  }
  CHECK(built.left_out.empty());
}
