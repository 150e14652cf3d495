#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "messages/audit_record.hpp"

namespace auditree {

/// A container started (its init exec'd, or the tree first saw it) or
/// stopped (its init died, or its runtime stopped it).
struct container_event {
  bool started = true;
  std::string id;
  /// `containerd`, `docker` or `runc`.
  std::string runtime;
  /// The init's host pid, 0 when unknown.
  int32_t init_pid = 0;
  /// When: the stamp of the event that showed it.
  event_id at;
  /// The sequence of the process event that showed it (0: a /proc scan);
  /// lets the sink drop what a resumed tree announces again.
  uint64_t sequence = 0;
  /// The host it runs on (see process_event::host).
  std::string host{};
  /// Live, local host only: its name and image as its runtime's state says
  /// (actors/container_facts); empty when unknown.
  std::string name{};
  std::string image{};
};

using container_event_batch = std::vector<container_event>;

/// A container the tree knows, for resolving the id a user typed
/// (runtime/container_ref.hpp).
struct container_candidate {
  /// As the tree spells it: `docker/<64-hex>`, `<namespace>/<id>`, ...
  std::string id;
  /// `containerd`, `docker`, `runc` or `podman`.
  std::string runtime;
  /// Names its runtime gave it besides its id (docker's `--name`).
  std::vector<std::string> names;
  /// Member processes still running.
  uint32_t num_running = 0;
};

using container_candidates = std::vector<container_candidate>;

} // namespace auditree
