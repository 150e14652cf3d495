#pragma once

// The kernel's audit control plane through libaudit: status (AUDIT_GET),
// settings (AUDIT_SET), and rules. Blocking netlink requests that the
// kernel answers at once; used at start, stop and for status polls.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/audit_rules.hpp"

namespace auditree {

/// What AUDIT_GET reports.
struct kernel_audit_status {
  uint32_t enabled = 0;
  uint32_t failure = 0;
  uint32_t pid = 0;
  uint32_t rate_limit = 0;
  uint32_t backlog_limit = 0;
  uint32_t lost = 0;
  uint32_t backlog = 0;
  uint32_t backlog_wait_time = 0;
  uint32_t backlog_wait_time_actual = 0;
};

/// A rule as the kernel stores it (struct audit_rule_data with its string
/// buffer), kept byte for byte so it can be deleted exactly.
using kernel_rule = std::vector<char>;

/// What `audit_control::build` made of a rule.
struct built_rule {
  /// The rule; empty when building failed (see `error()`), or when none of
  /// its system calls exists on its machine (then nothing is installed).
  std::optional<kernel_rule> rule;
  /// `-S` names that are no system call on the rule's machine but are on
  /// another (aarch64 has no fork or vfork): left out.
  std::vector<std::string> left_out;
  /// libaudit's name of the machine the names were resolved for.
  std::string machine;
};

/// A control socket to the kernel's audit subsystem. Every call returns
/// false or nullopt on failure and leaves the reason in `error()`.
class audit_control {
public:
  audit_control() = default;
  audit_control(const audit_control&) = delete;
  audit_control& operator=(const audit_control&) = delete;
  ~audit_control();

  /// Opens the NETLINK_AUDIT control socket.
  bool open();

  std::optional<kernel_audit_status> status();
  bool set_enabled(uint32_t enabled);
  bool set_backlog_limit(uint32_t limit);
  bool set_backlog_wait_time(uint32_t wait);
  /// Registers `pid` as the audit daemon (0 unregisters).
  bool set_pid(uint32_t pid);

  /// Builds the kernel form of `spec`, tagged with `key` and excluding
  /// `exclude_pid` (0: exclude nothing). A name that is a system call on
  /// no machine libaudit knows is an error.
  built_rule build(const audit_rule_spec& spec, const std::string& key,
                   uint32_t exclude_pid);
  bool add(const kernel_rule& rule);
  bool remove(const kernel_rule& rule);
  /// Every loaded rule whose key is exactly `key`.
  std::optional<std::vector<kernel_rule>> rules_with_key(
    const std::string& key);

  const std::string& error() const { return error_; }

private:
  bool fail(const std::string& what, int err);

  int fd_ = -1;
  std::string error_;
};

/// The key of a kernel rule (several keys are joined by \x01), or empty.
std::string rule_key(const kernel_rule& rule);

} // namespace auditree
