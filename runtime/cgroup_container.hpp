#pragma once

#include <string>
#include <string_view>

namespace auditree {

/// The container a cgroup path belongs to, in the ids the tree uses:
/// `docker/<64-hex>` for `/docker/<id>`, `/moby/<id>` and
/// `docker-<id>.scope`; `<namespace>/<id>` for containerd's
/// `/<namespace>/<id>` and for runc's `cgroupsPath` `/<parent>/<id>`;
/// `k8s.io/<64-hex>` for `cri-containerd-<id>.scope` and kubepods;
/// `libpod/<64-hex>` for podman; cri-o, LXC and systemd-nspawn too (see
/// classify_cgroup). Empty for host cgroups (`/`, `*.slice`,
/// `init.scope`, ...), for ids outside their runtime's grammar and for a
/// user's delegated subtree. Who owns the directories is the caller's to
/// check (actors/ownership_checks).
std::string container_from_cgroup(std::string_view path);

} // namespace auditree
