#pragma once

// Compare-and-restore: what a stop or `auditree repair` does with each
// kernel audit setting a run changed. A setting is put back only while it
// still holds the value the run set; one that someone changed during the
// run (auditctl -b, another daemon registered) is theirs and stays.

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/audit_state_file.hpp"

namespace auditree {

/// The settings as the kernel reports them now.
struct current_audit_settings {
  uint32_t enabled = 0;
  uint32_t backlog_limit = 0;
  uint32_t backlog_wait_time = 0;
  uint32_t audit_pid = 0;
};

enum class restore_decision {
  /// The run left it as it found it.
  untouched,
  /// It holds the value the run set: put the original back.
  restore,
  /// It is back at the original already (someone put it back).
  already_original,
  /// It holds neither: someone else set it during the run; left as is.
  changed_by_other,
};

restore_decision decide_restore(const audit_setting_change& change,
                                uint32_t current);

/// Which setting a step is about (each is set by its own AUDIT_SET mask).
enum class audit_setting { audit_pid, backlog_wait_time, backlog_limit,
                           enabled };

struct restore_step {
  audit_setting setting;
  audit_setting_change change;
  uint32_t current = 0;
  restore_decision decision = restore_decision::untouched;
};

/// One step per setting in the order to apply them: the daemon pid
/// unregistered first, enabled last (undoing start's order).
std::vector<restore_step> plan_restore(const saved_audit_state& saved,
                                       const current_audit_settings& now);

const char* setting_name(audit_setting setting);

/// What a step did, for the log, e.g. "backlog_limit: 300 (set during the
/// run by someone else; auditree had set 8192, found 64): left as it is".
/// Empty for untouched.
std::string describe_step(const restore_step& step);

} // namespace auditree
