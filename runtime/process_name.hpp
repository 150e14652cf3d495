#pragma once

// The name a process goes by (its comm) and the rule that picks the newest
// of the reports that arrive out of order. Pure.

#include <string>

#include "messages/audit_record.hpp"

namespace auditree {

/// A process's comm and when it was set. Live, audit's record of an exec
/// may arrive after the proc connector's report of a rename that followed
/// it (busybox run as /proc/self/exe renames itself to its applet): the
/// older record must not bring the older name back.
struct process_name {
  std::string comm;
  /// Stamp of the report that set `comm`; zero while it is only inherited.
  event_id at;
  /// `comm` was reported after it was set (a rename, /proc), so it wins a
  /// tie with a syscall record, which is stamped at the syscall's entry.
  bool reported_after = false;

  /// Takes `comm` unless it is empty or older than the current name.
  /// Returns whether it took it.
  bool take(const std::string& comm, const event_id& at,
            bool reported_after);
  /// A name copied from the creator (fork): any report of its own wins.
  void inherit(const std::string& creator_comm);
};

} // namespace auditree
