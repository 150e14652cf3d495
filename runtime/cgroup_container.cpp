#include "runtime/cgroup_container.hpp"

#include "runtime/container_evidence.hpp"

namespace auditree {

std::string container_from_cgroup(std::string_view path) {
  return classify_cgroup(path).container;
}

} // namespace auditree
