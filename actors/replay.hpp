#pragma once

#include <string>

#include <caf/fwd.hpp>

#include "actors/agent_config.hpp"

namespace auditree {

/// `auditree replay FILE`: runs an audit log (or `-`, stdin) through
/// file source -> assemblers -> JSON sink, then prints a summary to stderr.
/// Returns the process exit code.
int replay(caf::actor_system& sys, const agent_config& cfg,
           const std::string& path);

} // namespace auditree
