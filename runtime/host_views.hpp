#pragma once

// The processes a query selected, copied out of the tables so that they
// can be rendered away from the tree (the tree actor only copies; the
// query server's thread formats). Pure: no CAF.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/host_trees.hpp"

namespace auditree {

/// One host's selected processes, under the name the host is shown with.
struct host_view {
  std::string name;
  /// The BOOT of its entity ids (see entity_id.hpp).
  std::string boot;
  std::vector<process_info> processes;
};

/// What a tree or ps query selected, host by host (see select_hosts).
using tree_view = std::vector<host_view>;

/// Copies what `select` picks from each host's table in `keys`.
tree_view select_view(const host_trees& trees,
                      const std::vector<std::string>& keys,
                      std::string_view local_name,
                      const process_selector& select,
                      std::string_view local_boot_id);

/// Renders each host's processes with `render` (pstree or ps text); with
/// several hosts, each block is headed `host NAME`.
std::string render_view_text(
  const tree_view& view,
  const std::function<std::string(const std::vector<process_info>&)>& render);

/// The same as one JSON array (render_json's form); with several hosts,
/// every process object also carries `"host":{"name":…}`.
std::string render_view_json(const tree_view& view);

} // namespace auditree
