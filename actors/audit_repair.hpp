#pragma once

// The state file on disk and the repair of what a dead run left: its rules
// (by key), its settings (compare-and-restore, runtime/audit_restore) and
// its daemon registration. Used by `auditree repair` (the unit's
// ExecStopPost), by the agent's start before it reads the originals, and by
// its stop.

#include <string>

#include "actors/audit_control.hpp"
#include "runtime/audit_state_file.hpp"

namespace auditree {

struct state_file_read {
  enum class outcome { absent, refused, ok };
  outcome result = outcome::absent;
  saved_audit_state state;
  /// Why it was refused.
  std::string problem;
};

/// Reads the state file: never through a symlink, only root's 0600 regular
/// file in a directory no one else may write, values in range.
state_file_read read_state_file(const std::string& path);

/// Writes the file whole (a new file renamed over the old one, creating
/// its directory 0700 if missing); empty on success, else why not.
std::string write_state_file(const std::string& path,
                             const saved_audit_state& state);

void remove_state_file(const std::string& path);

/// A live process of root's running a binary named auditree (a pid that a
/// dead run left and someone else now has is not one).
bool is_live_auditree(int64_t pid);

/// Compare-and-restore of `saved` against the kernel's settings now; logs
/// each setting restored or left. False (the reason logged) if the kernel
/// could not be read or refused a restore.
bool restore_settings(audit_control& control, const saved_audit_state& saved);

struct repair_result {
  enum class outcome { nothing, repaired, refused, failed };
  outcome result = outcome::nothing;
  std::string message;
};

/// Undoes what a dead run left: removes the rules tagged `key`, restores
/// the settings of its state file by compare-and-restore, unregisters an
/// audit daemon pid that no process has, then deletes the file. Refuses,
/// with nothing applied, an untrusted file or one a live auditree owns.
repair_result repair_dead_run(audit_control& control,
                              const std::string& state_file,
                              const std::string& key);

/// `auditree repair`: the exit code (0 repaired or nothing to do).
int repair_command(const std::string& state_file, const std::string& key);

} // namespace auditree
