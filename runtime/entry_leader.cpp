#include "runtime/entry_leader.hpp"

#include <string_view>

namespace auditree {

namespace {

std::string_view base_name(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool is_sshd(const process_view& p) {
  auto name = base_name(p.exe);
  return name == "sshd" || name == "sshd-session";
}

bool is_terminal_entry(const process_view& p) {
  auto name = base_name(p.exe);
  return name == "login" || name == "agetty" || name == "getty"
         || name == "mingetty";
}

// The entry type `p` starts under `parent`, or empty.
const char* entry_type(const process_view& p, const process_view& parent) {
  if (p.container_init)
    return "container";
  if (is_sshd(parent) && !is_sshd(p))
    return "sshd";
  if (is_terminal_entry(parent) && !is_terminal_entry(p))
    return "terminal";
  if (parent.pid == 1 && parent.container.empty())
    return "init";
  return nullptr;
}

bool is_known(const event_id& id) {
  return id.seconds != 0 || id.millis != 0;
}

} // namespace

std::optional<entry_leader> find_entry_leader(const process_tree& tree,
                                              const process_view& self) {
  std::optional<process_view> current = self;
  for (int depth = 0; current && depth < 4096; ++depth) {
    if (current->container_init)
      return entry_leader{std::move(*current), "container"};
    auto key = current->parent;
    if (key.pid <= 0 || !is_known(key.first_seen))
      return std::nullopt;
    auto parent = tree.view(key);
    if (!parent)
      return std::nullopt;
    if (auto type = entry_type(*current, *parent))
      return entry_leader{std::move(*current), type};
    current = std::move(parent);
  }
  return std::nullopt;
}

} // namespace auditree
