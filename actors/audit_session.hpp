#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "actors/audit_control.hpp"
#include "runtime/audit_state_file.hpp"

namespace auditree {

/// How the agent sets up the kernel's audit state while it runs.
struct audit_session_options {
  /// Register as the audit daemon (unicast) instead of joining the
  /// read-only multicast group.
  bool unicast = false;
  /// The rules to install (auditctl syntax) and where they came from, for
  /// messages.
  std::string rules_text;
  std::string rules_origin = "built-in";
  /// Tags every rule the agent adds; stale rules with exactly this key are
  /// removed at start.
  std::string key = "auditree";
  /// Raise backlog_limit to at least this while running (0: leave it).
  uint32_t backlog_limit = 8192;
  /// Where each setting as found and as set is kept while running, so
  /// that `auditree repair` (or the next start) undoes a crashed run.
  std::string state_file = "/var/lib/auditree/audit-state";
};

/// The kernel audit state the agent changes while it runs, and the undo of
/// every change: enabled, backlog_limit, (unicast) backlog_wait_time and
/// the daemon pid, and the agent's rules. Audit is global state: `stop`
/// removes exactly the rules `start` added and puts back each setting it
/// changed unless someone else changed it since (compare-and-restore). The
/// agent owns it for its whole run, so a source that is
/// replaced leaves the rules in place: what the kernel emitted meanwhile
/// shows as serial gaps rather than not being audited at all.
class audit_session {
public:
  audit_session() = default;
  audit_session(const audit_session&) = delete;
  audit_session& operator=(const audit_session&) = delete;
  ~audit_session();

  /// Sets up rules and settings. On failure, undoes what it did and
  /// returns the reason; returns an empty string on success.
  std::string start(const audit_session_options& opts);

  /// Unicast: registers `listener_fd` as the daemon's socket (again, for a
  /// new socket after the source was replaced). Multicast: nothing.
  std::string register_listener(int listener_fd);

  /// Undoes `start` in reverse order. Safe to call twice.
  void stop();

  /// The status before the agent changed anything.
  const kernel_audit_status& original() const { return original_; }

  /// The kernel's status now (the source polls it), or nullopt with the
  /// reason in `error`. Safe beside stop() on another thread: a shutdown
  /// that gives up waiting on a wedged source restores without it.
  std::optional<kernel_audit_status> poll_status(std::string& error);

  size_t num_rules() const { return installed_.size(); }

private:
  std::string fail(const std::string& why);
  std::optional<std::vector<kernel_rule>> build_rules(
    const std::vector<audit_rule_spec>& specs);
  saved_audit_state plan_changes() const;

  audit_session_options opts_;
  /// Guards control_ between the source's polls and stop().
  std::mutex mutex_;
  audit_control control_;
  kernel_audit_status original_;
  /// Each setting as found and as set; what the state file holds.
  saved_audit_state saved_;
  std::vector<kernel_rule> installed_;
  bool started_ = false;
  bool saved_state_ = false;
};

} // namespace auditree
