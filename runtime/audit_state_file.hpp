#pragma once

// The file that keeps, for each kernel audit setting a run changes, the
// value it found and the value it set, so that a stop or `auditree repair`
// after a crash can put back exactly what the run changed (and nothing
// someone else changed meanwhile). Root trusts what it restores from it:
// pure checks of its facts and values here, the reading and writing in
// actors/audit_repair.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace auditree {

/// One setting: the value the run found, and the value it set (equal when
/// it changed nothing).
struct audit_setting_change {
  uint32_t original = 0;
  uint32_t set = 0;
};

/// The run that saved the file and what it changed. audit_pid is the
/// registered audit daemon (the run's own pid when it registered, unicast).
struct saved_audit_state {
  int64_t pid = 0;
  audit_setting_change enabled;
  audit_setting_change backlog_limit;
  audit_setting_change backlog_wait_time;
  audit_setting_change audit_pid;
};

/// Bounds of the values accepted from the file for a setting the run
/// changed (one it left alone is never applied). enabled=2 (locked) is
/// never restored: it would lock audit until reboot.
constexpr int64_t max_saved_pid = 4194304; // PID_MAX_LIMIT
constexpr uint32_t max_saved_backlog_limit = 1u << 24;
/// The kernel's own bound: 10 * AUDIT_BACKLOG_WAIT_TIME (60 s) at HZ=1000.
constexpr uint32_t max_saved_backlog_wait_time = 600000;
/// The file is one short line; anything longer is not ours.
constexpr size_t max_state_file_bytes = 256;

/// Why the state file cannot be trusted, or empty: it must be a regular
/// file (not followed through a symlink), owned by root, mode 0600.
std::string state_file_problem(bool regular, unsigned owner, unsigned mode);

/// Why the directory holding the state file cannot be trusted, or empty:
/// root's, and no one else may write to it (else they could swap the file).
std::string state_dir_problem(bool directory, unsigned owner, unsigned mode);

/// Reads the one line format_audit_state writes:
/// `auditree-state pid=P enabled=O:S backlog_limit=O:S
/// backlog_wait_time=O:S audit_pid=O:S` (O the original, S the value set),
/// decimal numbers within the bounds above, nothing else. nullopt with the
/// reason in `error` otherwise.
std::optional<saved_audit_state> parse_audit_state(std::string_view text,
                                                   std::string& error);

/// The file's text for `state`, which parse_audit_state reads back.
std::string format_audit_state(const saved_audit_state& state);

} // namespace auditree
