#pragma once

// The stat() half of container evidence (runtime/container_evidence is the
// pure half): who owns a runtime binary and a container's cgroup.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/proc_snapshot.hpp"
#include "runtime/container_evidence.hpp"

namespace auditree {

/// Whether `path` is owned by root and writable by no other user.
bool root_owned_file(const std::string& path);

/// Where cgroup paths are mounted: cgroup v2 at /sys/fs/cgroup, or, on a
/// hybrid host, the unified and name=systemd hierarchies (a path from
/// /proc/PID/cgroup may be either, see parse_proc_cgroup).
std::vector<std::string> default_cgroup_roots();

/// nullopt when cgroup `path` exists under one of `roots` and, wherever it
/// exists, every directory of it is owned by root; delegated_cgroup when
/// one is someone else's; no_cgroup when it exists nowhere.
std::optional<claim_rejection> cgroup_ownership(
    std::string_view path,
    const std::vector<std::string>& roots = default_cgroup_roots());

/// The container a process's cgroup names, if the path names one and the
/// directories are root's; else empty, with the reason in `rejected` when
/// the path looked like a container's. Verdicts on existing directories
/// are remembered (at most 1024 paths): root's stay root's, a user's
/// subtree stays the user's.
class cgroup_owner_cache {
public:
  cgroup_claim container_of(std::string_view path);

private:
  std::map<std::string, std::optional<claim_rejection>, std::less<>> verdicts_;
};

/// Verdicts of root_owned_file by path, bounded: runtime binaries are few
/// and an exe path is the kernel's, so a full cache only means a fresh
/// stat.
class binary_owner_cache {
public:
  bool root_owned(const std::string& exe);

private:
  std::map<std::string, bool> verdicts_;
};

/// Marks the processes whose container-like cgroup is not root's
/// (proc_process::cgroup_delegated). Returns how many.
size_t mark_delegated_cgroups(std::vector<proc_process>& procs);

} // namespace auditree
