#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "messages/audit_record.hpp"

namespace auditree {

/// What happened to a process. One message type for all actions keeps a
/// batch of events in one ordered vector.
enum class process_action : uint8_t {
  fork,  ///< fork, vfork, clone or clone3 returned a child.
  exec,  ///< A successful execve or execveat.
  exit,  ///< exit_group (audit) or the task's death (proc connector).
  abend, ///< ANOM_ABEND: killed by a core-dumping signal.
  rename, ///< A new `comm` (prctl PR_SET_NAME; the proc connector).
  setsid,  ///< A successful setsid: a new session and process group.
  setpgid, ///< A successful setpgid: a process joined or made a group.
};

/// A process group or session leader on a stream event
/// (runtime/process_leaders): pid 0 when unknown.
struct lineage_leader {
  int32_t pid = 0;
  /// Empty when the table does not hold the leader's lifetime.
  std::string entity_id;
  std::string exe;
  std::string name;
  event_id start;
};

/// Who reported a fact about a process.
enum class fact_source : uint8_t { audit, proc_connector, proc_scan };

/// One ancestor beyond the parent (auditree.process.ancestors).
struct lineage_ancestor {
  std::string entity_id;
  int32_t pid = 0;
  std::string exe;
  std::vector<std::string> args;
};

/// Where a process event's process stands in the tree as the event leaves
/// the tree actor (runtime/event_lineage): filled there, empty before.
struct process_lineage {
  /// The lifetime's process.entity_id (runtime/entity_id); empty when the
  /// tree does not hold it.
  std::string entity_id;
  /// The stamp of its fork when the tree saw it; zero when unknown.
  event_id start;
  /// Its pid inside its own pid namespace (runtime/pid_views); 0 when
  /// unknown or the host's.
  int32_t vpid = 0;
  /// Its parent as the tree knows it: pid, vpid, id, image and start.
  int32_t parent_pid = 0;
  int32_t parent_vpid = 0;
  std::string parent_entity_id;
  std::string parent_exe;
  std::string parent_name;
  /// Its argv joined with NUL bytes, as the table keeps it: copied whole,
  /// not split per event.
  std::string parent_args;
  uint32_t parent_argc = 0;
  event_id parent_start;
  /// The parent's parent and on, up to pid 1 or the container's init, at
  /// most `ancestors-depth` of them (none by default).
  std::vector<lineage_ancestor> ancestors;
  /// process.entry_leader (runtime/entry_leader): pid 0 when none.
  int32_t entry_pid = 0;
  std::string entry_entity_id;
  std::string entry_exe;
  std::string entry_name;
  event_id entry_start;
  /// entry_meta.type: container, sshd, terminal or init.
  std::string entry_type;
  /// process.group_leader and process.session_leader.
  lineage_leader group_leader;
  lineage_leader session_leader;
  /// The runtime of its container, as the tree knows it (`docker`,
  /// `containerd`, `runc`, ...); empty on the host.
  std::string container_runtime;
  /// Live, local host only: the container's name and image as its
  /// runtime's state says (actors/container_facts); empty when unknown.
  std::string container_name;
  std::string container_image;
  /// Live, local host only: /etc/machine-id and the boot id.
  std::string host_id;
  std::string boot_id;
};

/// A process lifecycle event, interpreted from one audit event or one proc
/// connector message.
struct process_event {
  process_action action = process_action::fork;
  fact_source source = fact_source::audit;
  /// The audit stamp (or, for the proc connector, its time and sequence).
  event_id id;
  /// audit: the closing sequence of its event (see audit_event), by which
  /// the tree merges the assemblers' streams; 0 for other sources.
  uint64_t sequence = 0;
  /// Syscall name as logged (`clone`, `execve`, `exit_group`, ...); empty
  /// for events that are not syscalls.
  std::string syscall;
  /// `arch=` of the record (AUDIT_ARCH_*, e.g. 0xc000003e x86_64, 0xc00000b7
  /// aarch64); 0 for events that are not syscalls.
  uint32_t arch = 0;
  /// The task that made the call (record `pid=`, a thread-group id in the
  /// initial pid namespace): the parent for a fork, else the process itself.
  int32_t pid = 0;
  /// Record `ppid=`: the parent of `pid`; 0 when the record has none.
  int32_t ppid = 0;
  /// fork family: `exit=`, the child's pid in the caller's pid namespace,
  /// which inside a container is not a host pid.
  int32_t child = 0;
  /// fork family: clone flags when the record shows them (clone's a0 on
  /// x86_64, a0 on i386); clone3 passes them in memory.
  uint64_t clone_flags = 0;
  bool clone_flags_known = false;
  /// `comm=` and `exe=` of `pid` (after the exec for an exec).
  std::string comm;
  std::string exe;
  /// exec: argv from the EXECVE records and the CWD record.
  std::vector<std::string> argv;
  std::string cwd;
  /// Credentials of `pid`; unset_id when the record has none.
  uint32_t uid = unset_id;
  uint32_t euid = unset_id;
  uint32_t auid = unset_id;
  /// exit: the status passed to exit_group; abend or a connector exit: the
  /// signal (0 when none).
  int32_t exit_code = 0;
  int32_t signal = 0;
  /// The container of `pid`, once the tree knows it; empty on the host.
  std::string container;
  /// The host that logged the event (its records' `node=`); empty for the
  /// local host.
  std::string host;
  /// fork, in the stream: the child's parent when it is not the caller
  /// (CLONE_PARENT: the caller's parent); 0: the caller.
  int32_t fork_parent = 0;
  /// fork, in the stream: the child's pid in the caller's pid namespace
  /// (`exit=`) when that is not the host's; `child` is then its host pid.
  int32_t vpid = 0;
  /// setpgid: a0 and a1 as the caller passed them (pids in its pid
  /// namespace; 0: itself). proc_scan: /proc's pgid and session (host
  /// pids). 0 otherwise.
  int32_t target = 0;
  int32_t pgid = 0;
  int32_t sid = 0;
  /// The tree's view of the process and its parent (see process_lineage).
  process_lineage lineage;
  /// exec whose argv was cut to max-args-bytes: its bytes (joined with NUL
  /// bytes) and arguments before the cut; 0 when it was not cut.
  uint64_t args_original_bytes = 0;
  uint64_t args_original_count = 0;

  /// The kernel's value for "no id" (e.g. auid of a daemon).
  static constexpr uint32_t unset_id = 4294967295u;
};

/// Process events travel from assemblers onwards in batches.
using process_event_batch = std::vector<process_event>;

/// The pid a stream event is about: the child for a fork, else the caller.
inline int32_t subject_pid(const process_event& ev) {
  return ev.action == process_action::fork ? ev.child : ev.pid;
}

/// The parent pid the stream names for `ev`: a fork's parent at fork, else
/// the record's `ppid=`; 0 when none.
inline int32_t stream_parent_pid(const process_event& ev) {
  if (ev.action == process_action::fork)
    return ev.fork_parent > 0 ? ev.fork_parent : ev.pid;
  return ev.ppid;
}

/// Stable names for JSON output and logs.
inline const char* to_string(process_action x) {
  switch (x) {
    case process_action::fork:
      return "fork";
    case process_action::exec:
      return "exec";
    case process_action::exit:
      return "exit";
    case process_action::abend:
      return "abend";
    case process_action::rename:
      return "rename";
    case process_action::setsid:
      return "setsid";
    case process_action::setpgid:
      return "setpgid";
  }
  return "?";
}

inline const char* to_string(fact_source x) {
  switch (x) {
    case fact_source::audit:
      return "audit";
    case fact_source::proc_connector:
      return "proc_connector";
    case fact_source::proc_scan:
      return "proc_scan";
  }
  return "?";
}

} // namespace auditree
