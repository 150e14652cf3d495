#pragma once

#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/agent_config.hpp"

namespace auditree {

/// The stages every mode shares: N assemblers -> tree -> JSON sink.
struct pipeline {
  /// Empty with `output=none` (measuring the pipeline without JSON).
  caf::actor sink;
  caf::actor tree;
  std::vector<caf::actor> assemblers;
};

/// Spawns the pipeline for `cfg`. `stream_time`: the tree's clock is the
/// audit stamps (replay), else the actor clock (live).
pipeline spawn_pipeline(caf::actor_system& sys, const agent_config& cfg,
                        bool stream_time);

} // namespace auditree
