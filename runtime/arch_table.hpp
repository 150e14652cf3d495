#pragma once

// Every architecture libaudit knows: its arch= value, name, and the numbers
// of the system calls that make, replace or end processes. The numbers come
// from libaudit's own tables, copied at build time by codegen/arch_table_gen
// (this core never links libaudit).

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace auditree {

/// The system calls the process tree follows.
enum class process_call : uint8_t {
  none, fork, vfork, clone, clone3, execve, execveat, exit_group,
  setsid, setpgid ///< a new session, a new process group
};

/// The syscall name of a call ("" for none), as libaudit spells it.
std::string_view call_name(process_call call);

/// Every call but none, in declaration order.
extern const process_call all_process_calls[9];

struct arch_syscall {
  uint32_t number;
  process_call call;
};

/// One machine as libaudit knows it.
struct arch_info {
  uint32_t audit_arch; ///< the arch= value (AUDIT_ARCH_*)
  const char* name;    ///< libaudit's machine name ("arm" for its "armeb")
  const arch_syscall* calls;
  size_t call_count;
};

/// The generated table (build/generated/arch_table_data.cpp).
extern const arch_info known_arches[];
extern const size_t known_arch_count;

/// The machine with this arch= value, or nullptr if libaudit knows none.
const arch_info* find_arch(uint32_t audit_arch);

/// Which call syscall `number` is on this machine (none for the others).
process_call classify(const arch_info& arch, uint64_t number);

/// The index of clone's flags argument (a0..a3) on this machine: 1 where
/// the kernel selects CLONE_BACKWARDS2 (s390, s390x), 0 everywhere else.
int clone_flags_argument(const arch_info& arch);

} // namespace auditree
