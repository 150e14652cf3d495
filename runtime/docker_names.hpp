#pragma once

// Docker's name for a container (`docker run --name web`), which no audit
// record, cgroup or runc argument shows. It is read from root-owned state
// only, never from what an unprivileged user could write or run:
// - the data root comes from the argv of a dockerd that runs as root
//   (`--data-root`, `--graph`/`-g`), else from its root-owned config file
//   (`--config-file`, default /etc/docker/daemon.json, key `data-root`),
//   else docker's default /var/lib/docker;
// - the name from `<data-root>/containers/<64-hex>/config.v2.json`, taken
//   only if the file is a regular file owned by root that neither its
//   group nor others may write, in a directory likewise.
// A docker client's `--name` argument is no evidence: any user may run a
// client (or a program called docker) with any argv.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/proc_snapshot.hpp"

namespace auditree {

/// The raw text of the top-level value `key` of a JSON object (a string
/// with its quotes, an object with its braces); nullopt when absent or the
/// text is malformed.
std::optional<std::string_view> json_top_value(std::string_view json,
                                               std::string_view key);

/// The top-level string `key` of a JSON object; nullopt when absent, not a
/// string, holding an escape, or the text is malformed.
std::optional<std::string> json_top_string(std::string_view json,
                                           std::string_view key);

/// Docker's (and podman's) name grammar: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, at
/// most 255 characters.
bool is_docker_style_name(std::string_view name);

/// The top-level `"Name"` of a config.v2.json, without docker's leading
/// slash. nullopt when absent, malformed, or not a valid docker name
/// (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`, at most 255 characters).
std::optional<std::string> docker_name_from_config(std::string_view json);

/// Reads a file if root owns it and its folder and nobody else may write
/// them (read_root_owned), else nullopt.
using read_file_fn
  = std::function<std::optional<std::string>(const std::string& path)>;

/// The data roots of the dockerd processes among `procs` that run as root
/// (real and effective uid 0), without duplicates. `read_root_owned_file`
/// reads a dockerd's config file.
std::vector<std::string>
docker_data_roots(const std::vector<proc_process>& procs,
                  const read_file_fn& read_root_owned_file);

/// The text of the file at absolute `path` if it is a regular file (no
/// symlink) owned by root that neither its group nor others may write, in
/// a folder likewise; else nullopt.
std::optional<std::string> read_root_owned(const std::string& path);

/// The processes under `proc_root` (normally "/proc") whose executable's
/// base name is `exe_name`, as read_proc_process reads them.
std::vector<proc_process> find_processes_named(const std::string& proc_root,
                                               std::string_view exe_name);

/// The dockerd processes under `proc_root`.
std::vector<proc_process> find_dockerd(const std::string& proc_root);

/// Docker's name of the container `hex_id` (64 hex digits) under one of
/// `roots`, read with the checks in the file comment; nullopt if none.
std::optional<std::string> read_docker_name(const std::vector<std::string>& roots,
                                            std::string_view hex_id);

} // namespace auditree
