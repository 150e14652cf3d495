#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/docker_names.hpp"

using namespace auditree;

namespace {

const std::string id
  = "024d3d17592db9585e520bd53709c85a2ef022f9c93297c3b9d446a8cb7dfd36";

// The shape of dockerd 20.10's config.v2.json, cut short: nested objects
// with a "Name" of their own (mount points) before the top-level one.
const std::string config
  = R"({"StreamConfig":{},"State":{"Running":true,"Pid":4242,"Error":""},)"
    R"("ID":")" + id + R"(","Created":"2026-12-07T21:00:00Z",)"
    R"("Path":"sh","Args":["-c","echo \"Name\":\"/fake\""],)"
    R"("Config":{"Hostname":"024d3d17592d","Labels":{"Name":"/label"}},)"
    R"("MountPoints":{"/data":{"Name":"vol1","Destination":"/data"}},)"
    R"("Name":"/d-long","Driver":"overlay2"})";

proc_process dockerd(uint32_t uid, std::vector<std::string> argv,
                     std::string exe = "/usr/sbin/dockerd") {
  proc_process p;
  p.uid = p.euid = uid;
  p.argv = std::move(argv);
  p.exe = std::move(exe);
  return p;
}

} // namespace

TEST_CASE("docker's name from config.v2.json", "[docker_names]") {
  CHECK(docker_name_from_config(config) == "d-long");
  CHECK(docker_name_from_config(R"( { "Name" : "/web.1_a-b" } )")
        == "web.1_a-b");
  CHECK(docker_name_from_config(R"({"Name":"web"})") == "web");
}

TEST_CASE("malformed configs and names give none", "[docker_names]") {
  for (std::string bad : {"", "{", "[]", "{}", R"({"ID":"x"})",
                          R"({"Name":})", R"({"Name":"/a\"b"})",
                          R"({"Name":"/-lead"})", R"({"Name":"/a b"})",
                          R"({"Name":"/a/b"})", R"({"Name":5})",
                          R"({"Name":"/"})", R"({"ID":"x" "Name":"/a"})",
                          R"({"State":{"Name":"/a")", "\"Name\":\"/a\""}) {
    INFO(bad);
    CHECK_FALSE(docker_name_from_config(bad));
  }
  CHECK_FALSE(docker_name_from_config("{\"Name\":\"/" + std::string(300, 'a')
                                      + "\"}"));
}

TEST_CASE("data roots of dockerd running as root", "[docker_names]") {
  std::vector<proc_process> procs = {
    dockerd(0, {"dockerd", "--data-root", "/srv/docker", "-H", "unix://x"}),
    dockerd(0, {"dockerd", "--data-root=/other"}),
    dockerd(0, {"/usr/sbin/dockerd"}),             // the default
    dockerd(0, {"dockerd", "-g", "/srv/docker"}),  // a duplicate
    dockerd(1000, {"dockerd", "--data-root=/home/eve/fake"}), // not root
    dockerd(0, {"dockerd", "--data-root=/x"}, "/home/eve/notdockerd"),
    dockerd(0, {"dockerd", "--data-root=relative"}),
  };
  auto no_config = [](const std::string&) -> std::optional<std::string> {
    return std::nullopt;
  };
  CHECK(docker_data_roots(procs, no_config)
        == std::vector<std::string>{"/srv/docker", "/other",
                                    "/var/lib/docker"});
  // A process that is root in name only (setuid drop) is refused too.
  auto half = dockerd(0, {"dockerd", "--data-root=/half"});
  half.euid = 1000;
  CHECK(docker_data_roots({half}, no_config).empty());
}

TEST_CASE("without --data-root, dockerd's config file names it",
          "[docker_names]") {
  std::vector<std::string> asked;
  auto config = [&](const std::string& path) -> std::optional<std::string> {
    asked.push_back(path);
    if (path == "/etc/docker/daemon.json")
      return R"({"log-driver":"json-file","data-root":"/data/docker"})";
    if (path == "/etc/alt.json")
      return R"({"debug":true})";
    return std::nullopt;
  };
  CHECK(docker_data_roots({dockerd(0, {"dockerd"})}, config)
        == std::vector<std::string>{"/data/docker"});
  CHECK(docker_data_roots({dockerd(0, {"dockerd", "--config-file",
                                       "/etc/alt.json"})},
                          config)
        == std::vector<std::string>{"/var/lib/docker"});
  // The option beats the file, which is then not read.
  asked.clear();
  CHECK(docker_data_roots({dockerd(0, {"dockerd", "--data-root=/x"})}, config)
        == std::vector<std::string>{"/x"});
  CHECK(asked.empty());
}

TEST_CASE("top-level strings of a JSON object", "[docker_names]") {
  CHECK(json_top_string(R"({"a":{"k":"inner"},"k":"outer"})", "k")
        == "outer");
  CHECK_FALSE(json_top_string(R"({"a":{"k":"inner"}})", "k"));
  CHECK_FALSE(json_top_string(R"({"k":["x"]})", "k"));
  CHECK_FALSE(json_top_string(R"({"k":"a\b"})", "k"));
  CHECK(json_top_string(R"({"k":""})", "k") == "");
}

TEST_CASE("names are read from root-owned files only", "[docker_names]") {
  char tmpl[] = "/tmp/auditree-docker-names-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::string root = tmpl;
  auto dir = root + "/containers/" + id;
  REQUIRE(::mkdir((root + "/containers").c_str(), 0700) == 0);
  REQUIRE(::mkdir(dir.c_str(), 0700) == 0);
  std::ofstream{dir + "/config.v2.json"} << config;
  REQUIRE(::chmod((dir + "/config.v2.json").c_str(), 0600) == 0);
  bool as_root = ::geteuid() == 0;
  CHECK(read_docker_name({root}, id)
        == (as_root ? std::optional<std::string>{"d-long"} : std::nullopt));
  // Not a 64-hex id: never a path.
  CHECK_FALSE(read_docker_name({root}, "../../etc"));
  CHECK_FALSE(read_docker_name({"/nonexistent"}, id));
  // Writable by others: refused.
  REQUIRE(::chmod((dir + "/config.v2.json").c_str(), 0666) == 0);
  CHECK_FALSE(read_docker_name({root}, id));
  REQUIRE(::chmod((dir + "/config.v2.json").c_str(), 0600) == 0);
  REQUIRE(::chmod(dir.c_str(), 0777) == 0);
  CHECK_FALSE(read_docker_name({root}, id));
  REQUIRE(::chmod(dir.c_str(), 0700) == 0);
  // A symlink in place of the file: refused.
  std::ofstream{root + "/elsewhere.json"} << config;
  REQUIRE(::rename((dir + "/config.v2.json").c_str(),
                   (root + "/moved.json").c_str())
          == 0);
  REQUIRE(::symlink((root + "/elsewhere.json").c_str(),
                    (dir + "/config.v2.json").c_str())
          == 0);
  CHECK_FALSE(read_docker_name({root}, id));
  // read_root_owned: an absolute path only.
  CHECK(read_root_owned(root + "/moved.json").has_value() == as_root);
  CHECK_FALSE(read_root_owned("moved.json"));
  std::system(("rm -rf " + root).c_str());
}
