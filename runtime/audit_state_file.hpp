#pragma once

// The file that keeps the kernel audit settings a run found, so that the
// next start can put them back after a crash. Root trusts what it restores
// from it: pure checks of its facts and values here, the reading and
// writing in actors/audit_session.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace auditree {

/// The settings to restore and the run that saved them.
struct saved_audit_state {
  int64_t pid = 0;
  uint32_t enabled = 0;
  uint32_t backlog_limit = 0;
  uint32_t backlog_wait_time = 0;
};

/// Bounds of the values accepted from the file. enabled=2 (locked) is never
/// restored: it would lock audit until reboot.
constexpr int64_t max_saved_pid = 4194304; // PID_MAX_LIMIT
constexpr uint32_t max_saved_backlog_limit = 1u << 24;
/// The kernel's own bound: 10 * AUDIT_BACKLOG_WAIT_TIME (60 s) at HZ=1000.
constexpr uint32_t max_saved_backlog_wait_time = 600000;
/// The file is one short line; anything longer is not ours.
constexpr size_t max_state_file_bytes = 128;

/// Why the state file cannot be trusted, or empty: it must be a regular
/// file (not followed through a symlink), owned by root, mode 0600.
std::string state_file_problem(bool regular, unsigned owner, unsigned mode);

/// Reads `PID ENABLED BACKLOG_LIMIT BACKLOG_WAIT_TIME\n`: decimal numbers
/// within the bounds above, nothing else. nullopt with the reason in
/// `error` otherwise.
std::optional<saved_audit_state> parse_audit_state(std::string_view text,
                                                   std::string& error);

/// The file's text for `state`, which parse_audit_state reads back.
std::string format_audit_state(const saved_audit_state& state);

} // namespace auditree
