#pragma once

// Both pid views of a process: the host's pid and its pid inside its own
// pid namespace (a container's), `vpid`. Only the kernel's facts set a
// vpid: a namespaced clone's `exit=` (the child's pid in the caller's
// namespace), NSpid in /proc/<pid>/status (bootstrap and sweeps), and a
// container's init, pid 1 of the namespace its runtime made. Pure.

#include <cstdint>
#include <string_view>

#include "messages/process_event.hpp"

namespace auditree {

/// The last value of the NSpid: line of /proc/<pid>/status text when the
/// line has more than one (the process runs in a nested pid namespace);
/// 0 when it has one (the host's) or none, or is malformed.
int32_t parse_nspid(std::string_view status_text);

/// A lifetime's vpid after `ev` about it: a /proc read's NSpid replaces
/// what the table had (a setns'd process's vpid is known no other way);
/// other sources leave `known` as it is.
int32_t vpid_after(int32_t known, const process_event& ev);

/// A container init's vpid: 1 unless a /proc read said otherwise.
int32_t init_vpid(int32_t known);

} // namespace auditree
