#pragma once

// Reading processes from /proc: at start (processes older than the agent)
// and to reconcile the tree. Parsing is pure and tested on literal text;
// the readers take the /proc root as a parameter.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/proc_snapshot.hpp"
#include "messages/process_event.hpp"

namespace auditree {


/// Parses /proc/<pid>/stat (the comm may hold spaces and parentheses).
bool parse_proc_stat(std::string_view text, proc_process& out);

/// Whether the process still runs. A zombie has ended: only its parent's
/// wait() keeps its entry, and a parent (or a pid 1 that is no real init)
/// may wait seconds or never. But the stat of a leader that called
/// pthread_exit() shows `Z` too while its other threads run on: that
/// process is alive, and its thread count tells it apart (a zombie counts
/// only itself).
bool is_live(const proc_process& p);

/// Parses the Uid: line of /proc/<pid>/status into uid and euid.
bool parse_proc_status(std::string_view text, proc_process& out);

/// The cgroup path from /proc/<pid>/cgroup (see proc_process::cgroup).
std::string parse_proc_cgroup(std::string_view text);

/// The boot time (btime, Unix seconds) from /proc/stat text.
std::optional<uint64_t> parse_boot_time(std::string_view text);

/// The cgroup path of one process (see parse_proc_cgroup); nullopt when
/// it is gone. One file, for callers that need no more.
std::optional<std::string> read_proc_cgroup(const std::string& root,
                                            int32_t pid);

/// The pid of one process inside its pid namespace (NSpid's last value,
/// see parse_nspid); 0 on the host, or when it is gone.
int32_t read_proc_vpid(const std::string& root, int32_t pid);

/// Reads one process; nullopt if it is gone (or `pid` is not a process).
/// `boot_time` converts start ticks to Unix time.
std::optional<proc_process> read_proc_process(const std::string& root,
                                              int32_t pid,
                                              uint64_t boot_time);

/// A sweep of /proc that tells a process gone from one it could not read.
struct proc_sweep {
  /// The live processes (zombies left out, see is_live).
  std::vector<proc_process> live;
  /// Pids whose stat could not be read for a reason other than their end
  /// (EMFILE, ENFILE, ENOMEM, ...): unknown, never to be taken as ended.
  std::vector<int32_t> unknown;
  /// The errno of the last unknown pid.
  int unknown_error = 0;
  /// The errno when the directory could not be listed whole (0: it was).
  int error = 0;
};

/// Reads every process under `root` (normally "/proc").
proc_sweep sweep_proc(const std::string& root);

/// The live processes of sweep_proc: for a bootstrap, where a process
/// that could not be read is only missing until events or a sweep add it.
std::vector<proc_process> scan_proc(const std::string& root);

/// The scan as process events for the tree (source proc_scan, action exec,
/// stamped with each process's start, container from the cgroup), parents
/// before children.
std::vector<process_event> to_process_events(std::vector<proc_process> procs);

/// Reads the boot time from `root`/stat.
std::optional<uint64_t> read_boot_time(const std::string& root);

} // namespace auditree
