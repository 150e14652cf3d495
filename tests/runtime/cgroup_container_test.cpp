#include <catch2/catch.hpp>

#include "runtime/cgroup_container.hpp"

using namespace auditree;

namespace {

const std::string hex
  = "024d3d17592db9585e520bd53709c85a2ef022f9c93297c3b9d446a8cb7dfd36";

} // namespace

TEST_CASE("cgroup paths of container runtimes", "[cgroup]") {
  // The shapes in tests/data/corpus/container-lifecycle.truth.txt.gz first.
  CHECK(container_from_cgroup("/default/c-life-1") == "default/c-life-1");
  CHECK(container_from_cgroup("/docker/" + hex) == "docker/" + hex);
  CHECK(container_from_cgroup("/feas/r-life-1") == "feas/r-life-1");
  CHECK(container_from_cgroup("/moby/" + hex) == "docker/" + hex);
  CHECK(container_from_cgroup("/system.slice/docker-" + hex + ".scope")
        == "docker/" + hex);
  CHECK(container_from_cgroup("/kubepods.slice/kubepods-burstable.slice/"
                              "cri-containerd-"
                              + hex + ".scope")
        == "k8s.io/" + hex);
  CHECK(container_from_cgroup("/kubepods/burstable/pod1234/" + hex)
        == "k8s.io/" + hex);
  CHECK(container_from_cgroup("/machine.slice/libpod-" + hex + ".scope")
        == "libpod/" + hex);
}

TEST_CASE("host cgroups are no container", "[cgroup]") {
  CHECK(container_from_cgroup("/").empty());
  CHECK(container_from_cgroup("").empty());
  CHECK(container_from_cgroup("/init.scope").empty());
  CHECK(container_from_cgroup("/system.slice/ssh.service").empty());
  CHECK(container_from_cgroup("/user.slice/user-0.slice/session-1.scope")
          .empty());
  CHECK(container_from_cgroup("/system.slice/docker-notahex.scope").empty());
  CHECK(container_from_cgroup("/a/b/c").empty());
}
