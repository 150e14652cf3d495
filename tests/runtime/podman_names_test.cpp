#include <catch2/catch.hpp>

#include "runtime/podman_names.hpp"

using namespace auditree;

namespace {

const std::string id
  = "c8a5a0881fb3b6645111fc55421bcebabbd60152e2637b72c1d1fa46a11ca27f";

// The argv podman 4.3.1 (Debian 12) gives conmon 2.1.6, cut short.
proc_process conmon(uint32_t uid, std::vector<std::string> tail,
                    std::string exe = "/usr/bin/conmon") {
  proc_process p;
  p.uid = p.euid = uid;
  p.exe = std::move(exe);
  p.argv = {"/usr/bin/conmon", "--api-version", "1", "-c", id, "-u", id,
            "-r", "/usr/bin/runc", "-b", "/var/lib/containers/userdata"};
  p.argv.insert(p.argv.end(), tail.begin(), tail.end());
  return p;
}

} // namespace

TEST_CASE("a root conmon names podman's container", "[podman]") {
  auto c = conmon_of(conmon(0, {"-n", "p-long", "--exit-dir", "/run/x"}));
  REQUIRE(c);
  CHECK(c->id == id);
  CHECK(c->name == "p-long");
  CHECK(podman_name({conmon(0, {"--name=web.1"})}, id) == "web.1");
  CHECK(podman_name({conmon(0, {"-n", "p-long"})}, std::string(64, 'a'))
        == std::nullopt);
}

TEST_CASE("a conmon lookalike names nothing", "[podman]") {
  // Run by a user, or another program whatever its argv says.
  CHECK_FALSE(conmon_of(conmon(65534, {"-n", "p-long"})));
  auto setuid = conmon(0, {"-n", "p-long"});
  setuid.uid = 65534;
  CHECK_FALSE(conmon_of(setuid));
  CHECK_FALSE(conmon_of(conmon(0, {"-n", "p-long"}, "/tmp/x/true")));
  // An id outside podman's grammar.
  auto bad = conmon(0, {"-n", "p-long"});
  bad.argv[4] = id.substr(1);
  CHECK_FALSE(conmon_of(bad));
  bad.argv[4] = std::string(102400, 'a');
  CHECK_FALSE(conmon_of(bad));
}

TEST_CASE("a malformed podman name is dropped", "[podman]") {
  for (std::string name : std::vector<std::string>{
           "", "-x", "a b", "a/b", std::string(256, 'a')}) {
    auto c = conmon_of(conmon(0, {"-n", name}));
    REQUIRE(c);
    CHECK(c->name.empty());
    CHECK(podman_name({conmon(0, {"-n", name})}, id) == std::nullopt);
  }
  // `-n` as the last word has no value.
  auto c = conmon_of(conmon(0, {"-n"}));
  REQUIRE(c);
  CHECK(c->name.empty());
}
