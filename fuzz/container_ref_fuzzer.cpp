// What a user types as a container id (`--container`, `/containers/{id}`,
// `?container=`, over HTTP) and docker's JSON state read for names. The
// input is split at its first NUL: the part before is resolved as a typed
// id against a fixed set of containers, the whole input is read as a
// config.v2.json and as a daemon.json.

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_check.hpp"
#include "runtime/container_ref.hpp"
#include "runtime/docker_names.hpp"

using namespace auditree;
using auditree::fuzz::check;

namespace {

const container_candidates& known() {
  static const container_candidates x = {
    {"docker/024d3d17592db9585e520bd53709c85a2ef022f9c93297c3b9d446a8cb7dfd36",
     "docker", {"web"}, 1},
    {"docker/024d3d17592dffff5e520bd53709c85a2ef022f9c93297c3b9d446a8cb7dfd36",
     "docker", {"db"}, 0},
    {"auditree/c-long", "containerd", {}, 2},
    {"other/c-long", "containerd", {}, 1},
    {"r-twin", "runc", {}, 0},
    {"auditree-runc/r-twin", "containerd", {}, 1},
  };
  return x;
}

bool is_known(const std::string& id) {
  for (auto& c : known())
    if (c.id == id)
      return true;
  return false;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input{reinterpret_cast<const char*>(data), size};
  auto typed = input.substr(0, input.find('\0'));
  auto m = resolve_container(typed, known());
  switch (m.outcome) {
    case container_match::found:
      check(is_known(m.id), "a found id is a known container");
      break;
    case container_match::ambiguous:
      check(m.candidates.size() >= 2, "ambiguity names two or more");
      for (auto& id : m.candidates)
        check(is_known(id), "candidates are known containers");
      check(!m.message.empty(), "ambiguity says why");
      break;
    case container_match::unknown:
    case container_match::invalid:
      check(!m.message.empty() && m.id.empty(), "a refusal says why");
      break;
  }
  if (auto name = docker_name_from_config(input)) {
    check(!name->empty() && name->size() <= 255, "a name has 1-255 bytes");
    check(name->find_first_of("/\\\" \n\0", 0, 6) == std::string::npos,
          "a name holds no slash, escape, quote, space or NUL");
  }
  if (auto root = json_top_string(input, "data-root"))
    check(root->find('\\') == std::string::npos, "no escape in a value");
  return 0;
}
