#pragma once

#include <memory>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/agent_config.hpp"
#include "actors/supervisor_actor.hpp"
#include "runtime/counter_ledger.hpp"

namespace auditree {

/// The children every mode shares, in start order: the JSON sink (unless
/// `output=none`), the tree and N assemblers. `stream_time`: the tree's
/// clock is the audit stamps (replay), else the actor clock (live).
/// `bootstrap`: the processes older than the agent. Their counters go to
/// `ledger`.
std::vector<child_spec>
pipeline_children(caf::actor_system& sys, const agent_config& cfg,
                  bool stream_time,
                  const std::shared_ptr<counter_ledger>& ledger,
                  process_event_batch bootstrap = {});

/// The faults of `cfg` aimed at the child `name`.
fault_injector faults_for(const agent_config& cfg, const std::string& name);

} // namespace auditree
