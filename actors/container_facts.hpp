#pragma once

// What a container runtime's own root-owned state on disk says of a
// container (runtime/container_labels): docker's name and image from
// <data-root>/containers/<id>/config.v2.json, read once per container and
// cached. Live and for the local host only: a replayed log's containers
// ran elsewhere, and what this machine's disk says of them proves nothing.

#include <chrono>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "runtime/container_labels.hpp"

namespace auditree {

class container_facts {
public:
  /// The labels of the container the tree calls `key`, run by `runtime`;
  /// the first call for a key reads the state (a miss is cached too).
  const container_labels& of(const std::string& key, std::string_view runtime);

  /// Containers cached (bounded: the cache starts over when full).
  size_t size() const { return cache_.size(); }

private:
  container_labels read(const std::string& key, std::string_view runtime);

  std::unordered_map<std::string, container_labels> cache_;
  /// dockerd's data roots, read from the running dockerd processes; again
  /// when a container is not found under them, at most every 10 s.
  std::vector<std::string> docker_roots_;
  std::chrono::steady_clock::time_point roots_read_{};
  bool roots_known_ = false;
};

} // namespace auditree
