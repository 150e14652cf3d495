#include "runtime/host_views.hpp"

#include "runtime/ecs_json.hpp"
#include "runtime/entity_id.hpp"
#include "runtime/terminal_text.hpp"
#include "runtime/tree_render.hpp"

namespace auditree {

tree_view select_view(const host_trees& trees,
                      const std::vector<std::string>& keys,
                      std::string_view local_name,
                      const process_selector& select,
                      std::string_view local_boot_id) {
  tree_view view;
  view.reserve(keys.size());
  for (auto& key : keys)
    if (auto* tree = trees.find(key))
      view.push_back({display_host(key, local_name),
                      boot_of_host(key, local_boot_id), select(*tree)});
  return view;
}

std::string render_view_text(
  const tree_view& view,
  const std::function<std::string(const std::vector<process_info>&)>&
    render) {
  std::string out;
  for (auto& host : view) {
    if (view.size() > 1)
      out += "host " + terminal_safe(host.name) + "\n";
    out += render(host.processes);
  }
  return out;
}

std::string render_view_json(const tree_view& view) {
  if (view.size() <= 1)
    return view.empty() ? render_json({}, std::string_view{})
                        : render_json(view.front().processes,
                                      view.front().boot);
  std::string out = "[";
  bool first = true;
  std::string one;
  for (auto& host : view) {
    std::string name_member = "{\"host\":{\"name\":";
    // Host names come from records: escaped like every other string.
    append_json_string(name_member, host.name);
    name_member += "},";
    for (auto& p : host.processes) {
      out += first ? "\n" : ",\n";
      first = false;
      one.clear();
      append_process_json(one, p, host.boot);
      // The object's opening brace is the host member's.
      out += name_member;
      out.append(one, 1, std::string::npos);
    }
  }
  out += first ? "]\n" : "\n]\n";
  return out;
}

} // namespace auditree
