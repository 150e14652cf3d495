#include "runtime/rule_arches.hpp"

#include <catch2/catch.hpp>

using namespace auditree;

namespace {

host_facts x86_64(bool vsyscall32) {
  host_facts f;
  f.machine = "x86_64";
  f.proc_sys_readable = true;
  f.vsyscall32_exists = vsyscall32;
  return f;
}

std::vector<audit_rule_spec> rules() {
  auto parsed = parse_audit_rules(
      "-a always,exit -F arch=b64 -S execve\n"
      "-a always,exit -F arch=b32 -S execve\n"
      "-a always,exit -F arch=i386 -S execve\n"
      "-a always,exit -S execve\n");
  REQUIRE(parsed.error.empty());
  return parsed.rules;
}

std::vector<int> lines_installed(const host_abi& host) {
  std::vector<int> lines;
  for (auto& rule : select_rules(rules(), host).install)
    lines.push_back(rule.line);
  return lines;
}

} // namespace

TEST_CASE("host abi: x86_64 compat is /proc/sys/abi/vsyscall32") {
  auto with = decide_host_abi(x86_64(true));
  CHECK(with.compat == compat_abi::present);
  CHECK(with.is_64bit);
  auto without = decide_host_abi(x86_64(false));
  CHECK(without.compat == compat_abi::absent);
  CHECK(without.evidence.find("vsyscall32") != std::string::npos);
  // Without /proc/sys the missing file says nothing; a config may.
  auto blind = x86_64(false);
  blind.proc_sys_readable = false;
  CHECK(decide_host_abi(blind).compat == compat_abi::unknown);
  blind.kernel_config = "CONFIG_X86_64=y\nCONFIG_COMPAT=y\n";
  CHECK(decide_host_abi(blind).compat == compat_abi::present);
}

TEST_CASE("host abi: elsewhere the kernel config decides") {
  host_facts arm64;
  arm64.machine = "aarch64";
  arm64.proc_sys_readable = true;
  CHECK(decide_host_abi(arm64).compat == compat_abi::unknown);
  arm64.kernel_config = "CONFIG_ARM64=y\nCONFIG_COMPAT=y\nCONFIG_X=m\n";
  CHECK(decide_host_abi(arm64).compat == compat_abi::present);
  arm64.kernel_config = "CONFIG_ARM64=y\n# CONFIG_COMPAT is not set\n";
  CHECK(decide_host_abi(arm64).compat == compat_abi::absent);
  // A longer name that starts the same is another option.
  arm64.kernel_config = "CONFIG_COMPAT=yes\nCONFIG_COMPAT_VDSO=y\n"
                        "CONFIG_COMPAT=y_not\n";
  CHECK(decide_host_abi(arm64).compat == compat_abi::absent);
  host_facts ppc64le;
  ppc64le.machine = "ppc64le";
  ppc64le.kernel_config = "CONFIG_COMPAT=y\n";
  CHECK(decide_host_abi(ppc64le).compat == compat_abi::absent);
  host_facts s390x;
  s390x.machine = "s390x";
  s390x.kernel_config = "CONFIG_COMPAT=y";
  CHECK(decide_host_abi(s390x).compat == compat_abi::present);
  host_facts i686;
  i686.machine = "i686";
  i686.is_64bit = false;
  auto host = decide_host_abi(i686);
  CHECK_FALSE(host.is_64bit);
  CHECK(host.compat == compat_abi::absent);
}

TEST_CASE("select_rules: b32 only where 32-bit programs run") {
  CHECK(lines_installed(decide_host_abi(x86_64(true)))
        == std::vector<int>{1, 2, 3, 4});
  auto no_compat = decide_host_abi(x86_64(false));
  CHECK(lines_installed(no_compat) == std::vector<int>{1, 3, 4});
  auto left = select_rules(rules(), no_compat).left_out;
  REQUIRE(left.size() == 1);
  CHECK(left[0].rfind("line 2 (arch=b32): ", 0) == 0);
  // Unknown: installed, since a missed 32-bit exec costs more.
  host_abi unknown;
  unknown.compat = compat_abi::unknown;
  CHECK(lines_installed(unknown) == std::vector<int>{1, 2, 3, 4});
  // A 32-bit machine: b32 is its own ABI, b64 does not exist.
  host_abi thirty_two;
  thirty_two.is_64bit = false;
  thirty_two.compat = compat_abi::absent;
  CHECK(lines_installed(thirty_two) == std::vector<int>{2, 3, 4});
}
