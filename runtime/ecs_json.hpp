#pragma once

#include <string>
#include <string_view>

#include "messages/audit_record.hpp"
#include "messages/container_event.hpp"
#include "messages/process_event.hpp"

namespace auditree {

/// Appends `text` to `out` as a JSON string literal. Bytes that are not
/// valid UTF-8 become U+FFFD, so any argv yields valid JSON.
void append_json_string(std::string& out, std::string_view text);

/// Appends an audit stamp as an RFC 3339 UTC time with milliseconds,
/// e.g. `2026-11-29T10:01:28.310Z` (no quotes).
void append_timestamp(std::string& out, const event_id& id);

/// Appends one process event as a JSON line (with the newline), with field
/// names from the Elastic Common Schema: `@timestamp`, `event.action`,
/// `process.pid`, `process.parent.pid`, `process.executable`,
/// `process.args`, `process.working_directory`, `user.id`, ...
/// For a fork, `process` is the child (its host pid; `process.vpid` its
/// pid in the caller's pid namespace when that differs) and
/// `process.parent` its parent (`fork_parent`, else the caller).
void append_ecs_json(std::string& out, const process_event& event);

/// Appends a container start or stop as a JSON line: `event.action`
/// `container-start` or `container-stop`, `container.id`,
/// `container.runtime`, and `process.pid` of its init when known.
void append_ecs_json(std::string& out, const container_event& event);

} // namespace auditree
