#include <catch2/catch.hpp>

#include "runtime/container_ref.hpp"

using namespace auditree;

namespace {

const std::string web_id
  = "024d3d17592db9585e520bd53709c85a2ef022f9c93297c3b9d446a8cb7dfd36";
// Shares its first 12 hex digits with web_id, then differs.
const std::string db_id
  = "024d3d17592dffff5e520bd53709c85a2ef022f9c93297c3b9d446a8cb7dfd36";

container_candidates host() {
  return {
    {"docker/" + web_id, "docker", {"web"}, 1},
    {"docker/" + db_id, "docker", {"db"}, 2},
    {"auditree/c-long", "containerd", {}, 3},
    {"other/c-long", "containerd", {}, 1},
    {"auditree-runc/r-orphan", "containerd", {}, 2},
    {"solo", "runc", {}, 1},
  };
}

std::string found(std::string_view typed) {
  auto m = resolve_container(typed, host());
  INFO(typed << ": " << m.message);
  REQUIRE(m.outcome == container_match::found);
  return m.id;
}

} // namespace

TEST_CASE("a docker container by every id people type", "[container_ref]") {
  auto full = "docker/" + web_id;
  CHECK(found(full) == full);
  CHECK(found(web_id) == full);
  CHECK(found(web_id.substr(0, 13)) == full); // 13 hex: unique
  CHECK(found("docker/" + web_id.substr(0, 16)) == full);
  CHECK(found("moby/" + web_id.substr(0, 16)) == full);
  CHECK(found("containerd/" + web_id) == full);
  CHECK(found("runc/" + web_id) == full);
  CHECK(found("web") == full);
  CHECK(found("/web") == full); // as `docker inspect` prints it
  CHECK(found("docker/web") == full);
  CHECK(found("db") == "docker/" + db_id);
}

TEST_CASE("containerd and runc containers by their ids", "[container_ref]") {
  CHECK(found("auditree/c-long") == "auditree/c-long");
  CHECK(found("containerd/r-orphan") == "auditree-runc/r-orphan");
  CHECK(found("r-orphan") == "auditree-runc/r-orphan");
  CHECK(found("runc/r-orphan") == "auditree-runc/r-orphan");
  CHECK(found("auditree-runc/r-orphan") == "auditree-runc/r-orphan");
  CHECK(found("solo") == "solo");
  CHECK(found("runc/solo") == "solo");
}

TEST_CASE("an ambiguous id lists its candidates", "[container_ref]") {
  // The 12 hex digits `docker ps` prints match both.
  auto m = resolve_container(web_id.substr(0, 12), host());
  CHECK(m.outcome == container_match::ambiguous);
  CHECK(m.candidates // sorted
        == std::vector<std::string>{"docker/" + web_id, "docker/" + db_id});
  CHECK(m.message.find("docker/" + web_id) != std::string::npos);
  CHECK(m.message.find("docker/" + db_id) != std::string::npos);
  // The same containerd id in two namespaces.
  m = resolve_container("c-long", host());
  CHECK(m.outcome == container_match::ambiguous);
  CHECK(m.candidates
        == std::vector<std::string>{"auditree/c-long", "other/c-long"});
  // A namespace settles it.
  CHECK(found("other/c-long") == "other/c-long");
  // `containerd` names the runtime of both.
  CHECK(resolve_container("containerd/c-long", host()).outcome
        == container_match::ambiguous);
}

TEST_CASE("exact ids and names win over prefixes", "[container_ref]") {
  auto known = host();
  // A containerd container whose id is itself a prefix of web_id.
  known.push_back({"auditree/" + web_id.substr(0, 14), "containerd", {}, 1});
  CHECK(resolve_container(web_id.substr(0, 14), known).id
        == "auditree/" + web_id.substr(0, 14));
}

TEST_CASE("unknown and malformed ids are errors", "[container_ref]") {
  auto unknown = [](std::string_view typed) {
    auto m = resolve_container(typed, host());
    INFO(typed);
    CHECK(m.outcome == container_match::unknown);
    CHECK(m.message.find("no container") != std::string::npos);
    return m.message;
  };
  unknown("nosuch");
  unknown("docker/nosuch");
  unknown("auditree/r-orphan"); // the wrong namespace
  unknown("docker/c-long");     // the wrong runtime
  unknown("runc/web");          // docker's name is docker's only
  CHECK(unknown(web_id.substr(0, 11)).find("at least 12") != std::string::npos);
  unknown(web_id.substr(1, 20)); // not a prefix
  unknown(std::string{"ffffffffffffffff"});
  unknown(web_id + "0"); // longer than the id
  CHECK(resolve_container("", host()).outcome == container_match::invalid);
  CHECK(resolve_container(std::string(600, 'a'), host()).outcome
        == container_match::invalid);
  auto none = resolve_container("web", {});
  CHECK(none.outcome == container_match::unknown);
  CHECK(none.message.find("knows no container") != std::string::npos);
}

TEST_CASE("a plain runc container known twice is one container",
          "[container_ref]") {
  // As lineage (runc's argv) and as its cgroup names it: one container,
  // reported by the cgroup's name, whichever of them runs.
  container_candidates known = {{"r-twin", "runc", {}, 0},
                                {"auditree-runc/r-twin", "containerd", {}, 2}};
  for (uint32_t lineage_running : {0u, 1u}) {
    for (uint32_t cgroup_running : {0u, 2u}) {
      known[0].num_running = lineage_running;
      known[1].num_running = cgroup_running;
      INFO(lineage_running << " " << cgroup_running);
      CHECK(resolve_container("r-twin", known).id == "auditree-runc/r-twin");
      CHECK(resolve_container("runc/r-twin", known).id
            == "auditree-runc/r-twin");
    }
  }
  // runc's id under a configured prefix (`runc_prefix`).
  known[0].id = "runc-host/r-twin";
  CHECK(resolve_container("r-twin", known).id == "auditree-runc/r-twin");
}

TEST_CASE("podman's container, known by runc's argv too, is one container",
          "[container_ref]") {
  // conmon runs runc without a shim: lineage names it by runc's argv, the
  // cgroup (/libpod_parent/libpod-<id>) as podman's; conmon names it p-long.
  const std::string id = std::string(12, 'c') + std::string(52, '0');
  container_candidates known = {{id, "runc", {}, 0},
                                {"libpod/" + id, "podman", {"p-long"}, 3}};
  for (auto typed : {id, id.substr(0, 12), "libpod/" + id, "podman/" + id,
                     "runc/" + id, std::string{"p-long"},
                     std::string{"podman/p-long"}}) {
    INFO(typed);
    auto m = resolve_container(typed, known);
    CHECK(m.outcome == container_match::found);
    CHECK(m.id == "libpod/" + id);
  }
  CHECK(resolve_container("docker/p-long", known).outcome
        == container_match::unknown);
  CHECK(resolve_container("runc/p-long", known).outcome
        == container_match::unknown);
}

TEST_CASE("several distinct containers are ambiguous even if one runs",
          "[container_ref]") {
  auto known = host();
  known[1].num_running = 0; // db has stopped; web runs
  auto m = resolve_container(web_id.substr(0, 12), known);
  CHECK(m.outcome == container_match::ambiguous);
  CHECK(m.candidates.size() == 2);
  // The same containerd id in two namespaces, one of them stopped.
  known[3].num_running = 0;
  CHECK(resolve_container("c-long", known).outcome
        == container_match::ambiguous);
  // Two plain runc ids that share a prefix are two containers.
  container_candidates runc = {{web_id, "runc", {}, 1},
                               {"auditree-runc/" + db_id, "containerd", {}, 0}};
  m = resolve_container(web_id.substr(0, 12), runc);
  CHECK(m.outcome == container_match::ambiguous);
  CHECK(m.candidates.size() == 2);
}

TEST_CASE("errors escape the ids they quote", "[container_ref]") {
  // runc's id comes from its argv, which any user writes.
  container_candidates known = {
    {web_id.substr(0, 12) + "\x1b]0;a\x07", "runc", {}, 1},
    {"auditree/" + web_id.substr(0, 12) + "\xe2\x80\xae" "b", "containerd", {},
     1}};
  auto m = resolve_container(web_id.substr(0, 12), known);
  REQUIRE(m.outcome == container_match::ambiguous);
  CHECK(m.message.find('\x1b') == std::string::npos);
  CHECK(m.message.find("\\x1b]0;a\\x07") != std::string::npos);
  CHECK(m.message.find("\\u202eb") != std::string::npos);
  m = resolve_container("no\x1b[2Jpe", known);
  CHECK(m.outcome == container_match::unknown);
  CHECK(m.message.find("no\\x1b[2Jpe") != std::string::npos);
}
