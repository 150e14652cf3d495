#pragma once

// process.entity_id: one id per process lifetime, unique across hosts,
// boots and pid reuse, that any reader of the same three facts recomputes:
//
//   entity_id = base64url (RFC 4648 §5, no padding) of the first 12 bytes
//               of SHA-256(BOOT "|" PID "|" START)            (16 chars)
//
// - BOOT: live, the host's /proc/sys/kernel/random/boot_id as the file
//   says it (36 chars, lower case, no newline). Replay has no boot id in
//   the log: the host is named by its records, so BOOT is `node=` followed
//   by the node name (`node=` alone for records without one). Replay is
//   then reproducible, but its ids differ from the live ones.
// - PID: the host pid, in decimal.
// - START: the lifetime's first-seen stamp in the tree (process_key's
//   `first_seen`): the audit stamp of the first event that showed it, in
//   milliseconds since the epoch (CLOCK_REALTIME at the syscall's entry),
//   in decimal. For a process whose fork was seen first that is its fork's
//   stamp, which is also `process.start`. It never changes in a lifetime.
//
// Pure: no I/O.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace auditree {

/// SHA-256 (FIPS 180-4) of `data`.
std::array<uint8_t, 32> sha256(std::string_view data);

/// The entity id of the lifetime of `pid` first seen at `start_ms` on the
/// host booted as `boot` (see above).
std::string make_entity_id(std::string_view boot, int32_t pid,
                           uint64_t start_ms);

/// Whether `text` has an entity id's form: 16 base64url characters.
bool looks_like_entity_id(std::string_view text);

/// The BOOT of a host's ids: `local_boot_id` for the local host (empty key)
/// when known, else `node=` and the node name.
std::string boot_of_host(std::string_view host_key,
                         std::string_view local_boot_id);

} // namespace auditree
