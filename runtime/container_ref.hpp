#pragma once

// Resolving the container id a user typed (`--container X`,
// `/containers/X`, `?container=X`) to one container the tree knows. Pure:
// the caller gathers the candidates (the tree's containers with the names
// their runtimes gave them) and answers with the outcome.
//
// Accepted, each with or without a qualifier `Q/` in front, where Q is the
// id's namespace part (`docker`, `auditree`, `k8s.io`), the container's
// runtime (`docker`, `containerd`, `podman`), `moby` for docker, `libpod`
// for podman; or, for ids only, a runtime below that runs it under the
// same id (`runc` for all, `containerd` for docker's):
// - the full id (`docker/<64-hex>`) and the id within its namespace
//   (`<64-hex>`, containerd's `c-long`, runc's `r-orphan`);
// - a name its runtime gave it (docker's `--name`, also as docker prints
//   it, `/web`);
// - a prefix of at least 12 hex digits of its id (`docker ps`'s short id).
// Exact ids and names win over prefixes, as in docker's own lookup.

#include <string>
#include <string_view>
#include <vector>

#include "messages/container_event.hpp"

namespace auditree {

/// The shortest hex prefix taken as a container id (`docker ps` prints 12).
inline constexpr size_t min_id_prefix = 12;

struct container_match {
  enum outcome_t {
    found,     ///< `id` is the container.
    ambiguous, ///< `candidates` lists the containers it could be.
    unknown,   ///< No container matches.
    invalid,   ///< Empty or malformed; `message` says why.
  };
  outcome_t outcome = unknown;
  std::string id;
  std::vector<std::string> candidates;
  std::string message;
};

/// Resolves `typed` against `known` (see the file comment).
container_match resolve_container(std::string_view typed,
                                  const container_candidates& known);

} // namespace auditree
