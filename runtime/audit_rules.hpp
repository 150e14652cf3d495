#pragma once

// The rule set in auditctl syntax (config/audit.rules). Pure parsing; the
// kernel side (libaudit) lives in actors/audit_control.

#include <string>
#include <string_view>
#include <vector>

namespace auditree {

/// One `-a LIST,ACTION -F ... -S ...` line.
struct audit_rule_spec {
  std::string list = "exit";     ///< exit, task, user, exclude, filesystem
  std::string action = "always"; ///< always or never
  /// `-F` pairs as written (`arch=b64`, `uid!=0`), in order. The arch
  /// pair must come before `-S` (syscall names depend on it).
  std::vector<std::string> fields;
  /// `-S` names, comma lists flattened.
  std::vector<std::string> syscalls;
  /// The line it came from, for messages.
  int line = 0;
};

/// The outcome of parsing a rules file.
struct audit_rules_parse {
  std::vector<audit_rule_spec> rules;
  /// "LINE: reason" for the first bad line; empty when all parsed.
  std::string error;
};

/// Parses auditctl syntax: one rule per line, `#` comments, `-a`/`-A`
/// with `list,action` in either order, `-F`, `-S` (comma lists; repeated),
/// and `-k`, which is refused because the agent tags every rule with its
/// own key. Other auditctl commands (`-D`, `-b`, `-w`, `-e`, ...) are
/// refused: they change global state that the agent does not own.
audit_rules_parse parse_audit_rules(std::string_view text);

} // namespace auditree
