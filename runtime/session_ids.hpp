#pragma once

// A lifetime's process group and session, as the process tree tracks them
// (host pids): inherited at fork, set by setsid and setpgid (audit), taken
// from /proc/PID/stat at bootstrap and sweeps. Pure.

#include <cstdint>
#include <optional>

#include "messages/process_event.hpp"

namespace auditree {

struct session_ids {
  /// 0: unknown.
  int32_t pgid = 0;
  int32_t sid = 0;
  /// The stamp of the fact that set them, so that an older fact applied
  /// late does not undo a newer one.
  event_id at;

  bool any() const { return pgid > 0 || sid > 0; }

  /// fork: the child starts in its creator's group and session, unless a
  /// fact of its own came first (its records may precede the fork's).
  void inherit(const session_ids& creator);
  /// Sets both, unless the ids hold a newer fact than `when`.
  void take(int32_t new_pgid, int32_t new_sid, const event_id& when);
};

/// What a successful setpgid changed: `target` (a host pid) now leads or
/// joins group `pgid` (a host pid), or 0 when the host's pid cannot be
/// told (a caller in a pid namespace naming a pid of its own namespace).
struct group_change {
  int32_t target = 0;
  int32_t pgid = 0;
};

/// setpgid(a0, a1) by `ev.pid` (ev.target, ev.pgid): a0 0 is the caller, a1
/// 0 is the target's own pid. A caller in another pid namespace names pids
/// of its namespace: only "the caller" (a0 0) and "the target's own pid"
/// (a1 0 or a1 == a0) map to host pids; a group named otherwise leaves the
/// target's group unknown (pgid 0). nullopt when the target is unknown.
std::optional<group_change> resolve_setpgid(const process_event& ev,
                                            bool caller_in_pid_ns);

} // namespace auditree
