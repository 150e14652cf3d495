#pragma once

#include <string>
#include <string_view>

namespace auditree {

/// config/auditree.conf and config/audit.rules as they were at build time
/// (compiled in by CMake, the files in config/ being the one source): the
/// defaults when no file overrides them.
extern const std::string_view builtin_auditree_conf;
extern const std::string_view builtin_audit_rules;

/// Where an installed auditree finds its files (/etc/auditree unless
/// CMake's AUDITREE_CONFIG_DIR says otherwise).
extern const std::string_view system_config_dir;

/// The text of a config or rules file and where it came from.
struct config_text {
  /// The path read, or "built-in" for the compiled-in default.
  std::string origin;
  std::string text;
  /// Non-empty when a file that had to be read could not be, or was
  /// refused: the reason.
  std::string error;
  /// The file was read but not trusted (see file_trust_problem).
  bool refused = false;
};

/// Why a config or rules file cannot be trusted, or empty. Like sshd's
/// StrictModes: it must be a regular file owned by root (or by `reader`,
/// the user who runs auditree, for whom it changes nothing) that neither
/// group nor others can write.
std::string file_trust_problem(bool regular, unsigned owner, unsigned mode,
                               unsigned reader);

/// Picks one of auditree's files: `explicit_path` when not empty (it must
/// be readable), else `system_path` when it exists (then it must be
/// readable too: a file the admin wrote is never ignored), else `builtin`.
/// A file that fails file_trust_problem is refused: its text is dropped.
/// /dev/null passes as an empty file.
config_text load_config_text(const std::string& explicit_path,
                             const std::string& system_path,
                             std::string_view builtin);

} // namespace auditree
