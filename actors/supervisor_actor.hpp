#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/tree_actor.hpp"
#include "messages/pipeline_stats.hpp"
#include "runtime/restart_policy.hpp"

namespace auditree {

/// The handles of the supervised actors as last wired. Empty handles are
/// stages the mode does not have.
struct pipeline {
  caf::actor sink;
  caf::actor tree;
  std::vector<caf::actor> assemblers;
  caf::actor source;
  caf::actor connector;
  caf::actor sweeper;
  /// Receives the tree's checkpoints.
  caf::actor supervisor;
  /// Replacements made so far: a caller that sees it change while it
  /// drains the pipeline asks again.
  uint64_t generation = 0;
};

/// Every child of `p` by its name, sources first, then the assemblers, the
/// tree and the sink (the order they stop in); empty handles included.
std::vector<std::pair<std::string, caf::actor>>
named_children(const pipeline& p);

/// How to start one child, and to start it again after it failed.
struct child_spec {
  /// `sink`, `tree`, `assembler-K`, `source`, `connector` or `sweeper`.
  std::string name;
  /// False for a child whose work cannot resume (a file or stdin source):
  /// its failure stops the agent.
  bool restartable = true;
  /// Spawns the child wired to the `current` others; a tree resumes from
  /// `checkpoint` when there is one.
  std::function<caf::actor(const pipeline& current,
                           const tree_checkpoint_ptr& checkpoint)>
    spawn;
};

/// State of the supervisor.
struct supervisor_state {
  static inline const char* name = "supervisor";

  std::vector<child_spec> specs;
  pipeline current;
  /// Child address -> name, for the down messages.
  std::map<caf::actor_addr, std::string> names;
  restart_policy policy;
  /// Children waiting for their restart to fall due.
  size_t num_pending = 0;
  /// Callers of `handles` waiting for the pending restarts.
  std::vector<caf::response_promise> waiting;
  tree_checkpoint_ptr checkpoint;
  uint64_t num_checkpoints = 0;
  /// After `halt`: the sources stay down; the promises answer when they
  /// are.
  bool halting = false;
  std::vector<caf::response_promise> halted;
};

/// Starts the children in the order of `specs` (each sees the handles of
/// those before it), monitors them and restarts a failed one after the
/// policy's backoff (one-for-one), then rewires the new handle to every
/// actor that talks to it: the tree gets a new sink, the assemblers,
/// connector and sweeper a new tree, the source a new assembler or
/// sweeper. A child that stops normally is not restarted. When a child's
/// budget is spent, or a child that cannot restart fails, the supervisor
/// quits with an error naming it; its children stop with it.
/// Protocol:
/// - `handles` -> `pipeline`: the current handles, once no restart is
///   pending.
/// - `checkpoint, tree_checkpoint_ptr` (from the tree): kept for a new
///   tree; the assemblers and the connector are told to forget what it
///   covers (`trim`).
/// - `crash, name, kill` -> `std::string`: fault injection: the child
///   throws (or is killed); an unknown name is an error.
/// - `halt` -> `ok`: stops the sources (source, connector, sweeper) for
///   good; answers once they are down. The agent then drains the rest.
/// - `stats` -> `supervision_stats`.
caf::behavior supervisor_actor(caf::stateful_actor<supervisor_state>* self,
                               std::vector<child_spec> specs,
                               restart_options limits);

/// The supervisor's current handles, once no restart is pending; nullopt
/// when the supervisor is gone.
std::optional<pipeline> current_pipeline(caf::scoped_actor& self,
                                         const caf::actor& supervisor);

/// Drains the pipeline after the sources stopped: every assembler closes
/// its open events, the tree applies what they sent and the sink writes
/// it. If a child was replaced meanwhile, drains again. Returns the
/// assemblers' counters and sets `handles` to the pipeline drained;
/// nullopt when the supervisor is gone.
std::optional<assembler_stats> drain_pipeline(caf::scoped_actor& self,
                                              const caf::actor& supervisor,
                                              pipeline& handles);

} // namespace auditree

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(auditree::pipeline)
