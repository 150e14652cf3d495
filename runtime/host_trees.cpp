#include "runtime/host_trees.hpp"

#include "runtime/host_views.hpp"

namespace auditree {

host_trees::host_trees(process_tree::options opts) : opts_(opts) {
}

process_tree& host_trees::of(std::string_view host) {
  auto i = trees_.find(host);
  if (i == trees_.end())
    i = trees_.emplace(std::string{host}, process_tree{opts_}).first;
  return i->second;
}

const process_tree* host_trees::find(std::string_view host) const {
  auto i = trees_.find(host);
  return i == trees_.end() ? nullptr : &i->second;
}

std::vector<std::string> host_trees::hosts() const {
  // The map's order puts "" (the local host) first.
  std::vector<std::string> result;
  result.reserve(trees_.size());
  for (auto& [host, tree] : trees_)
    result.push_back(host);
  return result;
}

size_t host_trees::size() const {
  size_t result = 0;
  for (auto& [host, tree] : trees_)
    result += tree.size();
  return result;
}

tree_stats host_trees::stats() const {
  tree_stats result;
  for (auto& [host, tree] : trees_) {
    auto& s = tree.stats();
    result.num_events += s.num_events;
    result.num_created += s.num_created;
    result.num_vanished += s.num_vanished;
    result.num_reaped += s.num_reaped;
    result.num_ignored += s.num_ignored;
    result.budget += s.budget;
    result.num_containers_dropped += s.num_containers_dropped;
    for (size_t i = 0; i < num_claim_rejections; ++i)
      result.claims_rejected[i] += s.claims_rejected[i];
  }
  return result;
}

std::string display_host(std::string_view key, std::string_view local_name) {
  if (!key.empty())
    return std::string{key};
  return local_name.empty() ? "-" : std::string{local_name};
}

std::vector<std::string> select_hosts(const host_trees& trees,
                                      std::string_view wanted,
                                      std::string_view local_name) {
  if (wanted.empty())
    return trees.hosts();
  std::string key{wanted};
  // A node named like the local host is the local host's records relayed.
  if (wanted == "-" || (wanted == local_name && !trees.find(wanted)))
    key.clear();
  if (!trees.find(key))
    return {};
  return {key};
}

std::string render_hosts(
  const host_trees& trees, const std::vector<std::string>& keys,
  std::string_view local_name, const process_selector& select,
  const std::function<std::string(const std::vector<process_info>&)>&
    render) {
  return render_view_text(select_view(trees, keys, local_name, select, {}),
                          render);
}

std::string render_hosts_json(const host_trees& trees,
                              const std::vector<std::string>& keys,
                              std::string_view local_name,
                              const process_selector& select,
                              std::string_view local_boot_id) {
  return render_view_json(
    select_view(trees, keys, local_name, select, local_boot_id));
}

} // namespace auditree
