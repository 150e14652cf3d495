#pragma once

// What the tree demands before it believes a container claim. argv is the
// caller's to choose (`exec -a runc true create x`), and so is a cgroup's
// name in a subtree delegated to a user; only the kernel's own facts count:
// the executable as audit or /proc report it, the uid it runs as, and who
// owns the cgroup directory. Pure: the owner checks that need a stat() are
// made by the caller and passed in.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace auditree {

/// Why a container claim was refused (`reason` of
/// auditree_container_claims_rejected_total).
enum class claim_rejection : uint8_t {
  not_runtime_binary, ///< argv names a runtime; the executable is not one.
  not_root,           ///< A runtime binary run by another uid than 0.
  bad_id,             ///< An id or namespace outside the runtime's grammar.
  no_cgroup,          ///< A cgroup container without any runtime lineage.
  delegated_cgroup,   ///< A container-like cgroup in a user's subtree.
  argv_only_delete,   ///< `runc delete/kill -9` from a process no runtime.
};

inline constexpr size_t num_claim_rejections = 6;

/// Stable names for /metrics and logs.
const char* to_string(claim_rejection x);

/// Rejected claims by reason.
using claim_rejection_counts = std::array<uint64_t, num_claim_rejections>;

/// The runtime binaries of Debian's container packages (and their usual
/// alternatives): runc, containerd's shims, docker-init, conmon, crun,
/// LXC and systemd-nspawn. A trailing `*` matches any rest of the name.
std::vector<std::string> default_runtime_binaries();

/// Whether `exe` (an absolute path as the kernel reports it) is one of
/// `binaries` (exact, or a prefix ending in `*`).
bool is_runtime_binary(std::string_view exe,
                       const std::vector<std::string>& binaries);

/// Whether argv[0] or the executable's name is one a container runtime
/// uses (runc, crun, containerd-shim*, docker-init, conmon): the process
/// claims to be one, and its claim is judged by check_runtime().
bool names_runtime(std::string_view argv0, std::string_view exe);

/// The kernel's facts about one process that claims to be a runtime.
struct runtime_facts_seen {
  /// Executable (audit `exe=`, or /proc/PID/exe).
  std::string_view exe;
  /// Real and effective uid; unset (4294967295) when the source had none.
  uint32_t uid = 4294967295u;
  uint32_t euid = 4294967295u;
  /// Live: the executable is owned by root and only root may write it (the
  /// caller's stat). Replay has no binaries to stat: true.
  bool binary_root_owned = true;
};

/// Why the process is no runtime, or nullopt when it is one: its executable
/// is a configured runtime binary, root-owned, and it runs as uid 0.
std::optional<claim_rejection>
check_runtime(const runtime_facts_seen& facts,
              const std::vector<std::string>& binaries);

/// Id grammars of the runtimes the tree names containers after.
enum class id_grammar : uint8_t {
  hex64,      ///< docker, cri, podman: 64 lowercase hex digits.
  containerd, ///< containerd identifiers: [A-Za-z0-9]+ joined by . _ -,
              ///< at most 76 characters.
  runc,       ///< runc: [A-Za-z0-9_+.-], not `.` or `..`, at most 128
              ///< characters (runc sets no bound; the agent does).
  machine,    ///< LXC and systemd-nspawn names: [A-Za-z0-9_.-] and the
              ///< `\x2d` escape, at most 253 characters.
};

/// Whether `id` is well formed for `grammar`.
bool valid_container_id(std::string_view id, id_grammar grammar);

/// The grammar of a container id inside containerd namespace `ns` (empty:
/// a plain runc container): docker's `moby` and cri's `k8s.io` use 64 hex.
id_grammar grammar_for_namespace(std::string_view ns);

/// Whether `id` (and `ns`, when not empty) fit the grammar of containers
/// in containerd namespace `ns` (empty: plain runc).
bool valid_runtime_id(std::string_view ns, std::string_view id);

/// One log line about a refused claim; argv and exe are the claimant's,
/// so they are cut short and stripped of control characters.
std::string claim_note(claim_rejection why, int32_t pid, uint32_t uid,
                       std::string_view exe,
                       const std::vector<std::string>& argv);

/// What a cgroup path says about a container.
struct cgroup_claim {
  /// The container id the tree uses (see container_from_cgroup); empty
  /// when the path names none, or the claim was refused.
  std::string container;
  /// Set when the path looks like a container's but cannot be one.
  std::optional<claim_rejection> rejected;
};

/// Reads a cgroup v2 path (`/system.slice/docker-<id>.scope`, ...) with
/// the documented layouts of docker, containerd, cri-containerd, runc,
/// podman, cri-o, LXC and systemd-nspawn. A container-like name inside a
/// user's delegated subtree (`user.slice`, `user@UID.service`) is refused.
cgroup_claim classify_cgroup(std::string_view path);

/// The runtime a container id from classify_cgroup belongs to: docker,
/// podman, cri-o, lxc, systemd-nspawn, else containerd (its namespaces,
/// cri's k8s.io, and runc's cgroup parents).
const char* runtime_of_cgroup_container(std::string_view id);

/// The cgroup directories whose owners decide whether a container-like
/// cgroup is root's: each ancestor of `path` below the hierarchy's root,
/// and `path` itself, as relative paths (`docker`, `docker/<id>`).
std::vector<std::string> cgroup_dirs_to_check(std::string_view path);

} // namespace auditree
