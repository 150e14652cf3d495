#pragma once

// Text and JSON views of a process table snapshot. Pure: they format what
// process_tree::snapshot() (or a subset of it) returns.

#include <string>
#include <vector>

#include "runtime/process_tree.hpp"

namespace auditree {

/// Renders lifetimes like `pstree -p`: the host's tree first, then one
/// block per container (`container ID` and its members' tree). A host
/// process whose children belong to a container shows a `[container ID]`
/// leaf where they hang. Ended processes carry their end, e.g.
/// `sleep(812)[exit:0]`. Children are ordered by pid.
std::string render_pstree(const std::vector<process_info>& procs);

/// Renders lifetimes as one JSON array with one object per process in
/// nested ECS form:
/// `{"process":{"pid":812,"name":"sleep","parent":{"pid":790},
/// "executable":"/bin/sleep","args":["sleep","2"],"working_directory":"/",
/// "start":"…","end":"…","exit_code":0},"container":{"id":"…"}}`.
/// Unknown facts are left out: `end` and `exit_code` appear only for ended
/// processes, `container` only when known. With `boot` (the BOOT of the
/// host's entity ids, see entity_id.hpp), `process.entity_id` and
/// `process.parent.entity_id` too.
std::string render_json(const std::vector<process_info>& procs,
                        std::string_view boot = {});

/// Appends one process in the nested ECS form render_json uses.
void append_process_json(std::string& out, const process_info& p,
                         std::string_view boot = {});

/// Renders lifetimes like `ps`: PID, PPID, state, container, command line.
std::string render_ps(const std::vector<process_info>& procs);

/// Renders one process and its ancestors (as process_tree::ancestry
/// returns them): JSON `{"process":…,"container":…,"ancestors":[…]}`, or a
/// ps line and an `ancestry: a(1) <- b(2)` line. Empty if `ancestry` is.
std::string render_process(const std::vector<process_info>& ancestry,
                           bool json, std::string_view boot = {});

/// Renders the containers: a JSON array of `{"container":{"id","runtime"},
/// "init":{"pid"},"processes","running","start","end"}`, or a table.
std::string render_containers(const std::vector<container_info>& containers,
                              bool json);

} // namespace auditree
