#pragma once

#include <csignal>

#include <caf/fwd.hpp>

#include "actors/agent_config.hpp"

namespace auditree {

/// The signals `auditree run` waits for: SIGTERM, SIGINT, SIGHUP and
/// SIGQUIT stop it, SIGUSR1 prints the tree. The caller blocks them in
/// every thread before the actor system starts.
sigset_t agent_signals();

/// `auditree run`: the live agent on the kernel's audit stream. Runs until
/// a stop signal (agent_signals), then shuts down in order: the source
/// first (rules removed, settings restored, within 5 s of the signal even
/// when an actor is wedged), assemblers drained, the sink flushed; a drain
/// that does not end within 10 s of the signal ends the process (exit 1). `rules` are those to install
/// (cfg.rules(), read before the actor system started). Returns the exit
/// code.
int run_agent(caf::actor_system& sys, const agent_config& cfg,
              const config_text& rules);

/// Which capabilities `auditree run` lacks for `cfg`, as a message naming
/// them; empty when it has them all.
std::string missing_capabilities(const agent_config& cfg);

} // namespace auditree
