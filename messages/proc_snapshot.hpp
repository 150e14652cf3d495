#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace auditree {

/// One process as /proc shows it.
struct proc_process {
  int32_t pid = 0;
  int32_t ppid = 0;
  /// Field 3 of /proc/<pid>/stat: `R`, `S`, `D`, `Z` (zombie), `X` (dead),
  /// ... of the thread-group leader.
  char state = 0;
  /// Field 22 of /proc/<pid>/stat: clock ticks (USER_HZ) since boot.
  uint64_t start_ticks = 0;
  /// The same start as Unix time in milliseconds (boot time + ticks).
  uint64_t start_ms = 0;
  int32_t num_threads = 0;
  /// Fields 5 and 6 of /proc/<pid>/stat: process group and session.
  int32_t pgid = 0;
  int32_t sid = 0;
  std::string comm;
  std::string exe;
  std::string cwd;
  std::vector<std::string> argv;
  uint32_t uid = 4294967295u;
  uint32_t euid = 4294967295u;
  /// The last NSpid: of /proc/<pid>/status, its pid in its own pid
  /// namespace; 0 when that is the host's (one value) or unknown.
  int32_t vpid = 0;
  /// The unified (0::) cgroup path, or the name=systemd one when the
  /// unified path is `/`.
  std::string cgroup;
  /// The cgroup looks like a container's, but a directory of it is not
  /// root's (a delegated subtree) or is gone: no container (the sweeper's
  /// stat, see actors/ownership_checks).
  bool cgroup_delegated = false;
};

/// Every live process at one moment: what a /proc sweep sends the tree.
using proc_snapshot = std::vector<proc_process>;

} // namespace auditree
