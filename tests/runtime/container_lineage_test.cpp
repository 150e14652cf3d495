// Container runtimes recognised from exec argv, as the corpus
// container-lifecycle.log shows them (containerd 1.6, docker 20.10, runc).

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "runtime/container_lineage.hpp"

using namespace auditree;

using argv_t = std::vector<std::string>;

TEST_CASE("a containerd shim gives its namespace and id", "[tree][lineage]") {
  SECTION("the long-running shim serves the task") {
    auto x = parse_shim({"/usr/bin/containerd-shim-runc-v2", "-namespace",
                         "default", "-id", "c-life-1", "-address",
                         "/run/containerd/containerd.sock"},
                        "/usr/bin/containerd-shim-runc-v2");
    REQUIRE(x);
    CHECK(x->ns == "default");
    CHECK(x->id == "c-life-1");
    CHECK(x->serves);
  }
  SECTION("the start and delete invocations do not") {
    auto start = parse_shim(
        {"/usr/bin/containerd-shim-runc-v2", "-namespace", "moby", "-address",
         "/run/containerd/containerd.sock", "-publish-binary",
         "/usr/bin/containerd", "-id", std::string(64, 'f'), "start"},
        "/usr/bin/containerd-shim-runc-v2");
    REQUIRE(start);
    CHECK(start->ns == "moby");
    CHECK(!start->serves);
    auto del = parse_shim({"containerd-shim-runc-v2", "-namespace", "default",
                           "-id", "c-life-1", "-bundle", "/x", "delete"},
                          "/usr/bin/containerd-shim-runc-v2");
    REQUIRE(del);
    CHECK(!del->serves);
  }
  SECTION("--flag=value works too") {
    auto x = parse_shim({"containerd-shim", "--namespace=k8s.io", "--id=abc"},
                        "/usr/bin/containerd-shim");
    REQUIRE(x);
    CHECK(x->ns == "k8s.io");
    CHECK(x->id == "abc");
  }
  SECTION("other programs are not shims") {
    CHECK(!parse_shim({"containerd", "--config", "x"}, "/usr/bin/containerd"));
    CHECK(!parse_shim({"containerd-shim-runc-v2", "-v"},
                      "/usr/bin/containerd-shim-runc-v2"));
  }
}

TEST_CASE("runc create, run and exec name the container", "[tree][lineage]") {
  SECTION("containerd: the namespace is in --bundle") {
    auto x = parse_runc(
        {"runc", "--root", "/run/containerd/runc/default", "--log",
         "/run/containerd/io.containerd.runtime.v2.task/default/c-life-1/"
         "log.json",
         "--log-format", "json", "create", "--bundle",
         "/run/containerd/io.containerd.runtime.v2.task/default/c-life-1",
         "--pid-file",
         "/run/containerd/io.containerd.runtime.v2.task/default/c-life-1/"
         "init.pid",
         "c-life-1"},
        "/usr/sbin/runc");
    REQUIRE(x);
    CHECK(x->command == runc_command::create);
    CHECK(x->id == "c-life-1");
    CHECK(x->ns == "default");
    CHECK(!x->foreground);
  }
  SECTION("docker: namespace moby, from --root when there is no bundle") {
    auto id = std::string(64, 'c');
    auto x = parse_runc({"runc", "--root", "/var/run/docker/runtime-runc/moby",
                         "--log", "/x/log.json", "--log-format", "json", "exec",
                         "--process", "/tmp/runc-process109486892", "--detach",
                         "--pid-file", "/x/y.pid", id},
                        "/usr/sbin/runc");
    REQUIRE(x);
    CHECK(x->command == runc_command::exec);
    CHECK(x->id == id);
    CHECK(x->ns == "moby");
  }
  SECTION("plain runc run: no namespace, in the foreground") {
    auto x = parse_runc({"runc", "run", "r-life-1"}, "/usr/sbin/runc");
    REQUIRE(x);
    CHECK(x->command == runc_command::create);
    CHECK(x->id == "r-life-1");
    CHECK(x->ns.empty());
    CHECK(x->foreground);
  }
  SECTION("runc run -d returns once started: not in the foreground") {
    for (auto flag : {"-d", "--detach"}) {
      auto x = parse_runc({"runc", "--root", "/r", "run", flag, "--bundle",
                           "/b", "--pid-file", "/b/init.pid", "r-orphan"},
                          "/usr/sbin/runc");
      REQUIRE(x);
      CHECK(x->id == "r-orphan");
      CHECK_FALSE(x->foreground);
    }
  }
}

TEST_CASE("runc delete and kill -9 stop a container; other commands do not",
          "[tree][lineage]") {
  auto cmd = [](argv_t argv) {
    auto x = parse_runc(argv, "/usr/sbin/runc");
    REQUIRE(x);
    return std::make_pair(x->command, x->id);
  };
  CHECK(cmd({"runc", "delete", "c-life-1"})
        == std::make_pair(runc_command::stop, std::string{"c-life-1"}));
  CHECK(cmd({"runc", "delete", "--force", "c-life-1"}).first
        == runc_command::stop);
  CHECK(cmd({"runc", "kill", "c-life-2", "9"}).first == runc_command::stop);
  CHECK(cmd({"runc", "kill", "--all", "c-life-2", "KILL"}).first
        == runc_command::stop);
  CHECK(cmd({"runc", "kill", "c-life-2", "SIGKILL"}).first
        == runc_command::stop);
  CHECK(cmd({"runc", "kill", "d-life-2", "15"}).first == runc_command::other);
  CHECK(cmd({"runc", "kill", "d-life-2"}).first == runc_command::other);
  CHECK(cmd({"runc", "start", "c-life-1"}).first == runc_command::other);
  CHECK(cmd({"runc", "--version"}).first == runc_command::other);
}

TEST_CASE("runc init is recognised by argv even from a memfd",
          "[tree][lineage]") {
  auto x = parse_runc({"runc", "init"}, "/");
  REQUIRE(x);
  CHECK(x->command == runc_command::init);
  CHECK(!parse_runc({"sh", "-c", "runc init"}, "/bin/busybox"));
  CHECK(!parse_runc({}, "/usr/bin/true"));
}

TEST_CASE("base_name", "[tree][lineage]") {
  CHECK(base_name("/usr/sbin/runc") == "runc");
  CHECK(base_name("runc") == "runc");
  CHECK(base_name("/") == "");
}
