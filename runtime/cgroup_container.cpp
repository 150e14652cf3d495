#include "runtime/cgroup_container.hpp"

#include <vector>

namespace auditree {

namespace {

bool is_hex_id(std::string_view s) {
  if (s.size() != 64)
    return false;
  for (auto c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size()
         && s.substr(s.size() - suffix.size()) == suffix;
}

// `<prefix><64-hex>.scope` -> the hex id, else empty.
std::string_view scope_id(std::string_view name, std::string_view prefix) {
  if (name.substr(0, prefix.size()) != prefix || !ends_with(name, ".scope"))
    return {};
  auto id = name.substr(prefix.size(), name.size() - prefix.size() - 6);
  return is_hex_id(id) ? id : std::string_view{};
}

} // namespace

std::string container_from_cgroup(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    auto slash = path.find('/');
    auto part = path.substr(0, slash);
    if (!part.empty())
      parts.push_back(part);
    path.remove_prefix(slash == std::string_view::npos ? path.size()
                                                       : slash + 1);
  }
  if (parts.empty())
    return {};
  auto last = parts.back();
  if (auto id = scope_id(last, "docker-"); !id.empty())
    return "docker/" + std::string{id};
  if (auto id = scope_id(last, "cri-containerd-"); !id.empty())
    return "k8s.io/" + std::string{id};
  if (auto id = scope_id(last, "libpod-"); !id.empty())
    return "libpod/" + std::string{id};
  if (parts.front().substr(0, 8) == "kubepods")
    return is_hex_id(last) ? "k8s.io/" + std::string{last} : std::string{};
  if (parts.size() != 2)
    return {};
  auto parent = parts[0];
  if (ends_with(parent, ".slice") || ends_with(parent, ".scope")
      || ends_with(parent, ".service"))
    return {};
  // Docker's containerd namespace is `moby`; its cgroup parent `docker`.
  if (parent == "moby")
    parent = "docker";
  return std::string{parent} + "/" + std::string{parts[1]};
}

} // namespace auditree
