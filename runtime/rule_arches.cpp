#include "runtime/rule_arches.hpp"

namespace auditree {

namespace {

// `CONFIG_COMPAT=y` on a line of its own.
bool config_has_compat(std::string_view config) {
  constexpr std::string_view setting = "CONFIG_COMPAT=y";
  for (size_t at = config.find(setting); at != std::string_view::npos;
       at = config.find(setting, at + 1)) {
    bool line_start = at == 0 || config[at - 1] == '\n';
    auto end = at + setting.size();
    bool line_end = end == config.size() || config[end] == '\n';
    if (line_start && line_end)
      return true;
  }
  return false;
}

// The value of a rule's `arch=` pair, or empty.
std::string_view arch_of(const audit_rule_spec& rule) {
  for (auto& pair : rule.fields)
    if (pair.rfind("arch=", 0) == 0)
      return std::string_view{pair}.substr(5);
  return {};
}

} // namespace

host_abi decide_host_abi(const host_facts& facts) {
  host_abi host;
  host.is_64bit = facts.is_64bit;
  if (!facts.is_64bit) {
    host.compat = compat_abi::absent;
    host.evidence = facts.machine + " is a 32-bit machine";
  } else if (facts.machine == "x86_64" && facts.proc_sys_readable) {
    host.compat = facts.vsyscall32_exists ? compat_abi::present
                                          : compat_abi::absent;
    host.evidence = facts.vsyscall32_exists
                        ? "/proc/sys/abi/vsyscall32 exists (IA32 emulation)"
                        : "no /proc/sys/abi/vsyscall32 (no IA32 emulation)";
  } else if (facts.machine == "ppc64le") {
    host.compat = compat_abi::absent;
    host.evidence = "libaudit has no 32-bit machine for ppc64le";
  } else if (!facts.kernel_config.empty()) {
    bool compat = config_has_compat(facts.kernel_config);
    host.compat = compat ? compat_abi::present : compat_abi::absent;
    host.evidence = compat ? "the kernel config has CONFIG_COMPAT=y"
                           : "the kernel config has no CONFIG_COMPAT=y";
  } else {
    host.compat = compat_abi::unknown;
    host.evidence = "no kernel config to tell whether " + facts.machine
                    + " runs 32-bit programs";
  }
  return host;
}

rule_selection select_rules(const std::vector<audit_rule_spec>& rules,
                            const host_abi& host) {
  rule_selection result;
  for (auto& rule : rules) {
    auto arch = arch_of(rule);
    std::string why;
    if (arch == "b64" && !host.is_64bit)
      why = "the machine is 32-bit";
    else if (arch == "b32" && host.is_64bit
             && host.compat == compat_abi::absent)
      why = "the kernel runs no 32-bit programs: " + host.evidence;
    if (why.empty())
      result.install.push_back(rule);
    else
      result.left_out.push_back("line " + std::to_string(rule.line) + " (arch="
                                + std::string{arch} + "): " + why);
  }
  return result;
}

} // namespace auditree
