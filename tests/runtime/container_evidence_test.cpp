// runtime/container_evidence: the rules that decide whether a container
// claim is the kernel's word or a user's argv. The tree's use of them is
// in container_evidence_tree_test.cpp.

#include <catch2/catch.hpp>

#include <string>

#include "runtime/container_evidence.hpp"

using namespace auditree;

namespace {

const std::string hex =
    "024d3d17592db9585e520bd53709c85a2ef022f9c93297c3b9d446a8cb7dfd36";

const auto binaries = default_runtime_binaries();

std::string claimed(std::string_view path) {
  return classify_cgroup(path).container;
}

std::optional<claim_rejection> refused(std::string_view path) {
  return classify_cgroup(path).rejected;
}

} // namespace

TEST_CASE("runtime binaries are exact paths or a name prefix", "[evidence]") {
  CHECK(is_runtime_binary("/usr/sbin/runc", binaries));
  CHECK(is_runtime_binary("/usr/bin/runc", binaries));
  CHECK(is_runtime_binary("/usr/bin/containerd-shim-runc-v2", binaries));
  CHECK(is_runtime_binary("/usr/bin/conmon", binaries));
  CHECK(is_runtime_binary("/usr/bin/crun", binaries));
  CHECK_FALSE(is_runtime_binary("/tmp/runc", binaries));
  CHECK_FALSE(is_runtime_binary("/usr/bin/true", binaries));
  CHECK_FALSE(is_runtime_binary("/usr/sbin/runc2", binaries));
  CHECK_FALSE(is_runtime_binary("", binaries));
  // The `*` stands for the rest of a name, never for a path below it.
  CHECK_FALSE(is_runtime_binary("/usr/bin/containerd-shim-x/evil", binaries));
  CHECK(is_runtime_binary("/opt/rt/anything", {"/opt/rt/*"}));
  CHECK_FALSE(is_runtime_binary("/opt/rt/sub/x", {"/opt/rt/*"}));
}

TEST_CASE("argv or exe naming a runtime is a claim", "[evidence]") {
  for (auto name : {"runc", "/usr/sbin/runc", "crun", "docker-init", "conmon",
                    "containerd-shim", "containerd-shim-runc-v2"})
    CHECK(names_runtime(name, "/usr/bin/true"));
  CHECK(names_runtime("sh", "/usr/bin/containerd-shim-runc-v2"));
  CHECK_FALSE(names_runtime("bash", "/usr/bin/bash"));
  CHECK_FALSE(names_runtime("runcx", "/usr/bin/runcx"));
  CHECK_FALSE(names_runtime("", ""));
}

TEST_CASE("a runtime is its binary, root's, run by root", "[evidence]") {
  using r = claim_rejection;
  runtime_facts_seen real{"/usr/sbin/runc", 0, 0, true};
  CHECK_FALSE(check_runtime(real, binaries));
  // argv[0] alone: `exec -a runc /bin/true create fake1`.
  auto lookalike = real;
  lookalike.exe = "/usr/bin/true";
  CHECK(check_runtime(lookalike, binaries) == r::not_runtime_binary);
  // The binary is listed but someone else may write it (live stat).
  auto writable = real;
  writable.binary_root_owned = false;
  CHECK(check_runtime(writable, binaries) == r::not_runtime_binary);
  // The real binary run by a user (rootless, or a user namespace whose
  // bind mount shows /usr/sbin/runc): the kernel's uid is the user's.
  auto user = real;
  user.uid = user.euid = 65534;
  CHECK(check_runtime(user, binaries) == r::not_root);
  auto setuid = real;
  setuid.uid = 1000; // a setuid copy: effective root, real uid 1000
  CHECK(check_runtime(setuid, binaries) == r::not_root);
  auto no_uid = real;
  no_uid.uid = no_uid.euid = 4294967295u;
  CHECK(check_runtime(no_uid, binaries) == r::not_root);
}

TEST_CASE("container ids follow their runtime's grammar", "[evidence]") {
  using g = id_grammar;
  CHECK(valid_container_id(hex, g::hex64));
  CHECK_FALSE(valid_container_id(hex.substr(1), g::hex64));
  CHECK_FALSE(valid_container_id(hex + "0", g::hex64));
  auto upper = hex;
  upper[0] = 'A';
  CHECK_FALSE(valid_container_id(upper, g::hex64));
  CHECK(valid_container_id("c-life-1", g::containerd));
  CHECK(valid_container_id("a.b_c-d", g::containerd));
  CHECK(valid_container_id(std::string(76, 'a'), g::containerd));
  CHECK_FALSE(valid_container_id(std::string(77, 'a'), g::containerd));
  CHECK_FALSE(valid_container_id("-web", g::containerd));
  CHECK_FALSE(valid_container_id("web-", g::containerd));
  CHECK_FALSE(valid_container_id("a--b", g::containerd));
  CHECK_FALSE(valid_container_id("a/b", g::containerd));
  CHECK(valid_container_id("r-life-1", g::runc));
  CHECK(valid_container_id("a+b_c.d-e", g::runc));
  CHECK(valid_container_id(std::string(128, 'x'), g::runc));
  CHECK_FALSE(valid_container_id(std::string(129, 'x'), g::runc));
  CHECK_FALSE(valid_container_id(std::string(100 * 1024, 'x'), g::runc));
  CHECK_FALSE(valid_container_id("..", g::runc));
  CHECK_FALSE(valid_container_id("a b", g::runc));
  CHECK_FALSE(valid_container_id("", g::runc));
  CHECK_FALSE(valid_container_id("a\nb", g::runc));
  CHECK(valid_container_id("web\\x2d1", g::machine));
  CHECK_FALSE(valid_container_id("web/1", g::machine));
}

TEST_CASE("an id's grammar follows its containerd namespace", "[evidence]") {
  CHECK(valid_runtime_id("moby", hex));
  CHECK_FALSE(valid_runtime_id("moby", "web"));
  CHECK(valid_runtime_id("k8s.io", hex));
  CHECK_FALSE(valid_runtime_id("k8s.io", "pod-1"));
  CHECK(valid_runtime_id("default", "c-life-1"));
  CHECK_FALSE(valid_runtime_id("default", std::string(77, 'a')));
  CHECK(valid_runtime_id("", "r-life-1")); // plain runc
  CHECK_FALSE(valid_runtime_id("", std::string(100 * 1024, 'a')));
  CHECK_FALSE(valid_runtime_id("bad ns", "c1"));
  CHECK_FALSE(valid_runtime_id(std::string(77, 'n'), "c1"));
}

TEST_CASE("cgroup layouts of every runtime", "[evidence]") {
  // docker: cgroupfs and systemd drivers, and its containerd namespace.
  CHECK(claimed("/docker/" + hex) == "docker/" + hex);
  CHECK(claimed("/moby/" + hex) == "docker/" + hex);
  CHECK(claimed("/system.slice/docker-" + hex + ".scope") == "docker/" + hex);
  // containerd (ctr) and runc's cgroupsPath.
  CHECK(claimed("/default/c-life-1") == "default/c-life-1");
  CHECK(claimed("/auditree-runc/r-1") == "auditree-runc/r-1");
  // cri-containerd, systemd and cgroupfs drivers.
  CHECK(claimed("/kubepods.slice/kubepods-burstable.slice/"
                "kubepods-burstable-pod1.slice/cri-containerd-"
                + hex + ".scope")
        == "k8s.io/" + hex);
  CHECK(claimed("/kubepods/burstable/pod1234/" + hex) == "k8s.io/" + hex);
  // podman: systemd and cgroupfs; conmon's own scope is no container.
  CHECK(claimed("/machine.slice/libpod-" + hex + ".scope") == "libpod/" + hex);
  CHECK(claimed("/libpod_parent/libpod-" + hex) == "libpod/" + hex);
  // As podman 4.3.1 (Debian 12) lays out cgroupfs: the container in
  // /libpod_parent/libpod-<id> (every v1 controller and the unified
  // hierarchy), its conmon in /libpod_parent/conmon (v1 controllers only
  // on a hybrid host, the unified path too on a v2-only one).
  CHECK(claimed("/libpod_parent/conmon").empty());
  CHECK_FALSE(refused("/libpod_parent/conmon"));
  CHECK(claimed("/libpod_parent/libpod-" + hex.substr(1)).empty());
  CHECK(refused("/libpod_parent/libpod-" + hex.substr(1)));
  CHECK(claimed("/machine.slice/libpod-conmon-" + hex + ".scope").empty());
  CHECK_FALSE(refused("/machine.slice/libpod-conmon-" + hex + ".scope"));
  // cri-o, and its conmon.
  CHECK(claimed("/kubepods.slice/kubepods-besteffort.slice/"
                "kubepods-besteffort-pod2.slice/crio-"
                + hex + ".scope")
        == "crio/" + hex);
  CHECK(claimed("/kubepods.slice/crio-conmon-" + hex + ".scope").empty());
  // LXC 4+ and before; its monitor is no container.
  CHECK(claimed("/lxc.payload.web1") == "lxc/web1");
  CHECK(claimed("/lxc.payload.web1/init.scope") == "lxc/web1");
  CHECK(claimed("/lxc/web1") == "lxc/web1");
  CHECK(claimed("/lxc.monitor.web1").empty());
  // systemd-nspawn: machinectl's scope, or the systemd-nspawn@ unit.
  CHECK(claimed("/machine.slice/machine-deb12.scope") == "nspawn/deb12");
  CHECK(claimed("/machine.slice/machine-deb12.scope/payload")
        == "nspawn/deb12");
  CHECK(claimed("/machine.slice/systemd-nspawn@deb12.service/payload")
        == "nspawn/deb12");
  // Host cgroups.
  for (auto host : {"/", "", "/init.scope", "/system.slice/ssh.service",
                    "/user.slice/user-0.slice/session-1.scope",
                    "/system.slice/containerd.service", "/a/b/c"}) {
    CHECK(claimed(host).empty());
    CHECK_FALSE(refused(host));
  }
}

TEST_CASE("a cgroup container's runtime follows its layout", "[evidence]") {
  CHECK(std::string{runtime_of_cgroup_container("docker/" + hex)} == "docker");
  CHECK(std::string{runtime_of_cgroup_container("libpod/" + hex)} == "podman");
  CHECK(std::string{runtime_of_cgroup_container("crio/" + hex)} == "cri-o");
  CHECK(std::string{runtime_of_cgroup_container("lxc/web1")} == "lxc");
  CHECK(std::string{runtime_of_cgroup_container("nspawn/deb12")}
        == "systemd-nspawn");
  CHECK(std::string{runtime_of_cgroup_container("k8s.io/" + hex)}
        == "containerd");
  CHECK(std::string{runtime_of_cgroup_container("auditree-runc/r-1")}
        == "containerd");
}

TEST_CASE("a container-like cgroup with a bad id is refused", "[evidence]") {
  CHECK(claimed("/system.slice/docker-notahex.scope").empty());
  CHECK(refused("/system.slice/docker-notahex.scope")
        == claim_rejection::bad_id);
  CHECK(refused("/docker/web") == claim_rejection::bad_id);
  CHECK(refused("/default/" + std::string(200, 'a'))
        == claim_rejection::bad_id);
  CHECK(refused("/machine.slice/libpod-" + hex + "0.scope")
        == claim_rejection::bad_id);
}

TEST_CASE("a user's delegated subtree never holds a container", "[evidence]") {
  auto user = std::string{"/user.slice/user-1000.slice/user@1000.service"};
  for (auto inside :
       {user + "/app.slice/docker-" + hex + ".scope",
        user + "/user.slice/libpod-" + hex + ".scope",
        user + "/app.slice/cri-containerd-" + hex + ".scope",
        user + "/lxc.payload.web1", user + "/docker-bad.scope",
        "/user.slice/user-1000.slice/session-2.scope/docker-" + hex + ".scope",
        std::string{"/system.slice/user@0.service/docker-"} + hex + ".scope"}) {
    CHECK(claimed(inside).empty());
    CHECK(refused(inside) == claim_rejection::delegated_cgroup);
  }
  // Nothing container-like: just a user's process, no claim to count.
  CHECK_FALSE(refused(user + "/app.slice/foo.service"));
}

TEST_CASE("every directory of a cgroup is checked for its owner",
          "[evidence]") {
  CHECK(cgroup_dirs_to_check("/a/b/docker-x.scope")
        == std::vector<std::string>{"a", "a/b", "a/b/docker-x.scope"});
  CHECK(cgroup_dirs_to_check("/").empty());
}

TEST_CASE("a refusal's log line is short and terminal-safe", "[evidence]") {
  auto note = claim_note(claim_rejection::not_runtime_binary, 42, 65534,
                         "/usr/bin/true",
                         {"runc", "create", std::string(100 * 1024, 'x'),
                          "\x1b]0;pwned\a", "5th"});
  CHECK(note.find("not_runtime_binary") != std::string::npos);
  CHECK(note.find("pid 42 uid 65534") != std::string::npos);
  CHECK(note.find("(102400 bytes)") != std::string::npos);
  CHECK(note.size() < 400);
  CHECK(note.find('\x1b') == std::string::npos);
  CHECK(note.find('\a') == std::string::npos);
  CHECK(note.find("5th") == std::string::npos);
  for (size_t i = 0; i < num_claim_rejections; ++i)
    CHECK(std::string{to_string(static_cast<claim_rejection>(i))} != "?");
}
