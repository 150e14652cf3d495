#pragma once

// What the stream says of a container in ECS terms: `container.id` is the
// runtime's own id (docker's 64 hex digits, containerd's id within its
// namespace, runc's id), `container.runtime` who runs it, and what the
// runtime's own root-owned state tells cheaply: `container.name` and
// `container.image.name`. The tree's key (`docker/<id>`, `default/web`)
// keeps its namespace part under auditree.container.namespace when that is
// not just the runtime's name. Pure: the shell reads the state and hands
// the text in (actors/container_facts).

#include <optional>
#include <string>
#include <string_view>

namespace auditree {

/// A tree key split into ECS's id and the part before it.
struct container_ecs_id {
  /// After the key's last `/` (the whole key when it has none).
  std::string_view id;
  /// Before it, unless that is `runtime` itself (`docker/`); else empty.
  std::string_view ns;
};

/// Splits `key` (process_info::container) of a container run by `runtime`.
container_ecs_id split_container_key(std::string_view key,
                                     std::string_view runtime);

/// Names a runtime's state gave a container; empty when unknown.
struct container_labels {
  std::string name;
  std::string image;
};

/// `"Config":{"Image":...}` of a docker config.v2.json: the image as the
/// user named it (`busybox`, `registry:5000/app:1.2@sha256:...`). nullopt
/// when absent, escaped, malformed, or not a plausible image reference
/// (letters, digits, `._-/:@`, at most 1024 bytes).
std::optional<std::string> docker_image_from_config(std::string_view json);

/// The name (docker_name_from_config) and image of a config.v2.json.
container_labels docker_labels_from_config(std::string_view json);

} // namespace auditree
