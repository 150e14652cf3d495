#include "actors/ownership_checks.hpp"

#include <sys/stat.h>

namespace auditree {

bool root_owned_file(const std::string& path) {
  struct ::stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return false;
  return st.st_uid == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

std::vector<std::string> default_cgroup_roots() {
  struct ::stat st {};
  if (::stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0)
    return {"/sys/fs/cgroup"};
  return {"/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd"};
}

std::optional<claim_rejection>
cgroup_ownership(std::string_view path, const std::vector<std::string>& roots) {
  auto dirs = cgroup_dirs_to_check(path);
  if (dirs.empty())
    return claim_rejection::no_cgroup;
  bool found = false;
  for (auto& root : roots) {
    struct ::stat st {};
    if (::stat((root + "/" + dirs.back()).c_str(), &st) != 0)
      continue;
    found = true;
    for (auto& dir : dirs)
      if (::stat((root + "/" + dir).c_str(), &st) != 0 || st.st_uid != 0)
        return claim_rejection::delegated_cgroup;
  }
  return found ? std::nullopt
               : std::optional<claim_rejection>{claim_rejection::no_cgroup};
}

cgroup_claim cgroup_owner_cache::container_of(std::string_view path) {
  auto claim = classify_cgroup(path);
  if (claim.container.empty())
    return claim;
  std::optional<claim_rejection> why;
  if (auto i = verdicts_.find(path); i != verdicts_.end()) {
    why = i->second;
  } else {
    why = cgroup_ownership(path);
    // A missing cgroup may yet be made; existing ones keep their owner.
    if (why != claim_rejection::no_cgroup) {
      if (verdicts_.size() >= 1024)
        verdicts_.clear();
      verdicts_.emplace(std::string{path}, why);
    }
  }
  if (why) {
    claim.container.clear();
    claim.rejected = why;
  }
  return claim;
}

bool binary_owner_cache::root_owned(const std::string& exe) {
  if (auto i = verdicts_.find(exe); i != verdicts_.end())
    return i->second;
  if (verdicts_.size() >= 64)
    verdicts_.clear();
  return verdicts_[exe] = root_owned_file(exe);
}

size_t mark_delegated_cgroups(std::vector<proc_process>& procs) {
  // Fresh verdicts each sweep; processes share cgroups.
  cgroup_owner_cache owners;
  size_t n = 0;
  for (auto& p : procs) {
    auto claim = owners.container_of(p.cgroup);
    if (claim.container.empty() && claim.rejected
        && claim.rejected != claim_rejection::bad_id) {
      p.cgroup_delegated = true;
      ++n;
    }
  }
  return n;
}

} // namespace auditree
