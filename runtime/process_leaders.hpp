#pragma once

// process.group_leader and process.session_leader of a stream event: the
// lifetimes that lead the process group and the session the table holds
// for the event's process (runtime/session_ids), at the event, never from
// /proc. A leader's pid cannot be handed out again while its group or
// session has a member (the kernel keeps the pid), so the newest lifetime
// of that pid is the leader when it still holds the group (the session);
// else the event names the leader's pid only. Pure.

#include <string_view>

#include "messages/process_event.hpp"
#include "runtime/process_tree.hpp"

namespace auditree {

/// Fills `out.group_leader` and `out.session_leader` for a process in
/// group `pgid` and session `sid` (0: unknown, left empty), from `tree`,
/// booted as `boot` (entity_id.hpp).
void fill_leaders(process_lineage& out, const process_tree& tree,
                  std::string_view boot, int32_t pgid, int32_t sid);

} // namespace auditree
