#pragma once

// Recognition of container runtimes from what an exec record shows: the
// argv of containerd's shims and of runc. No audit record names a
// container, so in replay (no /proc to read) lineage is the only source of
// container identity. Pure functions on argv; the process tree decides what
// to do with them.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace auditree {

/// A containerd shim (`containerd-shim-runc-v2 -namespace N -id ID ...`).
struct shim_args {
  /// containerd namespace (`default`, `moby` for docker, `k8s.io`, ...).
  std::string ns;
  /// The task id the shim serves.
  std::string id;
  /// True for the long-running shim; false for the short-lived `start` and
  /// `delete` invocations, whose exit says nothing about the container.
  bool serves = false;
};

/// What a runc invocation does to a container.
enum class runc_command : uint8_t {
  create, ///< `create` or `run`: starts the container's init.
  exec,   ///< Starts another process inside a running container.
  stop,   ///< `delete`, or `kill` with SIGKILL: the container is gone.
  init,   ///< `runc init`: runc's own helper that becomes the process.
  other,  ///< `start`, `state`, `kill` with another signal, `--version`, ...
};

/// A runc invocation.
struct runc_args {
  runc_command command = runc_command::other;
  /// The container id (the positional argument); empty for `init`/`other`.
  std::string id;
  /// `run` (foreground: runc lives as long as the container).
  bool foreground = false;
  /// containerd namespace if the argv shows one (`--bundle` under
  /// `io.containerd.runtime.v2.task/<ns>/<id>` or `--root` under
  /// `/run/containerd/runc/<ns>` or `runtime-runc/<ns>`), else empty.
  std::string ns;
};

/// The last path element of `path` (`/usr/sbin/runc` -> `runc`).
std::string_view base_name(std::string_view path);

/// Recognises a containerd shim from its argv (and exe as a fallback name).
std::optional<shim_args> parse_shim(const std::vector<std::string>& argv,
                                    std::string_view exe);

/// Recognises runc (by argv[0] or exe basename `runc`) and what it does.
std::optional<runc_args> parse_runc(const std::vector<std::string>& argv,
                                    std::string_view exe);

} // namespace auditree
