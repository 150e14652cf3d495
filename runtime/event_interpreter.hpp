#pragma once

#include <optional>

#include "messages/audit_event.hpp"
#include "messages/process_event.hpp"

namespace auditree {

/// What one assembled event says about processes.
struct interpretation {
  /// The process event, if the event is a fork, exec, exit or abend.
  std::optional<process_event> event;
  /// Set when the event should have been one of those but its records are
  /// malformed (then `event` is empty, or partial when argv did not
  /// reassemble).
  const char* error = nullptr;
  /// Why a well-formed event gave no process event (other record types, a
  /// failed call, an unknown arch or another syscall), or nullptr.
  const char* skipped = nullptr;
};

/// Turns an assembled audit event into a process event: fork, vfork, clone,
/// clone3 (with flags where visible), execve, execveat (exe, argv, cwd,
/// credentials), exit_group, and ANOM_ABEND; on every machine libaudit knows
/// (runtime/arch_table). Failed calls, other syscalls and unknown arches
/// yield nothing.
interpretation interpret(const audit_event& event);

} // namespace auditree
