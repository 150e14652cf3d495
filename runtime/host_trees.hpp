#pragma once

// One process table per host. Records that a collector gathered from many
// hosts carry `node=NAME`: each node's pids live in a table of their own,
// so the pids of two hosts never meet. Pure: no CAF.

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/process_tree.hpp"

namespace auditree {

class host_trees {
public:
  host_trees() = default;
  explicit host_trees(process_tree::options opts);

  /// The table of `host` (empty: the local host, whose records carry no
  /// node=), made on first use.
  process_tree& of(std::string_view host);

  process_tree& local() { return of({}); }

  /// The table of `host`, or nullptr if no event named it.
  const process_tree* find(std::string_view host) const;

  /// Every host with a table, the local host ("") first, then by name.
  std::vector<std::string> hosts() const;

  /// Processes over all hosts.
  size_t size() const;

  /// The counters of every table, summed.
  tree_stats stats() const;

private:
  process_tree::options opts_;
  std::map<std::string, process_tree, std::less<>> trees_;
};

/// The table keys a query's `host` selects: every host when it is empty,
/// else the one shown with that name (the local host answers to `-` and
/// to `local_name`); none if no such host has a table.
std::vector<std::string> select_hosts(const host_trees& trees,
                                      std::string_view wanted,
                                      std::string_view local_name);

/// The name a host is shown with: its node, or for the local host
/// `local_name` (`-` when that is empty).
std::string display_host(std::string_view key, std::string_view local_name);

/// Picks the processes to show from one host's table.
using process_selector =
  std::function<std::vector<process_info>(const process_tree&)>;

/// Renders the processes `select` picks from each host's table in `keys`
/// with `render` (pstree or ps text); with several hosts, each block is
/// headed `host NAME`.
std::string render_hosts(
  const host_trees& trees, const std::vector<std::string>& keys,
  std::string_view local_name, const process_selector& select,
  const std::function<std::string(const std::vector<process_info>&)>& render);

/// The same as one JSON array (render_json's form); with several hosts,
/// every process object also carries `"host":{"name":…}`. Entity ids are
/// those of `boot_of_host(key, local_boot_id)`.
std::string render_hosts_json(const host_trees& trees,
                              const std::vector<std::string>& keys,
                              std::string_view local_name,
                              const process_selector& select,
                              std::string_view local_boot_id = {});

} // namespace auditree
