#pragma once

#include <caf/fwd.hpp>

#include "actors/agent_config.hpp"

namespace auditree {

/// `auditree run`: the live agent on the kernel's audit stream. Runs until
/// SIGINT or SIGTERM (the caller blocks them in every thread), then shuts
/// down in order: the source first (rules removed, settings restored),
/// assemblers drained, the sink flushed. `rules` are those to install
/// (cfg.rules(), read before the actor system started). Returns the exit
/// code.
int run_agent(caf::actor_system& sys, const agent_config& cfg,
              const config_text& rules);

/// Which capabilities `auditree run` lacks for `cfg`, as a message naming
/// them; empty when it has them all.
std::string missing_capabilities(const agent_config& cfg);

} // namespace auditree
