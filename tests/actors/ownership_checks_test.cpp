// actors/ownership_checks: the stat() half of container evidence, on a
// scratch directory standing in for the cgroup hierarchy and /usr/bin.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/ownership_checks.hpp"

using namespace auditree;

namespace {

constexpr uid_t nobody = 65534;

struct scratch {
  std::string root;
  scratch() {
    char tmpl[] = "/tmp/auditree-owners-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    root = tmpl;
  }
  ~scratch() { std::filesystem::remove_all(root); }

  std::string dir(const std::string& rel) {
    auto path = root + "/" + rel;
    REQUIRE(::mkdir(path.c_str(), 0755) == 0);
    return path;
  }
};

// As root, hand a directory to nobody; as another user, it is already not
// root's.
void give_away(const std::string& path) {
  if (::geteuid() == 0)
    REQUIRE(::chown(path.c_str(), nobody, nobody) == 0);
}

} // namespace

TEST_CASE("a cgroup counts only where root owns every directory",
          "[ownership]") {
  scratch s;
  s.dir("system.slice");
  s.dir("system.slice/docker-x.scope");
  auto user = s.dir("delegated");
  give_away(user);
  s.dir("delegated/docker-x.scope");
  std::vector<std::string> roots{s.root};
  if (::geteuid() == 0)
    CHECK_FALSE(cgroup_ownership("/system.slice/docker-x.scope", roots));
  CHECK(cgroup_ownership("/delegated/docker-x.scope", roots)
        == claim_rejection::delegated_cgroup);
  CHECK(cgroup_ownership("/gone/docker-x.scope", roots)
        == claim_rejection::no_cgroup);
  CHECK(cgroup_ownership("/", roots) == claim_rejection::no_cgroup);
  // Hybrid hosts: a path under a root-owned mount, missing under another,
  // is root's; a user's copy under any mount refuses it.
  scratch other;
  std::vector<std::string> both{s.root, other.root};
  if (::geteuid() == 0)
    CHECK_FALSE(cgroup_ownership("/system.slice/docker-x.scope", both));
  other.dir("system.slice");
  give_away(other.dir("system.slice/docker-x.scope"));
  CHECK(cgroup_ownership("/system.slice/docker-x.scope", both)
        == claim_rejection::delegated_cgroup);
}

TEST_CASE("a runtime binary must be root's and writable by root only",
          "[ownership]") {
  scratch s;
  auto path = s.root + "/runc";
  std::ofstream{path} << "#!/bin/true\n";
  REQUIRE(::chmod(path.c_str(), 0755) == 0);
  CHECK(root_owned_file(path) == (::geteuid() == 0));
  REQUIRE(::chmod(path.c_str(), 0775) == 0);
  CHECK_FALSE(root_owned_file(path)); // group-writable
  REQUIRE(::chmod(path.c_str(), 0755) == 0);
  give_away(path);
  CHECK_FALSE(root_owned_file(path));
  CHECK_FALSE(root_owned_file(s.root + "/missing"));
  binary_owner_cache cache;
  CHECK_FALSE(cache.root_owned(path));
  CHECK_FALSE(cache.root_owned(path)); // remembered
}

TEST_CASE("the cache refuses a container cgroup that is not root's",
          "[ownership]") {
  cgroup_owner_cache cache;
  // Not container-like: no stat, no claim, no refusal.
  auto host = cache.container_of("/system.slice/ssh.service");
  CHECK(host.container.empty());
  CHECK_FALSE(host.rejected);
  // A path that exists under no hierarchy.
  auto gone = cache.container_of("/auditree-no-such-cgroup/docker-"
                                 + std::string(64, 'a') + ".scope");
  CHECK(gone.container.empty());
  CHECK(gone.rejected == claim_rejection::no_cgroup);
}
