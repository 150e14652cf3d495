#pragma once

// Podman's name for a container (`podman run --name web`). Podman keeps it
// in its own database; the conmon that watches the container is started by
// podman with it in its argv (`-c <64-hex id> ... -n <name>`). Only a conmon
// that runs as root (real and effective uid 0) is believed: any user may run
// a program called conmon with any argv, and podman's own client argv is no
// evidence either.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/proc_snapshot.hpp"

namespace auditree {

struct conmon_container {
  std::string id;   ///< 64 hex digits (`-c`, `--cid`).
  std::string name; ///< `-n`, `--name`; empty when absent or malformed.
};

/// The container a conmon process watches, from its argv; nullopt unless it
/// is a conmon (by its executable's name) run as root with a valid id.
std::optional<conmon_container> conmon_of(const proc_process& p);

/// Podman's name of the container `hex_id` among `procs` (conmons as
/// find_processes_named reads them); nullopt if no root conmon names it.
std::optional<std::string> podman_name(const std::vector<proc_process>& procs,
                                       std::string_view hex_id);

} // namespace auditree
