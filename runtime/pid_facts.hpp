#pragma once

// What the kernel's pid allocation tells about a pid (kernel/pid.c).

#include <cstdint>

namespace auditree {

/// Pids below this are handed out only until a pid namespace's counter
/// first passes it: from then on, and after every wrap at pid_max (which is
/// never below it), allocation starts here (RESERVED_PIDS).
inline constexpr int32_t reserved_pids = 300;

/// Whether a fork's `exit=` can only be the child's pid in another pid
/// namespace than the host's: it is below reserved_pids although the host
/// has handed out a pid above (`highest_host_pid`: the largest host pid
/// any record showed).
constexpr bool is_namespace_pid(int32_t child, int32_t highest_host_pid) {
  return child > 0 && child < reserved_pids && highest_host_pid > reserved_pids;
}

} // namespace auditree
