#include "runtime/session_ids.hpp"

namespace auditree {

void session_ids::inherit(const session_ids& creator) {
  if (any() || !creator.any())
    return;
  pgid = creator.pgid;
  sid = creator.sid;
  at = creator.at;
}

void session_ids::take(int32_t new_pgid, int32_t new_sid,
                       const event_id& when) {
  if (any() && when < at)
    return;
  pgid = new_pgid;
  sid = new_sid;
  at = when;
}

std::optional<group_change> resolve_setpgid(const process_event& ev,
                                            bool caller_in_pid_ns) {
  if (ev.target < 0 || ev.pgid < 0)
    return std::nullopt;
  bool self = ev.target == 0;
  if (caller_in_pid_ns && !self)
    return std::nullopt;
  group_change change;
  change.target = self ? ev.pid : ev.target;
  if (ev.pgid == 0 || ev.pgid == ev.target)
    change.pgid = change.target;
  else if (!caller_in_pid_ns)
    change.pgid = ev.pgid;
  return change;
}

} // namespace auditree
