// ECS's container fields (runtime/container_labels): container.id is the
// runtime's own id, container.runtime who runs it, name and image what the
// runtime's state says; the tree key's namespace part goes under
// auditree.container.namespace when it is not the runtime's name.

#include "runtime/container_labels.hpp"

#include <catch2/catch.hpp>

#include "runtime/ecs_json.hpp"
#include "tests/json_reader.hpp"

using namespace auditree;

namespace {

const std::string hex(64, 'a');

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

process_event exec_in(std::string key, std::string runtime) {
  process_event ev;
  ev.action = process_action::exec;
  ev.id = event_id{1'795'990'188, 5, 77};
  ev.pid = 4242;
  ev.ppid = 4200;
  ev.comm = "sleep";
  ev.exe = "/bin/sleep";
  ev.container = std::move(key);
  ev.lineage.container_runtime = std::move(runtime);
  return ev;
}

} // namespace

TEST_CASE("a tree key splits into the runtime's id and its namespace",
          "[container_labels]") {
  // The parts view the key: it must outlive them.
  auto docker_key = "docker/" + hex;
  auto docker = split_container_key(docker_key, "docker");
  CHECK(docker.id == hex);
  CHECK(docker.ns.empty());
  auto ctr = split_container_key("k8s.io/c-web", "containerd");
  CHECK(ctr.id == "c-web");
  CHECK(ctr.ns == "k8s.io");
  auto runc = split_container_key("auditree-runc/r-orphan", "runc");
  CHECK(runc.id == "r-orphan");
  CHECK(runc.ns == "auditree-runc");
  auto podman_key = "libpod/" + hex;
  CHECK(split_container_key(podman_key, "podman").ns == "libpod");
  CHECK(split_container_key("bare", "runc").id == "bare");
}

TEST_CASE("docker's config.v2.json gives the name and the image",
          "[container_labels]") {
  auto config = R"({"StreamConfig":{},"State":{"Running":true},)"
                R"("Config":{"Hostname":"x","Env":["A=\"b\""],)"
                R"("Image":"registry:5000/app:1.2"},"Image":"sha256:)"
                + hex + R"(","Name":"/web"})";
  auto labels = docker_labels_from_config(config);
  CHECK(labels.name == "web");
  CHECK(labels.image == "registry:5000/app:1.2");
  // Only Config's Image, never the top-level one (the image's own id).
  CHECK_FALSE(docker_image_from_config(R"({"Image":"busybox"})"));
  CHECK_FALSE(docker_image_from_config(R"({"Config":"busybox"})"));
  CHECK_FALSE(docker_image_from_config(R"({"Config":{"Image":"a b"}})"));
  CHECK_FALSE(docker_image_from_config(R"({"Config":{"Image":"a\"b"}})"));
  CHECK_FALSE(docker_image_from_config(R"({"Config":{"Image":")"
                                       + std::string(1025, 'a') + R"("}})"));
  CHECK_FALSE(docker_image_from_config(R"({"Config":{"Image":"busybox")"));
  CHECK(docker_labels_from_config("garbage").name.empty());
}

TEST_CASE("a stream line's container: ECS's id, runtime, name and image",
          "[container_labels]") {
  auto ev = exec_in("docker/" + hex, "docker");
  ev.lineage.container_name = "web";
  ev.lineage.container_image = "busybox:latest";
  std::string line;
  append_ecs_json(line, ev);
  INFO(line);
  CHECK(test::json_reader{line}.valid());
  CHECK(contains(line, R"("container":{"id":")" + hex
                           + R"(","name":"web","runtime":"docker",)"
                             R"("image":{"name":"busybox:latest"}})"));
  CHECK_FALSE(contains(line, "namespace"));
  // containerd's namespace goes under auditree.
  line.clear();
  append_ecs_json(line, exec_in("default/c-life-1", "containerd"));
  CHECK(test::json_reader{line}.valid());
  CHECK(contains(line,
                 R"("container":{"id":"c-life-1","runtime":"containerd"})"));
  CHECK(contains(line, R"("container":{"namespace":"default"}})"));
  // A container start or stop says the same.
  container_event start;
  start.id = "default/c-life-1";
  start.runtime = "containerd";
  start.init_pid = 4242;
  start.at = event_id{1'795'990'188, 5, 77};
  line.clear();
  append_ecs_json(line, start);
  INFO(line);
  CHECK(test::json_reader{line}.valid());
  CHECK(contains(line,
                 R"("container":{"id":"c-life-1","runtime":"containerd"})"));
  CHECK(contains(line, R"("auditree":{"container":{"namespace":"default"}})"));
}
