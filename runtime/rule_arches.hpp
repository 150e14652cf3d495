#pragma once

// Which of the rules file's rules this host needs: `arch=b64` rules on a
// 64-bit machine, `arch=b32` rules only where the kernel runs 32-bit
// programs (a compat ABI) or the machine is itself 32-bit. Pure logic over
// facts the caller reads (uname, /proc, the kernel config).

#include <string>
#include <string_view>
#include <vector>

#include "runtime/audit_rules.hpp"

namespace auditree {

enum class compat_abi { present, absent, unknown };

/// What the host runs.
struct host_abi {
  bool is_64bit = true;
  compat_abi compat = compat_abi::unknown;
  /// How `compat` was decided, for the log.
  std::string evidence;
};

/// The facts compat is decided from; absent facts stay false / empty.
struct host_facts {
  std::string machine;        ///< uname -m
  bool is_64bit = true;       ///< the machine's native ABI is 64-bit
  bool proc_sys_readable = false;   ///< /proc/sys/kernel exists
  bool vsyscall32_exists = false;   ///< /proc/sys/abi/vsyscall32 exists
  std::string kernel_config;  ///< /boot/config-RELEASE, empty if unreadable
};

/// Decides compat: x86_64 has it iff /proc/sys/abi/vsyscall32 exists (the
/// kernel builds vdso32-setup.c, which registers that sysctl, only with
/// CONFIG_COMPAT_32 = IA32_EMULATION there; CONFIG_COMPAT would also be set
/// by the x32 ABI alone, so the config cannot tell); ppc64le
/// never (libaudit has no 32-bit machine for it); elsewhere the kernel
/// config's CONFIG_COMPAT decides, and without a config it is unknown.
host_abi decide_host_abi(const host_facts& facts);

/// The rules to install and, for the log, why the others are left out.
struct rule_selection {
  std::vector<audit_rule_spec> install;
  std::vector<std::string> left_out;
};

/// Keeps `arch=b64` rules on 64-bit hosts only, and `arch=b32` rules on
/// 32-bit hosts and where compat is present or unknown (a rule that never
/// matches costs little; a 32-bit program missed costs the tree). Rules
/// with any other arch, or none, are kept as written.
rule_selection select_rules(const std::vector<audit_rule_spec>& rules,
                            const host_abi& host);

} // namespace auditree
